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

use super::psync::FullReason;
use super::Backlog;

/// The capability a replikv replica declares (`REPLCONF capa <this>`).
pub const CAPA: &str = "replikv-dual-channel";

/// The reply a replikv master gives a capable replica's PSYNC that needs a full sync.
pub const REPLY: &str = "DUALCHANNELSYNC";

/// An offer that no snapshot channel took within this long is forgotten.
const OFFER_TTL: Duration = Duration::from_secs(300);

/// One main connection's pairing.
#[derive(Debug)]
struct Pairing {
    offered_at: Instant,
    /// Why the main connection needed a full sync (its snapshot channel's PSYNC asks with
    /// no history; the cause is the main connection's).
    reason: FullReason,
    /// The snapshot channel serving it, once one said `REPLCONF rdb-channel`.
    rdb_channel: Option<u64>,
    /// When the snapshot channel finished sending: the pin waits for the main
    /// connection's PSYNC until `repl-timeout` after this.
    sent_at: Option<Instant>,
}

/// The master's pairings, keyed by the main connection's client id. Every change to a pin
/// (a backlog cursor under the main connection's id) that this table owns is made under its
/// lock, so a release and a main connection's PSYNC cannot interleave.
#[derive(Debug, Default)]
pub struct DualChannels {
    pairs: Mutex<HashMap<u64, Pairing>>,
}

impl DualChannels {
    /// Main connection `main` was answered `+DUALCHANNELSYNC` because of `reason`. A
    /// pairing it already had (its stream PSYNC was refused) lets go of its pin.
    pub fn offer(&self, main: u64, reason: FullReason, backlog: &Backlog) {
        let mut pairs = self.pairs.lock();
        pairs.retain(|_, p| p.offered_at.elapsed() < OFFER_TTL || p.rdb_channel.is_some());
        let old = pairs.insert(
            main,
            Pairing {
                offered_at: Instant::now(),
                reason,
                rdb_channel: None,
                sent_at: None,
            },
        );
        if old.is_some_and(|p| p.rdb_channel.is_some()) {
            backlog.unregister(main);
        }
    }

    /// Snapshot channel `rdb` says it serves `main`: the offer's reason when `main` was
    /// offered a dual-channel sync that no other channel serves. Anything else is refused,
    /// so that no connection can move the backlog position of a replica not its own.
    pub fn bind(&self, main: u64, rdb: u64) -> Option<FullReason> {
        match self.pairs.lock().get_mut(&main) {
            Some(p) if p.rdb_channel.is_none() || p.rdb_channel == Some(rdb) => {
                p.rdb_channel = Some(rdb);
                Some(p.reason)
            }
            _ => None,
        }
    }

    /// Why main connection `main` was offered its sync, while it is paired.
    pub fn reason_of(&self, main: u64) -> Option<FullReason> {
        self.pairs.lock().get(&main).map(|p| p.reason)
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

    /// The snapshot channel `rdb` serving `main` ended. Sent in full, its pin waits for the
    /// main connection's PSYNC (see [`DualChannels::expire`]); otherwise the pairing and its
    /// pin go now.
    pub fn channel_ended(&self, main: u64, rdb: u64, sent: bool, backlog: &Backlog) {
        let mut pairs = self.pairs.lock();
        let Some(p) = pairs.get_mut(&main).filter(|p| p.rdb_channel == Some(rdb)) else {
            return;
        };
        if sent {
            p.sent_at = Some(Instant::now());
        } else {
            pairs.remove(&main);
            backlog.unregister(main);
        }
    }

    /// Lets go of the pins of snapshots sent more than `wait` ago whose main connection
    /// never asked for its stream (it went away), and of offers nobody took.
    pub fn expire(&self, wait: Duration, backlog: &Backlog) {
        let mut pairs = self.pairs.lock();
        let stale: Vec<u64> = pairs
            .iter()
            .filter(|(_, p)| {
                p.sent_at.is_some_and(|at| at.elapsed() > wait)
                    || (p.rdb_channel.is_none() && p.offered_at.elapsed() > OFFER_TTL)
            })
            .map(|(main, _)| *main)
            .collect();
        for main in stale {
            if pairs.remove(&main).is_some_and(|p| p.rdb_channel.is_some()) {
                backlog.unregister(main);
            }
        }
    }

    /// Main connections paired with a snapshot channel and not yet streaming.
    #[cfg(test)]
    fn pending(&self) -> usize {
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

    const WHY: FullReason = FullReason::NoHistory;

    /// A backlog holding bytes 1..=100, with `main`'s pin at 51.
    fn pinned(main: u64) -> Backlog {
        let b = Backlog::new(0, 1 << 20);
        b.append(&[b'x'; 100]);
        assert!(b.register(main, 51));
        b
    }

    #[test]
    fn only_an_offered_main_connection_can_be_bound_and_only_once() {
        let d = DualChannels::default();
        let b = Backlog::new(0, 1 << 20);
        assert_eq!(d.bind(7, 9), None, "never offered");
        d.offer(7, FullReason::Forced, &b);
        assert_eq!(d.bind(7, 9), Some(FullReason::Forced));
        assert!(d.bind(7, 9).is_some(), "the same channel again");
        assert_eq!(d.bind(7, 10), None, "another channel may not take it over");
        assert_eq!(d.pending(), 1);
    }

    #[test]
    fn a_sent_snapshot_keeps_its_pin_for_the_main_connection() {
        let d = DualChannels::default();
        let b = pinned(7);
        d.offer(7, WHY, &b);
        assert!(d.bind(7, 9).is_some());
        d.channel_ended(7, 9, true, &b);
        assert_eq!(b.pending_for(7), 50, "still pinned");
        assert!(d.claim(7), "the stream half");
        d.expire(Duration::ZERO, &b);
        assert_eq!(
            b.pending_for(7),
            50,
            "the main connection owns the cursor now"
        );
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn a_failed_channel_releases_its_pin_at_once() {
        let d = DualChannels::default();
        let b = pinned(7);
        d.offer(7, WHY, &b);
        assert!(d.bind(7, 9).is_some());
        d.channel_ended(7, 10, false, &b);
        assert_eq!(b.pending_for(7), 50, "not that channel's");
        d.channel_ended(7, 9, false, &b);
        assert_eq!(b.pending_for(7), 0);
        assert!(!d.claim(7), "a late PSYNC is not the stream half any more");
    }

    #[test]
    fn an_unclaimed_pin_expires_and_a_new_offer_drops_the_old_pin() {
        let d = DualChannels::default();
        let b = pinned(7);
        d.offer(7, WHY, &b);
        assert!(d.bind(7, 9).is_some());
        d.channel_ended(7, 9, true, &b);
        d.expire(Duration::from_secs(60), &b);
        assert_eq!(b.pending_for(7), 50, "within the wait");
        d.expire(Duration::ZERO, &b);
        assert_eq!(b.pending_for(7), 0, "the main connection never came");

        assert!(b.register(7, 51));
        d.offer(7, WHY, &b);
        assert!(d.bind(7, 9).is_some());
        d.offer(7, WHY, &b);
        assert_eq!(b.pending_for(7), 0, "a new offer lets go of the old pin");
    }
}
