//! The one place where the control plane talks to replication.
//!
//! Every handler and the metrics collector go through [`ReplHandle`]; nothing else in
//! `control/` names a replication internal. The status is the one INFO renders
//! (`engine::replication::status`); following a master and promotion call the functions
//! REPLICAOF calls; forced resyncs call the replication layer's operator entry points; a
//! failover starts through `engine::failover`, as the FAILOVER command does.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::broadcast;

use super::error::ApiError;
use crate::engine::failover::FailoverError;
use crate::engine::published::{self, Observed, ReplicationView};
use crate::engine::{Engine, State};
use crate::replication::status::ReplicaState;
use crate::replication::{Event, Role, SyncRecord};

/// Why replication refused an operation (mapped one to one onto [`ApiError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplError {
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
            ReplError::WrongState(detail) => ApiError::Conflict { detail },
            ReplError::UnknownReplica(id) => ApiError::UnknownReplica { id },
            ReplError::Invalid { field, detail } => ApiError::Invalid { field, detail },
        }
    }
}

/// A coordinated failover request: the FAILOVER command's arguments, plus a data-loss
/// budget and a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailoverRequest {
    /// The replica to hand over to; `None` lets the master pick one.
    pub target: Option<(String, u16)>,
    /// Give up after this long.
    pub timeout_ms: Option<u64>,
    /// Hand over at the timeout even if the target has not caught up.
    pub force: bool,
    /// Refuse unless the target is at most this many bytes behind.
    pub max_lag_bytes: Option<u64>,
    /// Only say what would happen.
    pub dry_run: bool,
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
    /// The server's runtime, where changes run (see [`ReplHandle::on_server`]).
    server: Handle,
}

impl ReplHandle {
    /// A handle on the server's replication; called on the server's runtime.
    pub fn new(state: Arc<State>) -> ReplHandle {
        ReplHandle {
            state,
            server: Handle::current(),
        }
    }

    /// Everything about replication at one instant (the snapshot INFO renders), and
    /// whether a load runs: fresh, or the last published figures while the engine is busy.
    pub async fn view(&self) -> Observed<ReplicationView> {
        published::observe(
            &self.state,
            &self.state.observed.replication,
            ReplicationView::read,
        )
        .await
    }

