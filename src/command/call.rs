//! Redis's `call()`: runs one handler and does the bookkeeping around it — statistics,
//! error counting, the DELs of keys that expired meanwhile, propagation of the command or
//! its deterministic rewrite, and registering a client that must block. The executor calls
//! it after the gates; EXEC calls it for each queued command.

use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::ctx::{Action, BlockRequest, BlockedWait, CallMode, Ctx};
use super::error::CmdError;
use super::flags::*;
use super::{CommandTable, Spec};
use crate::config::PropagationErrorBehavior;
use crate::engine::blocking::Waiter;
use crate::engine::monitor::Origin;
use crate::engine::slowlog::Caller;
use crate::engine::{ClientKind, Engine, Session, State, Targets};
use crate::keyspace::now_ms;
use crate::resp::ReplyBuf;

/// Writes an error reply and counts it. `command` is the command that failed, when it
/// was resolved.
pub fn reply_error(
    engine: &mut Engine,
    session: &Session,
    out: &mut ReplyBuf,
    err: &CmdError,
    command: Option<&str>,
) {
    let bytes = err.to_bytes();
    engine.stats.count_error(&bytes);
    if session.is_master_link || session.info.kind() == ClientKind::Replica {
        replication_link_error(engine, session.is_master_link, &bytes, command);
    }
    out.error_bytes(&bytes);
}

/// An error answered on a replication link: the two sides' data may now differ. Logged as
/// Redis logs it (operators and Redis's own tests look for `== CRITICAL ==`), counted in
/// `unexpected_error_replies`; on a read-only replica, `propagation-error-behavior panic`
/// (or `panic-on-replicas`) stops the process rather than serve diverged data.
fn replication_link_error(
    engine: &mut Engine,
    from_master: bool,
    error: &[u8],
    command: Option<&str>,
) {
    let (me, peer) = if from_master {
        ("replica", "master")
    } else {
        ("master", "replica")
    };
    let shown = &error[..error.len().min(4096)];
    let command = command.unwrap_or("<unknown>");
    tracing::warn!(
        "== CRITICAL == This {me} is sending an error to its {peer}: '{}' after processing the command '{command}'",
        String::from_utf8_lossy(shown)
    );
    engine.stats.unexpected_error_replies += 1;
    let panics = matches!(
        engine.settings.propagation_error_behavior,
        PropagationErrorBehavior::Panic | PropagationErrorBehavior::PanicOnReplicas
    );
    if from_master && engine.settings.replica_read_only && panics {
        tracing::error!(
            "This {me} panicked sending an error to its {peer} after processing the command '{command}'"
        );
        std::process::abort();
    }
}

/// Runs a handler and does the bookkeeping around it (Redis's `call`): statistics, the
/// DELs of keys that expired meanwhile, propagation of the command or its rewrite.
#[allow(clippy::too_many_arguments)]
pub fn call(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    table: &'static CommandTable,
    spec: &'static Spec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    mode: CallMode,
) -> (Action, Option<BlockRequest>) {
    call_with(state, engine, session, table, spec, argv, out, mode, None)
}

/// [`call`], with the key a blocked client is being served from.
#[allow(clippy::too_many_arguments)]
pub fn call_with(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    table: &'static CommandTable,
    spec: &'static Spec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    mode: CallMode,
    ready_key: Option<&[u8]>,
) -> (Action, Option<BlockRequest>) {
    let start = Instant::now();
    let db_at_start = session.db;
    // The command's time, from the reading just taken (one clock read, not two).
    let now = engine
        .frozen_now_ms
        .unwrap_or_else(|| crate::keyspace::wall_ms_at(start));
    let mut ctx = Ctx {
        state,
        engine,
        session,
        argv,
        out,
        spec,
        now,
        dirty: 0,
        rewrite: None,
        force_propagate: false,
        block: None,
        action: Action::None,
        mode,
        ready_key,
        table,
        redacted: Vec::new(),
        replied_error: false,
    };
    let result = (spec.handler)(&mut ctx);
    let Ctx {
        dirty,
        rewrite,
        force_propagate,
        block,
        action,
        redacted,
        replied_error,
        ..
    } = ctx;
    let micros = start.elapsed().as_micros() as u64;
    let stat = engine.stats.commands.entry(spec.fullname).or_default();
    // A command that blocks counts once: when it is served, or when its timeout passes
    // (`exec::count_timed_out`), as Redis counts it on unblocking.
    if block.is_none() {
        stat.calls += 1;
        stat.usec += micros;
    }
    // A command that blocked is recorded when it is served, as Redis does.
    if engine.settings.latency_tracking && block.is_none() {
        engine.stats.latency.record(spec.fullname, micros);
    }
    let event = if spec.has(FAST) {
        "fast-command"
    } else {
        "command"
    };
    let threshold = engine.settings.latency_monitor_threshold;
    if threshold > 0 && micros / 1000 >= threshold {
        // The wall clock is read only for a sample (not on every command).
        engine
            .latency_monitor
            .add_if_needed(event, micros / 1000, threshold, now_ms() / 1000);
    }
    // A command that blocked is logged when it is served or times out, as Redis does;
    // MONITOR shows it once, when it arrives.
    if block.is_none() && !spec.has(SKIP_SLOWLOG) {
        log_if_slow(engine, session, mode, argv, &redacted, micros);
    }
    if mode != CallMode::Serving && !spec.has(SKIP_MONITOR | ADMIN) {
        feed_monitors(engine, session, mode, argv, &redacted);
    }
    let stat = engine.stats.commands.entry(spec.fullname).or_default();
    if let Err(err) = &result {
        stat.failed_calls += 1;
        reply_error(engine, session, out, err, Some(spec.fullname));
    } else if replied_error {
        stat.failed_calls += 1;
    }
    // Client-side caching remembers what a read-only command read (a script's reads count
    // for the script's declared keys: see the scripting family).
    if spec.has(READONLY) && mode != CallMode::Script && !SCRIPT_RO.contains(&spec.fullname) {
        remember_reads(engine, session, spec, argv);
    }
    engine.stats.total_commands += 1;
    engine.dirty += dirty;
    engine.propagate_expired();
    engine.notify_logged_keys();
    // A replica propagates only what its master sent (forwarded byte for byte elsewhere);
    // writes of its own clients (a writable replica) stay local, as in Redis.
    // The stream goes to replicas from a master only (a replica forwards its master's
    // bytes elsewhere); the AOF records every write applied, a replica's included, but not
    // PUBLISH, which Redis propagates to replicas alone.
    let wrote = (dirty > 0 || force_propagate) && spec.has(WRITE | MAY_REPLICATE);
    let targets = Targets {
        repl: !session.is_master_link && !engine.is_replica,
        aof: !spec.has(PUBSUB),
    };
    if wrote {
        let commands = match rewrite {
            Some(commands) => commands,
            None => vec![argv.iter().cloned().collect()],
        };
        for c in commands {
            engine.also_propagate_to(db_at_start, c, targets);
        }
    }
    (action, block)
}

