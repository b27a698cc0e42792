//! Live replication events, broadcast as they happen (the control plane's SSE stream and
//! tests subscribe); slow subscribers miss events rather than slow replication down.

use tokio::sync::broadcast;

use super::history::SyncKind;
use super::phase::{Phase, Side};
use super::status::Role;
use crate::rdb::progress::LoadFigures;

/// Something that happened to replication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The link to our master is up (streaming).
    LinkUp {
        /// Master host.
        host: String,
        /// Master port.
        port: u16,
    },
    /// The link to our master went down.
    LinkDown {
        /// Master host.
        host: String,
        /// Master port.
        port: u16,
        /// Why.
        reason: String,
        /// Its documented code (docs/metrics.md); `None` when the link simply closed.
        code: Option<super::abort::AbortCode>,
    },
    /// A sync session started.
    SyncStarted {
        /// History id.
        sync_id: u64,
        /// Our side.
        side: Side,
        /// The other end.
        peer: String,
    },
    /// A session moved to another phase.
    PhaseChanged {
        /// History id.
        sync_id: u64,
        /// The new phase.
        phase: Phase,
    },
    /// A session decided full or partial.
    SyncKindDecided {
        /// History id.
        sync_id: u64,
        /// Full or partial.
        kind: SyncKind,
        /// Why a full sync.
        reason: Option<String>,
    },
    /// A master's full sync waits for admission (published when the rule holding it
    /// changes; see [`super::admission`]).
    SyncQueued {
        /// History id.
        sync_id: u64,
        /// The rule holding it.
        reason: super::admission::WaitReason,
    },
    /// A replica's full sync, once a second while it receives and loads the snapshot.
    SyncProgress {
        /// History id.
        sync_id: u64,
        /// Snapshot bytes received.
        received_bytes: u64,
        /// Snapshot bytes expected (`None`: unknown, a streamed payload).
        total_bytes: Option<u64>,
        /// The load, once it runs: bytes parsed, keys loaded, seconds left.
        load: Option<LoadFigures>,
    },
    /// A replica's load passed `replica-load-memory-limit` while its old dataset was still
    /// serving reads: the old dataset was freed, and clients get -LOADING until the load ends.
    LoadMemoryFallback {
        /// History id.
        sync_id: u64,
        /// Memory in use when the limit was passed.
        used_bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// A session ended.
    SyncFinished {
        /// History id.
        sync_id: u64,
        /// True on success.
        ok: bool,
        /// Failure reason.
        error: Option<String>,
        /// Its documented code (docs/metrics.md).
        error_code: Option<super::abort::AbortCode>,
    },
    /// Our role changed.
    RoleChanged {
        /// The new role.
        role: Role,
    },
    /// A failover step.
    FailoverStep {
        /// The step: `waiting-for-sync`, `failover-in-progress`, `completed` or `aborted`.
        state: String,
        /// The target, or why it was aborted.
        detail: String,
    },
}

impl Event {
    /// The event's type name (SSE `event:` field).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::LinkUp { .. } => "link_up",
            Event::LinkDown { .. } => "link_down",
            Event::SyncStarted { .. } => "sync_started",
            Event::PhaseChanged { .. } => "phase_changed",
            Event::SyncKindDecided { .. } => "sync_kind_decided",
            Event::SyncQueued { .. } => "sync_queued",
            Event::SyncProgress { .. } => "sync_progress",
            Event::LoadMemoryFallback { .. } => "load_memory_fallback",
            Event::SyncFinished { .. } => "sync_finished",
            Event::RoleChanged { .. } => "role_changed",
            Event::FailoverStep { .. } => "failover_step",
        }
    }
}

/// The broadcast channel of events.
#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Events { tx }
    }
}

impl Events {
    /// Publishes an event (nobody listening is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
