#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| webman_push::fuzzing::signature(data));
