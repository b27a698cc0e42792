//! The append-only file's writer, shared outside the engine lock: a group commit.
//!
//! Commands are encoded under the engine lock and handed over here as the lock is
//! released ([`Sink::hand_over`], a copy into one buffer). The write(2) happens after, off
//! the lock: before a connection sends its replies it calls [`Sink::write_through`], which
//! either finds its bytes already written by another connection or writes everything
//! handed over so far in one syscall (and, with `appendfsync always`, syncs it). So no
//! reply leaves before its write (Redis's guarantee), the engine never waits on the disk,
//! and fifty pipelining clients cost one write per round rather than fifty. `everysec`
//! syncs on a thread of its own once a second.
//!
//! A failed write is cut back to the last complete command and kept for the next try;
//! meanwhile [`Sink::failing`] makes writes answer -MISCONF, as in Redis.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::config::AppendFsync;
use crate::keyspace::now_ms;

/// The increment file written to.
#[derive(Debug)]
struct Target {
    file: Arc<File>,
    /// Bytes in the file (a failed write is cut back to this).
    size: u64,
}

/// What the writer owns.
#[derive(Debug, Default)]
struct Writer {
    target: Option<Target>,
    /// Bytes of a failed write, written first at the next try.
    retry: Vec<u8>,
    /// The last write error, until a write succeeds.
    error: Option<String>,
}

/// The shared writer (see the module doc).
#[derive(Debug, Default)]
pub struct Sink {
    /// Bytes handed over and not yet taken by a writer, with the running total handed
    /// over (kept together so a writer takes a consistent pair).
    handed: Mutex<(Vec<u8>, u64)>,
    /// The total handed over (readable without the lock, for the fast path).
    handed_total: AtomicU64,
    /// The total written to the file (or dropped while no file is open).
    written_total: AtomicU64,
    writer: Mutex<Writer>,
    /// A write failed and has not succeeded since.
    failing: AtomicBool,
    /// `appendfsync`: 0 always, 1 everysec, 2 no.
    policy: AtomicU8,
    /// `no-appendfsync-on-rewrite` while a rewrite runs.
    skip_fsync: AtomicBool,
    /// Background fsync bookkeeping: in flight, bytes known synced, last start (unix ms).
    fsync_in_flight: AtomicBool,
    synced_total: AtomicU64,
    fsync_last_ms: AtomicI64,
}

impl Sink {
    /// Sets the fsync policy.
    pub fn set_policy(&self, policy: AppendFsync) {
        let code = match policy {
            AppendFsync::Always => 0,
            AppendFsync::EverySec => 1,
            AppendFsync::No => 2,
        };
        self.policy.store(code, Ordering::Relaxed);
    }

    /// Skips fsyncs while true (`no-appendfsync-on-rewrite` during a rewrite).
    pub fn set_skip_fsync(&self, skip: bool) {
        self.skip_fsync.store(skip, Ordering::Relaxed);
    }

    fn policy(&self) -> AppendFsync {
        match self.policy.load(Ordering::Relaxed) {
            0 => AppendFsync::Always,
            2 => AppendFsync::No,
            _ => AppendFsync::EverySec,
        }
    }

    /// Takes what the engine encoded (called under the engine lock, as it is released).
    pub fn hand_over(&self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let len = bytes.len() as u64;
        let mut handed = self.handed.lock();
        if handed.0.is_empty() {
            std::mem::swap(&mut handed.0, bytes);
        } else {
            handed.0.extend_from_slice(bytes);
            bytes.clear();
        }
        handed.1 += len;
        self.handed_total.store(handed.1, Ordering::Release);
    }

