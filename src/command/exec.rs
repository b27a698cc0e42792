//! The executor: Redis's `processCommand` and `call`, in that order.
//!
//! [`execute`] resolves the command, applies the gates (arity, protected commands,
//! authentication, transaction queueing, Pub/Sub context, replica and loading states),
//! then [`call`]s the handler, counts statistics and feeds the replication log. Every gate is
//! here, keyed on the command's flags; handlers never re-check them.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::blocking::Waiter;
use super::engine::{Engine, State};
use super::error::{self, CmdError};
use super::flags::*;
use super::session::Session;
use super::{table, Spec};
use crate::config::Protected;
use crate::keyspace::{now_ms, Blob, Db};
use crate::resp::{Argv, ReplyBuf};

/// What the connection must do after a command.
#[derive(Debug, Default)]
pub enum Action {
    /// Nothing: go on with the next command.
    #[default]
    None,
    /// Write the replies, then close (QUIT, protocol errors).
    Close,
    /// The client is blocked: stop processing its input until the reply arrives or the
    /// deadline passes.
    Blocked(BlockedWait),
    /// Stop the server (SHUTDOWN).
    Shutdown,
    /// The client became a replica (PSYNC/SYNC): hand the socket to the replication link.
    HandOff(crate::replication::master::HandOff),
    /// WAIT: block until enough replicas acknowledged `offset`, or the deadline.
    WaitReplicas {
        /// Replicas wanted.
        numreplicas: u64,
        /// Offset they must have acknowledged.
        offset: u64,
        /// When to give up; `None` waits forever.
        deadline: Option<tokio::time::Instant>,
    },
}

/// A blocked client's wait, handed to its connection.
#[derive(Debug)]
pub struct BlockedWait {
    /// Receives the reply when another client's write serves this one.
    pub rx: oneshot::Receiver<Vec<u8>>,
    /// When to give up; `None` waits forever.
    pub deadline: Option<tokio::time::Instant>,
    /// What to answer on timeout.
    pub timeout_reply: TimeoutReply,
}

/// The reply a blocking command gives when its timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` / `_` (BLPOP, BZPOPMIN, BLMPOP...).
    NullArray,
    /// `$-1` / `_` (BLMOVE, BRPOPLPUSH).
    NullBulk,
}

/// What a blocking handler asks for when it cannot be served now.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// Keys to wait on.
    pub keys: Vec<Blob>,
    /// How long to wait; `None` = forever.
    pub timeout: Option<Duration>,
    /// What to answer on timeout.
    pub timeout_reply: TimeoutReply,
}

/// How a command is being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// Sent by a client.
    Normal,
    /// Queued in MULTI, now run by EXEC: blocking commands must not block.
    Exec,
    /// Re-run for a blocked client whose key became ready.
    Serving,
}

/// Everything a handler can reach.
pub struct Ctx<'a> {
    /// Shared server state (clients, settings, stats).
    pub state: &'a State,
    /// The engine (keyspace and friends), locked.
    pub engine: &'a mut Engine,
    /// The calling client.
    pub session: &'a mut Session,
    /// Arguments, command name first.
    pub argv: &'a [Bytes],
    /// Where the reply goes.
    pub out: &'a mut ReplyBuf,
    /// The command's row.
    pub spec: &'static Spec,
    /// Unix ms, fixed for the whole command (as Redis caches `mstime` per command).
    pub now: i64,
    /// Changes made; a write with `dirty > 0` is propagated.
    pub dirty: u64,
    /// Propagate this instead of the command itself (deterministic forms).
    pub rewrite: Option<Vec<Argv>>,
    /// Propagate even without changes (PUBLISH).
    pub force_propagate: bool,
    /// Set by a blocking handler that cannot be served now.
    pub block: Option<BlockRequest>,
    /// What the connection must do next.
    pub action: Action,
    /// How the command runs.
    pub mode: CallMode,
    /// When re-run for a blocked client ([`CallMode::Serving`]): the key that became ready,
    /// the only one it may be served from (as Redis serves a waiter from the ready key).
    pub ready_key: Option<&'a [u8]>,
}

