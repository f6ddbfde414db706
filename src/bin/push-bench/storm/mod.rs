//! storm: N subscribed clients, then the server restarts and every client reconnects at once,
//! the way pusher-js does after the 4200 close a stopping server sends (at once, then again with
//! a short back-off while connects fail). It measures how long until all N are subscribed again,
//! what failed on the way, the new server's peak RSS and the listen backlog in effect.
//!
//! The bench cannot restart the server itself: `--restart-cmd` is a shell command that stops the
//! server (`$SERVER_PID` in its environment), starts a new one and prints the new pid as the last
//! line of its standard output (bench/restart-server.sh does that for bench/run.sh).

mod reconnect;

use crate::client::{app_path, await_established, error_kind, subscribe_all, Ws};
use crate::rawws::tcp_connect;
use crate::scenarios::{round3, Bench};
use crate::stats::{listen_drop_counters, listen_queue, load_avg, now_ns, Histogram, ServerProc};
use crate::subscribers::{join_all, open_many_then, read_until_stopped, Drops};
use parking_lot::Mutex;
use reconnect::{reconnect, Reconnects, Retry};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// to a file, not a pipe: the new server inherits the descriptor and outlives the command.
/// Runs the restart command with `SERVER_PID` set; returns the new server's pid. Its output goes
fn run_restart(cmd: &str, old_pid: u32) -> Result<u32, String> {
    let out_path = std::env::temp_dir().join(format!("push-bench-restart.{}", std::process::id()));
    let out = std::fs::File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
    let mut child = std::process::Command::new("sh")
        .args(["-c", cmd])
        .env("SERVER_PID", old_pid.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .spawn()
        .map_err(|e| format!("cannot run the restart command: {e}"))?;
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the restart command ran longer than 60 s; killed".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    if !status.success() {
        return Err(format!("the restart command exited with {status}: {printed}"));
    }
    printed
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("the restart command printed no pid: {printed:?}"))
}

