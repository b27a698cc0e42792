//! Shutting down as Redis 7.0 does (`prepareForShutdown`, `finishShutdown`,
//! `abortShutdown`). Unless NOW, a master whose replicas lag behind holds writes, asks them
//! for their offsets and waits up to `shutdown-timeout` seconds for them to catch up before
//! the final save: a planned shutdown loses no write a client was told about. The cron
//! finishes it as soon as every replica has acknowledged everything, or at the deadline;
//! SHUTDOWN ABORT, or a final save that fails, cancels it and releases the writes.
//!
//! SIGTERM and SIGINT only request a shutdown (the signal thread records it); the cron
//! starts it, as Redis's serverCron does, so `DEBUG PAUSE-CRON` holds it and SHUTDOWN ABORT
//! can still cancel it.

use std::time::Instant;

use tokio::sync::watch;

use super::pause::{PauseKind, PausePurpose};
use super::persistence::{shutdown_save, ShutdownError};
use super::{Engine, State};
use crate::config::ShutdownFlags;
use crate::replication::history::unix_ms;

/// How a shutdown ended, for the SHUTDOWN clients waiting on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still waiting for replicas.
    Pending,
    /// The final steps succeeded: the server is stopping.
    Exiting,
    /// Aborted (SHUTDOWN ABORT) or failed (the final save): the server goes on.
    Cancelled,
}

/// A shutdown waiting for lagging replicas.
#[derive(Debug)]
pub struct PendingShutdown {
    /// Unix ms at which it goes ahead whatever the replicas acknowledged.
    deadline_ms: i64,
    flags: ShutdownFlags,
    outcome: watch::Sender<Outcome>,
}

/// What starting a shutdown did.
#[derive(Debug)]
pub enum Started {
    /// Done: the server may stop now.
    Exit,
    /// Waiting for replicas: the outcome arrives on the receiver.
    Waiting(watch::Receiver<Outcome>),
}

/// A shutdown requested by a signal, not started yet (Redis's `shutdown_asap`).
#[derive(Debug, Clone, Copy)]
pub struct SignalRequest {
    /// The SHUTDOWN options the signal implies (`shutdown-on-sigterm`/`-sigint`).
    pub flags: ShutdownFlags,
    /// `SIGTERM` or `SIGINT`, for the log.
    pub name: &'static str,
}

/// Starts a shutdown (SHUTDOWN, or the cron for a signal). Joins one already waiting.
/// `Err` when the final steps failed (see [`ShutdownError`]): the server goes on.
pub fn prepare(
    state: &State,
    engine: &mut Engine,
    mut flags: ShutdownFlags,
) -> Result<Started, ShutdownError> {
    if let Some(pending) = &engine.shutdown {
        return Ok(Started::Waiting(pending.outcome.subscribe()));
    }
    // A dataset being loaded is partial: saving it would overwrite the file it comes from.
    if engine.loading {
        flags.save = false;
        flags.nosave = true;
    }
    tracing::warn!("User requested shutdown...");
    let timeout = engine.settings.shutdown_timeout;
    if !flags.now && timeout != 0 && !replicas_in_sync(state, engine) {
        if !engine.pauses.writes_held(Instant::now()) {
            // Replicas report their offsets now rather than at their next periodic ACK.
            engine.repl.feed_dbless(&[b"REPLCONF", b"GETACK", b"*"]);
        }
        engine.pause(PausePurpose::Shutdown, PauseKind::Write, None);
        tracing::info!("Waiting for replicas before shutting down.");
        let (outcome, waiting) = watch::channel(Outcome::Pending);
        engine.shutdown = Some(PendingShutdown {
            deadline_ms: unix_ms() + timeout as i64 * 1000,
            flags,
            outcome,
        });
        return Ok(Started::Waiting(waiting));
    }
    finish(state, engine, flags).map(|()| Started::Exit)
}

/// The cron's part: starts a shutdown a signal asked for, and finishes a waiting one once
/// its replicas caught up or its deadline passed. Returns true when the server must stop.
pub fn cron(state: &State, engine: &mut Engine) -> bool {
    if let Some(request) = state.take_signal_shutdown() {
        match prepare(state, engine, request.flags) {
            Ok(Started::Exit) => return true,
            Ok(Started::Waiting(_)) => {}
            Err(_) => {
                tracing::warn!(
                    "{} received but errors trying to shut down the server, check the logs for more information",
                    request.name
                );
                state.set_shutdown_asap(false);
            }
        }
    }
    let Some(pending) = &engine.shutdown else {
        return false;
    };
    if unix_ms() < pending.deadline_ms && !replicas_in_sync(state, engine) {
        return false;
    }
    let Some(pending) = engine.shutdown.take() else {
        return false;
    };
    match finish(state, engine, pending.flags) {
        Ok(()) => {
            pending.outcome.send_replace(Outcome::Exiting);
            true
        }
        Err(_) => {
            tracing::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            cancel(state, engine, pending);
            false
        }
    }
}

/// SHUTDOWN ABORT: cancels a waiting shutdown, or a signal's request the cron has not
/// started yet. False when there is neither.
pub fn abort(state: &State, engine: &mut Engine) -> bool {
    let requested = state.take_signal_shutdown().is_some();
    match engine.shutdown.take() {
        Some(pending) => cancel(state, engine, pending),
        None if requested => state.set_shutdown_asap(false),
        None => return false,
    }
    tracing::info!("Shutdown manually aborted.");
    true
}

/// INFO `shutdown_in_milliseconds`: time left before a waiting shutdown goes ahead.
pub fn remaining_ms(engine: &Engine) -> Option<i64> {
    engine
        .shutdown
        .as_ref()
        .map(|p| (p.deadline_ms - unix_ms()).max(0))
}

fn cancel(state: &State, engine: &mut Engine, pending: PendingShutdown) {
    engine.unpause(PausePurpose::Shutdown);
    pending.outcome.send_replace(Outcome::Cancelled);
    state.set_shutdown_asap(false);
}

/// Redis's `isReadyToShutdown`: every replica acknowledged our whole stream.
fn replicas_in_sync(state: &State, engine: &Engine) -> bool {
    let offset = engine.repl.offset;
    state
        .repl
        .replicas
        .list()
        .iter()
        .all(|r| r.ack_offset == offset)
}

/// The last steps (Redis's `finishShutdown`): says which replicas lag, then the final save.
fn finish(state: &State, engine: &mut Engine, flags: ShutdownFlags) -> Result<(), ShutdownError> {
    let offset = engine.repl.offset;
    let replicas = state.repl.replicas.list();
    let now = unix_ms();
    let mut lagging = 0;
    for r in &replicas {
        if r.ack_offset != offset {
            lagging += 1;
            tracing::warn!(
                "Lagging replica {}:{} reported offset {} behind master, lag={}, state={}.",
                r.ip,
                r.port,
                offset.saturating_sub(r.ack_offset),
                (now - r.last_ack_ms).max(0) / 1000,
                r.state.as_str()
            );
        }
    }
    if !replicas.is_empty() {
        tracing::info!(
            "{} of {} replicas are in sync when shutting down.",
            replicas.len() - lagging,
            replicas.len()
        );
    }
    shutdown_save(state, engine, flags.nosave, flags.save, flags.force)
}
