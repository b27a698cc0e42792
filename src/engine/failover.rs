//! Coordinated failover, the engine's side (Redis's `failoverCommand`,
//! `updateFailoverStatus`, `abortFailover`): FAILOVER over RESP and
//! `POST /v1/replication/failover` both start it here; the replication cron drives it.
//!
//! The steps, each recorded in the role (see `replication::role`) and announced as an event:
//! 1. `waiting-for-sync`: writes are held (clients wait, reads go on) and the master feeds a
//!    GETACK so its replicas report their offsets at once;
//! 2. `failover-in-progress`: the target (named, or the first replica found at our offset —
//!    or, with FORCE, the named one at the deadline) gets `PSYNC <replid> <offset> FAILOVER`
//!    from us as its new replica, which promotes it first;
//! 3. its `+CONTINUE` completes the failover and releases the writes; a refusal, ABORT, or
//!    the timeout without FORCE aborts it: we are (again) a master, writes released.

use super::pause::{PauseKind, PausePurpose};
use super::replication::{become_master, become_replica};
use super::{Engine, State};
use crate::replication::history::unix_ms;
use crate::replication::role::{FailoverAction, FailoverRefusal};
use crate::replication::status::ReplicaState;
use crate::replication::Event;

/// What a failover is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FailoverRequest {
    /// The replica to hand over to (`TO host port`); `None` = the first one caught up.
    pub target: Option<(String, u16)>,
    /// Give up (or, with `force`, hand over anyway) after this many milliseconds.
    pub timeout_ms: Option<u64>,
    /// Hand over at the timeout even if the target has not caught up.
    pub force: bool,
}

/// Why a failover cannot start or be aborted, in Redis's words (without `ERR `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailoverError {
    /// Already running, or we are a replica.
    #[error("{0}")]
    Role(#[from] FailoverRefusal),
    /// No replica is connected.
    #[error("FAILOVER requires connected replicas.")]
    NoReplicas,
    /// FORCE without TIMEOUT and TO.
    #[error("FAILOVER with force option requires both a timeout and target HOST and IP.")]
    ForceNeedsTimeoutAndTarget,
    /// TO names no replica of ours.
    #[error("FAILOVER target HOST and PORT is not a replica.")]
    NotAReplica,
    /// TO names a replica that is still syncing.
    #[error("FAILOVER target replica is not online.")]
    NotOnline,
    /// ABORT with nothing to abort.
    #[error("No failover in progress.")]
    NoneInProgress,
}

/// Starts a coordinated failover, with Redis's checks in Redis's order.
pub fn begin_failover(
    state: &State,
    engine: &mut Engine,
    request: FailoverRequest,
) -> Result<(), FailoverError> {
    let hub = &state.repl;
    {
        let role = hub.role.lock();
        if role.failover().is_some() {
            return Err(FailoverRefusal::InProgress.into());
        }
        if role.is_replica() {
            return Err(FailoverRefusal::Replica.into());
        }
    }
    let replicas = hub.replicas.list();
    if replicas.is_empty() {
        return Err(FailoverError::NoReplicas);
    }
    if request.force && (request.timeout_ms.is_none() || request.target.is_none()) {
        return Err(FailoverError::ForceNeedsTimeoutAndTarget);
    }
    if let Some((host, port)) = &request.target {
        let found = replicas
            .iter()
            .find(|r| r.ip.eq_ignore_ascii_case(host) && r.port == *port)
            .ok_or(FailoverError::NotAReplica)?;
        if found.state != ReplicaState::Online {
            return Err(FailoverError::NotOnline);
        }
        tracing::info!("FAILOVER requested to {host}:{port}.");
    } else {
        tracing::info!("FAILOVER requested to any replica.");
    }
    let now = unix_ms();
    let deadline = request.timeout_ms.map(|t| now + t as i64);
    hub.role
        .lock()
        .begin_failover(request.target.clone(), deadline, request.force, now)?;
    engine.pause(PausePurpose::Failover, PauseKind::Write, None);
    // Replicas report their offsets now rather than at their next periodic ACK.
    engine.repl.feed_dbless(&[b"REPLCONF", b"GETACK", b"*"]);
    announce(state);
    Ok(())
}

/// FAILOVER ABORT.
pub fn abort_requested(state: &State, engine: &mut Engine) -> Result<(), FailoverError> {
    if state.repl.role.lock().failover().is_none() {
        return Err(FailoverError::NoneInProgress);
    }
    abort_failover(state, engine, "Failover manually aborted");
    Ok(())
}

/// Gives up the failover in progress (if any): a master again if the hand-over had
/// started, writes released.
pub fn abort_failover(state: &State, engine: &mut Engine, reason: &str) {
    let target = state
        .repl
        .role
        .lock()
        .failover()
        .and_then(|f| f.target.clone());
    let Some(was_handing_over) = state.repl.role.lock().abort_failover(reason, unix_ms()) else {
        return;
    };
    match target {
        Some((h, p)) => tracing::info!("FAILOVER to {h}:{p} aborted: {reason}"),
        None => tracing::info!("FAILOVER to any replica aborted: {reason}"),
    }
    if was_handing_over {
        become_master(state, engine);
    }
    engine.unpause(PausePurpose::Failover);
    announce(state);
}

/// The target accepted our PSYNC FAILOVER: the failover is over, writes go to the new
/// master from now on (ours are refused as a replica's).
pub fn failover_completed(state: &State, engine: &mut Engine) {
    state.repl.role.lock().failover_completed(unix_ms());
    engine.unpause(PausePurpose::Failover);
    tracing::info!("FAILOVER completed: this node is now a replica of the new master");
    announce(state);
}

/// The failover's part of the cron: hands over once a replica caught up, or gives up /
/// forces at the deadline.
pub fn failover_cron(state: &State, engine: &mut Engine) {
    if state.repl.role.lock().failover().is_none() {
        return;
    }
    let offset = engine.repl.offset;
    let caught_up: Vec<(String, u16)> = state
        .repl
        .replicas
        .list()
        .into_iter()
        .filter(|r| r.state == ReplicaState::Online && r.ack_offset == offset)
        .map(|r| (r.ip, r.port))
        .collect();
    let action = state.repl.role.lock().failover_tick(&caught_up, unix_ms());
    match action {
        FailoverAction::Nothing => {}
        FailoverAction::HandOver {
            target: (host, port),
            forced,
        } => {
            if forced {
                tracing::info!("FAILOVER to {host}:{port} time out exceeded, failing over.");
            } else {
                tracing::info!("Failover target {host}:{port} is synced, failing over.");
            }
            announce(state);
            become_replica(state, engine, host, port);
        }
        FailoverAction::Abort(reason) => abort_failover(state, engine, &reason),
    }
}

/// Publishes the failover's latest step as an event.
fn announce(state: &State) {
    let step = state
        .repl
        .role
        .lock()
        .latest_failover()
        .and_then(|f| f.steps.last().cloned());
    if let Some(step) = step {
        // One span per step, exported with the sync spans. No log line of its own: Redis's
        // worded lines already say it, and tools count those (one per step).
        drop(tracing::info_span!(
            "repl.failover",
            step = step.step.as_str(),
            detail = %step.detail,
            epoch = state.repl.role.lock().epoch()
        ));
        state.repl.events.publish(Event::FailoverStep {
            state: step.step.as_str().to_string(),
            detail: step.detail,
        });
    }
}
