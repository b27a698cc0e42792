//! SLOWLOG GET | LEN | RESET | HELP: reading and clearing the slow log the executor fills
//! (see [`crate::engine::slowlog`]).

use super::ctx::Ctx;
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::reply::help_reply;
use super::{container, Spec};
use crate::command::{cmd, subcmd};

/// Entries SLOWLOG GET returns without a count.
const DEFAULT_GET_COUNT: usize = 10;
const BAD_COUNT: &str = "ERR count should be greater than or equal to -1";

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, every one for -1), each
/// as [id, unix time, microseconds, arguments, client address, client name].
fn get(ctx: &mut Ctx) -> CmdResult {
    let count = match ctx.argv.len() {
        2 => DEFAULT_GET_COUNT,
        3 => match parse_int(ctx.arg(2)) {
            Ok(-1) => usize::MAX,
            Ok(n) if n >= 0 => n as usize,
            _ => return Err(CmdError::Fixed(BAD_COUNT)),
        },
        _ => return Err(CmdError::subcommand_syntax(ctx.arg(0), ctx.arg(1))),
    };
    let log = &ctx.engine.slowlog;
    ctx.out.array(count.min(log.len()));
    for entry in log.newest_first().take(count) {
        ctx.out.array(6);
        ctx.out.int(entry.id as i64);
        ctx.out.int(entry.time);
        ctx.out.int(entry.micros as i64);
        ctx.out.array(entry.argv.len());
        for arg in &entry.argv {
            ctx.out.bulk(arg);
        }
        ctx.out.bulk(entry.peer.as_bytes());
        ctx.out.bulk(&entry.name);
    }
    Ok(())
}

/// SLOWLOG LEN: entries held.
fn len(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.engine.slowlog.len() as i64);
    Ok(())
}

/// SLOWLOG RESET: forgets every entry.
fn reset(ctx: &mut Ctx) -> CmdResult {
    ctx.engine.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Prints this help.",
        ],
    )
}

static SLOWLOG_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "slowlog",
        "get",
        -2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        get
    ),
    subcmd!(
        "slowlog",
        "len",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        len
    ),
    subcmd!(
        "slowlog",
        "reset",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        reset
    ),
    subcmd!(
        "slowlog",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        help
    ),
];

/// SLOWLOG.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: SLOWLOG_SUBCOMMANDS,
    ..cmd!("slowlog", -2, 0, (0, 0, 0), "server", container)
}];
