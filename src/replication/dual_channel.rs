//! Dual-channel full sync between replikv nodes (the idea of Valkey 8's dual-channel
//! replication, with replikv's own handshake words).
//!
//! The classic full sync sends the snapshot and then, on the same connection, every write
//! made meanwhile: the master holds those writes for the replica for the whole transfer,
//! and a long transfer under writes overflows `client-output-buffer-limit replica`, the
//! master drops the replica, and the sync starts again, for ever. With two channels the
//! snapshot goes over a connection of its own while the stream flows from the snapshot's
//! offset on the replica's main connection at once; the replica buffers it and applies it
//! after the load, so the master holds almost nothing for it.
//!
//! The handshake, negotiated so that a Redis peer on either side gets the classic protocol:
//! 1. Main connection: the replica declares `REPLCONF capa replikv-dual-channel`. A Redis
//!    master ignores the capability; a replikv master with `dual-channel-replication-enabled`
//!    answers a PSYNC that needs a full sync with `+DUALCHANNELSYNC <main client id>`
//!    instead of `+FULLRESYNC`, and the connection stays an ordinary client for now.
//! 2. Snapshot channel: a second connection, `REPLCONF rdb-channel <main client id>`, then
//!    `PSYNC ? -1`: an ordinary full sync (`+FULLRESYNC <id> <offset>`, the payload) with no
//!    stream after it. Its snapshot pins the backlog from `offset + 1` under the main
//!    connection's id, so nothing the main connection will ask for is trimmed meanwhile.
//! 3. Main connection: `PSYNC <id> <offset + 1>` continues from the pinned position; the
//!    stream flows while the snapshot is still in transit.
//!
//! This module keeps the master's side of the pairing: which main connections were offered
//! a dual-channel sync, which snapshot channel serves each, and who lets go of the pin.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The capability a replikv replica declares (`REPLCONF capa <this>`).
pub const CAPA: &str = "replikv-dual-channel";

/// The reply a replikv master gives a capable replica's PSYNC that needs a full sync.
pub const REPLY: &str = "DUALCHANNELSYNC";

/// An offer that no snapshot channel claimed within this long is forgotten.
const OFFER_TTL: Duration = Duration::from_secs(300);

/// One main connection's pairing.
#[derive(Debug)]
struct Pairing {
    offered_at: Instant,
    /// The snapshot channel serving it, once one said `REPLCONF rdb-channel`.
    rdb_channel: Option<u64>,
}

/// The master's pairings, keyed by the main connection's client id.
#[derive(Debug, Default)]
pub struct DualChannels {
    pairs: Mutex<HashMap<u64, Pairing>>,
}

impl DualChannels {
    /// Main connection `main` was answered `+DUALCHANNELSYNC`.
    pub fn offer(&self, main: u64) {
        let mut pairs = self.pairs.lock();
        pairs.retain(|_, p| p.offered_at.elapsed() < OFFER_TTL || p.rdb_channel.is_some());
        pairs.insert(
            main,
            Pairing {
                offered_at: Instant::now(),
                rdb_channel: None,
            },
        );
    }

    /// Snapshot channel `rdb` says it serves `main`: true when `main` was offered a
    /// dual-channel sync that no other channel serves. Anything else is refused, so that
    /// no connection can move the backlog position of a replica that is not its own.
    pub fn bind(&self, main: u64, rdb: u64) -> bool {
        match self.pairs.lock().get_mut(&main) {
            Some(p) if p.rdb_channel.is_none() || p.rdb_channel == Some(rdb) => {
                p.rdb_channel = Some(rdb);
                true
            }
            _ => false,
        }
    }

    /// The main connection `main` asks to continue from its snapshot: true when it is the
    /// stream half of a dual-channel sync (its pin becomes its own cursor).
    pub fn claim(&self, main: u64) -> bool {
        matches!(
            self.pairs.lock().remove(&main),
            Some(Pairing {
                rdb_channel: Some(_),
                ..
            })
        )
    }

    /// The snapshot channel `rdb` serving `main` ended: true when the main connection never
    /// claimed its pin, which the caller then releases from the backlog.
    pub fn release(&self, main: u64, rdb: u64) -> bool {
        let mut pairs = self.pairs.lock();
        match pairs.get(&main) {
            Some(p) if p.rdb_channel == Some(rdb) => {
                pairs.remove(&main);
                true
            }
            _ => false,
        }
    }

    /// Main connections paired with a snapshot channel and not yet streaming.
    pub fn pending(&self) -> usize {
        self.pairs
            .lock()
            .values()
            .filter(|p| p.rdb_channel.is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_offered_main_connection_can_be_bound_and_only_once() {
        let d = DualChannels::default();
        assert!(!d.bind(7, 9), "never offered");
        d.offer(7);
        assert!(d.bind(7, 9));
        assert!(d.bind(7, 9), "the same channel again");
        assert!(!d.bind(7, 10), "another channel may not take it over");
        assert_eq!(d.pending(), 1);
    }

    #[test]
    fn a_claimed_pin_is_not_released_by_the_snapshot_channel() {
        let d = DualChannels::default();
        d.offer(7);
        assert!(!d.claim(7), "offered but never bound: not a stream half");
        d.offer(7);
        assert!(d.bind(7, 9));
        assert!(d.claim(7));
        assert!(!d.release(7, 9), "the main connection owns the cursor now");
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn an_unclaimed_pin_is_released_once() {
        let d = DualChannels::default();
        d.offer(7);
        assert!(d.bind(7, 9));
        assert!(!d.release(7, 10), "not that channel's");
        assert!(d.release(7, 9));
        assert!(!d.release(7, 9));
        assert!(!d.claim(7), "a late PSYNC is not the stream half any more");
    }
}
