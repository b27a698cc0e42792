//! Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

use crate::engine::notify;
use bytes::Bytes;

use super::read::{claim_argv, claim_argv_spelled, setid_argv};
use super::{id_bytes, parse_bound, parse_id, reply_entry, reply_id, IdForm};
use crate::command::collection::{db_out, modify, peek};
use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::numeric::parse_int;
use crate::command::reply::help_reply;
use crate::keyspace::blob;
use crate::keyspace::types::stream::{Group, Nack, Stream, StreamId};
use crate::resp::Argv;

fn no_such_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::quoting(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"'",
    ])
}

fn no_group_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::quoting(&[
        b"NOGROUP No such consumer group '",
        group,
        b"' for key name '",
        key,
        b"'",
    ])
}

/// A count as `getLongLongFromObjectOrReply` with a command-specific message reads it.
fn parse_int_or(arg: &[u8], message: &'static str) -> Result<i64, CmdError> {
    crate::resp::parser::parse_i64(arg).ok_or(CmdError::Fixed(message))
}

// ---- XGROUP ----

/// CREATE's and SETID's options after the ID: MKSTREAM (CREATE only) and ENTRIESREAD.
struct GroupOptions {
    mkstream: bool,
    /// `None` = Redis's -1 (unknown).
    entries_read: Option<u64>,
}

fn parse_group_options(ctx: &Ctx, create: bool) -> Result<GroupOptions, CmdError> {
    let argv = ctx.argv;
    let mut opts = GroupOptions {
        mkstream: false,
        entries_read: None,
    };
    let mut i = 5;
    while i < argv.len() {
        if create && argv[i].eq_ignore_ascii_case(b"MKSTREAM") {
            opts.mkstream = true;
            i += 1;
        } else if argv[i].eq_ignore_ascii_case(b"ENTRIESREAD") && i + 1 < argv.len() {
            let n = parse_int(&argv[i + 1])?;
            if n < -1 {
                return Err(CmdError::Fixed(error::XGROUP_ENTRIES_READ));
            }
            opts.entries_read = (n >= 0).then_some(n as u64);
            i += 2;
        } else {
            return Err(CmdError::subcommand_syntax(&argv[0], &argv[1]));
        }
    }
    Ok(opts)
}

/// The stream XGROUP works on; missing is an error unless `may_create`.
fn xgroup_stream<'d>(
    db: &'d mut crate::keyspace::Db,
    key: &[u8],
    now: i64,
    may_create: bool,
) -> Result<Option<&'d mut Stream>, CmdError> {
    let stream = modify::<Stream>(db, key, now)?;
    if stream.is_none() && !may_create {
        return Err(CmdError::Fixed(error::XGROUP_NO_KEY));
    }
    Ok(stream)
}

/// The stream an XGROUP subcommand other than CREATE ... MKSTREAM works on.
fn existing_stream<'d>(
    db: &'d mut crate::keyspace::Db,
    key: &[u8],
    now: i64,
) -> Result<&'d mut Stream, CmdError> {
    xgroup_stream(db, key, now, false)?.ok_or(CmdError::Fixed(error::XGROUP_NO_KEY))
}

/// The group a consumer subcommand works on (NOGROUP naming both when missing).
fn existing_group<'d>(
    db: &'d mut crate::keyspace::Db,
    key: &[u8],
    name: &[u8],
    now: i64,
) -> Result<&'d mut Group, CmdError> {
    existing_stream(db, key, now)?
        .groups
        .get_mut(name)
        .ok_or_else(|| no_group_for_key(key, name))
}

/// The group's start: `$` is the stream's last ID.
fn parse_group_id(arg: &[u8], stream: Option<&Stream>, form: IdForm) -> Result<StreamId, CmdError> {
    if arg == b"$" {
        return Ok(stream.map_or(StreamId::MIN, |s| s.last_id));
    }
    parse_id(arg, 0, form)
}

pub fn xgroup_create(ctx: &mut Ctx) -> CmdResult {
    let opts = parse_group_options(ctx, true)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, name) = (ctx.arg(2), ctx.arg(3));
    let argv = ctx.argv;
    if argv.len() > 8 {
        return Err(CmdError::subcommand_syntax(&argv[0], &argv[1]));
    }
    let (db, out) = db_out(ctx);
    let existing = xgroup_stream(db, key, now, opts.mkstream)?;
    let id = parse_group_id(ctx_arg(argv, 4), existing.as_deref(), IdForm::Strict)?;
    let stream = match existing {
        Some(s) => s,
        None => {
            db.insert(
                key,
                crate::keyspace::Value::Stream(Box::default()),
                crate::keyspace::NO_EXPIRE,
                clock,
            );
            modify::<Stream>(db, key, now)?.ok_or(CmdError::Fixed(error::WRONGTYPE))?
        }
    };
    if stream.groups.contains_key(name) {
        return Err(CmdError::Fixed(error::XGROUP_BUSY));
    }
    stream
        .groups
        .insert(blob(name), Group::new(id, opts.entries_read));
    out.ok();
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xgroup-create", key);
    Ok(())
}

