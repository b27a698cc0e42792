//! The one place where the control plane talks to replication.
//!
//! Every handler and the metrics collector go through [`ReplHandle`]; nothing else in
//! `control/` names a replication internal. The replication sides (master links, the
//! replica's driver, failover) are being built on their own: until they land, this adapter
//! computes the status from what exists (the replication log's ids and offset, the
//! settings) and answers the mutations it cannot perform yet with
//! [`ReplError::NotImplemented`] (HTTP 501). Switching to the real `Replication` handle is
//! a change to this file only: `status()` becomes `state.repl.status()`, and each mutation
//! calls the same method REPLICAOF / FAILOVER / the resync commands call.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::error::ApiError;
use crate::command::State;
use crate::replication::status::{BacklogStatus, FailoverState, SyncCounters};
use crate::replication::{Event, ReplicationStatus, Role, SyncRecord};

/// Why replication refused an operation (mapped one to one onto [`ApiError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplError {
    /// The operation does not exist in this build yet.
    NotImplemented(String),
    /// Our role or state forbids it (resync on a master without a replica id...).
    WrongState(String),
    /// No replica has this id.
    UnknownReplica(u64),
    /// A value is refused (e.g. replicating from ourselves).
    Invalid {
        /// The request field.
        field: String,
        /// Why.
        detail: String,
    },
}

impl From<ReplError> for ApiError {
    fn from(e: ReplError) -> ApiError {
        match e {
            ReplError::NotImplemented(detail) => ApiError::NotImplemented { detail },
            ReplError::WrongState(detail) => ApiError::Conflict { detail },
            ReplError::UnknownReplica(id) => ApiError::UnknownReplica { id },
            ReplError::Invalid { field, detail } => ApiError::Invalid { field, detail },
        }
    }
}

/// A coordinated failover request (the FAILOVER command's arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverRequest {
    /// The replica to hand over to; `None` lets the master pick one.
    pub target: Option<(String, u16)>,
    /// Give up after this long.
    pub timeout_ms: Option<u64>,
    /// Hand over at the timeout even if the target has not caught up.
    pub force: bool,
}

/// Replication traffic and buffer figures that the status snapshot does not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplTraffic {
    /// INFO total_net_repl_input_bytes: bytes read from our master.
    pub input_bytes: u64,
    /// INFO total_net_repl_output_bytes: bytes written to our replicas.
    pub output_bytes: u64,
    /// INFO mem_clients_slaves: replica connections' memory beyond the shared buffer.
    pub replica_clients_memory: u64,
}

/// The control plane's handle on replication.
#[derive(Debug, Clone)]
pub struct ReplHandle {
    state: Arc<State>,
}

impl ReplHandle {
    /// A handle on the server's replication.
    pub fn new(state: Arc<State>) -> ReplHandle {
        ReplHandle { state }
    }

    /// Everything about replication at one instant. Cheap: one short engine-lock section.
    pub fn status(&self) -> ReplicationStatus {
        let settings = self.state.settings();
        let (replid, replid2, offset, second, active) = {
            let engine = self.state.engine.lock();
            let log = &engine.repl;
            (
                log.replid.clone(),
                log.replid2.clone(),
                log.offset,
                log.second_offset,
                log.active,
            )
        };
        ReplicationStatus {
            role: Role::Master,
            replid,
            replid2,
            master_repl_offset: offset,
            second_repl_offset: second,
            backlog: BacklogStatus {
                active,
                size: settings.repl_backlog_size,
                first_byte_offset: 0,
                histlen: 0,
                memory_bytes: 0,
            },
            replicas: Vec::new(),
            master_link: None,
            failover: FailoverState::NoFailover,
            counters: SyncCounters::default(),
        }
    }

    /// Replication traffic counters. INFO reports 0 for all three until the replication
    /// sides count them; this adapter reports the same.
    pub fn traffic(&self) -> ReplTraffic {
        ReplTraffic::default()
    }

    /// The kept sync sessions, oldest first.
    pub fn history(&self) -> Vec<SyncRecord> {
        self.state.repl.history.lock().records()
    }

    /// A subscription to live replication events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.state.repl.events.subscribe()
    }

    /// Becomes a replica of `host:port` (REPLICAOF host port).
    pub async fn set_master(&self, host: String, port: u16) -> Result<(), ReplError> {
        let _ = (host, port);
        Err(ReplError::NotImplemented(
            "following a master is not available in this build yet".into(),
        ))
    }

    /// Stops following a master and keeps the history (REPLICAOF NO ONE). On a master it
    /// changes nothing, as REPLICAOF NO ONE answers OK there.
    pub async fn promote(&self) -> Result<(), ReplError> {
        match self.status().role {
            Role::Master => Ok(()),
            Role::Replica => Err(ReplError::NotImplemented(
                "promotion is not available in this build yet".into(),
            )),
        }
    }

    /// On a replica: drops the link and forces a full sync.
    pub fn resync(&self) -> Result<(), ReplError> {
        match self.status().role {
            Role::Master => Err(ReplError::WrongState(
                "this node is a master: it has no link to resync; to resync one of its replicas use POST /v1/replication/replicas/{id}/resync".into(),
            )),
            Role::Replica => Err(ReplError::NotImplemented(
                "forcing a resync is not available in this build yet".into(),
            )),
        }
    }

    /// On a master: forces replica `id` into a full sync.
    pub fn resync_replica(&self, id: u64) -> Result<(), ReplError> {
        let status = self.status();
        if status.role == Role::Replica && status.replicas.is_empty() {
            return Err(ReplError::WrongState(
                "this node is a replica without replicas of its own".into(),
            ));
        }
        if !status.replicas.iter().any(|r| r.id == id) {
            return Err(ReplError::UnknownReplica(id));
        }
        Err(ReplError::NotImplemented(
            "forcing a replica's resync is not available in this build yet".into(),
        ))
    }

    /// Starts a coordinated failover (FAILOVER). The role checks are the command's.
    pub fn failover(&self, request: FailoverRequest) -> Result<(), ReplError> {
        let _ = request;
        let status = self.status();
        if status.role == Role::Replica {
            return Err(ReplError::WrongState(
                "a failover is started on the master, and this node is a replica".into(),
            ));
        }
        if status.failover != FailoverState::NoFailover {
            return Err(ReplError::WrongState(
                "a failover is already in progress".into(),
            ));
        }
        if status.replicas.is_empty() {
            return Err(ReplError::WrongState(
                "a failover needs connected replicas".into(),
            ));
        }
        Err(ReplError::NotImplemented(
            "coordinated failover is not available in this build yet".into(),
        ))
    }

    /// Aborts the failover in progress (FAILOVER ABORT).
    pub fn abort_failover(&self) -> Result<(), ReplError> {
        if self.status().failover == FailoverState::NoFailover {
            return Err(ReplError::WrongState("no failover is in progress".into()));
        }
        Err(ReplError::NotImplemented(
            "coordinated failover is not available in this build yet".into(),
        ))
    }
}
