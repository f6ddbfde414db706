//! connections: N subscribed connections held, RSS per connection, a publish reaches every one.

use super::*;

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
        opened.errors_note()
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
