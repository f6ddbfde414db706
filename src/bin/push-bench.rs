//! push-bench: drives any Pusher-compatible server over real sockets (see README "Benchmarks").
fn main() {
    eprintln!("push-bench: not written yet");
    std::process::exit(2);
}
