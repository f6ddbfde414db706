//! soak: connection churn for a long time at a steady rate, watching the server's memory and
//! descriptors for leaks. Each cycle connects, subscribes a public and a presence channel
//! (presence auth signed with the app secret, as an auth endpoint would), sends a client event to
//! the presence channel and drops the connection with a RST (`SO_LINGER` 0), the way a client
//! that loses its network looks to the server. At most `--in-flight` cycles run at once. Server
//! RSS and open fds are sampled every `--sample` seconds; memory is flat when no sample after the
//! warm-up is more than 5 % above the first one after it.

use crate::client::{app_path, await_established, error_kind, subscribe_all, Sources, Ws};
use crate::rawws::{tcp_connect, OP_TEXT};
use crate::scenarios::{round3, Bench};
use crate::stats::{load_avg, Histogram};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use webman_push::protocol::signature::{auth_token, channel_string_to_sign};

/// A cycle that has not finished in this time failed (and its connection is dropped).
const CYCLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Connections the server may still hold for a moment after the bench sent their RST.
const RST_LAG: usize = 16;

#[derive(Default)]
struct Counts {
    completed: AtomicU64,
    failed: AtomicU64,
    /// Cycles that started more than 100 ms after their slot (the in-flight bound was full).
    late: AtomicU64,
    /// Connections the bench holds open right now.
    open: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    cycle: Histogram,
}

/// Counts a connection as open until dropped.
struct OpenGuard<'a>(&'a AtomicU64);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Target {
    server: SocketAddr,
    key: String,
    secret: String,
    channels: usize,
}

/// One cycle: connect, subscribe `soak-K` and `presence-soak-K`, a client event, RST.
async fn cycle(i: u64, source: std::net::IpAddr, t: &Target, counts: &Counts) -> Result<(), String> {
    let stream = tcp_connect(source, t.server).await?;
    counts.open.fetch_add(1, Ordering::Relaxed);
    let _open = OpenGuard(&counts.open);
    let mut ws = Ws::handshake(stream, t.server, &app_path(&t.key)).await?;
    let socket_id = await_established(&mut ws).await?;
    let k = i % t.channels as u64;
    let presence = format!("presence-soak-{k}");
    let channel_data = json!({"user_id": format!("u{i}"), "user_info": {"cycle": i}}).to_string();
    let auth = auth_token(
        &t.key,
        &t.secret,
        &channel_string_to_sign(&socket_id, &presence, Some(&channel_data)),
    );
    let subscribes = [
        json!({"event": "pusher:subscribe", "data": {"channel": format!("soak-{k}")}}),
        json!({"event": "pusher:subscribe", "data": {"channel": presence, "auth": auth, "channel_data": channel_data}}),
    ];
    subscribe_all(&mut ws, &subscribes).await?;
    let event = json!({"event": "client-soak", "channel": presence, "data": {"cycle": i}});
    ws.send(OP_TEXT, event.to_string().as_bytes()).await?;
    ws.abort();
    Ok(())
}

/// One sample of the server.
struct Sample {
    t: f64,
    rss: u64,
    fds: usize,
    open: u64,
    completed: u64,
    failed: u64,
}

/// Percent change from `base` to `v`, one decimal.
fn drift(base: f64, v: f64) -> f64 {
    if base > 0.0 {
        ((v - base) / base * 1000.0).round() / 10.0
    } else {
        0.0
    }
}

