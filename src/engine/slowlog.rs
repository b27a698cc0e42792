//! The slow log (SLOWLOG GET/LEN/RESET): the commands that ran for at least
//! `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them.
//!
//! Entries keep a bounded copy of what the client sent, as Redis keeps it: at most
//! [`MAX_ARGS`] arguments (the last one then says how many more there were), each cut at
//! [`MAX_ARG_BYTES`] bytes, and arguments a command marked sensitive (passwords of AUTH,
//! HELLO, CONFIG SET masterauth...) replaced by `(redacted)`. So a long log of huge
//! commands costs kilobytes per entry at worst, never the commands' own size.

use std::collections::VecDeque;

use bytes::Bytes;

/// Arguments kept per entry (Redis's `SLOWLOG_ENTRY_MAX_ARGC`).
pub const MAX_ARGS: usize = 32;
/// Bytes kept per argument (Redis's `SLOWLOG_ENTRY_MAX_STRING`).
pub const MAX_ARG_BYTES: usize = 128;
/// What a sensitive argument is shown as, in the slow log and to MONITOR.
pub const REDACTED: &[u8] = b"(redacted)";

/// One logged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Increasing id, never reused (SLOWLOG RESET keeps counting).
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: i64,
    /// How long it ran, in microseconds.
    pub micros: u64,
    /// The arguments, trimmed and redacted.
    pub argv: Vec<Bytes>,
    /// The client's `ip:port`.
    pub peer: String,
    /// The client's name (empty when it has none).
    pub name: Bytes,
}

/// Who ran a command, for an entry.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// `ip:port`.
    pub peer: &'a str,
    /// CLIENT SETNAME's name, if any.
    pub name: Option<&'a [u8]>,
}

/// The log itself.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Logs a command that ran `micros` when `slower_than` (microseconds; negative turns
    /// the log off) says it is slow, then trims the log to `max_len` entries. `redacted`
    /// lists the indexes of arguments that must not be shown.
    #[allow(clippy::too_many_arguments)]
    pub fn push_if_slow(
        &mut self,
        slower_than: i64,
        max_len: u64,
        argv: &[Bytes],
        redacted: &[usize],
        micros: u64,
        caller: Caller<'_>,
        now_secs: i64,
    ) {
        if slower_than < 0 {
            return;
        }
        if micros >= slower_than as u64 {
            let id = self.next_id;
            self.next_id += 1;
            self.entries.push_front(Entry {
                id,
                time: now_secs,
                micros,
                argv: bounded_copy(argv, redacted),
                peer: caller.peer.to_string(),
                name: Bytes::copy_from_slice(caller.name.unwrap_or_default()),
            });
        }
        self.trim(max_len);
    }

    /// Drops the oldest entries beyond `max_len`.
    pub fn trim(&mut self, max_len: u64) {
        let max_len = usize::try_from(max_len).unwrap_or(usize::MAX);
        self.entries.truncate(max_len);
    }

    /// Forgets every entry (ids keep increasing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is logged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }
}

/// The arguments an entry keeps: redacted ones replaced, long ones cut with a note of the
/// bytes dropped, and past [`MAX_ARGS`] a last argument counting the ones dropped.
fn bounded_copy(argv: &[Bytes], redacted: &[usize]) -> Vec<Bytes> {
    let kept = argv.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in argv.iter().take(kept).enumerate() {
        if kept != argv.len() && i == kept - 1 {
            let more = argv.len() - kept + 1;
            out.push(Bytes::from(format!("... ({more} more arguments)")));
        } else if redacted.contains(&i) {
            out.push(Bytes::from_static(REDACTED));
        } else if arg.len() > MAX_ARG_BYTES {
            let mut cut = arg[..MAX_ARG_BYTES].to_vec();
            cut.extend_from_slice(
                format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes(),
            );
            out.push(Bytes::from(cut));
        } else {
            // A copy, never a slice: an argument shares its command's whole input buffer,
            // and an entry of `SET key <256 MB>` would keep the 256 MB alive for as long
            // as the entry lives.
            out.push(Bytes::copy_from_slice(arg));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<Bytes> {
        list.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    const CALLER: Caller<'static> = Caller {
        peer: "127.0.0.1:5000",
        name: Some(b"app"),
    };

    #[test]
    fn logs_only_what_reaches_the_threshold_newest_first() {
        let mut log = SlowLog::default();
        log.push_if_slow(100, 128, &args(&["get", "a"]), &[], 99, CALLER, 1);
        log.push_if_slow(100, 128, &args(&["get", "b"]), &[], 100, CALLER, 2);
        log.push_if_slow(100, 128, &args(&["get", "c"]), &[], 500, CALLER, 3);
        let ids: Vec<u64> = log.newest_first().map(|e| e.id).collect();
        assert_eq!(ids, vec![1, 0]);
        let first = log.newest_first().next().unwrap();
        assert_eq!(first.argv, args(&["get", "c"]));
        assert_eq!(first.time, 3);
        assert_eq!(first.peer, "127.0.0.1:5000");
        assert_eq!(first.name.as_ref(), b"app");
    }

    #[test]
    fn a_negative_threshold_logs_nothing_and_zero_logs_everything() {
        let mut log = SlowLog::default();
        log.push_if_slow(-1, 128, &args(&["ping"]), &[], 1_000_000, CALLER, 1);
        assert!(log.is_empty());
        log.push_if_slow(0, 128, &args(&["ping"]), &[], 0, CALLER, 1);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn the_log_keeps_at_most_max_len_entries_and_ids_survive_reset() {
        let mut log = SlowLog::default();
        for _ in 0..100 {
            log.push_if_slow(0, 10, &args(&["ping"]), &[], 5, CALLER, 1);
        }
        assert_eq!(log.len(), 10);
        assert_eq!(log.newest_first().next().unwrap().id, 99);
        log.reset();
        assert!(log.is_empty());
        log.push_if_slow(0, 10, &args(&["ping"]), &[], 5, CALLER, 1);
        assert_eq!(log.newest_first().next().unwrap().id, 100);
        log.trim(0);
        assert!(log.is_empty());
    }

    #[test]
    fn long_commands_are_cut_as_redis_cuts_them() {
        let mut many = vec!["sadd".to_string(), "set".to_string()];
        many.extend((3..=33).map(|i| i.to_string()));
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let kept = bounded_copy(&args(&many), &[]);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[30].as_ref(), b"31");
        assert_eq!(kept[31].as_ref(), b"... (2 more arguments)");

        let long = "A".repeat(129);
        let kept = bounded_copy(&args(&["sadd", "set", "foo", &long]), &[]);
        let expected = format!("{}... (1 more bytes)", "A".repeat(128));
        assert_eq!(kept[3].as_ref(), expected.as_bytes());
    }

    #[test]
    fn redacted_arguments_are_hidden() {
        let kept = bounded_copy(&args(&["config", "set", "masterauth", "pw"]), &[3]);
        assert_eq!(kept, args(&["config", "set", "masterauth", "(redacted)"]));
    }
}
