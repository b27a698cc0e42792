//! The replication buffer: the propagated byte stream with absolute offsets, shared by the
//! engine (one writer, under the engine lock) and every replica sender (readers).
//!
//! One copy of the stream serves the backlog and all replicas, as in Redis 7.0's shared
//! replication buffer: the buffer holds the last `repl-backlog-size` bytes for partial
//! resyncs, plus whatever a slower replica has not received yet (bounded by the replica
//! output limit, enforced by its sender). Each reader is only a cursor.
//!
//! Offsets count stream bytes from 1: offset `n` is the n-th byte ever written, `end` is the
//! last one (`master_repl_offset`), and a reader's cursor is the next byte it wants.
//! Writes go to an open tail buffer; a reader that catches up seals the tail into an
//! immutable block, so published bytes are never copied again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::sync::watch;

use super::write_clock::WriteClock;
use crate::keyspace::types::HMap;

/// Largest block a reader receives at once.
const MAX_READ: usize = 1 << 20;
/// Tail capacity reserved at a time.
const TAIL_CHUNK: usize = 16 * 1024;
/// What a sealed block's shared allocation costs beyond its bytes: `bytes`'s header for a
/// frozen buffer (its vector, capacity tag and reference count: 40 bytes, which the
/// allocator serves from its 48-byte class).
const SHARED_BLOCK_HEADER: usize = 48;

/// What a reader got.
#[derive(Debug)]
pub enum Read {
    /// Bytes from the cursor on, in order.
    Data(Vec<Bytes>),
    /// Nothing new yet.
    UpToDate,
    /// The bytes at the cursor are no longer held.
    Lost,
}

#[derive(Debug)]
struct Inner {
    /// Sealed blocks, oldest first; the first starts at `first`.
    blocks: VecDeque<Bytes>,
    /// Bytes written after the last sealed block.
    tail: BytesMut,
    /// Offset of the first byte held (`end + 1` when empty).
    first: u64,
    /// Offset of the last byte written.
    end: u64,
    /// `repl-backlog-size`.
    limit: u64,
    /// Reader id → the next offset it wants; bytes at or after the smallest are kept.
    readers: HMap<u64, u64>,
    /// When the bytes held were written.
    clock: WriteClock,
    /// The stream offset where each [`TAIL_CHUNK`] allocation still held begins, oldest
    /// first: sealed blocks share their chunk, so a chunk is freed only once trimming
    /// passes its last byte, and its unused end costs memory too.
    chunk_starts: VecDeque<u64>,
}

impl Inner {
    fn histlen(&self) -> u64 {
        self.end + 1 - self.first
    }

    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            let sealed = self.tail.split().freeze();
            self.blocks.push_back(sealed);
        }
    }

    /// Drops whole blocks from the head while more than `limit` bytes remain without them and
    /// no reader still needs them.
    fn trim(&mut self) {
        let min_reader = self.readers.values().copied().min().unwrap_or(u64::MAX);
        while let Some(front) = self.blocks.front() {
            let len = front.len() as u64;
            let block_end = self.first + len; // first offset after the block
            if self.histlen() - len < self.limit || block_end > min_reader {
                break;
            }
            self.blocks.pop_front();
            self.first += len;
        }
        while self.chunk_starts.len() >= 2 && self.chunk_starts[1] <= self.first {
            self.chunk_starts.pop_front();
        }
        self.clock.forget_before(self.first);
    }
}

/// The stream's figures in time, at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeFigures {
    /// Age of the oldest byte held, in milliseconds (0 when empty).
    pub covered_ms: u64,
    /// Bytes per second written over the last minute.
    pub write_rate: u64,
    /// Offset of the last byte written.
    pub end: u64,
    /// `repl-backlog-size`.
    pub limit: u64,
}

/// The window of [`TimeFigures::write_rate`].
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

impl TimeFigures {
    /// Seconds of writes `repl-backlog-size` holds at the current write rate; `None` when
    /// nothing is being written (it holds them for as long as that lasts).
    pub fn capacity_seconds(&self) -> Option<f64> {
        (self.write_rate > 0).then(|| self.limit as f64 / self.write_rate as f64)
    }

