//! The executor: Redis's `processCommand`, then [`call`].
//!
//! [`execute`] resolves the command, applies the gates (arity, protected commands,
//! authentication, transaction queueing, Pub/Sub context, replica and loading states),
//! then calls the handler; afterwards it serves clients blocked on keys that became ready.
//! Every gate is here, keyed on the command's flags; handlers never re-check them. With the
//! table, it is the only module that sees every family.

use bytes::Bytes;

use super::call::{call, call_with, register_block, reply_error};
use super::ctx::{Action, CallMode};
use super::error::{self, CmdError};
use super::flags::*;
use super::table::TABLE;
use super::Spec;
use crate::config::Protected;
use crate::engine::eviction;
use crate::engine::pause::PauseKind;
use crate::engine::tracking::Current;
use crate::engine::{ClientKind, Engine, ReplyMode, Session, State};
use crate::keyspace::{Blob, Db};
use crate::resp::ReplyBuf;

/// Commands Redis flags `TOUCHES_ARBITRARY_KEYS`: run directly, what they propagate (the
/// DELs of the expired keys they met) is not wrapped in MULTI/EXEC.
const TOUCHES_ARBITRARY_KEYS: &[&str] = &["scan", "randomkey"];

/// Refuses a command before execution (Redis's `rejectCommand`): error reply, the command's
/// rejected counter, and a failed transaction if one is being queued.
fn reject(
    engine: &mut Engine,
    session: &mut Session,
    out: &mut ReplyBuf,
    spec: Option<&'static Spec>,
    err: CmdError,
) {
    session.fail_queued_transaction();
    if let Some(spec) = spec {
        engine.stats.count_rejected(spec.fullname);
    }
    // A refused EXEC ends the transaction it would have run (Redis's `execCommandAbort`).
    let err = match spec {
        Some(s) if s.name == "exec" && session.multi.is_some() => {
            engine.reset_transaction(session);
            error::exec_abort(&err)
        }
        _ => err,
    };
    reply_error(engine, session, out, &err, spec.map(|s| s.fullname));
}

/// Runs one command from a client: gates, then [`call`]. Replies go to `out`, unless
/// CLIENT REPLY OFF or SKIP drops them (a Pub/Sub confirmation stays, as in Redis).
pub fn execute(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    out: &mut ReplyBuf,
) -> Action {
    let mode = session.reply_mode;
    if mode == ReplyMode::On {
        let action = execute_replying(state, engine, session, argv, out, true);
        end_tracked_command(engine, session, argv);
        return action;
    }
    let mark = out.len();
    if mode == ReplyMode::SkipNext {
        session.reply_mode = ReplyMode::On;
    }
    // Invalidations for this client go through its push queue while its replies are
    // silenced (they pass the silencing, as Redis's CLIENT_PUSHING).
    let action = execute_replying(state, engine, session, argv, out, false);
    end_tracked_command(engine, session, argv);
    let spec = TABLE.resolve(argv).ok();
    let sets_mode = spec.is_some_and(|s| s.fullname == "client|reply");
    // Redis 7.0 writes (un)subscribe confirmations past the silencing flags in both
    // protocols (its CLIENT_PUSHING), as it does Pub/Sub messages.
    let pushes = spec.is_some_and(|s| s.has(SUBSCRIBE_CONTEXT) && s.has(PUBSUB));
    if !sets_mode && !pushes {
        out.truncate(mark);
    }
    action
}

/// Ends a command for client-side caching: a CLIENT CACHING answer lasts one command.
fn end_tracked_command(engine: &mut Engine, session: &Session, argv: &[Bytes]) {
    if engine.tracking.in_use() {
        let was_client = argv
            .first()
            .is_some_and(|a| a.eq_ignore_ascii_case(b"client"));
        engine
            .tracking
            .command_done(session.id(), was_client, session.multi.is_some());
    }
}

/// Sends the invalidations of what changed since the last flush (`caller` changed what
/// expiry did not). With `replying`, this client's own go into its reply buffer `out`, in
/// order with its replies; otherwise through its push queue.
fn flush_tracking(
    engine: &mut Engine,
    session: &Session,
    out: &mut ReplyBuf,
    replying: bool,
    caller: Option<u64>,
) {
    let e = engine;
    if !e.tracking.in_use() {
        return;
    }
    let current = replying.then(|| Current {
        id: session.id(),
        out: &mut *out,
    });
    e.tracking
        .flush(&mut e.keyspace, &e.settings, caller, current);
}

