//! Measurements: the server process's CPU time and memory from /proc, a latency histogram,
//! and the monotonic clock every timestamp in the bench is taken from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Starts the bench clock; call once at the start of `main`.
pub fn start_clock() {
    START.get_or_init(Instant::now);
}

/// Monotonic nanoseconds since the bench started (same process for publisher and subscribers,
/// so a publish timestamp and a receive timestamp are directly comparable).
pub fn now_ns() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Unix time in seconds (for API request signatures).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The 1-minute load average (other processes share the machine; every result records it).
pub fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The server process, observed through /proc.
pub struct ServerProc {
    pid: u32,
    ticks_per_sec: f64,
}

impl ServerProc {
    pub fn new(pid: u32) -> Result<ServerProc, String> {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let p = ServerProc {
            pid,
            ticks_per_sec: if ticks > 0 { ticks as f64 } else { 100.0 },
        };
        p.cpu_seconds()
            .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
        Ok(p)
    }

    /// utime + stime of all the process's threads, in seconds.
    pub fn cpu_seconds(&self) -> std::io::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name (field 2) may contain spaces; fields after it start at "state" (field 3).
        let after = stat
            .rfind(')')
            .map(|i| &stat[i + 1..])
            .ok_or_else(|| std::io::Error::other("malformed stat"))?;
        let f: Vec<&str> = after.split_whitespace().collect();
        // utime is field 14, stime field 15 (1-based) → indexes 11 and 12 here.
        let parse = |i: usize| -> std::io::Result<f64> {
            f.get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .map(|v| v as f64)
                .ok_or_else(|| std::io::Error::other("malformed stat"))
        };
        Ok((parse(11)? + parse(12)?) / self.ticks_per_sec)
    }

    /// Resident set size in KiB (VmRSS).
    pub fn rss_kib(&self) -> std::io::Result<u64> {
        self.status_kib("VmRSS:")
    }

    /// The largest resident set size the process ever had, in KiB (VmHWM): a peak no sampling
    /// interval can miss.
    pub fn peak_rss_kib(&self) -> std::io::Result<u64> {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> std::io::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no {field}")))
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Open file descriptors of the server (connections + listeners + a few).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    pub fn alive(&self) -> bool {
        std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// The LISTEN socket on `port` as `ss -ltn` shows it: (Recv-Q, Send-Q), which for a listener are
/// the connections waiting in its accept queue and the backlog in effect.
pub fn listen_queue(port: u16) -> Option<(u64, u64)> {
    let out = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.lines().next()?.split_whitespace().skip(1);
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

/// Machine-wide `TcpExt` counters from /proc/net/netstat: `ListenOverflows` counts connections
/// that found a listener's accept queue full (their SYN or final ACK was dropped, and the client
/// retransmits after 1 s), `ListenDrops` every drop at a listener, overflows included.
pub fn listen_drop_counters() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return (0, 0);
    };
    let get = |name: &str| {
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0)
    };
    (get("ListenOverflows"), get("ListenDrops"))
}

/// A lock-free log-linear histogram of nanosecond values: exact below 128 ns, then 64 buckets per
/// power of two (≤ 1.6 % relative error), max and count exact.
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    max: AtomicU64,
    sum: AtomicU64,
}

const SUB: u64 = 64;
const BUCKETS: usize = (2 * SUB + 57 * SUB) as usize;

fn bucket_of(v: u64) -> usize {
    if v < 2 * SUB {
        v as usize
    } else {
        let bits = 64 - u64::from(v.leading_zeros()); // >= 8
        let shift = bits - 7; // v >> shift is in [64, 128)
        (2 * SUB + (shift - 1) * SUB + ((v >> shift) - SUB)) as usize
    }
}

fn bucket_value(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB {
        i
    } else {
        let j = i - 2 * SUB;
        let shift = j / SUB + 1;
        let m = j % SUB + SUB;
        (m << shift) + ((1u64 << shift) >> 1)
    }
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            max: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    pub fn record(&self, v: u64) {
        self.buckets[bucket_of(v)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
        self.max.fetch_max(v, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    pub fn mean(&self) -> u64 {
        self.sum
            .load(Ordering::Relaxed)
            .checked_div(self.count())
            .unwrap_or(0)
    }

    /// The value at quantile `q` (0..=1); 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return bucket_value(i).min(self.max());
            }
        }
        self.max()
    }

    /// `{"p50_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..,"n":..}`
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.count(),
            "p50_ms": ms(self.quantile(0.50)),
            "p99_ms": ms(self.quantile(0.99)),
            "max_ms": ms(self.max()),
            "mean_ms": ms(self.mean()),
        })
    }

    pub fn summary(&self) -> String {
        format!(
            "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (n={})",
            ms(self.quantile(0.50)),
            ms(self.quantile(0.99)),
            ms(self.max()),
            self.count()
        )
    }
}

/// Nanoseconds → milliseconds, rounded to microseconds.
pub fn ms(ns: u64) -> f64 {
    (ns as f64 / 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            127,
            128,
            129,
            255,
            256,
            1000,
            12_345,
            1 << 40,
            u64::MAX / 2,
        ] {
            let i = bucket_of(v);
            assert!(i >= last);
            last = i;
            let back = bucket_value(i);
            let err = (back as f64 - v as f64).abs() / (v.max(1) as f64);
            assert!(err <= 0.016, "v={v} back={back}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles() {
        let h = Histogram::new();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.02);
        assert_eq!(h.max(), 1_000_000);
    }
}
