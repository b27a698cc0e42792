//! XREAD and XREADGROUP, blocking included.
//!
//! A read that finds nothing and may block registers the client on its keys; when a key
//! becomes ready the executor re-runs the command in serving mode (`ctx.ready_key` set), and
//! it is then answered from that key alone, as Redis's `serveClientsBlockedOnStreamKey`
//! answers it: when the stream's last ID passed the one waited for (or, in a group, the
//! group's last delivered ID). XREAD's `$` is resolved when the client blocks, so the
//! re-run waits for entries after what was the end then.

use crate::engine::notify;
use std::time::Duration;

use bytes::Bytes;

use super::{arg_bytes, id_bytes, parse_id, reply_entry, reply_id, IdForm};
use crate::command::ctx::{CallMode, Ctx};
use crate::command::error::{self, CmdError, CmdResult};
use crate::keyspace::types::stream::{Group, Stream, StreamId};
use crate::keyspace::{blob, Blob, Value};
use crate::resp::{Argv, ReplyBuf};

/// Entries a blocked read without COUNT gets when it is served (Redis's
/// `XREAD_BLOCKED_DEFAULT_COUNT`), so a low ID does not make one reply huge.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The parsed options of XREAD / XREADGROUP.
struct ReadArgs<'a> {
    /// BLOCK: `Some(None)` waits forever.
    block: Option<Option<Duration>>,
    /// COUNT; 0 = no limit.
    count: usize,
    /// Index of the first key.
    keys_at: usize,
    /// Number of streams.
    streams: usize,
    /// GROUP name and consumer.
    group: Option<(&'a [u8], &'a [u8])>,
    /// NOACK.
    noack: bool,
}

/// What one stream is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    /// Entries after this ID.
    After(StreamId),
    /// `>`: entries never delivered to the group.
    NewToGroup,
}

fn parse_args<'a>(ctx: &Ctx<'a>, xreadgroup: bool) -> Result<ReadArgs<'a>, CmdError> {
    let argv = ctx.argv;
    let mut args = ReadArgs {
        block: None,
        count: 0,
        keys_at: 0,
        streams: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let opt = &argv[i][..];
        if opt.eq_ignore_ascii_case(b"BLOCK") && more > 0 {
            if ctx.mode == CallMode::Script {
                let mut msg = b"ERR ".to_vec();
                msg.extend_from_slice(&argv[0]);
                msg.extend_from_slice(b" command is not allowed with BLOCK option from scripts");
                return Err(CmdError::Raw(msg));
            }
            i += 1;
            let ms = crate::resp::parser::parse_i64(&argv[i])
                .ok_or(CmdError::Fixed(error::TIMEOUT_NOT_INTEGER))?;
            if ms < 0 {
                return Err(CmdError::Fixed(error::TIMEOUT_NEGATIVE));
            }
            if ms > i64::MAX - ctx.now.max(0) {
                return Err(CmdError::Fixed(error::TIMEOUT_OUT_OF_RANGE));
            }
            args.block = Some((ms > 0).then(|| Duration::from_millis(ms as u64)));
        } else if opt.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            i += 1;
            args.count = crate::command::numeric::parse_int(&argv[i])?.max(0) as usize;
        } else if opt.eq_ignore_ascii_case(b"STREAMS") && more > 0 {
            args.keys_at = i + 1;
            let rest = argv.len() - args.keys_at;
            if !rest.is_multiple_of(2) {
                return Err(CmdError::Fixed(error::XREAD_UNBALANCED));
            }
            args.streams = rest / 2;
            break;
        } else if opt.eq_ignore_ascii_case(b"GROUP") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::Fixed(error::XREAD_GROUP_OPTION));
            }
            args.group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"NOACK") {
            if !xreadgroup {
                return Err(CmdError::Fixed(error::XREAD_NOACK_OPTION));
            }
            args.noack = true;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        i += 1;
    }
    if args.keys_at == 0 {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    if xreadgroup && args.group.is_none() {
        return Err(CmdError::Fixed(error::XREADGROUP_NO_GROUP));
    }
    Ok(args)
}

fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::quoting(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"' in XREADGROUP with GROUP option",
    ])
}