fn execute_replying(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    replying: bool,
) -> Action {
    let spec = match TABLE.resolve(argv) {
        Ok(spec) => spec,
        Err((spec, err)) => {
            reject(engine, session, out, spec, err);
            return Action::None;
        }
    };
    if !spec.arity_ok(argv.len()) {
        reject(
            engine,
            session,
            out,
            Some(spec),
            CmdError::WrongArity(spec.fullname.to_string()),
        );
        return Action::None;
    }
    // As Redis, the client's last command is the one just looked up, refused or not
    // (CLIENT LIST `cmd=`, the ACL log's client info).
    *session.info.last_cmd.lock() = spec.fullname;
    // Our master's stream passes no gate (the master already judged it), but its
    // transactions queue like anyone's: a MULTI split across reads must not be visible half
    // applied, and one cut short by a lost link must leave nothing behind (the partial resync
    // sends it again from its start).
    let flags = with_transaction_flags(engine, session, spec, command_flags(engine, spec, argv));
    let refusal = if session.is_master_link || session.is_aof_client {
        None
    } else {
        gate(state, engine, session, spec, flags, argv)
    };
    if engine.tracking.in_use() {
        // What eviction removed, and keys the tracking table forgets to stay within its
        // limit, are invalidated before this command's reply (Redis's processCommand).
        let e = &mut *engine;
        let current = replying.then(|| Current {
            id: session.id(),
            out: &mut *out,
        });
        e.tracking.enforce_limit(&e.settings, current);
        flush_tracking(engine, session, out, replying, None);
    }
    if let Some(err) = refusal {
        reject(engine, session, out, Some(spec), err);
        return Action::None;
    }
    if held_by_pause(engine, session, flags) {
        return Action::Paused;
    }
    if let Some(multi) = session.multi.as_mut() {
        if !spec.has(TRANSACTION_CONTROL) {
            multi.queued.push(argv.iter().cloned().collect());
            session.info.multi.store(
                multi.queued.len() as i64,
                std::sync::atomic::Ordering::Relaxed,
            );
            out.simple("QUEUED");
            return Action::None;
        }
    }
    let offset_before = engine.repl.offset;
    let allocated_before = crate::telemetry::process::thread_net_allocated();
    let (action, block) = call(
        state,
        engine,
        session,
        &TABLE,
        spec,
        argv,
        out,
        CallMode::Normal,
    );
    if TOUCHES_ARBITRARY_KEYS.contains(&spec.fullname) {
        // Their lazy-expiry DELs are separate deletions, not one transaction (Redis 7.0).
        engine.flush_propagation_unwrapped();
    } else {
        engine.flush_propagation();
    }
    // What the command keeps, measured once its propagation is flushed: the queue of
    // commands to propagate is allocated by the command and freed by the flush. Measured
    // before the flush, every write counted its queue (some 600 bytes) as kept until the
    // allocator was read again, tens of KiB a millisecond at tens of writes a millisecond,
    // and writes that store nothing new evicted keys. Frames the command queued for other
    // connections (invalidations, MONITOR lines) are in this growth; `maxmemory` takes them
    // out again while they are in flight (see `engine::push::in_flight_bytes`), once,
    // whether measured here or by the allocator.
    let growth = crate::telemetry::process::thread_net_allocated() - allocated_before;
    engine.eviction.note_command_growth(growth);
    if engine.repl.offset != offset_before {
        session.last_write_offset = engine.repl.offset;
    }
    // After the reply, as Redis's pending invalidations (a transaction's or a script's
    // included: they follow the EXEC or EVAL reply).
    flush_tracking(engine, session, out, replying, Some(session.id()));
    // An eviction a new `maxmemory` asked for runs now, after the command (and after a
    // whole transaction), as Redis's eviction timer runs after it. Its invalidations go
    // out at once, as Redis sends them key by key: until they do, the tracking table keeps
    // the evicted keys' names, and the next command would evict again for memory that the
    // eviction already counted as freed.
    if eviction::is_unfinished(engine) {
        eviction::continue_unfinished(state, engine);
        flush_tracking(engine, session, out, replying, None);
    }
    let action = match block {
        Some(req) => register_block(engine, session, argv, req),
        None => action,
    };
    if engine.keyspace.dbs.iter().any(Db::has_ready) {
        serve_blocked(state, engine);
    }
    action
}

/// True when a pause holds this command (Redis's postponed clients): everything under a
/// pause of all clients; under a write pause, what may write or propagate — an EXEC whose
/// transaction does included. Our replicas' links and our master's stream are never held.
fn held_by_pause(engine: &Engine, session: &Session, flags: u32) -> bool {
    if session.is_master_link || session.is_aof_client || session.info.kind() == ClientKind::Replica
    {
        return false;
    }
    match engine.pauses.held_at(std::time::Instant::now) {
        None => false,
        Some(PauseKind::All) => true,
        // An EXEC's flags include its queued commands' (see `with_transaction_flags`).
        Some(PauseKind::Write) => flags & (WRITE | MAY_REPLICATE) != 0,
    }
}