pub async fn soak(b: &Bench) -> Result<Value, String> {
    let duration: f64 = b.args.num("duration", 1800.0)?;
    let rate: f64 = b.args.num("rate", 1000.0)?;
    let in_flight: usize = b.args.num("in-flight", 200)?.max(1);
    let every: f64 = b.args.num("sample", 10.0)?;
    let warmup: f64 = b.args.num("warmup", (duration / 6.0).min(60.0))?;
    let channels: usize = b.args.num("channels", 100)?.max(1);
    if rate <= 0.0 || every <= 0.0 {
        return Err("--rate and --sample must be positive".into());
    }
    let load_start = load_avg();
    println!(
        "soak: {duration} s of {rate} cycles/s (connect, subscribe soak-K and presence-soak-K of {channels}, client event, RST), at most {in_flight} in flight; samples every {every} s, warm-up {warmup:.0} s"
    );
    let target = Arc::new(Target {
        server: b.ws,
        key: b.key.clone(),
        secret: b.secret.clone(),
        channels,
    });
    let counts = Arc::new(Counts::default());
    let (rss0, fds0) = (b.rss(), b.server.open_fds());
    let cpu0 = b.server.cpu_seconds().unwrap_or(f64::NAN);
    println!("  server before: RSS {rss0} KiB, fds {fds0}");
    let gate = Arc::new(Semaphore::new(in_flight));
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(duration);
    let scheduler = {
        let (gate, counts, target, sources) =
            (gate.clone(), counts.clone(), target.clone(), b.sources.clone());
        tokio::spawn(async move { schedule(rate, started, end, gate, counts, target, sources).await })
    };
    let mut samples: Vec<Sample> = Vec::new();
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_secs_f64(every),
        Duration::from_secs_f64(every),
    );
    while Instant::now() + Duration::from_millis(1) < end {
        tick.tick().await;
        let s = Sample {
            t: started.elapsed().as_secs_f64(),
            rss: b.rss(),
            fds: b.server.open_fds(),
            open: counts.open.load(Ordering::Relaxed),
            completed: counts.completed.load(Ordering::Relaxed),
            failed: counts.failed.load(Ordering::Relaxed),
        };
        let since = samples.last().map_or(0, |p| p.completed);
        println!(
            "  t={:6.0} s: RSS {} KiB, fds {} (bench holds {}), cycles {} (+{:.0}/s), failed {}, load {}",
            s.t,
            s.rss,
            s.fds,
            s.open,
            s.completed,
            (s.completed - since) as f64 / every,
            s.failed,
            load_avg()
        );
        samples.push(s);
    }
    let scheduled = scheduler.await.map_err(|e| format!("scheduler: {e}"))?;
    // Let the cycles in flight finish (each has its own timeout), then the server let go of them.
    let _ = tokio::time::timeout(
        CYCLE_TIMEOUT + Duration::from_secs(5),
        gate.acquire_many(in_flight as u32),
    )
    .await;
    let drained = Instant::now() + Duration::from_secs(10);
    while b.server.open_fds() > fds0 && Instant::now() < drained {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_end, fds_end) = (b.rss(), b.server.open_fds());
    let cpu = b.server.cpu_seconds().unwrap_or(f64::NAN) - cpu0;
    let completed = counts.completed.load(Ordering::Relaxed);
    let failed = counts.failed.load(Ordering::Relaxed);
    let errors = counts.errors.lock().clone();
    let elapsed = started.elapsed().as_secs_f64();

    let steady: Vec<&Sample> = samples.iter().filter(|s| s.t >= warmup).collect();
    let (Some(first), Some(last)) = (steady.first(), steady.last()) else {
        return Err(format!(
            "no sample after the {warmup} s warm-up: make --duration longer"
        ));
    };
    let rss_max = steady.iter().map(|s| s.rss).max().unwrap_or(0);
    let fds_max = steady.iter().map(|s| s.fds).max().unwrap_or(0);
    let (rss_last_pct, rss_max_pct) = (
        drift(first.rss as f64, last.rss as f64),
        drift(first.rss as f64, rss_max as f64),
    );
    let (fds_last_pct, fds_max_pct) = (
        drift(first.fds as f64, last.fds as f64),
        drift(first.fds as f64, fds_max as f64),
    );
    // Memory: a leak only adds, so the verdict is on growth. Descriptors: every sample holds up to
    // --in-flight live connections besides the server's own few, so a percentage of that small
    // number says little; a leaked descriptor stays after the churn stops, so compare the drained
    // count with the count before, and bound every sample by what the cycles in flight explain.
    let rss_flat = rss_max_pct <= 5.0;
    let fds_flat = fds_end <= fds0 + 2 && samples.iter().all(|s| s.fds <= fds0 + in_flight + RST_LAG);
    println!(
        "  {completed} cycles completed, {failed} failed, {} started late, in {elapsed:.0} s ({:.0}/s); server CPU {cpu:.1} s ({:.0} us per cycle); cycle time {}",
        counts.late.load(Ordering::Relaxed),
        completed as f64 / elapsed,
        cpu * 1e6 / completed.max(1) as f64,
        counts.cycle.summary()
    );
    if !errors.is_empty() {
        println!("  errors: {errors:?}");
    }
    println!(
        "  RSS (from t={:.0} s, {} KiB): last {:+}%, max {:+}%; fds from {}: last {:+}%, max {:+}%",
        first.t, first.rss, rss_last_pct, rss_max_pct, first.fds, fds_last_pct, fds_max_pct
    );
    println!("  server after draining: RSS {rss_end} KiB, fds {fds_end} (before: {rss0} KiB, {fds0})");
    println!(
        "  target: RSS flat within 5 % -> {}; fds back to {fds0} and never above {fds0} + {in_flight} in flight -> {}",
        if rss_flat { "MET" } else { "NOT MET" },
        if fds_flat { "MET" } else { "NOT MET" }
    );
    let series = |f: &dyn Fn(&Sample) -> Value| -> Vec<Value> { samples.iter().map(f).collect() };
    Ok(json!({
        "scenario": "soak",
        "duration_s": duration,
        "rate": rate,
        "in_flight": in_flight,
        "channels": channels,
        "sample_s": every,
        "warmup_s": warmup,
        "scheduled": scheduled,
        "completed": completed,
        "failed": failed,
        "late": counts.late.load(Ordering::Relaxed),
        "cycles_per_sec": (completed as f64 / elapsed).round(),
        "cycle_time": counts.cycle.json(),
        "errors": errors,
        "server_cpu_s": round3(cpu),
        "t_s": series(&|s| json!(round3(s.t))),
        "rss_kib": series(&|s| json!(s.rss)),
        "fds": series(&|s| json!(s.fds)),
        "bench_open": series(&|s| json!(s.open)),
        "completed_at": series(&|s| json!(s.completed)),
        "failed_at": series(&|s| json!(s.failed)),
        "rss_kib_before": rss0,
        "fds_before": fds0,
        "rss_kib_after_drain": rss_end,
        "fds_after_drain": fds_end,
        "rss_first_steady_kib": first.rss,
        "rss_last_drift_pct": rss_last_pct,
        "rss_max_drift_pct": rss_max_pct,
        "fds_last_drift_pct": fds_last_pct,
        "fds_max_drift_pct": fds_max_pct,
        "rss_flat": rss_flat,
        "fds_flat": fds_flat,
        "load1_start": load_start,
        "load1_end": load_avg(),
        "target_met": rss_flat && fds_flat,
    }))
}