/// The read-only script commands, whose reads count through the commands the script runs.
const SCRIPT_RO: &[&str] = &["eval_ro", "evalsha_ro", "fcall_ro"];

/// Remembers, for client-side caching, that `session` read the keys `argv` names (when it
/// tracks them: see [`crate::engine::tracking`]).
pub fn remember_reads(engine: &mut Engine, session: &Session, spec: &Spec, argv: &[Bytes]) {
    if !engine.tracking.in_use() || spec.has(PUBSUB) {
        return;
    }
    let keys = super::keyspec::keys_with_flags(spec, argv);
    engine.tracking.remember(
        &mut engine.keyspace,
        session.id(),
        keys.iter().map(|&(i, _)| &argv[i][..]),
    );
}

/// Registers a blocked client and hands its connection the wait.
pub fn register_block(
    engine: &mut Engine,
    session: &Session,
    argv: &[Bytes],
    req: BlockRequest,
) -> Action {
    let (tx, rx) = oneshot::channel();
    let waiter = Waiter {
        info: session.info.clone(),
        db: session.db,
        proto: session.proto,
        argv: match req.rerun_as {
            Some(rerun) => rerun.into_iter().collect(),
            None => argv.iter().cloned().collect(),
        },
        keys: req.keys,
        reply: Some(tx),
    };
    engine.blocking.block(&mut engine.keyspace, waiter);
    let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    Action::Blocked(BlockedWait {
        rx,
        deadline,
        timeout_reply: req.timeout_reply,
    })
}

/// Logs the command in the slow log when it ran for at least `slowlog-log-slower-than`.
/// A command a script runs is logged as from `?:0` with no name (Redis runs it
/// from its Lua client, which has neither).
fn log_if_slow(
    engine: &mut Engine,
    session: &Session,
    mode: CallMode,
    argv: &[Bytes],
    redacted: &[usize],
    micros: u64,
) {
    let settings = &engine.settings;
    let (slower_than, max_len) = (settings.slowlog_log_slower_than, settings.slowlog_max_len);
    if slower_than < 0 {
        return;
    }
    // The common case, on every command: nothing to log, only Redis's trim to a lowered
    // `slowlog-max-len` (no lock on the client's name, no copy).
    if micros < slower_than as u64 {
        engine.slowlog.trim(max_len);
        return;
    }
    let name = session.info.name.lock().clone();
    let caller = match mode {
        CallMode::Script => Caller {
            peer: "?:0",
            name: None,
        },
        _ => Caller {
            peer: &session.info.addr,
            name: name.as_deref(),
        },
    };
    engine.slowlog.push_if_slow(
        slower_than,
        max_len,
        argv,
        redacted,
        micros,
        caller,
        now_ms() / 1000,
    );
}

/// Shows the command to the clients in MONITOR mode (none while a dataset loads).
pub fn feed_monitors(
    engine: &mut Engine,
    session: &Session,
    mode: CallMode,
    argv: &[Bytes],
    redacted: &[usize],
) {
    if engine.monitors.is_empty() || engine.loading {
        return;
    }
    let origin = match mode {
        CallMode::Script => Origin::Script,
        _ => Origin::Client(&session.info.addr),
    };
    let limit = engine.settings.obuf_normal;
    engine
        .monitors
        .feed(now_us(), session.db, origin, argv, redacted, &limit);
}

/// Unix time in microseconds.
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
