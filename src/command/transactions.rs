//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queued commands run inside the EXEC's own critical section, so no other client's command
//! interleaves. A WATCHed key touched by anyone (a client, expiry, the replication stream)
//! sets the session's watch flag and makes EXEC answer a null array; as in Redis 7.0, a
//! watched key that expires after WATCH also aborts the EXEC.

use std::sync::atomic::Ordering;

use super::call::{call, reply_error};
use super::ctx::{CallMode, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::Spec;
use crate::command::cmd;
use crate::engine::session::WatchedKey;
use crate::keyspace::blob;

fn multi(ctx: &mut Ctx) -> CmdResult {
    if !ctx.session.begin_multi() {
        return Err(CmdError::Fixed(error::MULTI_NESTED));
    }
    ctx.out.ok();
    Ok(())
}

/// True when a watched key was touched, or expired after WATCH.
fn watch_broken(ctx: &mut Ctx) -> bool {
    if ctx.session.watch_flag.load(Ordering::Relaxed) {
        return true;
    }
    let (now, id) = (ctx.now, ctx.session.id());
    ctx.session
        .watched
        .iter()
        .any(|w| ctx.engine.keyspace.dbs[w.db].watched_key_expired(&w.key, id, now))
}

fn exec(ctx: &mut Ctx) -> CmdResult {
    let Some(state) = ctx.session.multi.take() else {
        return Err(CmdError::Fixed(error::EXEC_WITHOUT_MULTI));
    };
    ctx.session.info.multi.store(-1, Ordering::Relaxed);
    if state.error {
        ctx.engine.unwatch_all(ctx.session);
        return Err(CmdError::Fixed(error::EXECABORT));
    }
    if watch_broken(ctx) {
        ctx.engine.unwatch_all(ctx.session);
        ctx.out.null_array();
        return Ok(());
    }
    ctx.engine.unwatch_all(ctx.session);
    exec_queued(ctx, state.queued);
    Ok(())
}

/// Runs the commands queued in MULTI, inside EXEC's own critical section, and replies with
/// their replies as one array.
fn exec_queued(ctx: &mut Ctx, queued: Vec<crate::resp::Argv>) {
    ctx.out.array(queued.len());
    for argv in queued {
        let spec = match ctx.table.resolve(&argv) {
            Ok(s) => s,
            Err((_, err)) => {
                reply_error(ctx.engine, ctx.session, ctx.out, &err, None);
                continue;
            }
        };
        *ctx.session.info.last_cmd.lock() = spec.fullname;
        // The rules may have changed since the command was queued (Redis checks again).
        if let Some(denied) =
            super::permissions::denial(ctx.table, ctx.engine, ctx.session, spec, &argv, "multi")
        {
            let err = CmdError::Other(format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
                super::permissions::exec_text(denied)
            ));
            reply_error(ctx.engine, ctx.session, ctx.out, &err, Some(spec.fullname));
            continue;
        }
        let _ = call(
            ctx.state,
            ctx.engine,
            ctx.session,
            ctx.table,
            spec,
            &argv,
            ctx.out,
            CallMode::Exec,
        );
    }
}

fn discard(ctx: &mut Ctx) -> CmdResult {
    if ctx.session.multi.take().is_none() {
        return Err(CmdError::Fixed(error::DISCARD_WITHOUT_MULTI));
    }
    ctx.session.info.multi.store(-1, Ordering::Relaxed);
    ctx.engine.unwatch_all(ctx.session);
    ctx.out.ok();
    Ok(())
}

fn watch(ctx: &mut Ctx) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::Fixed(error::WATCH_IN_MULTI));
    }
    let db = ctx.session.db;
    let id = ctx.session.id();
    let now = ctx.now;
    for key in &ctx.argv[1..] {
        if ctx
            .session
            .watched
            .iter()
            .any(|w| w.db == db && w.key.as_slice() == key.as_ref())
        {
            continue;
        }
        let d = &mut ctx.engine.keyspace.dbs[db];
        d.watch(key, id, &ctx.session.watch_flag, now);
        ctx.session.watched.push(WatchedKey { db, key: blob(key) });
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx) -> CmdResult {
    ctx.engine.unwatch_all(ctx.session);
    ctx.out.ok();
    Ok(())
}

/// Transaction commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL,
        (0, 0, 0),
        "transactions",
        multi
    ),
    cmd!(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TRANSACTION_CONTROL,
        (0, 0, 0),
        "transactions",
        exec
    ),
    cmd!(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL,
        (0, 0, 0),
        "transactions",
        discard
    ),
    cmd!(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL,
        (1, -1, 1),
        "transactions",
        watch
    ),
    cmd!(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        unwatch
    ),
];
