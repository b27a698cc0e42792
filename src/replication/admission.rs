//! Why a replica that asked its master for a full sync is still waiting for a snapshot.
//!
//! A master admits full syncs by three rules (see [`super::master::FullSyncQueue`]): a
//! diskless job waits `repl-diskless-sync-delay` so that replicas arriving together share
//! one snapshot, a replica that cannot join the disk snapshot being written waits for the
//! next one, and at most `repl-max-concurrent-full-syncs` transfers run at once. When a sync
//! waits, operators see which rule holds it (the sync history, the `sync_queued` event,
//! `/metrics`): a sync storm held at the cap looks different from one gathering replicas.

use std::fmt;

/// The rule holding a waiting full sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// Gathering replicas for one diskless snapshot (`repl-diskless-sync-delay`).
    DisklessDelay {
        /// The configured delay, in seconds.
        delay_secs: u64,
    },
    /// A disk snapshot for other replicas is being written and this replica cannot join
    /// it (it takes a diskless payload, or the backlog no longer holds the stream since
    /// that snapshot): it gets the next one.
    DiskSnapshotBusy,
    /// `repl-max-concurrent-full-syncs` transfers are running.
    ConcurrencyCap {
        /// The configured cap.
        cap: u64,
    },
}

impl WaitReason {
    /// Every reason's code, in [`WaitReason::index`] order (metric labels).
    pub const CODES: [&'static str; 3] =
        ["diskless_delay", "disk_snapshot_busy", "concurrency_cap"];

    /// The stable code (metric label, event and API field).
    pub fn code(self) -> &'static str {
        Self::CODES[self.index()]
    }

    /// Position in [`WaitReason::CODES`].
    pub fn index(self) -> usize {
        match self {
            WaitReason::DisklessDelay { .. } => 0,
            WaitReason::DiskSnapshotBusy => 1,
            WaitReason::ConcurrencyCap { .. } => 2,
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::DisklessDelay { delay_secs } => write!(
                f,
                "gathering replicas for one diskless snapshot (repl-diskless-sync-delay {delay_secs} s)"
            ),
            WaitReason::DiskSnapshotBusy => f.write_str(
                "a disk snapshot for other replicas is being written; this replica gets the next one",
            ),
            WaitReason::ConcurrencyCap { cap } => write!(
                f,
                "repl-max-concurrent-full-syncs ({cap}) transfers are running; waiting for one to end"
            ),
        }
    }
}

/// The admission queue as `/metrics` and the control plane show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdmissionStatus {
    /// Replicas waiting now, by reason (indexed as [`WaitReason::CODES`]).
    pub waiting: [u64; 3],
    /// Full-sync transfers running (each holds an admission slot).
    pub transfers: u64,
    /// `repl-max-concurrent-full-syncs` (0: no cap).
    pub cap: u64,
    /// Times a full sync was held since start, by reason (a sync held by two rules in
    /// turn counts once for each).
    pub held_total: [u64; 3],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_indexes_agree() {
        for reason in [
            WaitReason::DisklessDelay { delay_secs: 5 },
            WaitReason::DiskSnapshotBusy,
            WaitReason::ConcurrencyCap { cap: 2 },
        ] {
            assert_eq!(WaitReason::CODES[reason.index()], reason.code());
        }
        assert_eq!(
            WaitReason::ConcurrencyCap { cap: 2 }.to_string(),
            "repl-max-concurrent-full-syncs (2) transfers are running; waiting for one to end"
        );
    }
}
