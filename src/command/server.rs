//! Server commands on the whole dataset: LASTSAVE, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
//! SHUTDOWN.

use super::ctx::{Action, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::config::ShutdownFlags;
use crate::engine::persistence::flushall_save;
use crate::engine::shutdown;
use crate::keyspace::lazyfree;

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.engine.lastsave);
    Ok(())
}

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// Parses the optional ASYNC | SYNC of FLUSHDB / FLUSHALL: true for ASYNC; without either,
/// `lazyfree-lazy-user-flush` decides, as in Redis.
fn parse_flush_mode(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.argv.len() {
        1 => Ok(ctx.engine.settings.lazyfree_lazy_user_flush),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"ASYNC") => Ok(true),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"SYNC") => Ok(false),
        _ => Err(CmdError::Fixed(error::SYNTAX)),
    }
}

/// Frees what a flush removed: with ASYNC on the lazy-free thread, as Redis's lazy free,
/// counted in INFO (`lazyfreed_objects`, one per key); without, here and now, as Redis's
/// synchronous flush. Its memory is then free when the reply goes out, and a write that
/// follows does not find the old keyspace still counted against `maxmemory`: handed to a
/// thread of its own, it was freed whenever that thread got to run (up to 130 ms after the
/// reply on a loaded machine), and the writes refilling the database evicted their own
/// keys (Redis 7.0's unit/maxmemory client-eviction tests).
fn free_flushed<T: Send + 'static>(garbage: T, keys: usize, asked_async: bool) {
    if asked_async {
        lazyfree::free_later(garbage, keys as u64);
    } else {
        drop(garbage);
    }
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let asked_async = parse_flush_mode(ctx)?;
    let keys = ctx.db().len();
    let garbage = ctx.db().clear();
    free_flushed(garbage, keys, asked_async);
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    let asked_async = parse_flush_mode(ctx)?;
    let keys = ctx.engine.keyspace.dbs.iter().map(|d| d.len()).sum();
    let garbage = ctx.engine.keyspace.clear_all();
    free_flushed(garbage, keys, asked_async);
    if flushall_save(ctx.state, ctx.engine) {
        // The save reset the changes counter (as in Redis 7.0); FLUSHALL still propagates.
        ctx.force_propagate = true;
    } else {
        ctx.dirty += 1;
    }
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let parse = |arg: &[u8], msg: &'static str| -> Result<i64, CmdError> {
        let n = parse_int(arg).map_err(|_| CmdError::Fixed(msg))?;
        if n < i32::MIN as i64 || n > i32::MAX as i64 {
            return Err(CmdError::Fixed(msg));
        }
        Ok(n)
    };
    let a = parse(ctx.arg(1), "ERR invalid first DB index")?;
    let b = parse(ctx.arg(2), "ERR invalid second DB index")?;
    let n = ctx.engine.keyspace.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::Fixed(error::DB_INDEX_OUT_OF_RANGE));
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let dbs = &mut ctx.engine.keyspace.dbs;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0], ctx.now);
        for id in [a, b] {
            ctx.engine.keyspace.dbs[id].signal_all_blocked();
        }
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], as Redis 7.0: unless NOW, it waits for
/// lagging replicas (see [`crate::engine::shutdown`]).
fn shutdown(ctx: &mut Ctx) -> CmdResult {
    let has = |word: &[u8]| ctx.argv[1..].iter().any(|a| a.eq_ignore_ascii_case(word));
    for a in &ctx.argv[1..] {
        let ok = [&b"NOSAVE"[..], b"SAVE", b"NOW", b"FORCE", b"ABORT"]
            .iter()
            .any(|o| a.eq_ignore_ascii_case(o));
        if !ok {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    if has(b"ABORT") {
        if ctx.argv.len() > 2 {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        if !shutdown::abort(ctx.state, ctx.engine) {
            return Err(CmdError::Fixed("ERR No shutdown in progress."));
        }
        ctx.out.ok();
        return Ok(());
    }
    let flags = ShutdownFlags {
        nosave: has(b"NOSAVE"),
        save: has(b"SAVE"),
        now: has(b"NOW"),
        force: has(b"FORCE"),
    };
    if flags.nosave && flags.save {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    match shutdown::prepare(ctx.state, ctx.engine, flags) {
        Ok(shutdown::Started::Exit) => ctx.action = Action::Shutdown,
        Ok(shutdown::Started::Waiting(outcome)) => ctx.action = Action::AwaitShutdown(outcome),
        Err(_) => return Err(CmdError::Fixed(error::SHUTDOWN_FAILED)),
    }
    Ok(())
}

/// Server commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        lastsave
    ),
    cmd!("dbsize", 1, READONLY | FAST, (0, 0, 0), "server", dbsize),
    cmd!("flushdb", -1, WRITE, (0, 0, 0), "server", flushdb),
    cmd!("flushall", -1, WRITE, (0, 0, 0), "server", flushall),
    cmd!("swapdb", 3, WRITE | FAST, (0, 0, 0), "server", swapdb),
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SKIP_MONITOR | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        shutdown
    ),
];