/// The stream at `key`, `None` when missing; WRONGTYPE for another type.
fn stream_at<'d>(
    db: &'d mut crate::keyspace::Db,
    key: &[u8],
    now: i64,
    clock: u32,
) -> Result<Option<&'d mut Stream>, CmdError> {
    if db.get_counted(key, now, clock).is_none() {
        return Ok(None);
    }
    match db.get_mut(key, now) {
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::Fixed(error::WRONGTYPE)),
        None => Ok(None),
    }
}

pub fn xread(ctx: &mut Ctx) -> CmdResult {
    read_generic(ctx, false)
}

pub fn xreadgroup(ctx: &mut Ctx) -> CmdResult {
    read_generic(ctx, true)
}

fn read_generic(ctx: &mut Ctx, xreadgroup: bool) -> CmdResult {
    let args = parse_args(ctx, xreadgroup)?;
    if ctx.mode == CallMode::Serving {
        if let Some(ready) = ctx.ready_key {
            return serve_ready(ctx, &args, ready);
        }
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let argv = ctx.argv;
    let keys = &argv[args.keys_at..args.keys_at + args.streams];
    let ids = &argv[args.keys_at + args.streams..];
    // Resolve every ID (and check every key and group) before reading anything.
    let mut from = Vec::with_capacity(args.streams);
    {
        let db = ctx.db();
        for (key, id) in keys.iter().zip(ids) {
            let stream = stream_at(db, key, now, clock)?;
            if let Some((group, _)) = args.group {
                if !stream
                    .as_ref()
                    .is_some_and(|s| s.groups.contains_key(group))
                {
                    return Err(no_group(key, group));
                }
            }
            let f = match &id[..] {
                b"$" if xreadgroup => return Err(CmdError::Fixed(error::XREADGROUP_DOLLAR)),
                b"$" => From::After(stream.map_or(StreamId::MIN, |s| s.last_id)),
                b">" if !xreadgroup => return Err(CmdError::Fixed(error::XREAD_GT)),
                b">" => From::NewToGroup,
                other => From::After(parse_id(other, 0, IdForm::Strict)?),
            };
            from.push(f);
        }
    }
    let mut body = ReplyBuf::new(ctx.out.proto);
    let mut served = 0;
    let mut propagate: Vec<Argv> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let db_index = ctx.session.db;
        let db = &mut ctx.engine.keyspace.dbs[db_index];
        let Some(stream) = stream_at(db, key, now, clock)? else {
            continue;
        };
        let read = match (args.group, from[i]) {
            (Some((group, consumer)), f) => {
                let last_delivered = stream.groups.get(group).map(|g| g.last_id);
                let start = match f {
                    From::After(id) => Some((id, true)),
                    From::NewToGroup => match (stream.last_entry(), last_delivered) {
                        (Some((top, _)), Some(last)) if *top > last => Some((last, false)),
                        _ => None,
                    },
                };
                start.map(|(after, history)| GroupRead {
                    group: Some((group, consumer)),
                    after,
                    history,
                })
            }
            (None, From::After(after)) => {
                if stream.last_entry().is_some_and(|(top, _)| *top > after) {
                    Some(GroupRead::plain(after))
                } else {
                    None
                }
            }
            (None, From::NewToGroup) => None,
        };
        let Some(read) = read else {
            continue;
        };
        served += 1;
        if body.resp3() {
            body.bulk(key);
        } else {
            body.array(2);
            body.bulk(key);
        }
        let created = read.reply(
            stream,
            key,
            &mut body,
            args.count,
            args.noack,
            now,
            &mut propagate,
        );
        if args.group.is_some() {
            ctx.dirty += 1;
        }
        if created {
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
    }
    if args.group.is_some() {
        ctx.propagate_as(propagate);
    }
    if served > 0 {
        open_reply(ctx.out, served);
        ctx.out.raw(&body.buf);
        return Ok(());
    }
    match args.block {
        Some(timeout) if ctx.may_block() => {
            let waited: Vec<Blob> = keys.iter().map(|k| blob(k)).collect();
            let mut rerun: Vec<Bytes> = argv.to_vec();
            for (i, f) in from.iter().enumerate() {
                if let (From::After(id), b"$") = (f, &ids[i][..]) {
                    rerun[args.keys_at + args.streams + i] = Bytes::from(id_bytes(*id));
                }
            }
            ctx.block_as(waited, timeout, rerun);
        }
        _ => ctx.out.null_array(),
    }
    Ok(())
}

/// Answers a blocked read whose key `ready` became ready, from that key alone.
fn serve_ready(ctx: &mut Ctx, args: &ReadArgs, ready: &[u8]) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let argv = ctx.argv;
    let keys = &argv[args.keys_at..args.keys_at + args.streams];
    let Some(i) = keys.iter().position(|k| &k[..] == ready) else {
        ctx.block_as(Vec::new(), None, Vec::new());
        return Ok(());
    };
    let id_arg = &argv[args.keys_at + args.streams + i];
    let stay_blocked = |ctx: &mut Ctx| ctx.block_as(Vec::new(), None, Vec::new());
    let db_index = ctx.session.db;
    let db = &mut ctx.engine.keyspace.dbs[db_index];
    let stream = match stream_at(db, ready, now, clock) {
        Ok(Some(s)) => s,
        // A group reader's stream is gone (or replaced): it can never be served.
        _ if args.group.is_some() => {
            return Err(CmdError::Fixed(error::XREADGROUP_KEY_GONE));
        }
        _ => {
            stay_blocked(ctx);
            return Ok(());
        }
    };
    let read = match args.group {
        Some((group, consumer)) => {
            let Some(g) = stream.groups.get(group) else {
                return Err(CmdError::Fixed(error::XREADGROUP_GROUP_GONE));
            };
            GroupRead {
                group: Some((group, consumer)),
                after: g.last_id,
                history: false,
            }
        }
        None => GroupRead::plain(parse_id(id_arg, 0, IdForm::Strict)?),
    };
    if stream.last_id <= read.after {
        stay_blocked(ctx);
        return Ok(());
    }
    let count = if args.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        args.count
    };
    let mut body = ReplyBuf::new(ctx.out.proto);
    let mut propagate = Vec::new();
    let created = read.reply(
        stream,
        ready,
        &mut body,
        count,
        args.noack,
        now,
        &mut propagate,
    );
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", ready);
    }
    open_reply(ctx.out, 1);
    if !ctx.out.resp3() {
        ctx.out.array(2);
    }
    ctx.out.bulk(ready);
    ctx.out.raw(&body.buf);
    if args.group.is_some() {
        ctx.dirty += 1;
        ctx.propagate_as(propagate);
    }
    Ok(())
}

