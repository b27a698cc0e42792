//! CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | REPLY | PAUSE | UNPAUSE | UNBLOCK |
//! NO-EVICT | HELP, and the client-side caching subcommands ([`tracking`]).

mod tracking;

use super::args::validate_name;
use super::ctx::{Action, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::engine::pause::{PauseKind, PausePurpose};
use crate::engine::session::{ClientInfo, ClientKind, ReplyMode};

/// The client classes of CLIENT KILL TYPE / CLIENT LIST TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Master,
    PubSub,
}

fn parse_type(name: &[u8]) -> Result<ClientType, CmdError> {
    let lower = name.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Ok(ClientType::Normal),
        b"slave" | b"replica" => Ok(ClientType::Replica),
        b"master" => Ok(ClientType::Master),
        b"pubsub" => Ok(ClientType::PubSub),
        _ => Err(CmdError::Other(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(name)
        ))),
    }
}

fn type_of(c: &ClientInfo) -> ClientType {
    match c.kind() {
        ClientKind::Replica => ClientType::Replica,
        ClientKind::Master => ClientType::Master,
        ClientKind::Normal if c.is_pubsub() => ClientType::PubSub,
        ClientKind::Normal => ClientType::Normal,
    }
}

fn id(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.session.id() as i64);
    Ok(())
}

fn setname(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.arg(2);
    validate_name(name)?;
    *ctx.session.info.name.lock() = if name.is_empty() {
        None
    } else {
        Some(ctx.argv[2].clone())
    };
    ctx.out.ok();
    Ok(())
}

