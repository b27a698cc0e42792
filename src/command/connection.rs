//! Connection commands: PING, ECHO, AUTH, HELLO, SELECT, QUIT, RESET.

use std::sync::atomic::Ordering;

use super::ctx::{Action, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::REDIS_COMPAT_VERSION;
use crate::resp::Proto;

fn ping(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 2 {
        return Err(CmdError::WrongArity("ping".into()));
    }
    if ctx.session.proto == Proto::Resp2 && ctx.session.in_pubsub() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(ctx.argv.get(1).map_or(&b""[..], |a| a));
        return Ok(());
    }
    match ctx.argv.get(1) {
        Some(msg) => ctx.out.bulk(msg),
        None => ctx.out.simple("PONG"),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    let msg = ctx.arg(1);
    ctx.out.bulk(msg);
    Ok(())
}

/// Authenticates the client as `user` (the default user when `None`) with `pass`, as
/// Redis's `ACLAuthenticateUser`: a failure is logged in the ACL log (reason `auth`).
fn authenticate(ctx: &mut Ctx, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CmdError> {
    let acl = &mut ctx.engine.acl;
    let name = match user {
        Some(name) => name,
        // The one-argument form needs a password on the default user.
        None if acl.default_is_open() => return Err(CmdError::Fixed(error::AUTH_NOT_CONFIGURED)),
        None => b"default",
    };
    if acl.credentials_ok(name, pass) {
        ctx.session.set_user(name);
        return Ok(());
    }
    let entry = crate::engine::acl::LogEntry {
        count: 1,
        reason: "auth",
        context: if ctx.session.multi.is_some() {
            "multi"
        } else {
            "toplevel"
        },
        object: ctx.argv[0].to_vec(),
        username: name.to_vec(),
        at_ms: ctx.now,
        client_info: ctx.session.info.describe(),
    };
    let max = ctx.engine.settings.acllog_max_len as usize;
    ctx.engine.acl.log(entry, max);
    Err(CmdError::Fixed(error::WRONGPASS))
}

fn auth(ctx: &mut Ctx) -> CmdResult {
    let (user, pass) = match ctx.argv.len() {
        2 => (None, ctx.arg(1)),
        3 => (Some(ctx.arg(1)), ctx.arg(2)),
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    };
    for i in 1..ctx.argv.len() {
        ctx.redact(i);
    }
    let (user, pass) = (user.map(<[u8]>::to_vec), pass.to_vec());
    authenticate(ctx, user.as_deref(), &pass)?;
    ctx.out.ok();
    Ok(())
}

fn hello(ctx: &mut Ctx) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if ctx.argv.len() >= 2 {
        let v = parse_int(ctx.arg(1)).map_err(|_| {
            CmdError::Fixed("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::Fixed("NOPROTO unsupported protocol version"));
        }
        proto = Some(if v == 3 { Proto::Resp3 } else { Proto::Resp2 });
        i = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&[u8]> = None;
    while i < ctx.argv.len() {
        let opt = ctx.arg(i);
        let more = ctx.argv.len() - i - 1;
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            auth = Some((ctx.arg(i + 1), ctx.arg(i + 2)));
            ctx.redact(i + 1);
            ctx.redact(i + 2);
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(ctx.arg(i + 1));
            i += 2;
        } else {
            return Err(CmdError::Other(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if let Some((user, pass)) = auth.map(|(u, p)| (u.to_vec(), p.to_vec())) {
        authenticate(ctx, Some(&user), &pass)?;
    }
    if !ctx.session.authenticated {
        return Err(CmdError::Fixed("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(name) = name {
        super::args::validate_name(name)?;
        *ctx.session.info.name.lock() = if name.is_empty() {
            None
        } else {
            Some(bytes::Bytes::copy_from_slice(name))
        };
    }
    if let Some(p) = proto {
        ctx.session.proto = p;
        ctx.out.proto = p;
        ctx.session
            .info
            .resp
            .store(if p == Proto::Resp3 { 3 } else { 2 }, Ordering::Relaxed);
    }
    let role = if ctx.engine.is_replica {
        "replica"
    } else {
        "master"
    };
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_COMPAT_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if ctx.session.proto == Proto::Resp3 {
        3
    } else {
        2
    });
    out.bulk(b"id");
    out.int(ctx.session.id() as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(role.as_bytes());
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let db = parse_int(ctx.arg(1))?;
    if db < 0 || db as usize >= ctx.engine.keyspace.dbs.len() {
        return Err(CmdError::Fixed(error::DB_INDEX_OUT_OF_RANGE));
    }
    ctx.session.db = db as usize;
    ctx.session.info.db.store(db as usize, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.out.ok();
    ctx.action = Action::Close;
    Ok(())
}

fn reset(ctx: &mut Ctx) -> CmdResult {
    ctx.engine.reset_transaction(ctx.session);
    let id = ctx.session.id();
    ctx.engine.subscriptions.remove_client(id);
    ctx.engine.monitors.remove(id);
    ctx.engine.tracking.disable(&mut ctx.engine.keyspace, id);
    ctx.session.channels.clear();
    ctx.session.patterns.clear();
    ctx.session.shard_channels.clear();
    ctx.session.info.sub.store(0, Ordering::Relaxed);
    ctx.session.info.psub.store(0, Ordering::Relaxed);
    ctx.session.info.ssub.store(0, Ordering::Relaxed);
    ctx.session.db = 0;
    ctx.session.info.db.store(0, Ordering::Relaxed);
    ctx.session.proto = Proto::Resp2;
    ctx.out.proto = Proto::Resp2;
    ctx.session.info.resp.store(2, Ordering::Relaxed);
    *ctx.session.info.name.lock() = None;
    // Back to the default user, authenticated only if it needs no password (Redis's
    // clearClientConnectionState).
    ctx.session.set_user(b"default");
    ctx.session.authenticated = ctx.engine.acl.default_is_open();
    ctx.out.simple("RESET");
    Ok(())
}

/// Connection commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "ping",
        -1,
        FAST | SUBSCRIBE_CONTEXT,
        (0, 0, 0),
        "connection",
        ping
    ),
    cmd!("echo", 2, FAST | STALE, (0, 0, 0), "connection", echo),
    cmd!(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        auth
    ),
    cmd!(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        hello
    ),
    cmd!(
        "select",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        select
    ),
    cmd!(
        "quit",
        -1,
        ALLOW_BUSY
            | NOSCRIPT
            | LOADING
            | STALE
            | FAST
            | NO_AUTH
            | SUBSCRIBE_CONTEXT
            | TRANSACTION_CONTROL,
        (0, 0, 0),
        "connection",
        quit
    ),
    cmd!(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SUBSCRIBE_CONTEXT | TRANSACTION_CONTROL,
        (0, 0, 0),
        "connection",
        reset
    ),
];
