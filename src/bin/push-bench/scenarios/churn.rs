//! churn: rounds of connecting and disconnecting N clients; is the server's memory flat?

use super::*;

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