    /// Runs `change` with the engine on the server's runtime and waits for it without
    /// parking the control plane's thread on the engine lock. The tasks `change` starts (a
    /// master link, a failover) belong to the server's runtime, not to the control plane's.
    pub async fn on_server<R: Send + 'static>(
        &self,
        change: impl FnOnce(&Arc<State>, &mut Engine) -> R + Send + 'static,
    ) -> Result<R, ReplError> {
        let state = self.state.clone();
        self.server
            .spawn(async move {
                let mut engine = state.engine.lock_async().await;
                change(&state, &mut engine)
            })
            .await
            .map_err(|_| ReplError::WrongState("the server is stopping".into()))
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

    /// The trace id of sync session `id`, once known.
    pub fn trace_id(&self, id: u64) -> Option<String> {
        self.state.repl.history.lock().trace_id(id)
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
            .role
            .lock()
            .link()
            .is_some_and(|l| l.host.eq_ignore_ascii_case(&host) && l.port == port);
        if !same {
            self.on_server(move |state, engine| {
                crate::engine::replication::become_replica(state, engine, host, port);
            })
            .await?;
        }
        Ok(())
    }

    /// Stops following a master and keeps the history: REPLICAOF NO ONE, through the same
    /// function. On a master it changes nothing, as REPLICAOF NO ONE answers OK there.
    pub async fn promote(&self) -> Result<(), ReplError> {
        self.on_server(|state, engine| {
            if engine.is_replica {
                crate::engine::replication::become_master(state, engine);
                tracing::info!("MASTER MODE enabled (control plane request)");
            }
        })
        .await
    }

    /// On a replica: drops the link and forces a full sync.
    pub async fn resync(&self) -> Result<(), ReplError> {
        match self.view().await.status.role {
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
    pub async fn resync_replica(&self, id: u64) -> Result<(), ReplError> {
        let status = &self.view().await.status;
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

    /// Starts a coordinated failover (FAILOVER), or with `dry_run` says what it would do.
    /// Beyond FAILOVER: `max_lag_bytes` refuses unless the target is that close to our
    /// offset, and without a target names the closest replica within it.
    pub async fn failover(&self, request: FailoverRequest) -> Result<FailoverPlanned, ReplError> {
        self.on_server(move |state, engine| plan_failover(state, engine, request))
            .await?
    }

    /// Aborts the failover in progress (FAILOVER ABORT).
    pub async fn abort_failover(&self) -> Result<(), ReplError> {
        self.on_server(|state, engine| {
            crate::engine::failover::abort_requested(state, engine)
                .map_err(|e| ReplError::WrongState(e.to_string()))
        })
        .await?
    }
}

/// Plans a failover for `request` and, unless it is a dry run, begins it.
fn plan_failover(
    state: &Arc<State>,
    engine: &mut Engine,
    request: FailoverRequest,
) -> Result<FailoverPlanned, ReplError> {
    let offset = engine.repl.offset;
    let replicas = state.repl.replicas.list();
    let mut candidates: Vec<Candidate> = replicas
        .iter()
        .map(|r| {
            let lag = offset.saturating_sub(r.ack_offset);
            let reason = if r.state != ReplicaState::Online {
                Some(format!("not online ({})", r.state.as_str()))
            } else if request.max_lag_bytes.is_some_and(|max| lag > max) {
                Some(format!("{lag} bytes behind, over max_lag_bytes"))
            } else {
                None
            };
            Candidate {
                host: r.ip.clone(),
                port: r.port,
                state: r.state.as_str(),
                lag_bytes: lag,
                reason,
            }
        })
        .collect();
    candidates.sort_by_key(|c| (c.reason.is_some(), c.lag_bytes));
    let (target, why) = match (&request.target, request.max_lag_bytes) {
        (Some((h, p)), _) => {
            let c = candidates
                .iter()
                .find(|c| c.host.eq_ignore_ascii_case(h) && c.port == *p)
                .ok_or_else(|| ReplError::Invalid {
                    field: "target".into(),
                    detail: format!("{h}:{p} is not a replica of this node"),
                })?;
            if let Some(reason) = &c.reason {
                return Err(ReplError::Invalid {
                    field: "target".into(),
                    detail: format!("{h}:{p} cannot take over: {reason}"),
                });
            }
            (Some((h.clone(), *p)), "the requested target".to_string())
        }
        (None, Some(max)) => {
            let best = candidates
                .iter()
                .find(|c| c.reason.is_none())
                .ok_or_else(|| ReplError::Invalid {
                    field: "max_lag_bytes".into(),
                    detail: format!("no online replica is within {max} bytes of our offset"),
                })?;
            (
                Some((best.host.clone(), best.port)),
                format!(
                    "the closest online replica ({} bytes behind)",
                    best.lag_bytes
                ),
            )
        }
        (None, None) => (
            None,
            "the first replica to acknowledge our whole stream once writes are held".to_string(),
        ),
    };
    let planned = FailoverPlanned {
        target: target.clone(),
        reason: why,
        candidates,
    };
    if request.dry_run {
        return Ok(planned);
    }
    crate::engine::failover::begin_failover(
        state,
        engine,
        crate::engine::failover::FailoverRequest {
            target,
            timeout_ms: request.timeout_ms,
            force: request.force,
        },
    )
    .map_err(|e| match e {
        FailoverError::NotAReplica | FailoverError::NotOnline => ReplError::Invalid {
            field: "target".into(),
            detail: e.to_string(),
        },
        FailoverError::ForceNeedsTimeoutAndTarget => ReplError::Invalid {
            field: "force".into(),
            detail: e.to_string(),
        },
        other => ReplError::WrongState(other.to_string()),
    })?;
    Ok(planned)
}

/// A replica as a failover request weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its address.
    pub host: String,
    /// Its announced port.
    pub port: u16,
    /// Its state.
    pub state: &'static str,
    /// Bytes it has not acknowledged.
    pub lag_bytes: u64,
    /// Why it cannot be chosen, if so.
    pub reason: Option<String>,
}

/// What a failover request chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverPlanned {
    /// The target named, if any.
    pub target: Option<(String, u16)>,
    /// Why.
    pub reason: String,
    /// Every replica weighed, eligible first, closest first.
    pub candidates: Vec<Candidate>,
}
