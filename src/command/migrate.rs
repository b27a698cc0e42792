//! MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password |
//! AUTH2 username password] [KEYS key ...]: moves keys to another instance, as Redis 7.0.
//!
//! The keys are sent as RESTORE commands carrying DUMP payloads over a cached connection
//! ([`crate::engine::migrate`]; TLS with `tls-cluster yes`, as in Redis), and each key the target acknowledged is deleted here (a DEL
//! to our replicas) unless COPY is given. Like Redis, the command waits for the target
//! within its timeout while holding the server: what the target acknowledged is never seen
//! both here and there by a client.

use std::time::Duration;

use bytes::Bytes;

use super::ctx::{argv_of, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::migrate::{is_timeout, ConnectError, TargetLink};
use crate::engine::notify;
use crate::keyspace::NO_EXPIRE;
use crate::resp::{Proto, ReplyBuf};

/// What MIGRATE was asked to do.
struct Request {
    copy: bool,
    replace: bool,
    auth: Option<(Option<Bytes>, Bytes)>,
    /// Index of the first key, and how many there are.
    first_key: usize,
    num_keys: usize,
}

/// Options from argument 6 on, redacting passwords as they are met.
fn parse_options(ctx: &mut Ctx) -> Result<Request, CmdError> {
    let mut req = Request {
        copy: false,
        replace: false,
        auth: None,
        first_key: 3,
        num_keys: 1,
    };
    let argc = ctx.argv.len();
    let mut j = 6;
    while j < argc {
        let opt = ctx.arg(j);
        let more = argc - 1 - j;
        if opt.eq_ignore_ascii_case(b"COPY") {
            req.copy = true;
        } else if opt.eq_ignore_ascii_case(b"REPLACE") {
            req.replace = true;
        } else if opt.eq_ignore_ascii_case(b"AUTH") {
            if more < 1 {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
            j += 1;
            ctx.redact(j);
            req.auth = Some((None, ctx.argv[j].clone()));
        } else if opt.eq_ignore_ascii_case(b"AUTH2") {
            if more < 2 {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
            ctx.redact(j + 1);
            ctx.redact(j + 2);
            req.auth = Some((Some(ctx.argv[j + 1].clone()), ctx.argv[j + 2].clone()));
            j += 2;
        } else if opt.eq_ignore_ascii_case(b"KEYS") {
            if !ctx.arg(3).is_empty() {
                return Err(CmdError::Fixed(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            req.first_key = j + 1;
            req.num_keys = argc - j - 1;
            break;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    Ok(req)
}

/// How one exchange with the target ended.
struct Exchange {
    /// Keys the target acknowledged, in order.
    acked: Vec<Bytes>,
    /// The target's first error line (AUTH's, SELECT's or a RESTORE's).
    target_error: Option<Vec<u8>>,
    /// The socket failed.
    socket_error: Option<SocketError>,
}

struct SocketError {
    /// While writing (else reading).
    writing: bool,
    /// Nothing was processed and the timeout did not run out: a fresh connection may
    /// succeed (a cached one the target closed meanwhile), so MIGRATE tries once more.
    retry: bool,
}

fn migrate(ctx: &mut Ctx) -> CmdResult {
    let req = parse_options(ctx)?;
    let timeout = parse_int(ctx.arg(5))?;
    let db = parse_int(ctx.arg(4))?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    let (now, clock) = (ctx.now, ctx.clock());
    let mut keys: Vec<Bytes> = Vec::new();
    for key in &ctx.argv[req.first_key..req.first_key + req.num_keys] {
        if ctx.db().get_counted(key, now, clock).is_some() {
            keys.push(key.clone());
        }
    }
    if keys.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }
    let host = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    let port = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let tls = if ctx.engine.settings.tls.cluster {
        // `tls-cluster yes` needs a TLS configuration (Redis does not start without one).
        let context = ctx.state.tls.read();
        let Some(context) = context.as_ref() else {
            return Err(CmdError::Fixed(
                "IOERR error or timeout connecting to the client",
            ));
        };
        Some(context.client.clone())
    } else {
        None
    };
    let mut may_retry = true;
    loop {
        let sockets = &mut ctx.engine.migrate_sockets;
        let mut link = match sockets.take_or_connect(&host, &port, timeout, now / 1000, tls.clone())
        {
            Ok(link) => link,
            Err(ConnectError::Unreachable) => {
                return Err(CmdError::Fixed(
                    "IOERR error or timeout connecting to the client",
                ))
            }
            Err(ConnectError::Refused) if may_retry => {
                may_retry = false;
                continue;
            }
            Err(ConnectError::Refused) => {
                return Err(CmdError::Fixed(
                    "IOERR error or timeout writing to target instance",
                ))
            }
        };
        let select = link.selected_db != Some(db);
        let (request, sent) = build_request(ctx, &req, select, db, &keys);
        let done = exchange(&mut link, &request, &req, select, &sent, timeout);
        if let Some(SocketError { retry: true, .. }) = done.socket_error {
            if may_retry {
                // The link is dropped (closed); the next round connects afresh.
                may_retry = false;
                continue;
            }
        }
        if !req.copy && !done.acked.is_empty() {
            delete_acked(ctx, &done.acked);
        }
        if let Some(line) = done.target_error {
            // Whatever the target's state now, SELECT again next time.
            link.selected_db = None;
            if done.socket_error.is_none() {
                ctx.engine.migrate_sockets.put_back(&host, &port, link);
            }
            return Err(CmdError::Other(format!(
                "ERR Target instance replied with error: {}",
                String::from_utf8_lossy(&line[1..])
            )));
        }
        if let Some(err) = done.socket_error {
            return Err(CmdError::Other(format!(
                "IOERR error or timeout {} to target instance",
                if err.writing { "writing" } else { "reading" }
            )));
        }
        link.selected_db = Some(db);
        ctx.engine.migrate_sockets.put_back(&host, &port, link);
        ctx.out.ok();
        return Ok(());
    }
}

/// The commands for the target — AUTH, SELECT when the database changes, then a RESTORE
/// per key still alive — and the keys they carry.
fn build_request(
    ctx: &mut Ctx,
    req: &Request,
    select: bool,
    db: i64,
    keys: &[Bytes],
) -> (Vec<u8>, Vec<Bytes>) {
    let mut out = ReplyBuf::new(Proto::Resp2);
    if let Some((user, pass)) = &req.auth {
        out.array(if user.is_some() { 3 } else { 2 });
        out.bulk(b"AUTH");
        if let Some(user) = user {
            out.bulk(user);
        }
        out.bulk(pass);
    }
    if select {
        out.array(2);
        out.bulk(b"SELECT");
        out.bulk(db.to_string().as_bytes());
    }
    let now = ctx.now;
    let compression = ctx.engine.settings.rdbcompression;
    let mut sent = Vec::with_capacity(keys.len());
    for key in keys {
        let Some(item) = ctx.db().get(key, now) else {
            continue;
        };
        let ttl = match item.expire_at() {
            NO_EXPIRE => 0,
            at => (at - now).max(1),
        };
        let payload = crate::rdb::encode_value(&item.value, compression);
        out.array(if req.replace { 5 } else { 4 });
        out.bulk(b"RESTORE");
        out.bulk(key);
        out.bulk(ttl.to_string().as_bytes());
        out.bulk(&payload);
        if req.replace {
            out.bulk(b"REPLACE");
        }
        sent.push(key.clone());
    }
    (out.buf, sent)
}

/// Sends the request and reads a reply per command, as Redis reads them: the AUTH and
/// SELECT replies first, then one per RESTORE. An error of AUTH or SELECT counts against
/// every key; a read that fails ends the exchange with what was acknowledged until then.
fn exchange(
    link: &mut TargetLink,
    request: &[u8],
    req: &Request,
    select: bool,
    sent: &[Bytes],
    timeout: Duration,
) -> Exchange {
    let mut done = Exchange {
        acked: Vec::new(),
        target_error: None,
        socket_error: None,
    };
    if let Err(e) = link.write_all(request, timeout) {
        done.socket_error = Some(SocketError {
            writing: true,
            retry: !is_timeout(&e),
        });
        return done;
    }
    let mut prelude_error: Option<Vec<u8>> = None;
    let prelude = usize::from(req.auth.is_some()) + usize::from(select);
    for _ in 0..prelude {
        match link.read_line(timeout) {
            Ok(line) if line.first() == Some(&b'-') => {
                prelude_error.get_or_insert(line);
            }
            Ok(_) => {}
            Err(e) => {
                done.socket_error = Some(SocketError {
                    writing: false,
                    retry: !is_timeout(&e),
                });
                return done;
            }
        }
    }
    for (i, key) in sent.iter().enumerate() {
        let line = match link.read_line(timeout) {
            Ok(line) => line,
            Err(e) => {
                done.socket_error = Some(SocketError {
                    writing: false,
                    retry: i == 0 && done.target_error.is_none() && !is_timeout(&e),
                });
                break;
            }
        };
        if let Some(prelude) = &prelude_error {
            done.target_error.get_or_insert_with(|| prelude.clone());
        } else if line.first() == Some(&b'-') {
            done.target_error.get_or_insert(line);
        } else {
            done.acked.push(key.clone());
        }
    }
    done
}

/// Deletes the keys the target acknowledged and replicates their removal as one DEL.
fn delete_acked(ctx: &mut Ctx, acked: &[Bytes]) {
    let now = ctx.now;
    let mut del: Vec<&[u8]> = vec![b"DEL"];
    for key in acked {
        if ctx.db().delete(key, now) {
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", key);
            del.push(key);
        }
    }
    if del.len() > 1 {
        ctx.propagate_as(vec![argv_of(&del)]);
    }
}

/// MIGRATE.
pub static COMMANDS: &[Spec] = &[cmd!(
    "migrate",
    -6,
    WRITE | MOVABLEKEYS,
    (3, 3, 1),
    "generic",
    migrate
)];