fn ctx_arg(argv: &[Bytes], i: usize) -> &[u8] {
    &argv[i]
}

pub fn xgroup_setid(ctx: &mut Ctx) -> CmdResult {
    let opts = parse_group_options(ctx, false)?;
    let now = ctx.now;
    let (key, name) = (ctx.arg(2), ctx.arg(3));
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let stream = existing_stream(db, key, now)?;
    if !stream.groups.contains_key(name) {
        return Err(no_group_for_key(key, name));
    }
    if argv.len() != 5 && argv.len() != 7 {
        return Err(CmdError::subcommand_syntax(&argv[0], &argv[1]));
    }
    let id = parse_group_id(&argv[4], Some(stream), IdForm::Range)?;
    if let Some(group) = stream.groups.get_mut(name) {
        group.last_id = id;
        group.entries_read = opts.entries_read;
    }
    out.ok();
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xgroup-setid", key);
    Ok(())
}

pub fn xgroup_destroy(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name) = (ctx.arg(2), ctx.arg(3));
    let (db, out) = db_out(ctx);
    let stream = existing_stream(db, key, now)?;
    if stream.groups.remove(name).is_none() {
        out.int(0);
        return Ok(());
    }
    out.int(1);
    // Clients blocked in XREADGROUP on this group are answered NOGROUP.
    db.signal_ready(key);
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xgroup-destroy", key);
    Ok(())
}

pub fn xgroup_createconsumer(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name, consumer) = (ctx.arg(2), ctx.arg(3), ctx.arg(4));
    let (db, out) = db_out(ctx);
    let group = existing_group(db, key, name, now)?;
    if group.consumers.contains_key(consumer) {
        out.int(0);
        return Ok(());
    }
    group.consumers.insert(
        blob(consumer),
        crate::keyspace::types::stream::Consumer {
            seen_time: now,
            pel: Default::default(),
        },
    );
    out.int(1);
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    Ok(())
}

pub fn xgroup_delconsumer(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name, consumer) = (ctx.arg(2), ctx.arg(3), ctx.arg(4));
    let (db, out) = db_out(ctx);
    let group = existing_group(db, key, name, now)?;
    match group.remove_consumer(consumer) {
        Some(pending) => {
            out.int(pending as i64);
            ctx.modified(key);
            ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
        }
        None => out.int(0),
    }
    Ok(())
}

pub fn xgroup_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Prints this help.",
        ],
    )
}

// ---- XACK ----

pub fn xack(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name) = (ctx.arg(1), ctx.arg(2));
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let group = match modify::<Stream>(db, key, now)? {
        Some(stream) => stream.groups.get_mut(name),
        None => None,
    };
    let Some(group) = group else {
        out.int(0);
        return Ok(());
    };
    let ids = argv[3..]
        .iter()
        .map(|a| parse_id(a, 0, IdForm::Strict))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = ids.into_iter().filter(|id| group.ack(*id)).count();
    out.int(acked as i64);
    ctx.dirty += acked as u64;
    Ok(())
}

// ---- XPENDING ----

/// XPENDING's extended form: the IDs, how many, whose, and how idle at least.
struct PendingRange<'a> {
    start: StreamId,
    end: StreamId,
    count: usize,
    consumer: Option<&'a [u8]>,
    min_idle: i64,
}

