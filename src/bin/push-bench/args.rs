//! Command-line options: `push-bench <scenario> --name value ...`.

use std::collections::HashMap;

pub const USAGE: &str = "\
push-bench: drives a Pusher-compatible server over real sockets and prints its results.

Usage: push-bench <scenario> --ws HOST:PORT --api HOST:PORT --key K --secret S --server-pid PID [options]

Scenarios:
  connections  open N subscribed connections, hold them, check none dropped (a publish reaches
               every one), server RSS per connection          [--connections 19000 --channels N --duration 10]
  fanout       N subscribers on one channel, signed HTTP publishes at a fixed rate or the maximum
               rate; publish->delivery latency, deliveries/s, deliveries per server-CPU-second
                                                              [--subscribers 1000 --rate max|R --duration 10
                                                               --window 4 --publishers 2 --payload 0]
  api          signed HTTP publishes/s over keep-alive connections to a channel without
               subscribers, per server-CPU-second              [--publishers 4 --duration 10 --payload 0]
  php          runs bench/api_trigger.php: Api::trigger calls/s from one PHP process
                                                              [--calls 20000 --php php --php-ext PATH
                                                               --php-script bench/api_trigger.php
                                                               --unix PATH: over the api_socket, not TCP]
  churn        R rounds of connecting then disconnecting N clients; server RSS after each round
                                                              [--rounds 10 --connections 10000]
  storm        N subscribed clients; --restart-cmd restarts the server (gets SERVER_PID, prints
               the new pid) and all reconnect at once: time until all are subscribed again,
               failures, connects > 1 s, new server's peak RSS, listen backlog
                                                              [--connections 19000 --restart-cmd CMD
                                                               --closed-delay-ms 1000 --retry-ms 100
                                                               --retry-max-ms 1000 --storm-timeout 120]
  soak         cycles of connect, subscribe public + presence, client event, RST at a steady
               rate; server RSS and fds every --sample s, drift after the warm-up
                                                              [--duration 1800 --rate 1000
                                                               --in-flight 200 --sample 10
                                                               --warmup 60 --channels 100]
  floor-server serves, instead of driving: a one-thread epoll loop answering every HTTP request with
               a fixed 200 {} (no parsing beyond Content-Length, no checks), the floor under the
               api and php numbers: point those at it  [--api HOST:PORT --unix PATH
                                                               --spin 1: poll without sleeping]

Common options:
  --ws ADDR           WebSocket address of the server (ws://ADDR/app/KEY)
  --api ADDR          HTTP API address of the server
  --key K --secret S  app key and secret;  --app-id ID (default 1024)
  --server-pid PID    the server process: CPU seconds (utime+stime) and VmRSS come from /proc/PID
  --sources SPEC      client source addresses, e.g. 127.0.0.2-127.0.0.9 (default)
  --concurrency N     WebSocket handshakes in flight while connecting (default 64)
  --client-threads N  bench runtime worker threads (default: number of CPUs)
  --tls-ca PATH       connect over TLS (wss://, https://), trusting the CA certificates in PATH
                      (not for the php scenario)

Output: human-readable lines, then one line of JSON per scenario (it starts with {\"scenario\":).
";

const KNOWN: &[&str] = &[
    "ws",
    "api",
    "key",
    "secret",
    "app-id",
    "server-pid",
    "sources",
    "concurrency",
    "client-threads",
    "connections",
    "channels",
    "duration",
    "subscribers",
    "rate",
    "window",
    "publishers",
    "payload",
    "calls",
    "php",
    "php-ext",
    "php-script",
    "unix",
    "rounds",
    "restart-cmd",
    "closed-delay-ms",
    "retry-ms",
    "retry-max-ms",
    "storm-timeout",
    "in-flight",
    "sample",
    "warmup",
    "tls-ca",
    "spin",
];

pub struct Args {
    pub scenario: String,
    opts: HashMap<String, String>,
}

impl Args {
    pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut scenario = None;
        let mut opts = HashMap::new();
        let mut it = argv.into_iter();
        while let Some(a) = it.next() {
            if a == "-h" || a == "--help" {
                return Err(String::new());
            }
            if let Some(name) = a.strip_prefix("--") {
                let (name, value) = match name.split_once('=') {
                    Some((n, v)) => (n.to_owned(), v.to_owned()),
                    None => {
                        let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                        (name.to_owned(), v)
                    }
                };
                if !KNOWN.contains(&name.as_str()) {
                    return Err(format!("unknown option --{name}"));
                }
                opts.insert(name, value);
            } else if scenario.is_none() {
                scenario = Some(a);
            } else {
                return Err(format!("unexpected argument {a}"));
            }
        }
        Ok(Args {
            scenario: scenario.ok_or("missing scenario")?,
            opts,
        })
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.opts.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.str(name).ok_or_else(|| format!("--{name} is required"))
    }

    pub fn str_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.str(name).unwrap_or(default)
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.str(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a valid number: {v}")),
        }
    }
}
