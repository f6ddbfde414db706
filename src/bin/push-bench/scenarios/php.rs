//! php: Api::trigger calls per second from one PHP process (bench/api_trigger.php), over TCP or,
//! with --unix PATH, over the server's api_socket.

use super::*;

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