/// One stream's read: plain, or on behalf of a consumer of a group.
struct GroupRead<'a> {
    /// Group and consumer names; `None` for a plain read.
    group: Option<(&'a [u8], &'a [u8])>,
    /// Entries after this ID.
    after: StreamId,
    /// Read the consumer's own pending entries instead of the stream.
    history: bool,
}

impl<'a> GroupRead<'a> {
    fn plain(after: StreamId) -> GroupRead<'a> {
        GroupRead {
            group: None,
            after,
            history: false,
        }
    }

    /// Writes the entries (`[[id, fields], ...]`) and, for a group, records the deliveries
    /// and what replicas must apply (Redis's `streamReplyWithRange`). Returns true when
    /// the read created the consumer.
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &self,
        stream: &mut Stream,
        key: &[u8],
        out: &mut ReplyBuf,
        count: usize,
        noack: bool,
        now: i64,
        propagate: &mut Vec<Argv>,
    ) -> bool {
        let limit = if count == 0 { usize::MAX } else { count };
        let Some(start) = self.after.next() else {
            out.array(0);
            return false;
        };
        let Some((name, consumer)) = self.group else {
            let entries: Vec<_> = stream
                .range(start, StreamId::MAX, false)
                .take(limit)
                .collect();
            out.array(entries.len());
            for (id, fields) in entries {
                reply_entry(out, *id, fields);
            }
            return false;
        };
        let Some(mut group) = stream.groups.remove(name) else {
            out.array(0);
            return false;
        };
        let created = !group.consumers.contains_key(consumer);
        if created {
            group.consumers.insert(blob(consumer), Default::default());
            if noack {
                propagate.push(argv(&[b"XGROUP", b"CREATECONSUMER", key, name, consumer]));
            }
        }
        if let Some(c) = group.consumers.get_mut(consumer) {
            c.seen_time = now;
        }
        let target = Delivery {
            key,
            group: name,
            consumer,
        };
        if self.history {
            reply_history(stream, &mut group, consumer, start, limit, now, out);
        } else {
            reply_new(
                stream, &mut group, &target, start, limit, noack, now, out, propagate,
            );
        }
        stream.groups.insert(blob(name), group);
        created
    }
}