    /// Writes everything handed over so far, unless another caller did (group commit).
    /// Returns once those bytes are in the file (and synced with `appendfsync always`).
    pub fn write_through(&self) {
        if self.written_total.load(Ordering::Acquire) >= self.handed_total.load(Ordering::Acquire)
            && !self.failing.load(Ordering::Relaxed)
        {
            return;
        }
        let mut writer = self.writer.lock();
        let (mut batch, total) = {
            let mut handed = self.handed.lock();
            let total = handed.1;
            (std::mem::take(&mut handed.0), total)
        };
        if !writer.retry.is_empty() {
            let mut all = std::mem::take(&mut writer.retry);
            all.extend_from_slice(&batch);
            batch = all;
        }
        if batch.is_empty() {
            self.written_total.fetch_max(total, Ordering::Release);
            return;
        }
        let Some(target) = writer.target.as_mut() else {
            // No file (the AOF was turned off): nothing to keep.
            self.written_total.fetch_max(total, Ordering::Release);
            return;
        };
        let policy = self.policy();
        match (&*target.file).write_all(&batch) {
            Ok(()) => {
                target.size += batch.len() as u64;
                let file = target.file.clone();
                if writer.error.take().is_some() {
                    self.failing.store(false, Ordering::Relaxed);
                    tracing::warn!("AOF write error looks solved, Redis can write again.");
                }
                if policy == AppendFsync::Always && !self.skip_fsync.load(Ordering::Relaxed) {
                    if let Err(e) = file.sync_data() {
                        tracing::error!(
                            "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting..."
                        );
                        std::process::exit(1);
                    }
                    self.synced_total.store(total, Ordering::Relaxed);
                }
                self.written_total.fetch_max(total, Ordering::Release);
            }
            Err(e) => {
                // Part of the batch may be in the file: cut it, so the file ends on a
                // complete command and the retry appends the whole batch again.
                let _ = target.file.set_len(target.size);
                if policy == AppendFsync::Always {
                    tracing::error!(
                        "Can't recover from AOF write error when the AOF fsync policy is 'always': {e}. Exiting..."
                    );
                    std::process::exit(1);
                }
                if writer.error.is_none() {
                    tracing::warn!("Error writing to the AOF file: {e}");
                }
                writer.error = Some(e.to_string());
                writer.retry = batch;
                self.failing.store(true, Ordering::Relaxed);
            }
        }
    }

    /// True while the last write failed (writes answer -MISCONF).
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// The last write error, if the last write failed.
    pub fn error(&self) -> Option<String> {
        if !self.failing() {
            return None;
        }
        self.writer.lock().error.clone()
    }

    /// Moves the appends to `next` (a file and its size; `None` closes the AOF). What was
    /// handed over before goes to the old file first. The caller holds the engine lock, so
    /// nothing is handed over meanwhile.
    pub fn switch(&self, next: Option<(File, u64)>) {
        self.write_through();
        let mut writer = self.writer.lock();
        if next.is_none() {
            writer.retry.clear();
            writer.error = None;
            self.failing.store(false, Ordering::Relaxed);
        }
        writer.target = next.map(|(file, size)| Target {
            file: Arc::new(file),
            size,
        });
        let written = self.written_total.load(Ordering::Acquire);
        self.synced_total.store(written, Ordering::Relaxed);
    }

    /// Writes what was handed over and syncs the file (SHUTDOWN, turning the AOF off).
    pub fn sync_now(&self) {
        self.write_through();
        let file = self.writer.lock().target.as_ref().map(|t| t.file.clone());
        if let Some(file) = file {
            if let Err(e) = file.sync_data() {
                tracing::warn!("Error syncing the AOF file: {e}");
            }
        }
    }

    /// `appendfsync everysec`: starts a background fsync when bytes wait for one and the
    /// last started a second ago.
    pub fn background_fsync(self: &Arc<Self>) {
        if self.policy() != AppendFsync::EverySec || self.skip_fsync.load(Ordering::Relaxed) {
            return;
        }
        let written = self.written_total.load(Ordering::Acquire);
        if written == self.synced_total.load(Ordering::Relaxed)
            || now_ms() - self.fsync_last_ms.load(Ordering::Relaxed) < 1000
        {
            return;
        }
        let Some(file) = self.writer.lock().target.as_ref().map(|t| t.file.clone()) else {
            return;
        };
        if self.fsync_in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        self.fsync_last_ms.store(now_ms(), Ordering::Relaxed);
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                match file.sync_data() {
                    Ok(()) => {
                        me.synced_total.fetch_max(written, Ordering::Relaxed);
                    }
                    Err(e) => tracing::warn!("Error syncing the AOF file: {e}"),
                }
                me.fsync_in_flight.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.fsync_in_flight.store(false, Ordering::Release);
        }
    }

    /// Background fsyncs in progress (`aof_pending_bio_fsync`).
    pub fn fsync_in_flight(&self) -> u64 {
        u64::from(self.fsync_in_flight.load(Ordering::Relaxed))
    }

    /// Bytes handed over and not yet written (`aof_buffer_length`).
    pub fn buffered(&self) -> u64 {
        self.handed_total
            .load(Ordering::Acquire)
            .saturating_sub(self.written_total.load(Ordering::Acquire))
    }
}
