//! How far a running load has got: what INFO's `loading_*` fields, the control plane and
//! `/metrics` show while a replica loads its master's snapshot.
//!
//! The loader runs on its own thread and publishes its position after every key through
//! relaxed atomics (a few stores per key); readers take a consistent-enough picture at any
//! time without touching the loader.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// The progress of the load running now, if any. One per server.
#[derive(Debug, Default)]
pub struct LoadProgress {
    active: AtomicBool,
    /// Bumped by every [`LoadProgress::begin`]: a loader abandoned by an earlier load
    /// (its sync cancelled while its thread still reads) cannot move this load's figures.
    epoch: AtomicU64,
    started_ms: AtomicI64,
    /// Bytes the payload holds (0: unknown, a streamed payload without a length).
    total_bytes: AtomicU64,
    loaded_bytes: AtomicU64,
    keys: AtomicU64,
    /// The snapshot's `used-mem` AUX field: Redis's estimate of the size when the payload's
    /// is unknown.
    rdb_used_mem: AtomicU64,
}

/// One loader's handle on [`LoadProgress`]: what it publishes counts only while its load
/// is the current one.
#[derive(Debug, Clone)]
pub struct LoadTracker {
    progress: Arc<LoadProgress>,
    epoch: u64,
}

impl LoadTracker {
    fn current(&self) -> bool {
        self.progress.epoch.load(Ordering::Acquire) == self.epoch
    }

    /// The loader's position: `bytes` parsed and `keys` loaded.
    pub fn advance(&self, bytes: u64, keys: u64) {
        if self.current() {
            self.progress.loaded_bytes.store(bytes, Ordering::Relaxed);
            self.progress.keys.store(keys, Ordering::Relaxed);
        }
    }

    /// The snapshot says how much memory its source used.
    pub fn note_used_mem(&self, used_mem: u64) {
        if self.current() {
            self.progress
                .rdb_used_mem
                .store(used_mem, Ordering::Relaxed);
        }
    }
}

/// A picture of a running load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadFigures {
    /// Unix ms when it started.
    pub started_ms: i64,
    /// Bytes the payload holds (0: unknown).
    pub total_bytes: u64,
    /// The snapshot's `used-mem` (0: not read yet).
    pub rdb_used_mem: u64,
    /// Bytes parsed so far.
    pub loaded_bytes: u64,
    /// Keys loaded so far.
    pub keys: u64,
}

impl LoadFigures {
    /// Percent done, as Redis computes it: against the payload's size, or else against
    /// `used-mem` (a rough estimate, so capped below 100).
    pub fn percent(&self) -> f64 {
        if self.total_bytes > 0 {
            self.loaded_bytes as f64 * 100.0 / self.total_bytes as f64
        } else if self.rdb_used_mem > 0 {
            (self.loaded_bytes as f64 * 100.0 / self.rdb_used_mem as f64).min(99.99)
        } else {
            0.0
        }
    }

    /// Seconds left at the pace so far, as Redis's `loading_eta_seconds` (1 until a
    /// whole second has passed).
    pub fn eta_seconds(&self, now_ms: i64) -> u64 {
        let remaining = if self.total_bytes > 0 {
            self.total_bytes.saturating_sub(self.loaded_bytes)
        } else if self.rdb_used_mem > 0 {
            self.rdb_used_mem.saturating_sub(self.loaded_bytes).max(1)
        } else {
            1
        };
        // Whole seconds, as Redis's `time(NULL) - loading_start_time`.
        let elapsed = (now_ms.div_euclid(1000) - self.started_ms.div_euclid(1000)).max(0) as u64;
        if elapsed == 0 {
            return 1;
        }
        elapsed.saturating_mul(remaining) / (self.loaded_bytes + 1)
    }
}

impl LoadProgress {
    /// A load of `total_bytes` (`None`: unknown) starts now (`now_ms`).
    pub fn begin(&self, total_bytes: Option<u64>, now_ms: i64) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.started_ms.store(now_ms, Ordering::Relaxed);
        self.total_bytes
            .store(total_bytes.unwrap_or(0), Ordering::Relaxed);
        self.loaded_bytes.store(0, Ordering::Relaxed);
        self.keys.store(0, Ordering::Relaxed);
        self.rdb_used_mem.store(0, Ordering::Relaxed);
        self.active.store(true, Ordering::Release);
    }

    /// The handle a loader publishes through: it speaks for the load begun last.
    pub fn tracker(self: &Arc<Self>) -> LoadTracker {
        LoadTracker {
            epoch: self.epoch.load(Ordering::Acquire),
            progress: self.clone(),
        }
    }

    /// The load ended (loaded, failed or abandoned).
    pub fn end(&self) {
        self.active.store(false, Ordering::Release);
    }

    /// The running load's figures; `None` when no load runs.
    pub fn figures(&self) -> Option<LoadFigures> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        Some(LoadFigures {
            started_ms: self.started_ms.load(Ordering::Relaxed),
            total_bytes: self.total_bytes.load(Ordering::Relaxed),
            rdb_used_mem: self.rdb_used_mem.load(Ordering::Relaxed),
            loaded_bytes: self.loaded_bytes.load(Ordering::Relaxed),
            keys: self.keys.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_loader_cannot_move_the_next_loads_figures() {
        let p = Arc::new(LoadProgress::default());
        p.begin(None, 0);
        let old = p.tracker();
        p.end();
        p.begin(Some(10), 0);
        let new = p.tracker();
        old.advance(999, 999);
        old.note_used_mem(5);
        new.advance(3, 1);
        let f = p.figures().expect("running");
        assert_eq!((f.loaded_bytes, f.keys, f.rdb_used_mem), (3, 1, 0));
    }

    #[test]
    fn figures_exist_only_while_a_load_runs() {
        let p = Arc::new(LoadProgress::default());
        assert_eq!(p.figures(), None);
        p.begin(Some(1000), 10_000);
        p.tracker().advance(250, 7);
        let f = p.figures().expect("running");
        assert_eq!((f.loaded_bytes, f.keys, f.total_bytes), (250, 7, 1000));
        assert_eq!(f.percent(), 25.0);
        p.end();
        assert_eq!(p.figures(), None);
    }

    #[test]
    fn eta_follows_redis_arithmetic() {
        let f = LoadFigures {
            started_ms: 0,
            total_bytes: 1000,
            rdb_used_mem: 0,
            loaded_bytes: 249,
            keys: 0,
        };
        assert_eq!(f.eta_seconds(500), 1, "under a second: Redis's placeholder");
        // 2 s for 249 bytes (+1), 751 left: 2 * 751 / 250.
        assert_eq!(f.eta_seconds(2_000), 6);
        let unknown = LoadFigures {
            total_bytes: 0,
            rdb_used_mem: 400,
            loaded_bytes: 399,
            ..f
        };
        assert!(unknown.percent() < 100.0);
        assert_eq!(unknown.percent(), 99.75);
        let past = LoadFigures {
            loaded_bytes: 500,
            ..unknown
        };
        assert_eq!(past.percent(), 99.99, "used-mem is an estimate: capped");
    }
}