pub async fn storm(b: &Bench) -> Result<Value, String> {
    let n: usize = b.args.num("connections", 19_000)?;
    let channels: usize = b.args.num("channels", n)?.max(1);
    let restart_cmd = b.args.required("restart-cmd")?.to_owned();
    let closed = Duration::from_millis(b.args.num("closed-delay-ms", 1000)?);
    let first = Duration::from_millis(b.args.num("retry-ms", 100)?);
    let max = Duration::from_millis(b.args.num("retry-max-ms", 1000)?).max(first);
    let give_up = Duration::from_secs_f64(b.args.num("storm-timeout", 120.0)?);
    let load_start = load_avg();
    println!(
        "storm: {n} subscribed clients ({channels} channels, sources {}); restart with `{restart_cmd}`; reconnect at once after close 42xx, after {} ms after other ends; retry after {} ms doubling to {} ms, give up {} s after the restart",
        b.sources.describe(),
        closed.as_millis(),
        first.as_millis(),
        max.as_millis(),
        give_up.as_secs_f64()
    );
    let r = Arc::new(Reconnects::default());
    let retry = Arc::new(Mutex::new(None::<Retry>));
    let (stop_tx, stop) = watch::channel(false);
    let (before, after) = (Arc::new(Drops::default()), Arc::new(Drops::default()));
    // Each client's task: read until the server drops it, then reconnect and read on.
    let then = |_: usize| {
        let (r, retry, stop, before, after) = (
            r.clone(),
            retry.clone(),
            stop.clone(),
            before.clone(),
            after.clone(),
        );
        let (server, key) = (b.ws, b.key.clone());
        move |ws: Ws, source: IpAddr, channel: String| async move {
            let why = read_until_stopped(ws, stop.clone(), |_: &str| {}, before, false).await;
            let Some(retry) = *retry.lock() else {
                return; // dropped before any restart: counted in `before`
            };
            let Some(why) = why else {
                return; // stopped
            };
            if let Some(ws) = reconnect(&why, source, server, &key, &channel, retry, &r).await {
                read_until_stopped(ws, stop, |_: &str| {}, after, false).await;
            }
        }
    };
    let channel_of = |i| format!("storm-{}", i % channels);
    let opened = open_many_then(n, b.concurrency, &b.sources, b.ws, &b.key, channel_of, then).await;
    println!(
        "  subscribed {} / {n} in {:.1} s, failed {}{}",
        opened.established,
        opened.elapsed.as_secs_f64(),
        opened.failed,
        opened.errors_note()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (old_rss, old_fds) = (b.rss(), b.server.open_fds());
    let backlog_before = listen_queue(b.ws.port()).map(|q| q.1);
    println!("  old server: RSS {old_rss} KiB, fds {old_fds}, listen backlog {backlog_before:?}; restarting");
    let (overflows0, drops0) = listen_drop_counters();
    let restart_at = now_ns();
    r.restart_at_ns.store(restart_at, Ordering::Relaxed);
    *retry.lock() = Some(Retry {
        closed,
        first,
        max,
        give_up_ns: restart_at + give_up.as_nanos() as u64,
    });
    let old_pid = b.server.pid();
    let new_pid = tokio::task::spawn_blocking(move || run_restart(&restart_cmd, old_pid))
        .await
        .map_err(|e| format!("restart runner: {e}"))??;
    let listening_at = now_ns();
    let server = ServerProc::new(new_pid)?;
    let rss_listening = server.rss_kib().unwrap_or(0);
    println!(
        "  new server pid {new_pid} listening {:.3} s after the restart began (RSS {rss_listening} KiB)",
        (listening_at - restart_at) as f64 / 1e9
    );
    // Sample the new server until every dropped client is subscribed again or gave up.
    let expected = opened.established as u64;
    let (mut rss_peak, mut fds_peak, mut queue_peak, mut backlog) = (rss_listening, 0usize, 0u64, None);
    let mut next_print = listening_at;
    let mut next_ss = 0u64;
    let deadline = restart_at + give_up.as_nanos() as u64 + 15_000_000_000;
    loop {
        let now = now_ns();
        rss_peak = rss_peak.max(server.rss_kib().unwrap_or(0));
        fds_peak = fds_peak.max(server.open_fds());
        if now >= next_ss {
            if let Some((queued, max)) = listen_queue(b.ws.port()) {
                queue_peak = queue_peak.max(queued);
                backlog = Some(max);
            }
            next_ss = now + 250_000_000;
        }
        let settled = r.settled();
        if now >= next_print {
            println!(
                "  +{:5.1} s: {} / {expected} subscribed again, {} attempts, refused {}, reset {}, timed out {}, connects > 1 s {}",
                (now - restart_at) as f64 / 1e9,
                r.resubscribed.load(Ordering::Relaxed),
                r.attempts.load(Ordering::Relaxed),
                r.refused.load(Ordering::Relaxed),
                r.reset.load(Ordering::Relaxed),
                r.timed_out.load(Ordering::Relaxed),
                r.slow_connects.load(Ordering::Relaxed),
            );
            next_print = now + 2_000_000_000;
        }
        if (settled >= expected && r.dropped.load(Ordering::Relaxed) >= expected) || now >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (overflows1, drops1) = listen_drop_counters();
    let hwm = server.peak_rss_kib().unwrap_or(0);
    let rss_after = server.rss_kib().unwrap_or(0);
    let fds_after = server.open_fds();
    let resubscribed = r.resubscribed.load(Ordering::Relaxed);
    let attempts = r.attempts.load(Ordering::Relaxed);
    let last = r.last_resubscribed_ns.load(Ordering::Relaxed);
    let total_s = if resubscribed > 0 {
        (last.saturating_sub(restart_at)) as f64 / 1e9
    } else {
        f64::NAN
    };
    let from_listening_s = if resubscribed > 0 {
        (last.saturating_sub(listening_at)) as f64 / 1e9
    } else {
        f64::NAN
    };
    let errors = r.errors.lock().clone();
    println!(
        "  {resubscribed} / {expected} subscribed again ({} gave up, {} never dropped): all within {total_s:.2} s of the restart, {from_listening_s:.2} s after the new server listened",
        r.gave_up.load(Ordering::Relaxed),
        expected.saturating_sub(r.dropped.load(Ordering::Relaxed))
    );
    println!(
        "  per client, own disconnect -> subscribed: {}",
        r.since_drop.summary()
    );
    println!(
        "  per client, restart -> subscribed:        {}",
        r.since_restart.summary()
    );
    println!(
        "  {attempts} attempts ({} retries): refused {}, reset/closed {}, timed out {}, other {}; TCP connect {}; connects > 1 s (dropped SYNs) {}",
        attempts.saturating_sub(resubscribed),
        r.refused.load(Ordering::Relaxed),
        r.reset.load(Ordering::Relaxed),
        r.timed_out.load(Ordering::Relaxed),
        r.other.load(Ordering::Relaxed),
        r.connect.summary(),
        r.slow_connects.load(Ordering::Relaxed),
    );
    if !errors.is_empty() {
        println!("  errors: {errors:?}");
    }
    println!(
        "  new server: RSS peak {rss_peak} KiB sampled, {hwm} KiB VmHWM, {rss_after} KiB after; fds peak {fds_peak}, after {fds_after}; listen backlog (ss Send-Q) {backlog:?}, accept queue peak (Recv-Q, sampled) {queue_peak}; ListenOverflows +{}, ListenDrops +{} (machine-wide)",
        overflows1 - overflows0,
        drops1 - drops0
    );
    println!(
        "  disconnect reasons: {:?}; dropped after resubscribing: {}",
        before.reasons(),
        after.total()
    );
    let _ = stop_tx.send(true);
    drop(stop);
    let stuck = join_all(opened.tasks, Duration::from_secs(30)).await;
    let pass = resubscribed == n as u64 && after.total() == 0;
    println!(
        "  every client subscribed again and stayed -> {}",
        if pass { "YES" } else { "NO" }
    );
    Ok(json!({
        "scenario": "storm",
        "connections": n,
        "channels": channels,
        "established": opened.established,
        "failed_initial": opened.failed,
        "closed_delay_ms": closed.as_millis() as u64,
        "retry_ms": first.as_millis() as u64,
        "retry_max_ms": max.as_millis() as u64,
        "restart_to_listening_s": round3((listening_at - restart_at) as f64 / 1e9),
        "dropped": r.dropped.load(Ordering::Relaxed),
        "resubscribed": resubscribed,
        "gave_up": r.gave_up.load(Ordering::Relaxed),
        "all_resubscribed_s": round3(total_s),
        "all_resubscribed_after_listening_s": round3(from_listening_s),
        "per_client_since_drop": r.since_drop.json(),
        "per_client_since_restart": r.since_restart.json(),
        "attempts": attempts,
        "retries": attempts.saturating_sub(resubscribed),
        "refused": r.refused.load(Ordering::Relaxed),
        "reset": r.reset.load(Ordering::Relaxed),
        "timed_out": r.timed_out.load(Ordering::Relaxed),
        "other_errors": r.other.load(Ordering::Relaxed),
        "connects_over_1s": r.slow_connects.load(Ordering::Relaxed),
        "tcp_connect": r.connect.json(),
        "errors": errors,
        "listen_overflows": overflows1 - overflows0,
        "listen_drops": drops1 - drops0,
        "listen_backlog": backlog,
        "listen_backlog_old_server": backlog_before,
        "accept_queue_peak": queue_peak,
        "old_server_rss_kib": old_rss,
        "old_server_fds": old_fds,
        "new_server_pid": new_pid,
        "new_server_rss_kib_listening": rss_listening,
        "new_server_rss_kib_peak_sampled": rss_peak,
        "new_server_rss_kib_hwm": hwm,
        "new_server_rss_kib_after": rss_after,
        "new_server_fds_peak": fds_peak,
        "new_server_fds_after": fds_after,
        "disconnect_reasons": before.reasons(),
        "dropped_after_resubscribing": after.total(),
        "stuck_tasks": stuck,
        "load1_start": load_start,
        "load1_end": load_avg(),
        "target_met": pass,
    }))
}
