//! The replication log, writer side: owned by the engine and fed inside its critical
//! section, so the stream order is the execution order.
//!
//! Commands are encoded once as RESP into a per-batch buffer; when the engine lock is
//! released the batch is published to the shared [`Backlog`] that replica senders read.
//! A `SELECT` precedes the first command for a database different from the last one. While
//! no backlog exists (no replica ever attached), nothing is recorded and the offset does not
//! move, as in Redis.

use std::sync::Arc;

use super::backlog::Backlog;

/// The replication identity and stream of this node.
#[derive(Debug)]
pub struct ReplLog {
    /// Our replication id (`master_replid`).
    pub replid: String,
    /// The previous id (`master_replid2`), all zeros when none.
    pub replid2: String,
    /// Last offset valid for `replid2`, plus one; -1 when none.
    pub second_offset: i64,
    /// True while a backlog exists.
    pub active: bool,
    /// Offset of the last byte written (`master_repl_offset`).
    pub offset: u64,
    /// Database of the last propagated command; `None` forces a SELECT.
    last_db: Option<usize>,
    /// Bytes of the current batch, not yet published.
    pending: Vec<u8>,
    /// The shared buffer replica senders read.
    pub backlog: Arc<Backlog>,
}

/// Forty zeros: "no previous replication id".
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

impl ReplLog {
    /// A log with a fresh id and no backlog yet, writing to `backlog` once it exists.
    pub fn new(backlog: Arc<Backlog>) -> ReplLog {
        ReplLog {
            replid: random_id(),
            replid2: NO_REPLID.to_string(),
            second_offset: -1,
            active: false,
            offset: 0,
            last_db: None,
            pending: Vec::new(),
            backlog,
        }
    }

    /// Appends one command for database `db`, preceded by a SELECT when the database changes.
    pub fn feed(&mut self, db: usize, argv: &[&[u8]]) {
        if !self.active {
            return;
        }
        if self.last_db != Some(db) {
            let mut num = itoa::Buffer::new();
            let dbs = num.format(db).as_bytes().to_vec();
            self.append(&[b"SELECT", &dbs]);
            self.last_db = Some(db);
        }
        self.append(argv);
    }

    /// Appends a command that applies to no particular database (PING, REPLCONF GETACK).
    pub fn feed_dbless(&mut self, argv: &[&[u8]]) {
        if self.active {
            self.append(argv);
        }
    }

    /// Appends bytes received from our own master, exactly as they came (chained
    /// replication keeps one offset space down the chain).
    pub fn feed_raw(&mut self, bytes: &[u8]) {
        if self.active {
            self.pending.extend_from_slice(bytes);
            self.offset += bytes.len() as u64;
        }
    }

    fn append(&mut self, argv: &[&[u8]]) {
        let before = self.pending.len();
        encode(&mut self.pending, argv);
        self.offset += (self.pending.len() - before) as u64;
    }

    /// Publishes the current batch to the backlog (called when the engine lock is released).
    pub fn publish(&mut self) {
        if !self.pending.is_empty() {
            self.backlog.append(&self.pending);
            self.pending.clear();
            if self.pending.capacity() > 1 << 20 {
                self.pending.shrink_to(64 * 1024);
            }
        }
    }

    /// The database the stream last selected (`None` until a command was fed, or after a
    /// forced SELECT): an RDB records it as `repl-stream-db`.
    pub fn stream_db(&self) -> Option<usize> {
        self.last_db
    }

    /// Forces a SELECT before the next command (after a full sync starts, a promotion, ...).
    pub fn force_select(&mut self) {
        self.last_db = None;
    }

    /// Creates the backlog for the first replica of a master without one: a brand-new
    /// replication id, no previous id, and the buffer starting after the current offset.
    pub fn create_backlog(&mut self) {
        if self.active {
            return;
        }
        self.replid = random_id();
        self.replid2 = NO_REPLID.to_string();
        self.second_offset = -1;
        self.backlog.reset(self.offset);
        self.active = true;
        self.last_db = None;
    }

