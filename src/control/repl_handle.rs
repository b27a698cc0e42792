//! The one place where the control plane talks to replication.
//!
//! Every handler and the metrics collector go through [`ReplHandle`]; nothing else in
//! `control/` names a replication internal. The status is the one INFO renders
//! (`command::replication::status`); following a master and promotion call the functions
//! REPLICAOF calls; forced resyncs call the replication layer's operator entry points.
//! Coordinated failover (the FAILOVER command) does not exist in the server yet: it answers
//! [`ReplError::NotImplemented`] (HTTP 501) after the same role checks the command will make.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::error::ApiError;
use crate::engine::State;
use crate::replication::status::FailoverState;
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

    /// Everything about replication at one instant (the snapshot INFO renders), under one
    /// short engine-lock section.
    pub fn status(&self) -> ReplicationStatus {
        let engine = self.state.engine.lock();
        crate::engine::replication::status(&self.state, &engine)
    }

    /// Replication traffic counters, as INFO reports them.
    pub fn traffic(&self) -> ReplTraffic {
        use std::sync::atomic::Ordering;
        ReplTraffic {
            input_bytes: self.state.repl.net_input_bytes.load(Ordering::Relaxed),
            output_bytes: self.state.repl.net_output_bytes.load(Ordering::Relaxed),
            // Replicas hold cursors into the shared stream, not copies (INFO shows 0 too).
            replica_clients_memory: 0,
        }
    }

    /// The kept sync sessions, oldest first.
    pub fn history(&self) -> Vec<SyncRecord> {
        self.state.repl.history.lock().records()
    }

    /// A subscription to live replication events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.state.repl.events.subscribe()
    }

    /// Becomes a replica of `host:port`: REPLICAOF host port, through the same function.
    pub async fn set_master(&self, host: String, port: u16) -> Result<(), ReplError> {
        let same = self
            .state
            .repl
            .link
            .lock()
            .as_ref()
            .is_some_and(|l| l.host.eq_ignore_ascii_case(&host) && l.port == port);
        if !same {
            let mut engine = self.state.engine.lock();
            crate::engine::replication::become_replica(&self.state, &mut engine, host, port);
        }
        Ok(())
    }

    /// Stops following a master and keeps the history: REPLICAOF NO ONE, through the same
    /// function. On a master it changes nothing, as REPLICAOF NO ONE answers OK there.
    pub async fn promote(&self) -> Result<(), ReplError> {
        let mut engine = self.state.engine.lock();
        if engine.is_replica {
            crate::engine::replication::become_master(&self.state, &mut engine);
            tracing::info!("MASTER MODE enabled (control plane request)");
        }
        Ok(())
    }

    /// On a replica: drops the link and forces a full sync.
    pub fn resync(&self) -> Result<(), ReplError> {
        match self.status().role {
            Role::Master => Err(ReplError::WrongState(
                "this node is a master: it has no link to resync; to resync one of its replicas use POST /v1/replication/replicas/{id}/resync".into(),
            )),
            Role::Replica => {
                crate::engine::replication::force_full_resync(&self.state);
                Ok(())
            }
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
        if !crate::engine::replication::force_replica_full_resync(&self.state, id) {
            return Err(ReplError::UnknownReplica(id));
        }
        Ok(())
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