/// For EXEC, what its queued commands would make it (Redis's `mstate.cmd_flags` and
/// `cmd_inv_flags`): a write, a command that may grow memory or propagate, or one refused
/// during async loading, when one of them is, and not allowed on a stale replica when one of them is not — so that the gates
/// (read-only replica, MISCONF, min-replicas, OOM, stale data, a write pause) refuse the
/// whole transaction as they would refuse its commands. Other commands keep `flags`.
fn with_transaction_flags(
    engine: &Engine,
    session: &Session,
    spec: &'static Spec,
    flags: u32,
) -> u32 {
    let Some(multi) = session.multi.as_ref().filter(|_| spec.name == "exec") else {
        return flags;
    };
    let mut flags = flags;
    for (queued, argv) in multi
        .queued
        .iter()
        .filter_map(|argv| TABLE.resolve(argv).ok().map(|spec| (spec, argv)))
    {
        // A queued script counts with the flags it declares (a `#!lua` script writes).
        let queued_flags = command_flags(engine, queued, argv);
        flags |= queued_flags & (WRITE | DENYOOM | MAY_REPLICATE | NO_ASYNC_LOADING);
        if queued_flags & STALE == 0 {
            flags &= !STALE;
        }
    }
    flags
}

/// The gates of Redis's `processCommand` between lookup and execution, in its order.
fn gate(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    spec: &'static Spec,
    flags: u32,
    argv: &[Bytes],
) -> Option<CmdError> {
    let settings = engine.settings.clone();
    if spec.has(PROTECTED) {
        let allowed = match settings.enable_debug_command {
            Protected::Yes => true,
            Protected::Local => session.is_local,
            Protected::No => false,
        };
        if !allowed {
            return Some(CmdError::Fixed(error::DEBUG_NOT_ALLOWED));
        }
    }
    if !session.authenticated && !spec.has(NO_AUTH) {
        return Some(CmdError::Fixed(error::NOAUTH));
    }
    if session.multi.is_some() && spec.has(NO_MULTI) {
        return Some(CmdError::Fixed(
            "ERR Command not allowed inside a transaction",
        ));
    }
    if let Some(err) = super::permissions::check(&TABLE, engine, session, spec, argv) {
        return Some(err);
    }
    if settings.maxmemory > 0 && out_of_memory_refuses(state, engine, session, spec, flags) {
        return Some(CmdError::Fixed(error::OOM));
    }
    let is_write = flags & WRITE != 0;
    if (is_write || spec.name == "ping") && crate::engine::persistence::writes_denied(engine) {
        return Some(CmdError::Fixed(error::MISCONF));
    }
    if (is_write || spec.name == "ping") && engine.aof.is_on() && engine.aof.sink.failing() {
        let e = engine.aof.write_error().unwrap_or_default();
        return Some(CmdError::Other(format!(
            "MISCONF Errors writing to the AOF file: {e}"
        )));
    }
    if is_write
        && !engine.is_replica
        && settings.min_replicas_to_write > 0
        && settings.min_replicas_max_lag > 0
    {
        let good = state
            .repl
            .replicas
            .good_count(settings.min_replicas_max_lag);
        if (good as u64) < settings.min_replicas_to_write {
            return Some(CmdError::Fixed(error::NOREPLICAS));
        }
    }
    if is_write && engine.is_replica && settings.replica_read_only {
        return Some(CmdError::Fixed(error::READONLY));
    }
    if session.proto == crate::resp::Proto::Resp2
        && session.in_pubsub()
        && !spec.has(SUBSCRIBE_CONTEXT)
    {
        return Some(CmdError::Other(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.fullname
        )));
    }
    if engine.is_replica
        && !engine.link_up
        && !settings.replica_serve_stale_data
        && flags & STALE == 0
    {
        return Some(CmdError::Fixed(error::MASTERDOWN));
    }
    if engine.loading && !spec.has(LOADING) {
        return Some(CmdError::Fixed(error::LOADING));
    }
    if engine.async_loading && flags & NO_ASYNC_LOADING != 0 {
        return Some(CmdError::Fixed(error::LOADING));
    }
    None
}

/// The maxmemory gate: evicts what the policy allows, then refuses, when memory is still
/// over the limit, a command that adds data (`denyoom`), an EXEC whose transaction has one,
/// or anything queued inside MULTI (queueing costs memory too), as Redis.
fn out_of_memory_refuses(
    state: &State,
    engine: &mut Engine,
    session: &Session,
    spec: &'static Spec,
    flags: u32,
) -> bool {
    if eviction::perform(state, engine) == eviction::Outcome::Fits {
        return false;
    }
    // An EXEC's flags include its queued commands' (see `with_transaction_flags`).
    match &session.multi {
        Some(_) => match spec.name {
            "exec" => flags & DENYOOM != 0,
            "discard" | "quit" | "reset" => false,
            _ => true,
        },
        None => flags & DENYOOM != 0,
    }
}

