//! Replication: the stream of writes a master sends its replicas, the sync sessions on both
//! sides, and the state operators read (status snapshots, history, live events).

pub mod events;
pub mod history;
pub mod log;
pub mod phase;
pub mod status;

use parking_lot::Mutex;

pub use events::{Event, Events};
pub use history::{SyncHistory, SyncKind, SyncOutcome, SyncRecord};
pub use log::ReplLog;
pub use phase::{Phase, Side};
pub use status::{ReplicationStatus, Role};

/// The replication hub shared by every task: history and events now; the master and replica
/// sides hang off it as they are built.
#[derive(Debug)]
pub struct Replication {
    /// Recent sync sessions.
    pub history: Mutex<SyncHistory>,
    /// Live events.
    pub events: Events,
}

impl Replication {
    /// A hub keeping `history_size` sync sessions.
    pub fn new(history_size: usize) -> Replication {
        Replication {
            history: Mutex::new(SyncHistory::new(history_size)),
            events: Events::default(),
        }
    }
}
