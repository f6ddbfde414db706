//! The scenarios. Each prints human-readable lines and returns its JSON result.

use crate::args::Args;
use crate::client::{event_body, Publisher, Sources};
use crate::stats::{load_avg, now_ns, Histogram, ServerProc};
use crate::subscribers::{join_all, open_many, Drops};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// What every scenario needs.
pub struct Bench {
    pub args: Args,
    pub ws: SocketAddr,
    pub api: SocketAddr,
    pub key: String,
    pub secret: String,
    pub app_id: String,
    pub server: ServerProc,
    pub me: ServerProc,
    pub sources: Arc<Sources>,
    pub concurrency: usize,
}

impl Bench {
    async fn publisher(&self) -> Result<Publisher, String> {
        Publisher::connect(
            self.sources.next(),
            self.api,
            &self.key,
            &self.secret,
            &self.app_id,
        )
        .await
    }

    fn cpu(&self) -> f64 {
        self.server.cpu_seconds().unwrap_or(f64::NAN)
    }

    /// This process's own CPU seconds (the load generator's cost, for context).
    fn own_cpu(&self) -> f64 {
        self.me.cpu_seconds().unwrap_or(f64::NAN)
    }

    pub fn rss(&self) -> u64 {
        self.server.rss_kib().unwrap_or(0)
    }
}

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        (count as f64 / secs).round()
    } else {
        0.0
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

// ---------------------------------------------------------------------------------------------
// connections: N subscribed connections held, RSS per connection, a publish reaches every one.

pub async fn connections(b: &Bench) -> Result<Value, String> {
    let n: usize = b.args.num("connections", 19_000)?;
    let channels: usize = b.args.num("channels", n)?.max(1);
    let hold: f64 = b.args.num("duration", 10.0)?;
    let load_start = load_avg();
    println!(
        "connections: opening {n} connections ({channels} channels, {} handshakes in flight, sources {})",
        b.concurrency,
        b.sources.describe()
    );
    let rss0 = b.rss();
    let fds0 = b.server.open_fds();
    let cpu0 = b.cpu();
    let (stop_tx, stop) = watch::channel(false);
    let drops = Arc::new(Drops::default());
    let checked = Arc::new(AtomicU64::new(0));
    let opened = open_many(
        n,
        b.concurrency,
        &b.sources,
        b.ws,
        &b.key,
        |i| format!("hold-{}", i % channels),
        |_| {
            let checked = checked.clone();
            move |s: &str| {
                if s.contains(r#""event":"bench-check""#) {
                    checked.fetch_add(1, Ordering::Relaxed);
                }
            }
        },
        &stop,
        &drops,
        false,
    )
    .await;
    let cpu_connect = b.cpu() - cpu0;
    println!(
        "  established {} / {n} in {:.1} s ({:.0}/s), failed {}, server CPU {:.2} s{}",
        opened.established,
        opened.elapsed.as_secs_f64(),
        opened.established as f64 / opened.elapsed.as_secs_f64().max(1e-9),
        opened.failed,
        cpu_connect,
        if opened.first_errors.is_empty() {
            String::new()
        } else {
            format!(", errors {:?}", opened.first_errors)
        }
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = b.rss();
    let fds1 = b.server.open_fds();
    let per_conn = if opened.established > 0 {
        (rss1.saturating_sub(rss0) * 1024) as f64 / opened.established as f64
    } else {
        0.0
    };
    println!(
        "  server RSS {rss0} KiB -> {rss1} KiB: {:.0} bytes per connection; server fds {fds0} -> {fds1}",
        per_conn
    );
    println!("  holding for {hold} s");
    let hold_end = tokio::time::Instant::now() + Duration::from_secs_f64(hold);
    while tokio::time::Instant::now() < hold_end {
        tokio::time::sleep_until(hold_end.min(tokio::time::Instant::now() + Duration::from_secs(5))).await;
        if drops.total() > 0 {
            println!("  ... {} dropped so far: {:?}", drops.total(), drops.reasons());
        }
    }
    let rss2 = b.rss();
    // Prove every connection is still subscribed: one event per channel must reach all of them.
    let mut publisher = b.publisher().await?;
    let mut publish_errors = 0u64;
    let names: Vec<String> = (0..channels.min(n)).map(|c| format!("hold-{c}")).collect();
    for group in names.chunks(100) {
        let body = bytes::Bytes::from(
            json!({"name": "bench-check", "data": "check", "channels": group}).to_string(),
        );
        match publisher.post("events", body).await {
            Ok(r) if r.status == 200 => {}
            Ok(r) => {
                publish_errors += 1;
                if publish_errors == 1 {
                    println!(
                        "  check publish answered {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
            }
            Err(e) => {
                publish_errors += 1;
                println!("  check publish failed: {e}");
                publisher = b.publisher().await?;
            }
        }
    }
    let expected = opened.established as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while checked.load(Ordering::Relaxed) < expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = checked.load(Ordering::Relaxed);
    let dropped = drops.total();
    let reasons = drops.reasons();
    println!(
        "  after holding: {dropped} dropped{}, check event received by {got} / {expected}, server RSS {rss2} KiB",
        if reasons.is_empty() { String::new() } else { format!(" {reasons:?}") }
    );
    let _ = stop_tx.send(true);
    drop(stop);
    let stuck = join_all(opened.tasks, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_closed = b.rss();
    println!(
        "  closed all; server RSS {rss_closed} KiB, fds {}",
        b.server.open_fds()
    );
    let pass = opened.established == n && dropped == 0 && got == expected && per_conn <= 5000.0;
    println!(
        "  target: {n} held, no drops, <= 5 KB (5000 B)/connection -> {}",
        if pass { "MET" } else { "NOT MET" }
    );
    Ok(json!({
        "scenario": "connections",
        "connections": n,
        "channels": channels,
        "established": opened.established,
        "failed": opened.failed,
        "connect_seconds": round3(opened.elapsed.as_secs_f64()),
        "server_cpu_connect_s": round3(cpu_connect),
        "held_seconds": hold,
        "dropped": dropped,
        "drop_reasons": reasons,
        "check_received": got,
        "check_publish_errors": publish_errors,
        "server_rss_kib_before": rss0,
        "server_rss_kib_connected": rss1,
        "server_rss_kib_after_hold": rss2,
        "server_rss_kib_after_close": rss_closed,
        "server_rss_bytes_per_connection": per_conn.round(),
        "server_fds_connected": fds1,
        "stuck_tasks": stuck,
        "load1_start": load_start,
        "load1_end": load_avg(),
        "target_met": pass,
    }))
}

// ---------------------------------------------------------------------------------------------
// fanout: one channel, N subscribers, publishes through the signed HTTP API.

/// Deliveries of the bench's events: data is `b:<seq>:<publish nanos><padding>`.
struct Fanout {
    subscribers: AtomicU32,
    counts: Vec<AtomicU32>,
    last: Vec<AtomicU64>,
    each: Histogram,
    to_last: Histogram,
    deliveries: AtomicU64,
    completed: AtomicU64,
    duplicates: AtomicU64,
    other_frames: AtomicU64,
    last_delivery_ns: AtomicU64,
    window: Semaphore,
    windowed: bool,
}

fn parse_bench_data(s: &str) -> Option<(usize, u64)> {
    const MARK: &str = r#""data":"b:"#;
    let rest = &s[s.find(MARK)? + MARK.len()..];
    let (seq, rest) = rest.split_once(':')?;
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    Some((seq.parse().ok()?, rest[..end].parse().ok()?))
}

impl Fanout {
    fn on_frame(&self, s: &str) {
        let now = now_ns();
        let Some((seq, sent)) = parse_bench_data(s) else {
            self.other_frames.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.each.record(now.saturating_sub(sent));
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        self.last_delivery_ns.fetch_max(now, Ordering::Relaxed);
        let (Some(count), Some(last)) = (self.counts.get(seq), self.last.get(seq)) else {
            return;
        };
        last.fetch_max(now, Ordering::AcqRel);
        let c = count.fetch_add(1, Ordering::AcqRel) + 1;
        let n = self.subscribers.load(Ordering::Relaxed);
        if c == n {
            let last = last.load(Ordering::Acquire);
            self.to_last.record(last.saturating_sub(sent));
            self.completed.fetch_add(1, Ordering::Relaxed);
            if self.windowed {
                self.window.add_permits(1);
            }
        } else if c > n {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub async fn fanout(b: &Bench) -> Result<Value, String> {
    let n: usize = b.args.num("subscribers", 1000)?;
    let rate_arg = b.args.str_or("rate", "max").to_owned();
    let rate: Option<f64> = if rate_arg == "max" {
        None
    } else {
        Some(
            rate_arg
                .parse::<f64>()
                .ok()
                .filter(|r| *r > 0.0)
                .ok_or("--rate: a positive number or max")?,
        )
    };
    let duration: f64 = b.args.num("duration", 10.0)?;
    let window: usize = b.args.num("window", 4)?.max(1);
    let publishers: usize = b
        .args
        .num("publishers", if rate.is_some() { 2 } else { window.min(4) })?
        .max(1);
    let payload: usize = b.args.num("payload", 0)?;
    let channel = "fanout-bench";
    let capacity = match rate {
        Some(r) => (r * duration).ceil() as usize + 16,
        None => 2_000_000,
    };
    let load_start = load_avg();
    println!(
        "fanout: {n} subscribers on {channel}, rate {rate_arg}{} for {duration} s, {publishers} publisher connection(s), payload +{payload} B",
        if rate.is_none() { format!(" (at most {window} events in flight)") } else { String::new() }
    );
    let state = Arc::new(Fanout {
        subscribers: AtomicU32::new(n as u32),
        counts: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
        last: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        each: Histogram::new(),
        to_last: Histogram::new(),
        deliveries: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        other_frames: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        window: Semaphore::new(window),
        windowed: rate.is_none(),
    });
    let (stop_tx, stop) = watch::channel(false);
    let drops = Arc::new(Drops::default());
    let opened = open_many(
        n,
        b.concurrency,
        &b.sources,
        b.ws,
        &b.key,
        |_| channel.to_owned(),
        |_| {
            let st = state.clone();
            move |s: &str| st.on_frame(s)
        },
        &stop,
        &drops,
        false,
    )
    .await;
    println!(
        "  subscribed {} / {n} in {:.1} s (failed {}{})",
        opened.established,
        opened.elapsed.as_secs_f64(),
        opened.failed,
        if opened.first_errors.is_empty() {
            String::new()
        } else {
            format!(": {:?}", opened.first_errors)
        }
    );
    if opened.established == 0 {
        let _ = stop_tx.send(true);
        join_all(opened.tasks, Duration::from_secs(10)).await;
        return Err("no subscriber could connect".into());
    }
    state
        .subscribers
        .store(opened.established as u32, Ordering::Relaxed);
    let subs = opened.established as u64;
    // Let the connection burst settle before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut conns = Vec::new();
    for _ in 0..publishers {
        conns.push(b.publisher().await?);
    }
    let next_seq = Arc::new(AtomicU64::new(0));
    let published = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let stalls = Arc::new(AtomicU64::new(0));
    let rtt = Arc::new(Histogram::new());
    let pad = "x".repeat(payload);
    let cpu0 = b.cpu();
    let own0 = b.own_cpu();
    let t0 = now_ns();
    let end = t0 + (duration * 1e9) as u64;
    let mut handles = Vec::new();
    for mut p in conns {
        let (state, next_seq, published, errors, late, stalls, rtt, pad) = (
            state.clone(),
            next_seq.clone(),
            published.clone(),
            errors.clone(),
            late.clone(),
            stalls.clone(),
            rtt.clone(),
            pad.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut first_error = true;
            loop {
                if now_ns() >= end {
                    break;
                }
                let seq = match rate {
                    Some(r) => {
                        let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                        let at = t0 + (seq as f64 * 1e9 / r) as u64;
                        if at >= end || seq as usize >= capacity {
                            break;
                        }
                        let now = now_ns();
                        if at > now {
                            tokio::time::sleep(Duration::from_nanos(at - now)).await;
                        } else if now - at > 1_000_000 {
                            late.fetch_add(1, Ordering::Relaxed);
                        }
                        seq
                    }
                    None => {
                        let wait = end.saturating_sub(now_ns()).min(2_000_000_000);
                        match tokio::time::timeout(Duration::from_nanos(wait), state.window.acquire()).await {
                            Ok(Ok(permit)) => permit.forget(),
                            _ => {
                                stalls.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                        }
                        let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                        if seq as usize >= capacity {
                            break;
                        }
                        seq
                    }
                };
                let sent = now_ns();
                let body = event_body(channel, "bench", &format!("b:{seq}:{sent}{pad}"));
                match p.post("events", body).await {
                    Ok(r) if r.status == 200 => {
                        rtt.record(now_ns() - sent);
                        published.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if rate.is_none() {
                            state.window.add_permits(1);
                        }
                        if first_error {
                            first_error = false;
                            match &other {
                                Ok(r) => eprintln!(
                                    "  publish answered {}: {}",
                                    r.status,
                                    String::from_utf8_lossy(&r.body)
                                ),
                                Err(e) => eprintln!("  publish failed: {e}"),
                            }
                        }
                        if other.is_err() {
                            break;
                        }
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs_f64(duration + 30.0), h).await;
    }
    let publish_end = now_ns();
    let published = published.load(Ordering::Relaxed);
    // Wait for the last events to reach every subscriber.
    let drain_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state.completed.load(Ordering::Relaxed) < published
        && tokio::time::Instant::now() < drain_deadline
        && drops.total() < subs
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A little slack so the server finishes its bookkeeping inside the CPU window.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let cpu = b.cpu() - cpu0;
    let own = b.own_cpu() - own0;
    let last = state.last_delivery_ns.load(Ordering::Relaxed).max(publish_end);
    let elapsed = secs(last - t0);
    let deliveries = state.deliveries.load(Ordering::Relaxed);
    let expected = published * subs;
    let completed = state.completed.load(Ordering::Relaxed);
    let dropped = drops.total();
    let reasons = drops.reasons();
    let _ = stop_tx.send(true);
    drop(stop);
    let stuck = join_all(opened.tasks, Duration::from_secs(20)).await;

    let per_cpu = if cpu > 0.0 {
        (deliveries as f64 / cpu).round()
    } else {
        0.0
    };
    let events_per_sec = per_sec(published, secs(publish_end - t0));
    println!(
        "  published {published} events in {:.2} s ({events_per_sec}/s, {} errors, {} late > 1 ms, {} window stalls)",
        secs(publish_end - t0),
        errors.load(Ordering::Relaxed),
        late.load(Ordering::Relaxed),
        stalls.load(Ordering::Relaxed)
    );
    println!(
        "  deliveries {deliveries} / {expected} expected, events complete {completed} / {published}, dropped subscribers {dropped}{}",
        if reasons.is_empty() { String::new() } else { format!(" {reasons:?}") }
    );
    println!(
        "  {} deliveries/s; server CPU {:.2} s -> {} deliveries per server-CPU-second (bench's own CPU {:.2} s)",
        per_sec(deliveries, elapsed),
        cpu,
        per_cpu,
        own
    );
    println!("  publish -> each delivery:  {}", state.each.summary());
    println!("  publish -> last delivery:  {}", state.to_last.summary());
    println!("  publish HTTP round trip:   {}", rtt.summary());
    Ok(json!({
        "scenario": "fanout",
        "subscribers": n,
        "subscribed": subs,
        "rate": rate_arg,
        "window": if rate.is_none() { json!(window) } else { Value::Null },
        "publishers": publishers,
        "payload_pad_bytes": payload,
        "duration_s": duration,
        "published": published,
        "publish_errors": errors.load(Ordering::Relaxed),
        "late_publishes": late.load(Ordering::Relaxed),
        "events_per_sec": events_per_sec,
        "deliveries": deliveries,
        "deliveries_expected": expected,
        "events_complete": completed,
        "duplicates": state.duplicates.load(Ordering::Relaxed),
        "dropped_subscribers": dropped,
        "drop_reasons": reasons,
        "elapsed_s": round3(elapsed),
        "deliveries_per_sec": per_sec(deliveries, elapsed),
        "server_cpu_s": round3(cpu),
        "deliveries_per_server_cpu_s": per_cpu,
        "client_cpu_s": round3(own),
        "latency_each": state.each.json(),
        "latency_last": state.to_last.json(),
        "publish_rtt": rtt.json(),
        "stuck_tasks": stuck,
        "load1_start": load_start,
        "load1_end": load_avg(),
    }))
}

// ---------------------------------------------------------------------------------------------
// api: signed HTTP publishes per second over keep-alive connections.

pub async fn api(b: &Bench) -> Result<Value, String> {
    let publishers: usize = b.args.num("publishers", 4)?.max(1);
    let duration: f64 = b.args.num("duration", 10.0)?;
    let payload: usize = b.args.num("payload", 0)?;
    let channel = "bench-ingest";
    let load_start = load_avg();
    println!("api: {publishers} keep-alive connection(s) publishing to {channel} (no subscribers) for {duration} s");
    let mut conns = Vec::new();
    for _ in 0..publishers {
        conns.push(b.publisher().await?);
    }
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let rtt = Arc::new(Histogram::new());
    let body = event_body(channel, "bench", &format!("{{\"n\":1}}{}", "x".repeat(payload)));
    let cpu0 = b.cpu();
    let own0 = b.own_cpu();
    let t0 = now_ns();
    let end = t0 + (duration * 1e9) as u64;
    let mut handles = Vec::new();
    for mut p in conns {
        let (ok, errors, rtt, body) = (ok.clone(), errors.clone(), rtt.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            let mut first_error = true;
            while now_ns() < end {
                let sent = now_ns();
                match p.post("events", body.clone()).await {
                    Ok(r) if r.status == 200 => {
                        rtt.record(now_ns() - sent);
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if first_error {
                            first_error = false;
                            match &other {
                                Ok(r) => eprintln!(
                                    "  publish answered {}: {}",
                                    r.status,
                                    String::from_utf8_lossy(&r.body)
                                ),
                                Err(e) => eprintln!("  publish failed: {e}"),
                            }
                        }
                        if other.is_err() {
                            break;
                        }
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs_f64(duration + 15.0), h).await;
    }
    let elapsed = secs(now_ns() - t0);
    let cpu = b.cpu() - cpu0;
    let own = b.own_cpu() - own0;
    let ok = ok.load(Ordering::Relaxed);
    let per_cpu = if cpu > 0.0 { (ok as f64 / cpu).round() } else { 0.0 };
    println!(
        "  {ok} publishes accepted in {elapsed:.2} s: {}/s ({} errors); server CPU {cpu:.2} s -> {per_cpu} publishes per server-CPU-second",
        per_sec(ok, elapsed),
        errors.load(Ordering::Relaxed)
    );
    println!(
        "  request round trip: {}; bench's own CPU {own:.2} s",
        rtt.summary()
    );
    println!(
        "  target >= 100000 per server-CPU-second -> {}",
        if per_cpu >= 100_000.0 { "MET" } else { "NOT MET" }
    );
    Ok(json!({
        "scenario": "api",
        "publishers": publishers,
        "duration_s": duration,
        "body_bytes": body.len(),
        "publishes": ok,
        "errors": errors.load(Ordering::Relaxed),
        "elapsed_s": round3(elapsed),
        "publishes_per_sec": per_sec(ok, elapsed),
        "server_cpu_s": round3(cpu),
        "publishes_per_server_cpu_s": per_cpu,
        "client_cpu_s": round3(own),
        "rtt": rtt.json(),
        "load1_start": load_start,
        "load1_end": load_avg(),
    }))
}

// ---------------------------------------------------------------------------------------------
// php: Api::trigger calls per second from one PHP process (bench/api_trigger.php), over TCP or,
// with --unix PATH, over the server's api_socket.

pub async fn php(b: &Bench) -> Result<Value, String> {
    if crate::tls::enabled() {
        return Err(
            "the php scenario does not take --tls-ca (bench/api_trigger.php has no CA option)".into(),
        );
    }
    let calls: u64 = b.args.num("calls", 20_000)?;
    let php = b.args.str_or("php", "php").to_owned();
    let ext = b
        .args
        .str_or("php-ext", "target/release/libwebman_push.so")
        .to_owned();
    let script = b.args.str_or("php-script", "bench/api_trigger.php").to_owned();
    let load_start = load_avg();
    let api_url = match b.args.str("unix") {
        Some(path) => format!("unix://{path}"),
        None => format!("http://{}", b.api),
    };
    let transport = if api_url.starts_with("unix://") {
        "unix"
    } else {
        "tcp"
    };
    let argv = vec![
        "-d".to_owned(),
        format!("extension={ext}"),
        script.clone(),
        api_url.clone(),
        b.key.clone(),
        b.secret.clone(),
        calls.to_string(),
    ];
    println!("php: {php} -d extension={ext} {script} {api_url} KEY SECRET {calls}");
    let cpu0 = b.cpu();
    // Bounded: 2 s per call is the Api's own timeout; the whole run gets at most 10 minutes.
    let output = tokio::task::spawn_blocking(move || run_bounded(&php, &argv, Duration::from_secs(600)))
        .await
        .map_err(|e| format!("php runner: {e}"))??;
    let cpu = b.cpu() - cpu0;
    let line = output
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("api_trigger.php printed no result: {output}"))?;
    let r: Value = serde_json::from_str(line).map_err(|e| format!("bad php output {line}: {e}"))?;
    let ok = r["ok"].as_u64().unwrap_or(0);
    let rate = r["calls_per_sec"].as_f64().unwrap_or(0.0);
    let per_cpu = if cpu > 0.0 { (ok as f64 / cpu).round() } else { 0.0 };
    println!(
        "  {} calls ({ok} returned true) in {:.2} s: {rate:.0} calls/s; PHP process CPU {:.2} s; server CPU {cpu:.2} s ({per_cpu} per server-CPU-second)",
        r["calls"], r["seconds"].as_f64().unwrap_or(0.0), r["php_cpu_seconds"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  target >= 40000 calls/s -> {}",
        if rate >= 40_000.0 { "MET" } else { "NOT MET" }
    );
    Ok(json!({
        "scenario": "php",
        "transport": transport,
        "calls": r["calls"],
        "ok": ok,
        "seconds": r["seconds"],
        "calls_per_sec": rate,
        "php_cpu_s": r["php_cpu_seconds"],
        "server_cpu_s": round3(cpu),
        "calls_per_server_cpu_s": per_cpu,
        "load1_start": load_start,
        "load1_end": load_avg(),
    }))
}

/// Runs a program, killing it (by its pid) if it outlives `limit`; returns its stdout.
fn run_bounded(program: &str, argv: &[String], limit: Duration) -> Result<String, String> {
    use std::io::Read;
    let mut child = std::process::Command::new(program)
        .args(argv)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{program} ran longer than {limit:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{program} exited with {status}: {out}"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// churn: rounds of connecting and disconnecting N clients; is the server's memory flat?

pub async fn churn(b: &Bench) -> Result<Value, String> {
    let rounds: usize = b.args.num("rounds", 10)?.max(1);
    let n: usize = b.args.num("connections", 10_000)?;
    let load_start = load_avg();
    println!("churn: {rounds} rounds of {n} connections (one channel each), connect then disconnect");
    let mut publisher = b.publisher().await?;
    let rss_base = b.rss();
    let fds_base = b.server.open_fds();
    let cpu0 = b.cpu();
    println!("  server RSS before: {rss_base} KiB, fds {fds_base}");
    let mut up = Vec::new();
    let mut down = Vec::new();
    let mut failures = 0usize;
    let drops = Arc::new(Drops::default());
    for round in 1..=rounds {
        let (stop_tx, stop) = watch::channel(false);
        let opened = open_many(
            n,
            b.concurrency,
            &b.sources,
            b.ws,
            &b.key,
            |i| format!("churn-{i}"),
            |_| |_: &str| {},
            &stop,
            &drops,
            true,
        )
        .await;
        failures += opened.failed;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_up = b.rss();
        let _ = stop_tx.send(true);
        drop(stop);
        join_all(opened.tasks, Duration::from_secs(30)).await;
        // Wait until the server has let go of every connection and channel.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut occupied = usize::MAX;
        loop {
            if let Ok(r) = publisher.get("channels", &[("filter_by_prefix", "churn-")]).await {
                occupied = serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v["channels"].as_object().map(|m| m.len()))
                    .unwrap_or(usize::MAX);
            } else {
                publisher = b.publisher().await?;
            }
            if (occupied == 0 && b.server.open_fds() <= fds_base + 1)
                || tokio::time::Instant::now() >= deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_down = b.rss();
        println!(
            "  round {round:2}: {} connected ({} failed) in {:.1} s, RSS connected {rss_up} KiB, after disconnect {rss_down} KiB (channels left {occupied}, fds {})",
            opened.established,
            opened.failed,
            opened.elapsed.as_secs_f64(),
            b.server.open_fds()
        );
        up.push(rss_up);
        down.push(rss_down);
    }
    let cpu = b.cpu() - cpu0;
    let growth = |v: &[u64]| -> f64 {
        let (first, last) = (v[0] as f64, v[v.len() - 1] as f64);
        if first > 0.0 {
            ((last - first) / first * 1000.0).round() / 10.0
        } else {
            0.0
        }
    };
    let (g_up, g_down) = (growth(&up), growth(&down));
    println!(
        "  RSS growth round 1 -> {rounds}: connected {g_up:+}%, disconnected {g_down:+}%; unexpected drops {}; server CPU {cpu:.2} s",
        drops.total()
    );
    // A leak only ever adds: RSS that falls between rounds is glibc handing freed heap back to the
    // kernel (it trims when the top of a heap happens to be free), so only growth counts against
    // flatness; a fall is printed above as it is.
    let pass = g_up <= 5.0 && g_down <= 5.0 && failures == 0;
    println!(
        "  target: flat (no growth over 5%) -> {}",
        if pass { "MET" } else { "NOT MET" }
    );
    Ok(json!({
        "scenario": "churn",
        "rounds": rounds,
        "connections": n,
        "connect_failures": failures,
        "unexpected_drops": drops.total(),
        "drop_reasons": drops.reasons(),
        "server_rss_kib_before": rss_base,
        "server_rss_kib_connected": up,
        "server_rss_kib_disconnected": down,
        "growth_connected_pct": g_up,
        "growth_disconnected_pct": g_down,
        "server_cpu_s": round3(cpu),
        "load1_start": load_start,
        "load1_end": load_avg(),
        "target_met": pass,
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_bench_data;

    #[test]
    fn bench_data_is_found_in_a_pusher_event_frame() {
        let f = r#"{"event":"bench","data":"b:17:123456789xxxx","channel":"fanout-bench"}"#;
        assert_eq!(parse_bench_data(f), Some((17, 123_456_789)));
        assert_eq!(parse_bench_data(r#"{"event":"pusher:pong","data":"{}"}"#), None);
    }
}
