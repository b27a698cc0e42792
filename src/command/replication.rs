//! Replication commands — PSYNC, SYNC, REPLCONF, REPLICAOF/SLAVEOF, ROLE, WAIT, FAILOVER:
//! argument parsing and replies. The decisions are below: PSYNC's in `replication::attach`,
//! role changes in `engine::replication` (REPLICAOF, the control plane and Sentinel all go
//! through the same functions), failover in `engine::failover`.

use std::time::Duration;

use super::ctx::{Action, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::failover::{abort_requested, begin_failover, FailoverRequest};
use crate::engine::replication::{become_master, become_replica, status};
use crate::engine::session::{ClientKind, Session};
use crate::replication::attach::{attach, Asker};
use crate::replication::dual_channel;
use crate::replication::psync::PsyncRequest;
use crate::replication::status::ReplicaState;
use crate::replication::RdbFilter;

// ------------------------------------------------------------------ master side commands

/// The peer address a replica is known by: its announced ip, else its connection's ip.
fn replica_ip(session: &Session) -> String {
    if let Some(ip) = &session.replconf.ip_address {
        return ip.clone();
    }
    let addr = &session.info.addr;
    match addr.rsplit_once(':') {
        Some((ip, _)) => ip.trim_start_matches('[').trim_end_matches(']').to_string(),
        None => addr.clone(),
    }
}

/// Checks shared by PSYNC and SYNC; `None` when the request may go on.
fn sync_refusal(ctx: &Ctx) -> Option<CmdError> {
    // Replicas must not attach while the roles are being swapped.
    if ctx.state.repl.role.lock().failover().is_some() {
        return Some(CmdError::Fixed(error::SYNC_WHILE_FAILING_OVER));
    }
    if ctx.engine.is_replica && !ctx.engine.link_up {
        return Some(CmdError::Fixed(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    if !ctx.out.is_empty() {
        return Some(CmdError::Fixed(
            "ERR SYNC and PSYNC are invalid with pending output",
        ));
    }
    // A filtered RDB is always sent diskless (Redis's rule and words).
    if ctx.session.replconf.rdb_filter.is_some() && !ctx.session.replconf.capa_eof {
        return Some(CmdError::Fixed(
            "ERR Filtered replica requires EOF capability",
        ));
    }
    None
}

fn psync(ctx: &mut Ctx) -> CmdResult {
    if ctx.session.info.kind() == ClientKind::Replica {
        return Ok(());
    }
    if ctx.argv.len() > 3 && ctx.arg(3).eq_ignore_ascii_case(b"FAILOVER") {
        // The master we follow hands a coordinated failover over to us: we become the
        // master first, then answer its PSYNC from our history like any replica's.
        tracing::warn!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(ctx.arg(1))
        );
        if !ctx.engine.is_replica {
            return Err(CmdError::Fixed(error::PSYNC_FAILOVER_TO_MASTER));
        }
        if !ctx
            .arg(1)
            .eq_ignore_ascii_case(ctx.engine.repl.replid.as_bytes())
        {
            return Err(CmdError::Fixed(error::PSYNC_FAILOVER_REPLID));
        }
        become_master(ctx.state, ctx.engine);
        tracing::info!(
            client = %ctx.session.info.describe(),
            "MASTER MODE enabled (failover request)"
        );
    }
    if let Some(e) = sync_refusal(ctx) {
        return Err(e);
    }
    let offset = parse_int(ctx.arg(2)).inspect_err(|_| {
        tracing::warn!(
            "Replica {} asks for synchronization but with a wrong offset",
            ctx.session.info.addr
        );
    })?;
    let request = PsyncRequest {
        replid: String::from_utf8_lossy(ctx.arg(1)).into_owned(),
        offset,
    };
    attach_replica(ctx, Some(request));
    Ok(())
}

fn sync(ctx: &mut Ctx) -> CmdResult {
    if ctx.session.info.kind() == ClientKind::Replica {
        return Ok(());
    }
    if let Some(e) = sync_refusal(ctx) {
        return Err(e);
    }
    attach_replica(ctx, None);
    Ok(())
}

/// Hands the connection to the replication link after the master's decision (see
/// `replication::attach`), answering `+CONTINUE` at once for a partial resync.
fn attach_replica(ctx: &mut Ctx, request: Option<PsyncRequest>) {
    let asker = Asker {
        id: ctx.session.id(),
        ip: replica_ip(ctx.session),
        port: ctx.session.replconf.listening_port,
        capa_eof: ctx.session.replconf.capa_eof,
        capa_psync2: ctx.session.replconf.capa_psync2,
        rdb_only: ctx.session.replconf.rdb_only,
        dual_channel: ctx.session.replconf.capa_dual_channel
            && ctx.engine.settings.dual_channel_replication,
        rdb_channel_for: ctx.session.replconf.rdb_channel_for,
        rdb_filter: ctx.session.replconf.rdb_filter,
        traceparent: ctx.session.replconf.traceparent.clone(),
    };
    let attached = attach(&ctx.state.repl, &mut ctx.engine.repl, asker, request);
    if let Some(line) = &attached.reply {
        ctx.out.simple(line);
    }
    // A dual-channel offer leaves the connection an ordinary client until its PSYNC for
    // the stream.
    match attached.handoff {
        Some(handoff) => {
            ctx.session.info.set_kind(ClientKind::Replica);
            ctx.action = Action::HandOff(Box::new(handoff));
        }
        // Waiting for its snapshot channel: no idle timeout meanwhile (see Session).
        None => ctx.session.replconf.dual_channel_offered = true,
    }
}

fn replconf(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len().is_multiple_of(2) {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let mut i = 1;
    while i < ctx.argv.len() {
        let (opt, val) = (ctx.arg(i), ctx.arg(i + 1));
        if opt.eq_ignore_ascii_case(b"listening-port") {
            let port = parse_int(val)?;
            ctx.session.replconf.listening_port = port.clamp(0, 65535) as u16;
        } else if opt.eq_ignore_ascii_case(b"ip-address") {
            if val.len() >= 256 {
                return Err(CmdError::Other(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
            ctx.session.replconf.ip_address = Some(String::from_utf8_lossy(val).into_owned());
        } else if opt.eq_ignore_ascii_case(b"capa") {
            if val.eq_ignore_ascii_case(b"eof") {
                ctx.session.replconf.capa_eof = true;
            } else if val.eq_ignore_ascii_case(b"psync2") {
                ctx.session.replconf.capa_psync2 = true;
            } else if val.eq_ignore_ascii_case(dual_channel::CAPA.as_bytes()) {
                ctx.session.replconf.capa_dual_channel = true;
            }
        } else if opt.eq_ignore_ascii_case(b"ack") {
            // ACKs are read by the replica link itself; from anyone else: no reply at all.
            return Ok(());
        } else if opt.eq_ignore_ascii_case(b"getack") {
            // Our master asks for an immediate ACK: the stream applier answers it.
            return Ok(());
        } else if opt.eq_ignore_ascii_case(b"traceparent") {
            // replikv's own option: the replica's trace context, so that both ends of a
            // sync are one trace. A Redis master refuses it; replicas ignore the refusal.
            let value = String::from_utf8_lossy(val);
            if crate::telemetry::logging::context_from_traceparent(&value).is_none() {
                return Err(CmdError::Fixed(
                    "ERR REPLCONF traceparent needs a W3C traceparent value (00-<trace id>-<span id>-<flags>)",
                ));
            }
            ctx.session.replconf.traceparent = Some(value.into_owned());
        } else if opt.eq_ignore_ascii_case(b"rdb-channel") {
            // replikv's own: this connection is the snapshot channel of a dual-channel
            // full sync offered to main connection `val` (see `replication::dual_channel`).
            let main = parse_int(val)?;
            let me = ctx.session.id();
            if main < 0 || ctx.state.repl.dual_channels.bind(main as u64, me).is_none() {
                return Err(CmdError::Fixed(error::RDB_CHANNEL_UNKNOWN));
            }
            ctx.session.replconf.rdb_channel_for = Some(main as u64);
        } else if opt.eq_ignore_ascii_case(b"rdb-only") {
            let v = parse_int(val)?;
            if !(0..=1).contains(&v) {
                return Err(CmdError::Fixed(error::NOT_INTEGER));
            }
            ctx.session.replconf.rdb_only = v == 1;
        } else if opt.eq_ignore_ascii_case(b"rdb-filter-only") {
            // As Redis 7.0: the keys are always left out; `functions` keeps the libraries.
            let mut filter = RdbFilter { functions: false };
            for word in String::from_utf8_lossy(val).split_whitespace() {
                if word.eq_ignore_ascii_case("functions") {
                    filter.functions = true;
                } else {
                    return Err(CmdError::Other(format!(
                        "ERR Unsupported rdb-filter-only option: {word}"
                    )));
                }
            }
            ctx.session.replconf.rdb_filter = Some(filter);
        } else {
            return Err(CmdError::Other(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
        i += 2;
    }
    ctx.out.ok();
    Ok(())
}

// ------------------------------------------------------------------ roles

fn replicaof(ctx: &mut Ctx) -> CmdResult {
    let (host, port) = (ctx.arg(1), ctx.arg(2));
    if ctx.session.is_master_link {
        // A role change from inside our master's stream would end the very session that
        // applies it; no master propagates REPLICAOF, so a stream carrying one is refused.
        return Err(CmdError::Fixed(error::REPLICAOF_FROM_MASTER));
    }
    if ctx.state.repl.role.lock().failover().is_some() {
        return Err(CmdError::Fixed(error::REPLICAOF_WHILE_FAILING_OVER));
    }
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        if ctx.engine.is_replica {
            let who = ctx.session.info.describe();
            become_master(ctx.state, ctx.engine);
            tracing::info!(client = %who, "MASTER MODE enabled (user request)");
        }
        ctx.out.ok();
        return Ok(());
    }
    if ctx.session.info.kind() == ClientKind::Replica {
        return Err(CmdError::Fixed(
            "ERR Command is not valid when client is a replica.",
        ));
    }
    let port = match parse_int(port) {
        Ok(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Err(CmdError::Fixed("ERR Invalid master port")),
    };
    let host = String::from_utf8_lossy(host).into_owned();
    let same = ctx
        .state
        .repl
        .role
        .lock()
        .link()
        .is_some_and(|l| l.host.eq_ignore_ascii_case(&host) && l.port == port);
    if same {
        ctx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    become_replica(ctx.state, ctx.engine, host, port);
    ctx.out.ok();
    Ok(())
}

fn role(ctx: &mut Ctx) -> CmdResult {
    let status = status(ctx.state, ctx.engine);
    let out = &mut *ctx.out;
    match status.master_link {
        None => {
            out.array(3);
            out.bulk(b"master");
            out.int(status.master_repl_offset as i64);
            let online: Vec<_> = status
                .replicas
                .iter()
                .filter(|r| r.state == ReplicaState::Online)
                .collect();
            out.array(online.len());
            for r in online {
                out.array(3);
                out.bulk(r.ip.as_bytes());
                out.bulk_int(r.port as i64);
                out.bulk_int(r.ack_offset as i64);
            }
        }
        Some(link) => {
            out.array(5);
            out.bulk(b"slave");
            out.bulk(link.host.as_bytes());
            out.int(link.port as i64);
            out.bulk(link.state.as_bytes());
            out.int(if link.link_up { link.repl_offset } else { -1 });
        }
    }
    Ok(())
}

fn wait(ctx: &mut Ctx) -> CmdResult {
    if ctx.engine.is_replica {
        return Err(CmdError::Fixed(error::WAIT_ON_REPLICA));
    }
    let numreplicas = parse_int(ctx.arg(1))?;
    let timeout = parse_int(ctx.arg(2)).map_err(|_| CmdError::Fixed(error::TIMEOUT_NOT_INTEGER))?;
    if timeout < 0 {
        return Err(CmdError::Fixed(error::TIMEOUT_NEGATIVE));
    }
    let offset = ctx.session.last_write_offset;
    let acked = ctx.state.repl.replicas.acked_at_least(offset) as i64;
    if acked >= numreplicas || ctx.mode != super::ctx::CallMode::Normal {
        ctx.out.int(acked);
        return Ok(());
    }
    // Ask every replica for an ACK now rather than at its next periodic one.
    ctx.engine.repl.feed_dbless(&[b"REPLCONF", b"GETACK", b"*"]);
    let deadline =
        (timeout > 0).then(|| tokio::time::Instant::now() + Duration::from_millis(timeout as u64));
    ctx.action = Action::WaitReplicas {
        numreplicas: numreplicas.max(0) as u64,
        offset,
        deadline,
    };
    Ok(())
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], parsed as Redis 7.0 does (each
/// option once, in any order), then started by the engine (see `engine::failover`).
fn failover(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() == 2 && ctx.arg(1).eq_ignore_ascii_case(b"ABORT") {
        abort_requested(ctx.state, ctx.engine).map_err(|e| CmdError::Other(format!("ERR {e}")))?;
        ctx.out.ok();
        return Ok(());
    }
    let mut request = FailoverRequest::default();
    let mut j = 1;
    while j < ctx.argv.len() {
        let arg = ctx.arg(j);
        let left = ctx.argv.len() - j - 1;
        if arg.eq_ignore_ascii_case(b"TIMEOUT") && left >= 1 && request.timeout_ms.is_none() {
            let t = parse_int(ctx.arg(j + 1))?;
            if t <= 0 {
                return Err(CmdError::Fixed(error::FAILOVER_TIMEOUT));
            }
            request.timeout_ms = Some(t as u64);
            j += 2;
        } else if arg.eq_ignore_ascii_case(b"TO") && left >= 2 && request.target.is_none() {
            let port = parse_int(ctx.arg(j + 2))?;
            let host = String::from_utf8_lossy(ctx.arg(j + 1)).into_owned();
            // A port no replica can have is simply "not a replica", as in Redis.
            request.target = Some((host, u16::try_from(port).unwrap_or(0)));
            j += 3;
        } else if arg.eq_ignore_ascii_case(b"FORCE") && !request.force {
            request.force = true;
            j += 1;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    begin_failover(ctx.state, ctx.engine, request)
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    ctx.out.ok();
    Ok(())
}

/// Replication commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "failover",
        -1,
        ADMIN | NOSCRIPT | STALE,
        (0, 0, 0),
        "server",
        failover
    ),
    cmd!(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        psync
    ),
    cmd!(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        sync
    ),
    cmd!(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        replconf
    ),
    cmd!(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        replicaof
    ),
    cmd!(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        replicaof
    ),
    cmd!(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        role
    ),
    cmd!("wait", 3, NOSCRIPT, (0, 0, 0), "generic", wait),
];
