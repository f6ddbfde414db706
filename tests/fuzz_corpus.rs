//! The fuzz targets' smoke run, always part of `cargo test` (no nightly, no cargo-fuzz needed):
//! every committed corpus file of a target, then a fixed-seed stream of mutations of them, through
//! the same entry points the fuzzers call (`webman_push::fuzzing`). A property that fails panics
//! here exactly as it would crash the fuzzer. See fuzz/README.md for the real fuzzing runs.

use std::path::Path;
use std::time::{Duration, Instant};
use webman_push::fuzzing;

/// A small deterministic generator (xorshift64*): the same inputs on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes fuzzers like to insert: structure characters and edge values.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"null",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"%",
    b"&",
    b"=",
    b"+",
    b"#server-to-user-",
    b"presence-",
    b"private-",
    b"cache-",
    b"SIGN",
];

/// One mutation of a seed: flip, insert, delete, splice or duplicate bytes.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(5) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                input.splice(at..at, piece.iter().copied());
            }
            2 => {
                let end = (at + rng.below(8)).min(input.len());
                input.drain(at..end);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                input.splice(at..at, other[from..].iter().copied());
            }
            _ => {
                let end = (at + rng.below(16)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
        }
    }
    input
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| f.expect("a corpus entry").path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("a corpus file"))
        .collect();
    assert!(!seeds.is_empty(), "{} has no seeds", dir.display());
    seeds
}

/// Runs the corpus and then `mutations` derived inputs through `target`.
fn smoke(name: &str, mutations: usize, target: fn(&[u8])) {
    let seeds = corpus(name);
    for seed in &seeds {
        target(seed);
    }
    let mut rng = Rng(0x5eed_0000 ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 32);
    for _ in 0..mutations {
        target(&mutate(&mut rng, &seeds));
    }
}

#[test]
fn the_client_message_corpus_and_its_mutations_keep_every_property() {
    smoke("client_message", 5000, fuzzing::client_message);
}

#[test]
fn the_names_corpus_and_its_mutations_keep_every_property() {
    smoke("names", 5000, fuzzing::names);
}

#[test]
fn the_signature_corpus_and_its_mutations_keep_every_property() {
    smoke("signature", 3000, fuzzing::signature);
}

#[test]
fn the_config_corpus_and_its_mutations_keep_every_property() {
    smoke("config", 3000, fuzzing::config);
}

#[test]
fn the_api_body_corpus_and_its_mutations_get_a_200_or_a_json_error() {
    smoke("api_body", 500, fuzzing::api_body);
}

#[test]
fn the_webhook_body_corpus_and_its_mutations_make_only_well_formed_signed_webhooks() {
    smoke("webhook_body", 500, fuzzing::webhook_body);
    // Deliveries are asynchronous: the smoke is only meaningful if some arrived and were checked.
    let deadline = Instant::now() + Duration::from_secs(5);
    while fuzzing::webhooks_received() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        fuzzing::webhooks_received() > 0,
        "no webhook reached the receiver"
    );
    fuzzing::assert_webhooks_ok();
}