    /// How long a replica that acknowledged `acked` could stay disconnected from now and
    /// still resume with a partial resync, at the current write rate: the room the backlog
    /// has left beyond what the replica lacks, in seconds of writes; `None` when nothing is
    /// being written.
    pub fn resume_horizon_seconds(&self, acked: u64) -> Option<f64> {
        let lacking = self.end.saturating_sub(acked);
        let room = self.limit.saturating_sub(lacking);
        (self.write_rate > 0).then(|| room as f64 / self.write_rate as f64)
    }
}

/// The shared replication buffer.
#[derive(Debug)]
pub struct Backlog {
    inner: Mutex<Inner>,
    end_tx: watch::Sender<u64>,
}

impl Backlog {
    /// An empty buffer whose next byte will have offset `end + 1`.
    pub fn new(end: u64, limit: u64) -> Backlog {
        let (end_tx, _) = watch::channel(end);
        Backlog {
            inner: Mutex::new(Inner {
                blocks: VecDeque::new(),
                tail: BytesMut::new(),
                first: end + 1,
                end,
                limit: limit.max(16 * 1024),
                readers: HMap::default(),
                clock: WriteClock::default(),
                chunk_starts: VecDeque::new(),
            }),
            end_tx,
        }
    }

    /// Empties the buffer and restarts it after offset `end` (backlog created or rebased).
    /// Readers are dropped: they must resync.
    pub fn reset(&self, end: u64) {
        let mut inner = self.inner.lock();
        inner.blocks.clear();
        inner.tail = BytesMut::new();
        inner.first = end + 1;
        inner.end = end;
        inner.readers.clear();
        inner.clock.clear();
        inner.chunk_starts.clear();
        drop(inner);
        self.end_tx.send_replace(end);
    }

    /// Changes `repl-backlog-size` (Redis raises values below 16 KiB to 16 KiB).
    pub fn set_limit(&self, limit: u64) {
        let mut inner = self.inner.lock();
        inner.limit = limit.max(16 * 1024);
        inner.trim();
    }

