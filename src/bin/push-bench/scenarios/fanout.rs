//! fanout: one channel, N subscribers, publishes through the signed HTTP API.

use super::*;

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
        opened.errors_note()
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
                        report_first_failure(&mut first_error, &other);
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