fn getname(ctx: &mut Ctx) -> CmdResult {
    match ctx.session.info.name.lock().as_ref() {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    Ok(())
}

fn list(ctx: &mut Ctx) -> CmdResult {
    let mut filter_type = None;
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < ctx.argv.len() {
        let opt = ctx.arg(i);
        if opt.eq_ignore_ascii_case(b"TYPE") && i + 1 < ctx.argv.len() {
            filter_type = Some(parse_type(ctx.arg(i + 1))?);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"ID") && i + 1 < ctx.argv.len() {
            let mut v = Vec::new();
            for a in &ctx.argv[i + 1..] {
                match parse_int(a) {
                    Ok(n) if n > 0 => v.push(n as u64),
                    _ => return Err(CmdError::Fixed("ERR Invalid client ID")),
                }
            }
            ids = Some(v);
            i = ctx.argv.len();
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    let mut text = String::new();
    for c in ctx.state.clients.all() {
        if filter_type.is_some_and(|t| type_of(&c) != t) {
            continue;
        }
        if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) {
            continue;
        }
        text.push_str(&c.describe());
        text.push('\n');
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn info(ctx: &mut Ctx) -> CmdResult {
    let mut line = ctx.session.info.describe();
    line.push('\n');
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

/// The filters of the new CLIENT KILL form.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    kind: Option<ClientType>,
    addr: Option<String>,
    laddr: Option<String>,
    maxage: Option<u64>,
    skipme: bool,
}

fn kill(ctx: &mut Ctx) -> CmdResult {
    let me = ctx.session.id();
    if ctx.argv.len() == 3 {
        // Old form: CLIENT KILL ip:port.
        let addr = String::from_utf8_lossy(ctx.arg(2)).into_owned();
        let Some(target) = ctx.state.clients.all().into_iter().find(|c| c.addr == addr) else {
            return Err(CmdError::Fixed(error::NO_SUCH_CLIENT));
        };
        ctx.out.ok();
        kill_client(ctx, &target, me);
        return Ok(());
    }
    if !ctx.argv.len().is_multiple_of(2) {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    for pair in ctx.argv[2..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if opt.eq_ignore_ascii_case(b"ID") {
            match parse_int(val) {
                Ok(n) if n > 0 => f.id = Some(n as u64),
                _ => return Err(CmdError::Fixed("ERR client-id should be greater than 0")),
            }
        } else if opt.eq_ignore_ascii_case(b"TYPE") {
            f.kind = Some(parse_type(val)?);
        } else if opt.eq_ignore_ascii_case(b"ADDR") {
            f.addr = Some(String::from_utf8_lossy(val).into_owned());
        } else if opt.eq_ignore_ascii_case(b"LADDR") {
            f.laddr = Some(String::from_utf8_lossy(val).into_owned());
        } else if opt.eq_ignore_ascii_case(b"USER") {
            if val.as_ref() != b"default" {
                return Err(CmdError::Other(format!(
                    "ERR No such user '{}'",
                    String::from_utf8_lossy(val)
                )));
            }
        } else if opt.eq_ignore_ascii_case(b"SKIPME") {
            if val.eq_ignore_ascii_case(b"yes") {
                f.skipme = true;
            } else if val.eq_ignore_ascii_case(b"no") {
                f.skipme = false;
            } else {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
        } else if opt.eq_ignore_ascii_case(b"MAXAGE") {
            match parse_int(val) {
                Ok(n) if n >= 0 => f.maxage = Some(n as u64),
                _ => return Err(CmdError::Fixed(error::SYNTAX)),
            }
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    let mut killed = 0;
    for c in ctx.state.clients.all() {
        if f.id.is_some_and(|id| c.id != id)
            || f.kind.is_some_and(|k| type_of(&c) != k)
            || f.addr.as_ref().is_some_and(|a| *a != c.addr)
            || f.laddr.as_ref().is_some_and(|a| *a != c.laddr)
            || f.maxage.is_some_and(|m| c.created.elapsed().as_secs() < m)
            || (f.skipme && c.id == me)
        {
            continue;
        }
        kill_client(ctx, &c, me);
        killed += 1;
    }
    ctx.out.int(killed);
    Ok(())
}

/// Disconnects `target`; the caller itself closes after its reply.
fn kill_client(ctx: &mut Ctx, target: &ClientInfo, me: u64) {
    if target.id == me {
        ctx.action = Action::Close;
    } else {
        // Redis frees the client at once: its subscriptions end with the command (PUBSUB
        // NUMSUB right after agrees), and it leaves CLIENT LIST and `connected_clients`
        // (a second CLIENT KILL does not count it again), not when its connection task
        // gets to run.
        ctx.engine.subscriptions.remove_client(target.id);
        target.kill();
        ctx.state.clients.unregister(target.id);
    }
}

fn help(ctx: &mut Ctx) -> CmdResult {
    let lines: &[&str] = &[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, TYPE (normal|master|replica|pubsub), USER, ADDR, LADDR, SKIPME, MAXAGE.",
        "LIST [options ...]",
        "    Return information about client connections. Options: TYPE (normal|master|replica|pubsub), ID.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Print this help.",
    ];
    super::reply::help_reply(ctx, lines)
}

/// CLIENT NO-EVICT ON|OFF: exempts this client from `maxmemory-clients`.
fn no_evict(ctx: &mut Ctx) -> CmdResult {
    let on = ctx.arg(2);
    let value = if on.eq_ignore_ascii_case(b"ON") {
        true
    } else if on.eq_ignore_ascii_case(b"OFF") {
        false
    } else {
        return Err(CmdError::Fixed(error::SYNTAX));
    };
    ctx.session
        .info
        .no_evict
        .store(value, std::sync::atomic::Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP: whether this client's command replies are sent. OFF and SKIP
/// are not answered; ON answers OK.
fn reply(ctx: &mut Ctx) -> CmdResult {
    let mode = ctx.arg(2);
    if mode.eq_ignore_ascii_case(b"ON") {
        ctx.session.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if mode.eq_ignore_ascii_case(b"OFF") {
        ctx.session.reply_mode = ReplyMode::Off;
    } else if mode.eq_ignore_ascii_case(b"SKIP") {
        if ctx.session.reply_mode != ReplyMode::Off {
            ctx.session.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends the wait of a client blocked on keys (BLPOP and
/// friends): as if its timeout passed, or with Redis's -UNBLOCKED error (counted against its
/// command, as Redis counts it). Answers 1 when the client was waiting, 0 otherwise.
fn unblock(ctx: &mut Ctx) -> CmdResult {
    let id = parse_int(&ctx.argv[2])?;
    let with_error = match ctx.argv.get(3) {
        None => false,
        Some(a) if a.eq_ignore_ascii_case(b"TIMEOUT") => false,
        Some(a) if a.eq_ignore_ascii_case(b"ERROR") => true,
        Some(_) => {
            return Err(CmdError::Fixed(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let engine = &mut *ctx.engine;
    let Some(mut waiter) = engine.blocking.unblock(&mut engine.keyspace, id as u64) else {
        ctx.out.int(0);
        return Ok(());
    };
    // The blocked command counts as one call now (it was not counted when it blocked).
    if let Ok(spec) = ctx.table.resolve(&waiter.argv) {
        let stat = engine.stats.commands.entry(spec.fullname).or_default();
        stat.calls += 1;
        if with_error {
            stat.failed_calls += 1;
        }
    }
    if with_error {
        engine.stats.count_error(error::UNBLOCKED.as_bytes());
        if let Some(tx) = waiter.reply.take() {
            let _ = tx.send(format!("-{}\r\n", error::UNBLOCKED).into_bytes());
        }
    }
    // Without ERROR, dropping the reply channel makes the connection answer as on timeout.
    drop(waiter);
    ctx.out.int(1);
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]: holds clients (all of them by default) until
/// `timeout` milliseconds from now; 0 holds nothing.
fn pause(ctx: &mut Ctx) -> CmdResult {
    let kind = match ctx.argv.get(3) {
        None => PauseKind::All,
        Some(m) if m.eq_ignore_ascii_case(b"WRITE") => PauseKind::Write,
        Some(m) if m.eq_ignore_ascii_case(b"ALL") => PauseKind::All,
        Some(_) => return Err(CmdError::Fixed(error::CLIENT_PAUSE_MODE)),
    };
    let ms = parse_int(ctx.arg(2)).map_err(|_| CmdError::Fixed(error::TIMEOUT_NOT_INTEGER))?;
    if ms < 0 {
        return Err(CmdError::Fixed(error::TIMEOUT_NEGATIVE));
    }
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms as u64);
    ctx.engine
        .pause(PausePurpose::ClientCommand, kind, Some(until));
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE: ends CLIENT PAUSE (a failover's hold stays until the failover ends).
fn unpause(ctx: &mut Ctx) -> CmdResult {
    ctx.engine.unpause(PausePurpose::ClientCommand);
    ctx.out.ok();
    Ok(())
}

const CLIENT_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "client",
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        id
    ),
    subcmd!(
        "client",
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        reply
    ),
    subcmd!(
        "client",
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        setname
    ),
    subcmd!(
        "client",
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        getname
    ),
    subcmd!(
        "client",
        "list",
        -2,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        list
    ),
    subcmd!(
        "client",
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        info
    ),
    subcmd!(
        "client",
        "kill",
        -3,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        kill
    ),
    subcmd!(
        "client",
        "pause",
        -3,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        pause
    ),
    subcmd!(
        "client",
        "unblock",
        -3,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        unblock
    ),
    subcmd!(
        "client",
        "unpause",
        2,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        unpause
    ),
    subcmd!(
        "client",
        "no-evict",
        3,
        CLIENT_FLAGS,
        (0, 0, 0),
        "connection",
        no_evict
    ),
    subcmd!(
        "client",
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        tracking::tracking
    ),
    subcmd!(
        "client",
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        tracking::caching
    ),
    subcmd!(
        "client",
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        tracking::getredir
    ),
    subcmd!(
        "client",
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        tracking::trackinginfo
    ),
    subcmd!(
        "client",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "connection",
        help
    ),
];

/// The CLIENT container command.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: SUBCOMMANDS,
    ..cmd!("client", -2, 0, (0, 0, 0), "connection", container)
}];