    /// Appends stream bytes and wakes readers.
    ///
    /// Blocks stay at most [`TAIL_CHUNK`] bytes however large the write, because trimming
    /// drops whole blocks: one block holding a large batch (a restarted master's DELs for the
    /// keys that expired while it loaded, a big pipeline) could never be trimmed to
    /// `repl-backlog-size`, and the backlog would claim to serve offsets it should have let go.
    pub fn append(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut inner = self.inner.lock();
        let first_new = inner.end + 1;
        inner.clock.note(Instant::now(), first_new);
        let mut rest = data;
        while !rest.is_empty() {
            if inner.tail.len() >= TAIL_CHUNK {
                inner.seal_tail();
            }
            let take = rest.len().min(TAIL_CHUNK - inner.tail.len());
            if inner.tail.capacity() - inner.tail.len() < take {
                // A new chunk; the bytes the tail holds move into it.
                let written = (data.len() - rest.len()) as u64;
                let start = inner.end + 1 + written - inner.tail.len() as u64;
                inner.chunk_starts.push_back(start);
                let want = TAIL_CHUNK - inner.tail.len();
                inner.tail.reserve(want);
            }
            inner.tail.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        inner.end += data.len() as u64;
        inner.trim();
        let end = inner.end;
        drop(inner);
        self.end_tx.send_replace(end);
    }

    /// Offset of the last byte written.
    pub fn end(&self) -> u64 {
        self.inner.lock().end
    }

    /// `(first_byte_offset, histlen)` as INFO shows them.
    pub fn range(&self) -> (u64, u64) {
        let inner = self.inner.lock();
        (inner.first, inner.histlen())
    }

    /// How stale a replica that acknowledged offset `acked` is, in milliseconds: the age of
    /// the oldest write it had not confirmed (0 when it had them all). Measured when its
    /// acknowledgement arrives, as PostgreSQL measures a standby's replay lag.
    pub fn staleness_ms(&self, acked: u64) -> u64 {
        let inner = self.inner.lock();
        if acked >= inner.end {
            return 0;
        }
        inner.clock.age(Instant::now(), acked + 1).as_millis() as u64
    }

    /// The stream's figures in time, now.
    pub fn time_figures(&self) -> TimeFigures {
        let inner = self.inner.lock();
        let now = Instant::now();
        TimeFigures {
            covered_ms: if inner.histlen() == 0 {
                0
            } else {
                inner.clock.age(now, inner.first).as_millis() as u64
            },
            write_rate: inner.clock.rate(now, inner.end, RATE_WINDOW),
            end: inner.end,
            limit: inner.limit,
        }
    }

    /// Bytes of memory the buffer holds: its chunks (whole: a chunk's unused end and the
    /// trimmed bytes that share it are allocated too), each block's bookkeeping and the
    /// write clock's samples (as Redis counts its blocks' headers in
    /// `mem_total_replication_buffers`). A stalled replica can make the buffer hold
    /// thousands of blocks, and what they cost beyond their bytes is then visible.
    pub fn memory(&self) -> u64 {
        let inner = self.inner.lock();
        let chunk = crate::telemetry::process::allocation_size(TAIL_CHUNK);
        let chunks = inner.chunk_starts.len() * chunk;
        let blocks = inner.blocks.capacity() * std::mem::size_of::<Bytes>()
            + inner.blocks.len() * SHARED_BLOCK_HEADER
            + inner.chunk_starts.capacity() * std::mem::size_of::<u64>();
        (chunks + blocks + inner.clock.memory()) as u64
    }

    /// True when the byte at `offset` (or `end + 1`) can still be read.
    pub fn can_serve_from(&self, offset: u64) -> bool {
        let inner = self.inner.lock();
        offset >= inner.first && offset <= inner.end + 1
    }

    /// Registers reader `id` wanting bytes from `next` on; false when they are gone.
    pub fn register(&self, id: u64, next: u64) -> bool {
        let mut inner = self.inner.lock();
        if next < inner.first || next > inner.end + 1 {
            return false;
        }
        inner.readers.insert(id, next);
        true
    }

    /// Forgets reader `id` (its bytes may be trimmed).
    pub fn unregister(&self, id: u64) {
        let mut inner = self.inner.lock();
        inner.readers.remove(&id);
        inner.trim();
        // What a slow reader kept is freed here, off the command path: `maxmemory` must
        // read the allocator again rather than count it as the dataset's.
        crate::telemetry::process::note_release();
    }

    /// Bytes the reader `id` has not received yet (its output buffer, for the limits).
    pub fn pending_for(&self, id: u64) -> u64 {
        let inner = self.inner.lock();
        inner
            .readers
            .get(&id)
            .map_or(0, |next| (inner.end + 1).saturating_sub(*next))
    }

    /// Reads the bytes from `next` on for reader `id` (at most about 1 MiB), and records
    /// `next` as its position, so everything before it may be trimmed.
    pub fn read(&self, id: u64, next: u64) -> Read {
        let mut inner = self.inner.lock();
        if next < inner.first {
            return Read::Lost;
        }
        if let Some(pos) = inner.readers.get_mut(&id) {
            *pos = next;
        }
        if next > inner.end {
            return Read::UpToDate;
        }
        let tail_start = inner.end + 1 - inner.tail.len() as u64;
        if next >= tail_start {
            inner.seal_tail();
        }
        let mut out = Vec::new();
        let mut taken = 0usize;
        let mut block_start = inner.first;
        for block in &inner.blocks {
            let block_end = block_start + block.len() as u64;
            if next < block_end && taken < MAX_READ {
                let from = next.saturating_sub(block_start) as usize;
                let slice = block.slice(from..);
                taken += slice.len();
                out.push(slice);
            }
            block_start = block_end;
        }
        inner.trim();
        if out.is_empty() {
            Read::UpToDate
        } else {
            Read::Data(out)
        }
    }

    /// A receiver notified with the new end offset after every append.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.end_tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(r: Read) -> Vec<u8> {
        match r {
            Read::Data(chunks) => chunks.iter().flat_map(|c| c.iter().copied()).collect(),
            Read::UpToDate => Vec::new(),
            Read::Lost => panic!("lost"),
        }
    }

