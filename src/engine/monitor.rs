//! MONITOR: clients that receive a line for every command the server runs.
//!
//! Each line is a RESP simple string in Redis's format,
//! `+<unix seconds>.<microseconds> [<db> <client ip:port>] "arg" "arg"...`, with `lua` in
//! place of the address for commands a script runs, arguments quoted and escaped as Redis
//! escapes them, and sensitive arguments shown as `(redacted)`. A line is formatted once
//! and shared by every monitor. A monitor counts as a normal client for
//! `client-output-buffer-limit` (as in Redis), so one that does not read is closed rather
//! than growing the server's memory.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::session::ClientInfo;
use super::slowlog::REDACTED;
use crate::config::OutputLimit;

/// A client in MONITOR mode.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Client id.
    pub id: u64,
    /// The connection's push queue.
    pub tx: super::push::PushSender,
    /// Shared client info (output accounting, kills).
    pub info: Arc<ClientInfo>,
}

/// Where a monitored command came from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A client at this `ip:port` (our master's link included).
    Client(&'a str),
    /// A script's `redis.call`.
    Script,
}

/// Every client in MONITOR mode.
#[derive(Debug, Default)]
pub struct Monitors {
    list: Vec<Monitor>,
}

impl Monitors {
    /// Adds a monitor; false when the client already is one.
    pub fn add(&mut self, monitor: Monitor) -> bool {
        if self.list.iter().any(|m| m.id == monitor.id) {
            return false;
        }
        monitor.info.monitor.store(true, Ordering::Relaxed);
        self.list.push(monitor);
        true
    }

    /// Removes client `id` (RESET, disconnect); a no-op when it is not a monitor.
    pub fn remove(&mut self, id: u64) {
        self.list.retain(|m| {
            let keep = m.id != id;
            if !keep {
                m.info.monitor.store(false, Ordering::Relaxed);
            }
            keep
        });
    }

    /// True when nobody monitors (the executor skips formatting then).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Sends the line for `argv` (run on database `db`) to every monitor, at `now_us`
    /// (Unix microseconds). `limit` is the normal clients' output limit.
    pub fn feed(
        &mut self,
        now_us: i64,
        db: usize,
        origin: Origin<'_>,
        argv: &[Bytes],
        redacted: &[usize],
        limit: &OutputLimit,
    ) {
        if self.list.is_empty() {
            return;
        }
        let line = Bytes::from(format_line(now_us, db, origin, argv, redacted));
        self.list.retain(|m| {
            if m.info.killed.load(Ordering::Acquire) {
                return false;
            }
            m.info.omem.fetch_add(line.len(), Ordering::Relaxed);
            if m.info.enforce_output_limit(limit) {
                m.info.omem.fetch_sub(line.len(), Ordering::Relaxed);
                return false;
            }
            m.tx.send(line.clone()).is_ok()
        });
    }
}

/// One monitor line, CRLF included.
pub fn format_line(
    now_us: i64,
    db: usize,
    origin: Origin<'_>,
    argv: &[Bytes],
    redacted: &[usize],
) -> Vec<u8> {
    let mut line = Vec::with_capacity(64 + argv.iter().map(|a| a.len() + 3).sum::<usize>());
    let (secs, micros) = (now_us.div_euclid(1_000_000), now_us.rem_euclid(1_000_000));
    line.extend_from_slice(format!("+{secs}.{micros:06} [{db} ").as_bytes());
    match origin {
        Origin::Client(peer) => line.extend_from_slice(peer.as_bytes()),
        Origin::Script => line.extend_from_slice(b"lua"),
    }
    line.extend_from_slice(b"] ");
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        let shown: &[u8] = if redacted.contains(&i) { REDACTED } else { arg };
        quote_into(&mut line, shown);
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Appends `bytes` quoted as Redis's `sdscatrepr` quotes: `"` and `\` escaped, the usual
/// control characters by name, other non-printable bytes as `\xHH`.
pub fn quote_into(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&[u8]]) -> Vec<Bytes> {
        list.iter().map(|s| Bytes::copy_from_slice(s)).collect()
    }

    #[test]
    fn lines_have_redis_format() {
        let line = format_line(
            1_700_000_000_000_042,
            3,
            Origin::Client("127.0.0.1:6000"),
            &args(&[b"set", b"foo", b"bar"]),
            &[],
        );
        assert_eq!(
            line,
            b"+1700000000.000042 [3 127.0.0.1:6000] \"set\" \"foo\" \"bar\"\r\n"
        );
        let line = format_line(5_000_001, 0, Origin::Script, &args(&[b"get", b"k"]), &[]);
        assert_eq!(line, b"+5.000001 [0 lua] \"get\" \"k\"\r\n");
    }

    #[test]
    fn arguments_are_escaped_and_redacted() {
        let line = format_line(
            0,
            0,
            Origin::Client("a:1"),
            &args(&[b"auth", b"pw", b"a\"b\\c\n\r\t\x07\x08\x00\xff~ "]),
            &[1],
        );
        assert_eq!(
            line,
            b"+0.000000 [0 a:1] \"auth\" \"(redacted)\" \"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff~ \"\r\n"
        );
    }
}
