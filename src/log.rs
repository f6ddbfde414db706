//! The server's log: one line per event on stderr, as text or JSON lines, at the level the config
//! asks for (`log_level`, `log_format`).
//!
//! Code logs with `tracing`'s macros (`tracing::warn!(app = %id, "…")`); this module owns the one
//! subscriber a process installs, so the words and the destination stay what they were when
//! the server printed with `eprintln!`: stderr, which webman's stdout log collects. Text lines read
//! `webman-push: <level> <message> key=value …`; JSON lines are
//! `{"level":…,"message":…,"fields":{…}}`. Each line is one `write(2)`, so lines from different
//! threads never interleave.
//!
//! A process has one global subscriber but may start several servers (tests, a PHP script that
//! restarts one): the level and format are kept in atomics that the latest [`install`] sets.
//!
//! The subscriber touches no PHP value: it formats on whichever thread logs and writes to fd 2.

use serde::Deserialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The most detailed events written (`log_level`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    /// Also every rejected authentication, with the reason.
    Debug,
}

/// How each line is written (`log_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line: `level`, `message`, `fields`.
    Json,
}

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);
static FORMAT: AtomicU8 = AtomicU8::new(LogFormat::Text as u8);

/// Makes this process's log follow `level` and `format`; the first call installs the subscriber.
/// An embedding program that installed its own `tracing` subscriber first keeps it.
pub fn install(level: LogLevel, format: LogFormat) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    FORMAT.store(format as u8, Ordering::Relaxed);
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let _ = tracing::subscriber::set_global_default(StderrLog);
    });
}

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => LogLevel::Error as u8,
        Level::WARN => LogLevel::Warn as u8,
        Level::INFO => LogLevel::Info as u8,
        _ => LogLevel::Debug as u8,
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        _ => "debug",
    }
}

/// The process-wide subscriber: events only (the server opens no spans), filtered by [`LEVEL`].
struct StderrLog;

impl Subscriber for StderrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        rank(metadata.level()) <= LEVEL.load(Ordering::Relaxed)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Fixed: the level changes at run time, and `enabled` reads it on every event.
        Some(LevelFilter::DEBUG)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let level = level_name(event.metadata().level());
        let line = match FORMAT.load(Ordering::Relaxed) {
            f if f == LogFormat::Json as u8 => json_line(level, event),
            _ => text_line(level, event),
        };
        // Nowhere to report a failed write to; a closed stderr must not take the server down.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn text_line(level: &str, event: &Event<'_>) -> String {
    struct Text {
        message: String,
        fields: String,
    }
    impl Visit for Text {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "message" => self.message.push_str(value),
                name => write_pair(&mut self.fields, name, value),
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            match field.name() {
                "message" => {
                    let _ = write!(self.message, "{value:?}");
                }
                name => write_pair(&mut self.fields, name, &format!("{value:?}")),
            }
        }
    }
    let mut text = Text {
        message: String::new(),
        fields: String::new(),
    };
    event.record(&mut text);
    format!("webman-push: {level} {}{}\n", text.message, text.fields)
}

/// ` key=value`, the value quoted when it would not read back as one word.
fn write_pair(out: &mut String, name: &str, value: &str) {
    let plain = !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '"' || c == '=');
    let _ = match plain {
        true => write!(out, " {name}={value}"),
        false => write!(out, " {name}={value:?}"),
    };
}

fn json_line(level: &str, event: &Event<'_>) -> String {
    struct Json {
        message: String,
        fields: serde_json::Map<String, serde_json::Value>,
    }
    impl Visit for Json {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "message" => self.message.push_str(value),
                name => {
                    self.fields.insert(name.into(), value.into());
                }
            }
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.fields.insert(field.name().into(), value.into());
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.fields.insert(field.name().into(), value.into());
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.fields.insert(field.name().into(), value.into());
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.record_str(field, &format!("{value:?}"));
        }
    }
    let mut json = Json {
        message: String::new(),
        fields: serde_json::Map::new(),
    };
    event.record(&mut json);
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| (d.as_millis() as f64) / 1000.0);
    let line = serde_json::json!({
        "time": time,
        "level": level,
        "message": json.message,
        "fields": json.fields,
    });
    format!("{line}\n")
}

/// Lets a repeating event through at most once per period and counts the ones it held back, so
/// the line that does get out can say how many were suppressed.
pub struct Throttle {
    every: Duration,
    /// Milliseconds since `epoch` of the last event let through, plus one (0: none yet).
    last: AtomicU64,
    suppressed: AtomicU64,
    epoch: Instant,
}

impl Throttle {
    pub fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// `Some(n)`: log now, saying `n` similar events were suppressed since the last line.
    pub fn admit(&self) -> Option<u64> {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= self.every.as_millis() as u64;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_lets_the_first_through_and_counts_the_rest_until_the_period_ends() {
        let throttle = Throttle::new(Duration::from_millis(50));
        assert_eq!(throttle.admit(), Some(0));
        assert_eq!(throttle.admit(), None);
        assert_eq!(throttle.admit(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(throttle.admit(), Some(2));
    }

    #[test]
    fn a_value_with_spaces_is_quoted_and_a_word_is_not() {
        let mut out = String::new();
        write_pair(&mut out, "channel", "private-a");
        write_pair(&mut out, "reason", "bad signature");
        assert_eq!(out, " channel=private-a reason=\"bad signature\"");
    }
}
