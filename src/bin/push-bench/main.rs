//! push-bench: drives any Pusher-compatible server over real sockets and prints its results.
//!
//! Scenarios (see `push-bench --help` and bench/README.md): held connections and RSS per
//! connection, fan-out latency and deliveries per server-CPU-second, HTTP API ingestion, PHP
//! `Api::trigger` calls/s, memory across connect/disconnect rounds, reconnection after a server
//! restart, and memory and descriptors over a long connection churn. The server is an external
//! process given by address; its CPU time and memory are read from `/proc/<server-pid>`.

#![recursion_limit = "256"] // the storm result is one large json! literal

mod args;
mod client;
mod floor_server;
mod rawws;
mod scenarios;
mod soak;
mod stats;
mod storm;
mod subscribers;
mod tls;

use args::{Args, USAGE};
use client::Sources;
use scenarios::Bench;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

fn main() {
    stats::start_clock();
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if e.is_empty() {
                print!("{USAGE}");
                std::process::exit(0);
            }
            eprintln!("push-bench: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if args.scenario == "floor-server" {
        // Not a scenario: a do-nothing HTTP answerer the scenarios can be pointed at.
        let served = args
            .required("api")
            .and_then(|api| floor_server::run(api, args.str("unix"), args.str("spin") == Some("1")));
        if let Err(e) = served {
            eprintln!("push-bench: {e}");
        }
        std::process::exit(1);
    }
    let nofile = raise_nofile_limit();
    let threads = match args.num::<usize>("client-threads", 0) {
        Ok(0) => std::thread::available_parallelism().map_or(2, |n| n.get()),
        Ok(n) => n,
        Err(e) => {
            eprintln!("push-bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("push-bench: cannot start the runtime: {e}");
            std::process::exit(1);
        });
    let code = runtime.block_on(async move {
        match run(args, threads, nofile).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("push-bench: {e}");
                1
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    std::process::exit(code);
}

async fn run(args: Args, threads: usize, nofile: u64) -> Result<(), String> {
    let addr = |name: &str| -> Result<SocketAddr, String> {
        let v = args.required(name)?;
        v.to_socket_addrs()
            .map_err(|e| format!("--{name} {v}: {e}"))?
            .next()
            .ok_or_else(|| format!("--{name} {v}: no address"))
    };
    let scenario = args.scenario.clone();
    let known = ["connections", "fanout", "api", "php", "churn", "storm", "soak"];
    if !known.contains(&scenario.as_str()) {
        return Err(format!("unknown scenario {scenario} (one of {known:?})"));
    }
    if let Some(ca) = args.str("tls-ca") {
        tls::enable(ca)?;
    }
    let pid: u32 = args
        .required("server-pid")?
        .parse()
        .map_err(|_| "--server-pid: not a pid".to_string())?;
    let bench = Bench {
        ws: addr("ws")?,
        api: addr("api")?,
        key: args.required("key")?.to_owned(),
        secret: args.required("secret")?.to_owned(),
        app_id: args.str_or("app-id", "1024").to_owned(),
        server: stats::ServerProc::new(pid)?,
        me: stats::ServerProc::new(std::process::id())?,
        sources: Arc::new(Sources::parse(args.str_or("sources", "127.0.0.2-127.0.0.9"))?),
        concurrency: args.num("concurrency", 64)?,
        args,
    };
    println!(
        "push-bench {scenario}: server pid {pid} (ws {}, api {}), client {threads} threads, open-file limit {nofile}, load {}",
        bench.ws,
        bench.api,
        stats::load_avg()
    );
    let result = match scenario.as_str() {
        "connections" => scenarios::connections(&bench).await,
        "fanout" => scenarios::fanout(&bench).await,
        "api" => scenarios::api(&bench).await,
        "php" => scenarios::php(&bench).await,
        "churn" => scenarios::churn(&bench).await,
        "storm" => storm::storm(&bench).await,
        "soak" => soak::soak(&bench).await,
        _ => unreachable!(),
    }?;
    // The storm replaced the server it was given (and checked the new one itself).
    if scenario != "storm" && !bench.server.alive() {
        return Err(format!("the server (pid {pid}) is gone"));
    }
    let mut result = result;
    result["client_threads"] = threads.into();
    println!("{result}");
    Ok(())
}

/// Raises this process's open-file limit to its hard limit; returns the new soft limit.
fn raise_nofile_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let wanted = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                return wanted.rlim_cur as u64;
            }
        }
        lim.rlim_cur as u64
    }
}
