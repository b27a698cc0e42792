//! The replication log: every propagated write, encoded once as RESP, with absolute offsets.
//!
//! Commands are fed in execution order from inside the engine's critical section, so the
//! stream order is the execution order. A `SELECT` is emitted whenever a command targets a
//! different database than the previous one. While no backlog exists (no replica ever
//! attached), nothing is recorded and the offset does not move, as in Redis.

/// The propagation target of the engine.
#[derive(Debug)]
pub struct ReplLog {
    /// Our replication id (`master_replid`).
    pub replid: String,
    /// The previous id (`master_replid2`), all zeros when none.
    pub replid2: String,
    /// Last offset valid for `replid2` + 1, or -1.
    pub second_offset: i64,
    /// True once a backlog exists (the first replica attached).
    pub active: bool,
    /// Offset of the last byte written (`master_repl_offset`).
    pub offset: u64,
    /// Database of the last propagated command; `None` forces a SELECT.
    last_db: Option<usize>,
    /// Bytes fed since the last drain, for the backlog and replica senders.
    pending: Vec<u8>,
}

impl Default for ReplLog {
    fn default() -> Self {
        ReplLog {
            replid: random_id(),
            replid2: "0".repeat(40),
            second_offset: -1,
            active: false,
            offset: 0,
            last_db: None,
            pending: Vec::new(),
        }
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

impl ReplLog {
    /// Appends one command for database `db`.
    pub fn feed(&mut self, db: usize, argv: &[&[u8]]) {
        if !self.active {
            return;
        }
        let before = self.pending.len();
        if self.last_db != Some(db) {
            let mut num = itoa::Buffer::new();
            let dbs = num.format(db).to_string();
            encode(&mut self.pending, &[b"SELECT", dbs.as_bytes()]);
            self.last_db = Some(db);
        }
        encode(&mut self.pending, argv);
        self.offset += (self.pending.len() - before) as u64;
    }

    /// Takes the bytes fed since the last call.
    pub fn drain(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }
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