/// Where group deliveries go: the stream's key, the group and the consumer.
struct Delivery<'a> {
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
}

/// New entries for a consumer: each moves the group's last ID and, unless NOACK, enters
/// the pending list, propagated as a claim.
#[allow(clippy::too_many_arguments)]
fn reply_new(
    stream: &Stream,
    group: &mut Group,
    target: &Delivery,
    start: StreamId,
    limit: usize,
    noack: bool,
    now: i64,
    out: &mut ReplyBuf,
    propagate: &mut Vec<Argv>,
) {
    let entries: Vec<_> = stream
        .range(start, StreamId::MAX, false)
        .take(limit)
        .collect();
    out.array(entries.len());
    let mut moved_last_id = false;
    for (id, fields) in entries {
        if *id > group.last_id {
            stream.advance_group(group, *id);
            moved_last_id = true;
        }
        reply_entry(out, *id, fields);
        if !noack {
            group.deliver(*id, target.consumer, now);
            if let Some(nack) = group.pel.get(id) {
                propagate.push(claim_argv(
                    target.key,
                    target.group,
                    *id,
                    nack,
                    group.last_id,
                ));
            }
        }
    }
    if noack && moved_last_id {
        propagate.push(setid_argv(target.key, target.group, group));
    }
}

/// The consumer's pending entries from `start` (an entry deleted since is answered
/// with a null body); each counts as delivered again.
fn reply_history(
    stream: &Stream,
    group: &mut Group,
    consumer: &[u8],
    start: StreamId,
    limit: usize,
    now: i64,
    out: &mut ReplyBuf,
) {
    let ids: Vec<StreamId> = group
        .consumers
        .get(consumer)
        .map(|c| c.pel.range(start..).take(limit).copied().collect())
        .unwrap_or_default();
    out.array(ids.len());
    for id in ids {
        match stream.get(id) {
            Some(fields) => {
                reply_entry(out, id, fields);
                if let Some(nack) = group.pel.get_mut(&id) {
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                }
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
    }
}

/// The reply's outer level: a map of key to entries in RESP3, an array of pairs in RESP2.
fn open_reply(out: &mut ReplyBuf, streams: usize) {
    if out.resp3() {
        out.map(streams);
    } else {
        out.array(streams);
    }
}

fn argv(parts: &[&[u8]]) -> Argv {
    parts.iter().map(|p| arg_bytes(p)).collect()
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`: puts
/// one pending entry on a replica exactly as it is here (Redis's `streamPropagateXCLAIM`).
pub(super) fn claim_argv(
    key: &[u8],
    group: &[u8],
    id: StreamId,
    nack: &crate::keyspace::types::stream::Nack,
    last_id: StreamId,
) -> Argv {
    claim_argv_spelled(key, group, &id_bytes(id), nack, last_id)
}

/// [`claim_argv`] with the ID spelled as the client spelled it (XCLAIM propagates its
/// own arguments).
pub(super) fn claim_argv_spelled(
    key: &[u8],
    group: &[u8],
    id: &[u8],
    nack: &crate::keyspace::types::stream::Nack,
    last_id: StreamId,
) -> Argv {
    let time = itoa::Buffer::new().format(nack.delivery_time).to_string();
    let count = itoa::Buffer::new().format(nack.delivery_count).to_string();
    argv(&[
        b"XCLAIM",
        key,
        group,
        &nack.consumer,
        b"0",
        id,
        b"TIME",
        time.as_bytes(),
        b"RETRYCOUNT",
        count.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        &id_bytes(last_id),
    ])
}

/// `XGROUP SETID key group last ENTRIESREAD n`: a group's position when no claim carries
/// it (Redis's `streamPropagateGroupID`).
pub(super) fn setid_argv(key: &[u8], name: &[u8], group: &Group) -> Argv {
    let read = group.entries_read.map_or(-1, |n| n as i64);
    argv(&[
        b"XGROUP",
        b"SETID",
        key,
        name,
        &id_bytes(group.last_id),
        b"ENTRIESREAD",
        itoa::Buffer::new().format(read).as_bytes(),
    ])
}