    #[test]
    fn a_large_write_is_trimmed_to_the_backlog_size() {
        // A restarted master feeds the DELs of keys that expired while it loaded in one
        // batch, larger than the backlog: the backlog must let go of its start.
        let b = Backlog::new(1000, 16 * 1024);
        b.append(&vec![b'x'; 50_000]);
        let (first, histlen) = b.range();
        assert!(first > 1001, "the start of the batch is no longer served");
        assert!(histlen < 2 * 16 * 1024, "{histlen} bytes held");
        assert!(!b.can_serve_from(1001));
        assert!(b.can_serve_from(51_001));
        assert!(b.register(1, first));
        let mut read = Vec::new();
        loop {
            let got = collect(b.read(1, first + read.len() as u64));
            if got.is_empty() {
                break;
            }
            read.extend(got);
        }
        assert_eq!(read.len() as u64, histlen);
    }

    #[test]
    fn offsets_and_reads() {
        let b = Backlog::new(100, 16 * 1024);
        assert_eq!(b.range(), (101, 0));
        b.append(b"hello");
        b.append(b" world");
        assert_eq!(b.end(), 111);
        assert!(b.register(1, 101));
        assert_eq!(collect(b.read(1, 101)), b"hello world");
        assert_eq!(collect(b.read(1, 107)), b"world");
        assert!(matches!(b.read(1, 112), Read::UpToDate));
        b.append(b"!");
        assert_eq!(collect(b.read(1, 112)), b"!");
        assert!(!b.register(2, 50));
        assert!(b.register(2, 112));
        assert!(!b.register(3, 200));
    }

    #[test]
    fn trims_to_the_limit_but_keeps_what_readers_need() {
        let b = Backlog::new(0, 16 * 1024);
        let chunk = vec![b'x'; 20_000];
        b.append(&chunk);
        assert!(b.register(7, 1));
        // Seal so the next appends start new blocks.
        let _ = b.read(7, 1);
        b.append(&chunk);
        let _ = b.read(7, 1);
        b.append(&chunk);
        let _ = b.read(7, 1);
        // The reader still wants byte 1: nothing trimmed.
        assert_eq!(b.range().0, 1);
        assert_eq!(b.pending_for(7), 60_000);
        b.unregister(7);
        let (first, histlen) = b.range();
        assert!(first > 1, "trimmed once no reader needs the head");
        assert!(histlen >= 16 * 1024);
        assert!(matches!(b.read(8, 1), Read::Lost));
    }

    #[test]
    fn memory_counts_whole_chunks_until_trimming_frees_them() {
        let b = Backlog::new(0, 16 * 1024);
        let chunk = crate::telemetry::process::allocation_size(TAIL_CHUNK) as u64;
        b.append(b"hello");
        assert!(b.memory() >= chunk, "a chunk is allocated whole");
        assert!(b.memory() < 2 * chunk);
        // A reader that keeps catching up seals small blocks, which share the chunk.
        assert!(b.register(1, 1));
        let mut next = 1;
        for _ in 0..10 {
            if let Read::Data(parts) = b.read(1, next) {
                next += parts.iter().map(|p| p.len() as u64).sum::<u64>();
            }
            b.append(b"abc");
        }
        assert!(b.memory() < 2 * chunk, "small blocks took new chunks");
        // Four chunks' worth while the reader holds the head: all of them are counted.
        b.append(&vec![b'x'; 4 * TAIL_CHUNK]);
        assert!(b.memory() >= 4 * chunk);
        // Without the reader, trimming to the limit lets the head chunks go.
        b.unregister(1);
        assert!(b.memory() <= 3 * chunk, "trimmed chunks still counted");
    }
}