pub fn xpending(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let mut range: Option<PendingRange> = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if argv[3].eq_ignore_ascii_case(b"IDLE") {
            min_idle = parse_int(&argv[4])?;
            if argc < 8 {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
            at += 2;
        }
        let count = parse_int(&argv[at + 2])?.max(0) as usize;
        let start = parse_bound(&argv[at], true)?;
        let end = parse_bound(&argv[at + 1], false)?;
        let consumer = argv.get(at + 3).map(|c| &c[..]);
        range = Some(PendingRange {
            start,
            end,
            count,
            consumer,
            min_idle,
        });
    }
    let now = ctx.now;
    let (key, name) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let group = peek::<Stream>(db, key, now)?
        .and_then(|s| s.groups.get(name))
        .ok_or_else(|| no_such_group(key, name))?;
    let Some(PendingRange {
        start,
        end,
        count,
        consumer,
        min_idle,
    }) = range
    else {
        out.array(4);
        out.int(group.pel.len() as i64);
        let (Some((first, _)), Some((last, _))) =
            (group.pel.first_key_value(), group.pel.last_key_value())
        else {
            out.null();
            out.null();
            out.null_array();
            return Ok(());
        };
        reply_id(out, *first);
        reply_id(out, *last);
        let owners: Vec<_> = group
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .collect();
        out.array(owners.len());
        for (name, c) in owners {
            out.array(2);
            out.bulk(name);
            out.bulk_int(c.pel.len() as i64);
        }
        return Ok(());
    };
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(c) => match group.consumers.get(c) {
            Some(c) if start <= end => Box::new(c.pel.range(start..=end)),
            _ => Box::new(std::iter::empty()),
        },
        None if start <= end => Box::new(group.pel.range(start..=end).map(|(id, _)| id)),
        None => Box::new(std::iter::empty()),
    };
    let mut rows: Vec<(StreamId, &Nack)> = Vec::new();
    for id in ids {
        if rows.len() >= count {
            break;
        }
        let Some(nack) = group.pel.get(id) else {
            continue;
        };
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        rows.push((*id, nack));
    }
    out.array(rows.len());
    for (id, nack) in rows {
        out.array(4);
        reply_id(out, id);
        out.bulk(&nack.consumer);
        out.int((now - nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
    }
    Ok(())
}

// ---- XCLAIM / XAUTOCLAIM ----

/// The group of `key` for XCLAIM / XAUTOCLAIM (NOGROUP when the key or group is missing).
fn claim_target<'d>(
    db: &'d mut crate::keyspace::Db,
    key: &[u8],
    name: &[u8],
    now: i64,
) -> Result<&'d mut Stream, CmdError> {
    match modify::<Stream>(db, key, now)? {
        Some(s) if s.groups.contains_key(name) => Ok(s),
        _ => Err(no_such_group(key, name)),
    }
}

/// Touches (or creates) a claiming consumer, as Redis's lookup refreshes its seen time;
/// true when it created it.
fn touch_consumer(group: &mut Group, consumer: &[u8], now: i64) -> bool {
    let created = !group.consumers.contains_key(consumer);
    group.consumers.entry(blob(consumer)).or_default().seen_time = now;
    created
}

pub fn xclaim(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name, consumer) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let argv = ctx.argv;
    let proto = ctx.out.proto;
    let stream = claim_target(ctx.db(), key, name, now)?;
    let min_idle = parse_int_or(&argv[4], error::XCLAIM_MIN_IDLE)?.max(0);
    let mut ids: Vec<(StreamId, &Bytes)> = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_id(&argv[j], 0, IdForm::Strict) {
            Ok(id) => ids.push((id, &argv[j])),
            Err(_) => break,
        }
        j += 1;
    }
    let mut force = false;
    let mut justid = false;
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if opt.eq_ignore_ascii_case(b"FORCE") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"IDLE") && more > 0 {
            j += 1;
            delivery_time = Some(now - parse_int_or(&argv[j], error::XCLAIM_IDLE)?);
        } else if opt.eq_ignore_ascii_case(b"TIME") && more > 0 {
            j += 1;
            delivery_time = Some(parse_int_or(&argv[j], error::XCLAIM_TIME)?);
        } else if opt.eq_ignore_ascii_case(b"RETRYCOUNT") && more > 0 {
            j += 1;
            retry_count = Some(parse_int_or(&argv[j], error::XCLAIM_RETRYCOUNT)?);
        } else if opt.eq_ignore_ascii_case(b"LASTID") && more > 0 {
            j += 1;
            last_id = parse_id(&argv[j], 0, IdForm::Strict)?;
        } else {
            return Err(CmdError::quoting(&[
                b"ERR Unrecognized XCLAIM option '",
                opt,
                b"'",
            ]));
        }
        j += 1;
    }
    let Some(mut group) = stream.groups.remove(name) else {
        return Err(no_such_group(key, name));
    };
    let mut propagate: Vec<Argv> = Vec::new();
    let mut moved_last_id = false;
    if last_id > group.last_id {
        group.last_id = last_id;
        moved_last_id = true;
    }
    let delivery_time = match delivery_time {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let mut dirty = 0;
    let mut created_consumer = false;
    let mut reply = crate::resp::ReplyBuf::new(proto);
    let mut claimed = 0;
    for (id, spelled) in ids {
        if stream.get(id).is_none() {
            // The entry is gone: its pending record goes too, here and on replicas.
            if let Some(nack) = group.pel.get(&id) {
                propagate.push(claim_argv_spelled(key, name, spelled, nack, group.last_id));
                group.ack(id);
                moved_last_id = false;
                dirty += 1;
            }
            continue;
        }
        let existed = group.pel.contains_key(&id);
        if !existed && !force {
            continue;
        }
        if existed && min_idle > 0 {
            let idle = now - group.pel[&id].delivery_time;
            if idle < min_idle {
                continue;
            }
        }
        created_consumer |= touch_consumer(&mut group, consumer, now);
        if !existed {
            group.pel.insert(
                id,
                Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: blob(consumer),
                },
            );
        }
        let Some(nack) = group.reassign(id, consumer) else {
            continue;
        };
        nack.delivery_time = delivery_time;
        match retry_count {
            Some(n) if n >= 0 => nack.delivery_count = n as u64,
            _ if !justid => nack.delivery_count += 1,
            _ => {}
        }
        let nack = nack.clone();
        if justid {
            reply_id(&mut reply, id);
        } else if let Some(fields) = stream.get(id) {
            reply_entry(&mut reply, id, fields);
        }
        claimed += 1;
        propagate.push(claim_argv_spelled(key, name, spelled, &nack, group.last_id));
        moved_last_id = false;
        dirty += 1;
    }
    if moved_last_id {
        propagate.push(setid_argv(key, name, &group));
        dirty += 1;
    }
    stream.groups.insert(blob(name), group);
    ctx.out.array(claimed);
    ctx.out.raw(&reply.buf);
    ctx.dirty += dirty;
    if created_consumer {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate_as(propagate);
    Ok(())
}