    /// Frees the backlog (no replica for `repl-backlog-ttl`): a new id, so an old replica
    /// cannot wrongly continue.
    pub fn free_backlog(&mut self) {
        self.publish();
        self.active = false;
        self.replid = random_id();
        self.replid2 = NO_REPLID.to_string();
        self.second_offset = -1;
        self.backlog.reset(self.offset);
    }

    /// Promotion (REPLICAOF NO ONE): the current id becomes the previous one, valid up to
    /// the current offset, and a fresh id starts. The backlog is kept so former siblings can
    /// continue with a partial resync.
    pub fn shift_replid(&mut self) {
        self.publish();
        self.replid2 = std::mem::replace(&mut self.replid, random_id());
        self.second_offset = self.offset as i64 + 1;
        self.last_db = None;
    }

    /// DEBUG CHANGE-REPL-ID: a fresh id and no previous one, so no replica can continue
    /// from this history with a partial resync (Redis's tests use it to force full syncs).
    pub fn change_replid(&mut self) {
        self.publish();
        self.replid = random_id();
        self.replid2 = NO_REPLID.to_string();
        self.second_offset = -1;
    }

    /// A replica adopts its master's id after a full sync (`+FULLRESYNC id offset`): the
    /// stream restarts after `offset` with a fresh backlog for our own replicas.
    pub fn adopt_master(&mut self, replid: &str, offset: u64) {
        self.pending.clear();
        self.replid = replid.to_string();
        self.replid2 = NO_REPLID.to_string();
        self.second_offset = -1;
        self.offset = offset;
        self.backlog.reset(offset);
        self.active = true;
        self.last_db = None;
    }

    /// A replica that resumes an existing history (a partial resync after a restart or a
    /// role change) needs a backlog for its own replicas, keeping its id and offset.
    pub fn ensure_backlog(&mut self) {
        if !self.active {
            self.backlog.reset(self.offset);
            self.active = true;
            self.last_db = None;
        }
    }

    /// A replica's master changed id after a partial resync (`+CONTINUE newid`).
    pub fn master_id_changed(&mut self, new_replid: &str) {
        self.publish();
        self.replid2 = std::mem::replace(&mut self.replid, new_replid.to_string());
        self.second_offset = self.offset as i64 + 1;
    }

    /// `(first_byte_offset, histlen)` as INFO shows them (0, 0 without a backlog).
    pub fn backlog_range(&self) -> (u64, u64) {
        if !self.active {
            return (0, 0);
        }
        let (first, histlen) = self.backlog.range();
        (first, histlen + self.pending.len() as u64)
    }
}

/// A fresh 40-character hex replication id.
pub fn random_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(out: &mut Vec<u8>, argv: &[&[u8]]) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(num.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_recorded_without_a_backlog() {
        let mut log = ReplLog::new(Arc::new(Backlog::new(0, 1 << 20)));
        log.feed(0, &[b"SET", b"a", b"1"]);
        assert_eq!(log.offset, 0);
        let id = log.replid.clone();
        log.create_backlog();
        assert_ne!(log.replid, id, "a new id when the backlog is created");
        log.feed(0, &[b"SET", b"a", b"1"]);
        // SELECT 0 (23 bytes) + SET a 1 (27 bytes).
        assert_eq!(log.offset, 23 + 27);
        log.feed(0, &[b"SET", b"b", b"1"]);
        assert_eq!(log.offset, 23 + 27 + 27);
        log.publish();
        assert_eq!(log.backlog_range(), (1, 77));
    }

    #[test]
    fn promotion_keeps_history() {
        let mut log = ReplLog::new(Arc::new(Backlog::new(0, 1 << 20)));
        log.create_backlog();
        log.feed_dbless(&[b"ping"]);
        let old = log.replid.clone();
        log.shift_replid();
        assert_eq!(log.replid2, old);
        assert_eq!(log.second_offset, 15);
        assert_ne!(log.replid, old);
    }
}
