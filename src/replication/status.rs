//! Read-only snapshots of replication state, the one source for INFO replication, ROLE, the
//! control plane and /metrics, so they can never disagree.

use super::phase::Phase;

/// Our role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepting writes (possibly with replicas).
    Master,
    /// Following a master.
    Replica,
}

/// A replica's state as the master sees it (INFO `slaveN:...,state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for the snapshot of a full sync.
    WaitBgsave,
    /// Receiving the RDB payload.
    SendBulk,
    /// Streaming.
    Online,
}

impl ReplicaState {
    /// The name INFO and the control plane use.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// One of our replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Client id of its connection.
    pub id: u64,
    /// Its address.
    pub ip: String,
    /// Its announced listening port.
    pub port: u16,
    /// Its state.
    pub state: ReplicaState,
    /// Last offset it acknowledged.
    pub ack_offset: u64,
    /// Seconds since its last acknowledgement.
    pub lag_seconds: u64,
    /// Our offset minus its acknowledged offset.
    pub lag_bytes: u64,
    /// How stale it was at its last acknowledgement: the age, in ms, of the oldest write
    /// it had not confirmed (0 when it had them all, and while it is not online).
    pub lag_ms: u64,
    /// How long it could stay disconnected from now and still resume with a partial
    /// resync, at the current write rate, in ms; `None` when nothing is being written, or
    /// while it is not online.
    pub resume_horizon_ms: Option<u64>,
    /// Bytes we hold for it that it has not received yet.
    pub output_buffer_bytes: u64,
}

/// The link to our master (replica side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLinkStatus {
    /// Master host.
    pub host: String,
    /// Master port.
    pub port: u16,
    /// `up` when streaming, else `down`.
    pub link_up: bool,
    /// ROLE's replica state: `connect`, `connecting`, `handshake`, `sync`, `connected`.
    pub state: &'static str,
    /// Seconds since we last heard from the master.
    pub last_io_seconds_ago: i64,
    /// Seconds since the link went down (-1 when never up, 0 when up).
    pub link_down_since_seconds: i64,
    /// A full sync is in progress.
    pub sync_in_progress: bool,
    /// RDB bytes expected (-1 unknown, e.g. diskless with EOF mark).
    pub sync_total_bytes: i64,
    /// RDB bytes received.
    pub sync_read_bytes: u64,
    /// Stream bytes held until the snapshot is loaded (a dual-channel full sync).
    pub sync_buffered_bytes: u64,
    /// The current sync phase, if syncing.
    pub phase: Option<Phase>,
    /// Offset of the stream processed so far.
    pub repl_offset: i64,
    /// Offset of the stream read so far.
    pub read_repl_offset: i64,
    /// The load of the master's snapshot running now (it overlaps the receive when the
    /// payload is streamed into the parser), if any.
    pub load: Option<crate::rdb::progress::LoadFigures>,
}

/// The backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogStatus {
    /// A backlog exists.
    pub active: bool,
    /// Configured size.
    pub size: u64,
    /// Offset of the oldest byte held.
    pub first_byte_offset: u64,
    /// Bytes held.
    pub histlen: u64,
    /// Bytes of memory used by the backlog buffer.
    pub memory_bytes: u64,
    /// Age of the oldest byte held, in ms (0 when empty).
    pub covered_ms: u64,
    /// Bytes per second written to the stream over the last minute.
    pub write_rate: u64,
    /// Seconds of writes `repl-backlog-size` holds at that rate, in ms; `None` when
    /// nothing is being written.
    pub capacity_ms: Option<u64>,
}

/// Sync counters (INFO stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncCounters {
    /// Full syncs served.
    pub sync_full: u64,
    /// Full syncs served since start, by cause (indexed as `FullReason::ALL`).
    pub full_by_cause: [u64; 6],
    /// Partial resyncs accepted.
    pub sync_partial_ok: u64,
    /// Partial resyncs refused.
    pub sync_partial_err: u64,
    /// Links that ended with an error since start: `[side][code]`, side 0 = as master,
    /// 1 = as replica, codes indexed as `AbortCode::ALL`.
    pub link_aborts: [[u64; super::abort::AbortCode::ALL.len()]; 2],
}

/// Coordinated failover state (INFO `master_failover_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverState {
    /// None in progress.
    NoFailover,
    /// Waiting for the target to catch up.
    WaitingForSync,
    /// Handing over to the target.
    InProgress,
}

impl FailoverState {
    /// The name INFO uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::NoFailover => "no-failover",
            FailoverState::WaitingForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

/// Everything about replication at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationStatus {
    /// Our role.
    pub role: Role,
    /// `master_replid`.
    pub replid: String,
    /// `master_replid2`.
    pub replid2: String,
    /// `master_repl_offset`.
    pub master_repl_offset: u64,
    /// `second_repl_offset`.
    pub second_repl_offset: i64,
    /// The backlog.
    pub backlog: BacklogStatus,
    /// Our replicas.
    pub replicas: Vec<ReplicaStatus>,
    /// Our master link, when we are a replica.
    pub master_link: Option<MasterLinkStatus>,
    /// Failover state.
    pub failover: FailoverState,
    /// The fencing epoch: bumped at every promotion of this node.
    pub epoch: u64,
    /// The failover in progress, else the last one (its steps, for operators).
    pub latest_failover: Option<super::role::Failover>,
    /// Failovers this node ran, by outcome.
    pub failover_counts: super::role::FailoverCounts,
    /// Counters.
    pub counters: SyncCounters,
    /// Full syncs served as a master: admission slots and waiting replicas.
    pub admission: super::admission::AdmissionStatus,
}
