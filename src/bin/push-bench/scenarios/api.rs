//! api: signed HTTP publishes per second over keep-alive connections.

use super::*;

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
