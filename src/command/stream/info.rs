//! XINFO STREAM, GROUPS, CONSUMERS and HELP.

use super::{parse_int_arg, reply_entry, reply_id};
use crate::command::collection::{db_out, read};
use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::reply::help_reply;
use crate::keyspace::types::stream::{Group, Stream, StreamId};
use crate::resp::ReplyBuf;

/// Entries and pending entries XINFO STREAM FULL lists without COUNT (Redis's default,
/// so that one call cannot walk a huge stream).
const FULL_DEFAULT_COUNT: usize = 10;

/// The stream at argv[2]; `ERR no such key` when missing.
fn stream_arg<'d>(ctx: &'d mut Ctx) -> Result<(&'d Stream, &'d mut ReplyBuf), CmdError> {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(2);
    let (db, out) = db_out(ctx);
    let stream = read::<Stream>(db, key, now, clock)?.ok_or(CmdError::Fixed(error::NO_SUCH_KEY))?;
    Ok((stream, out))
}

fn lag(out: &mut ReplyBuf, stream: &Stream, group: &Group) {
    match stream.group_lag(group) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

fn entries_read(out: &mut ReplyBuf, group: &Group) {
    match group.entries_read {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
}

/// The node count of the radix tree Redis would hold the stream's nodes in, as Redis
/// reports it for node keys that share their high bytes (an estimate: replikv keeps no
/// radix tree, and Redis's count depends on how the 16-byte keys diverge).
fn radix_tree_nodes(keys: usize) -> usize {
    match keys {
        0 => 1,
        1 => 2,
        n => 2 * n + 2,
    }
}

pub fn xinfo_stream(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let options = &argv[3..];
    let full = !options.is_empty();
    let mut count = FULL_DEFAULT_COUNT;
    if full {
        if (options.len() != 1 && options.len() != 3) || !options[0].eq_ignore_ascii_case(b"FULL") {
            return Err(CmdError::subcommand_syntax(&argv[0], &argv[1]));
        }
        if options.len() == 3 {
            if !options[1].eq_ignore_ascii_case(b"COUNT") {
                return Err(CmdError::subcommand_syntax(&argv[0], &argv[1]));
            }
            let n = parse_int_arg(&options[2])?;
            count = if n < 0 {
                FULL_DEFAULT_COUNT
            } else {
                n as usize
            };
        }
    }
    let (stream, out) = stream_arg(ctx)?;
    let limit = if count == 0 { usize::MAX } else { count };
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(stream.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(stream.nodes().len() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(radix_tree_nodes(stream.nodes().len()) as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, stream.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, stream.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(stream.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, stream.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(stream.groups.len() as i64);
        out.bulk(b"first-entry");
        match stream.first_entry() {
            Some((id, fields)) => reply_entry(out, *id, fields),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match stream.last_entry() {
            Some((id, fields)) => reply_entry(out, *id, fields),
            None => out.null(),
        }
        return Ok(());
    }
    out.bulk(b"entries");
    let entries: Vec<_> = stream
        .range(StreamId::MIN, StreamId::MAX, false)
        .take(limit)
        .collect();
    out.array(entries.len());
    for (id, fields) in entries {
        reply_entry(out, *id, fields);
    }
    out.bulk(b"groups");
    out.array(stream.groups.len());
    for (name, group) in &stream.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, group.last_id);
        out.bulk(b"entries-read");
        entries_read(out, group);
        out.bulk(b"lag");
        lag(out, stream, group);
        out.bulk(b"pel-count");
        out.int(group.pel.len() as i64);
        out.bulk(b"pending");
        let pending: Vec<_> = group.pel.iter().take(limit).collect();
        out.array(pending.len());
        for (id, nack) in pending {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(group.consumers.len());
        for (name, consumer) in &group.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"seen-time");
            out.int(consumer.seen_time);
            out.bulk(b"pel-count");
            out.int(consumer.pel.len() as i64);
            out.bulk(b"pending");
            let owned: Vec<_> = consumer.pel.iter().take(limit).collect();
            out.array(owned.len());
            for id in owned {
                let nack = group.pel.get(id);
                out.array(3);
                reply_id(out, *id);
                out.int(nack.map_or(0, |n| n.delivery_time));
                out.int(nack.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

pub fn xinfo_groups(ctx: &mut Ctx) -> CmdResult {
    let (stream, out) = stream_arg(ctx)?;
    out.array(stream.groups.len());
    for (name, group) in &stream.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(group.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(group.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, group.last_id);
        out.bulk(b"entries-read");
        entries_read(out, group);
        out.bulk(b"lag");
        lag(out, stream, group);
    }
    Ok(())
}

pub fn xinfo_consumers(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let (key, name) = (ctx.arg(2), ctx.arg(3));
    let (stream, out) = stream_arg(ctx)?;
    let Some(group) = stream.groups.get(name) else {
        return Err(CmdError::quoting(&[
            b"NOGROUP No such consumer group '",
            name,
            b"' for key name '",
            key,
            b"'",
        ]));
    };
    out.array(group.consumers.len());
    for (name, consumer) in &group.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(consumer.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - consumer.seen_time).max(0));
    }
    Ok(())
}

pub fn xinfo_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Prints this help.",
        ],
    )
}