impl<'a> Ctx<'a> {
    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        &self.argv[i]
    }

    /// The selected database.
    pub fn db(&mut self) -> &mut Db {
        let db = self.session.db;
        &mut self.engine.keyspace.dbs[db]
    }

    /// The LRU clock for new items.
    pub fn clock(&self) -> u32 {
        self.engine.keyspace.lru_clock()
    }

    /// Records that `key` in the selected database was modified: counts a change and
    /// signals WATCHers. Handlers that change a value in place call this.
    pub fn modified(&mut self, key: &[u8]) {
        self.dirty += 1;
        let db = self.session.db;
        self.engine.keyspace.dbs[db].touch(key);
    }

    /// Propagates `commands` instead of the command itself.
    pub fn propagate_as(&mut self, commands: Vec<Argv>) {
        self.rewrite = Some(commands);
    }

    /// True when a blocking command may block (not inside EXEC, not on the master link).
    pub fn may_block(&self) -> bool {
        self.mode != CallMode::Exec && !self.session.is_master_link
    }

    /// Asks to block on `keys`.
    pub fn block_on(
        &mut self,
        keys: Vec<Blob>,
        timeout: Option<Duration>,
        timeout_reply: TimeoutReply,
    ) {
        self.block = Some(BlockRequest {
            keys,
            timeout,
            timeout_reply,
        });
    }
}

/// Builds an argv from byte slices (for rewritten propagation).
pub fn argv_of(parts: &[&[u8]]) -> Argv {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

/// Writes an error reply and counts it.
fn reply_error(engine: &mut Engine, out: &mut ReplyBuf, err: &CmdError) {
    let bytes = err.to_bytes();
    engine.stats.count_error(&bytes);
    out.error_bytes(&bytes);
}

/// Refuses a command before execution (Redis's `rejectCommand`): error reply, the command's
/// rejected counter, and a failed transaction if one is being queued.
fn reject(
    engine: &mut Engine,
    session: &mut Session,
    out: &mut ReplyBuf,
    spec: Option<&'static Spec>,
    err: CmdError,
) {
    if let Some(m) = session.multi.as_mut() {
        m.error = true;
    }
    if let Some(spec) = spec {
        engine
            .stats
            .commands
            .entry(spec.fullname)
            .or_default()
            .rejected_calls += 1;
    }
    reply_error(engine, out, &err);
}

/// Resolves `argv` to a command or subcommand row.
pub fn resolve(argv: &[Bytes]) -> Result<&'static Spec, (Option<&'static Spec>, CmdError)> {
    let Some(spec) = argv.first().and_then(|n| table::lookup(n)) else {
        return Err((None, CmdError::unknown_command(argv)));
    };
    if spec.subcommands.is_empty() {
        return Ok(spec);
    }
    if argv.len() < 2 {
        // A container that also works alone (COMMAND) runs its own handler.
        if spec.arity_ok(argv.len()) {
            return Ok(spec);
        }
        return Err((Some(spec), CmdError::WrongArity(spec.fullname.to_string())));
    }
    match table::lookup_sub(spec, &argv[1]) {
        Some(sub) => Ok(sub),
        None => Err((Some(spec), CmdError::unknown_subcommand(&argv[0], &argv[1]))),
    }
}