pub fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name, consumer) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let argv = ctx.argv;
    let min_idle = parse_int_or(&argv[4], error::XAUTOCLAIM_MIN_IDLE)?.max(0);
    let start = parse_bound(&argv[5], true)?;
    const ATTEMPTS_PER_ENTRY: u64 = 10;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if argv[j].eq_ignore_ascii_case(b"COUNT") && more > 0 {
            let max = (i64::MAX as u64 / 16) as i64;
            let n = parse_int_or(&argv[j + 1], error::XAUTOCLAIM_COUNT)?;
            if !(1..=max).contains(&n) {
                return Err(CmdError::Fixed(error::XAUTOCLAIM_COUNT));
            }
            count = n as u64;
            j += 1;
        } else if argv[j].eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    let proto = ctx.out.proto;
    let stream = claim_target(ctx.db(), key, name, now)?;
    let Some(mut group) = stream.groups.remove(name) else {
        return Err(no_such_group(key, name));
    };
    let mut attempts = count.saturating_mul(ATTEMPTS_PER_ENTRY);
    let window = usize::try_from(attempts.saturating_add(1)).unwrap_or(usize::MAX);
    let candidates: Vec<StreamId> = group
        .pel
        .range(start..)
        .map(|(id, _)| *id)
        .take(window)
        .collect();
    let mut next = 0;
    let mut claimed_reply = crate::resp::ReplyBuf::new(proto);
    let mut claimed = 0;
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut propagate: Vec<Argv> = Vec::new();
    let mut dirty = 0;
    let mut created_consumer = false;
    while attempts > 0 && count > 0 && next < candidates.len() {
        attempts -= 1;
        let id = candidates[next];
        next += 1;
        let Some(nack) = group.pel.get(&id) else {
            continue;
        };
        if stream.get(id).is_none() {
            propagate.push(claim_argv(key, name, id, nack, group.last_id));
            group.ack(id);
            deleted.push(id);
            count -= 1;
            dirty += 1;
            continue;
        }
        if min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        created_consumer |= touch_consumer(&mut group, consumer, now);
        let Some(nack) = group.reassign(id, consumer) else {
            continue;
        };
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count += 1;
        }
        let nack = nack.clone();
        if justid {
            reply_id(&mut claimed_reply, id);
        } else if let Some(fields) = stream.get(id) {
            reply_entry(&mut claimed_reply, id, fields);
        }
        claimed += 1;
        count -= 1;
        propagate.push(claim_argv(key, name, id, &nack, group.last_id));
        dirty += 1;
    }
    let cursor = candidates.get(next).copied().unwrap_or(StreamId::MIN);
    stream.groups.insert(blob(name), group);
    let out = &mut *ctx.out;
    out.array(3);
    out.bulk(&id_bytes(cursor));
    out.array(claimed);
    out.raw(&claimed_reply.buf);
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    ctx.dirty += dirty;
    if created_consumer {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate_as(propagate);
    Ok(())
}