/// Starts cycle k at `started + k / rate` (later when `in_flight` are already running) until
/// `end`; returns how many it started.
async fn schedule(
    rate: f64,
    started: Instant,
    end: Instant,
    gate: Arc<Semaphore>,
    counts: Arc<Counts>,
    target: Arc<Target>,
    sources: Arc<Sources>,
) -> u64 {
    let mut k = 0u64;
    loop {
        let at = started + Duration::from_secs_f64(k as f64 / rate);
        if at >= end {
            return k;
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        let Ok(permit) = gate.clone().acquire_owned().await else {
            return k;
        };
        if at.elapsed() > Duration::from_millis(100) {
            counts.late.fetch_add(1, Ordering::Relaxed);
        }
        let (counts, target, source) = (counts.clone(), target.clone(), sources.next());
        tokio::spawn(async move {
            let t0 = Instant::now();
            let result = tokio::time::timeout(CYCLE_TIMEOUT, cycle(k, source, &target, &counts))
                .await
                .unwrap_or_else(|_| Err("cycle timed out".into()));
            drop(permit);
            match result {
                Ok(()) => {
                    counts.cycle.record(t0.elapsed().as_nanos() as u64);
                    counts.completed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                    let key = error_kind(&e);
                    let mut errors = counts.errors.lock();
                    if errors.len() < 12 || errors.contains_key(&key) {
                        *errors.entry(key).or_default() += 1;
                    }
                }
            }
        });
        k += 1;
    }
}