/// Runs one command from a client: gates, then [`call`]. Replies go to `out`.
pub fn execute(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    out: &mut ReplyBuf,
) -> Action {
    let spec = match resolve(argv) {
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
    // Our master's stream passes no gate (the master already judged it), but its
    // transactions queue like anyone's: a MULTI split across reads must not be visible half
    // applied, and one cut short by a lost link must leave nothing behind (the partial resync
    // sends it again from its start).
    if !session.is_master_link {
        if let Some(err) = gate(state, engine, session, spec) {
            reject(engine, session, out, Some(spec), err);
            return Action::None;
        }
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
    *session.info.last_cmd.lock() = spec.fullname;
    let offset_before = engine.repl.offset;
    let (action, block) = call(state, engine, session, spec, argv, out, CallMode::Normal);
    engine.flush_propagation();
    if engine.repl.offset != offset_before {
        session.last_write_offset = engine.repl.offset;
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

/// The gates of Redis's `processCommand` between lookup and execution, in its order.
fn gate(
    state: &State,
    engine: &Engine,
    session: &Session,
    spec: &'static Spec,
) -> Option<CmdError> {
    let settings = &engine.settings;
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
    let is_write = spec.has(WRITE);
    if (is_write || spec.name == "ping") && super::persistence::writes_denied(engine) {
        return Some(CmdError::Fixed(error::MISCONF));
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
        && !spec.has(STALE)
    {
        return Some(CmdError::Fixed(error::MASTERDOWN));
    }
    if engine.loading && !spec.has(LOADING) {
        return Some(CmdError::Fixed(error::LOADING));
    }
    None
}

/// Runs a handler and does the bookkeeping around it (Redis's `call`): statistics, the
/// DELs of keys that expired meanwhile, propagation of the command or its rewrite.
pub fn call(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    spec: &'static Spec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    mode: CallMode,
) -> (Action, Option<BlockRequest>) {
    call_with(state, engine, session, spec, argv, out, mode, None)
}

/// [`call`], with the key a blocked client is being served from.
#[allow(clippy::too_many_arguments)]
fn call_with(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    spec: &'static Spec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    mode: CallMode,
    ready_key: Option<&[u8]>,
) -> (Action, Option<BlockRequest>) {
    let start = Instant::now();
    let db_at_start = session.db;
    let mut ctx = Ctx {
        state,
        engine,
        session,
        argv,
        out,
        spec,
        now: now_ms(),
        dirty: 0,
        rewrite: None,
        force_propagate: false,
        block: None,
        action: Action::None,
        mode,
        ready_key,
    };
    let result = (spec.handler)(&mut ctx);
    let Ctx {
        dirty,
        rewrite,
        force_propagate,
        block,
        action,
        ..
    } = ctx;
    let stat = engine.stats.commands.entry(spec.fullname).or_default();
    stat.calls += 1;
    stat.usec += start.elapsed().as_micros() as u64;
    if let Err(err) = &result {
        stat.failed_calls += 1;
        reply_error(engine, out, err);
    }
    engine.stats.total_commands += 1;
    engine.dirty += dirty;
    engine.propagate_expired();
    // A replica propagates only what its master sent (forwarded byte for byte elsewhere);
    // writes of its own clients (a writable replica) stay local, as in Redis.
    let propagates = (dirty > 0 || force_propagate)
        && spec.has(WRITE | MAY_REPLICATE)
        && !session.is_master_link
        && !engine.is_replica;
    if propagates {
        match rewrite {
            Some(commands) => {
                for c in commands {
                    engine.also_propagate(db_at_start, c);
                }
            }
            None => engine.also_propagate(db_at_start, argv.iter().cloned().collect()),
        }
    }
    (action, block)
}

/// Registers a blocked client and hands its connection the wait.
fn register_block(
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
        argv: argv.iter().cloned().collect(),
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
                let Ok(spec) = resolve(&argv) else { continue };
                let mut out = ReplyBuf::new(waiter.proto);
                let (_, block) = call_with(
                    state,
                    engine,
                    &mut session,
                    spec,
                    &argv,
                    &mut out,
                    CallMode::Serving,
                    Some(&key),
                );
                engine.flush_propagation();
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

/// Runs the commands queued in MULTI for EXEC, inside the current critical section, and
/// replies with their replies as one array.
pub fn exec_queued(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    queued: Vec<Argv>,
    out: &mut ReplyBuf,
) {
    out.array(queued.len());
    for argv in queued {
        let spec = match resolve(&argv) {
            Ok(s) => s,
            Err((_, err)) => {
                reply_error(engine, out, &err);
                continue;
            }
        };
        *session.info.last_cmd.lock() = spec.fullname;
        let _ = call(state, engine, session, spec, &argv, out, CallMode::Exec);
    }
}