/// The flags the gates apply to a command: its row's, except for a script or function that
/// declares flags (a shebang, `register_function{flags=...}`), whose declared flags replace
/// `write`, `denyoom` and `stale` (Redis's `getCommandFlags` with `scriptFlagsToCmdFlags`).
fn command_flags(engine: &Engine, spec: &'static Spec, argv: &[Bytes]) -> u32 {
    // Every other command pays one flag test.
    if !spec.has(MOVABLEKEYS) || spec.group != "scripting" {
        return spec.flags;
    }
    let declared = match spec.name {
        "eval" | "eval_ro" => crate::scripting::shebang::parse_eval_header(&argv[1])
            .ok()
            .map(|h| h.flags),
        "evalsha" | "evalsha_ro" => std::str::from_utf8(&argv[1]).ok().and_then(|sha| {
            let sha = sha.to_ascii_lowercase();
            engine.scripts.eval.get(&sha).map(|s| s.flags)
        }),
        "fcall" | "fcall_ro" => std::str::from_utf8(&argv[1])
            .ok()
            .and_then(|name| engine.scripts.functions.get(name))
            .map(|f| f.flags),
        _ => None,
    };
    match declared {
        Some(f) if !f.compat => {
            let mut flags = spec.flags & !(STALE | DENYOOM | WRITE | MAY_REPLICATE);
            if !f.allow_oom && !f.no_writes {
                flags |= DENYOOM;
            }
            if !f.no_writes {
                flags |= WRITE;
            }
            if f.allow_stale {
                flags |= STALE;
            }
            flags
        }
        _ => spec.flags,
    }
}

/// Serves blocked clients whose keys became ready, in the order the keys became ready and,
/// per key, in the order the clients blocked (Redis's `handleClientsBlockedOnKeys`).
pub fn serve_blocked(state: &State, engine: &mut Engine) {
    loop {
        let mut ready: Vec<(usize, Blob)> = Vec::new();
        for db in &mut engine.keyspace.dbs {
            let id = db.id;
            ready.extend(db.take_ready().into_iter().map(|k| (id, k)));
        }
        if ready.is_empty() {
            return;
        }
        for (db, key) in ready {
            for id in engine.blocking.waiting_on(db, &key) {
                let Some(waiter) = engine.blocking.get(id) else {
                    continue;
                };
                let argv: Vec<Bytes> = waiter.argv.to_vec();
                let mut session = Session::new(waiter.info.clone(), true, false);
                session.db = waiter.db;
                session.proto = waiter.proto;
                let Ok(spec) = TABLE.resolve(&argv) else {
                    continue;
                };
                let mut out = ReplyBuf::new(waiter.proto);
                let (_, block) = call_with(
                    state,
                    engine,
                    &mut session,
                    &TABLE,
                    spec,
                    &argv,
                    &mut out,
                    CallMode::Serving,
                    Some(&key),
                );
                engine.flush_propagation();
                // The served client's own invalidations follow its reply (through its queue
                // when it blocks again: that reply is dropped).
                flush_tracking(engine, &session, &mut out, block.is_none(), Some(id));
                if block.is_some() {
                    continue;
                }
                if let Some(mut w) = engine.blocking.unblock(&mut engine.keyspace, id) {
                    if let Some(tx) = w.reply.take() {
                        let _ = tx.send(out.buf);
                    }
                }
            }
        }
    }
}

/// Counts a blocked command whose timeout passed as one call (a served one is counted
/// when it is served). Like Redis 7.0, a timed-out command is not logged in the slow log.
pub fn count_timed_out(engine: &mut Engine, argv: &[Bytes]) {
    if let Ok(spec) = TABLE.resolve(argv) {
        engine
            .stats
            .commands
            .entry(spec.fullname)
            .or_default()
            .calls += 1;
    }
}

/// Names a command as Redis logs it (`xinfo|help`) and says whether it reads or writes
/// the keyspace: the engine's [`crate::engine::state::DescribeCommand`].
pub fn describe_command(argv: &[Bytes]) -> Option<(&'static str, bool)> {
    let spec = TABLE.resolve(argv).ok()?;
    Some((
        spec.fullname,
        spec.flags & (WRITE | READONLY | MAY_REPLICATE) != 0,
    ))
}

/// Runs one command the engine received from no client (our master's stream): the
/// executor as [`crate::engine::state::RunCommand`] wants it, handed to the engine by the
/// composition root.
pub fn run_command(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    out: &mut ReplyBuf,
) {
    let _ = execute(state, engine, session, argv, out);
}
