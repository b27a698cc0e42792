//! Hash commands.

use crate::engine::notify;
use rand::Rng;

use super::args::{parse_cursor, parse_random_count, parse_scan_options};
use super::collection::{db_out, modify_or_create, read, remove_named};
use super::ctx::{argv_of, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::{long_double_add, parse_int, LdAddError};
use super::reply::{random_picks_capped, reply_scan};
use super::Spec;
use crate::command::cmd;
use crate::keyspace::types::scan::scan_step;
use crate::keyspace::types::Hash;
use crate::keyspace::Blob;
use crate::resp::ReplyBuf;

/// HSET / HMSET: field-value pairs after the key; `hmset_reply` answers OK instead of the
/// number of new fields.
fn hset_generic(ctx: &mut Ctx, hmset_reply: bool) -> CmdResult {
    if ctx.argv.len() % 2 == 1 {
        return Err(CmdError::WrongArity(ctx.spec.fullname.to_string()));
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let hash = modify_or_create(db, key, now, clock, Hash::new)?;
    let mut created = 0;
    for pair in argv[2..].chunks(2) {
        if hash.set(&pair[0], &pair[1], &limits) {
            created += 1;
        }
    }
    if hmset_reply {
        out.ok();
    } else {
        out.int(created);
    }
    db.touch(key);
    ctx.dirty += ((argv.len() - 2) / 2) as u64;
    ctx.notify(notify::HASH, "hset", key);
    Ok(())
}

fn hset(ctx: &mut Ctx) -> CmdResult {
    hset_generic(ctx, false)
}

fn hmset(ctx: &mut Ctx) -> CmdResult {
    hset_generic(ctx, true)
}

fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let (db, out) = db_out(ctx);
    let hash = modify_or_create(db, key, now, clock, Hash::new)?;
    if hash.contains(field) {
        out.int(0);
        return Ok(());
    }
    hash.set(field, value, &limits);
    out.int(1);
    ctx.modified(key);
    ctx.notify(notify::HASH, "hset", key);
    Ok(())
}

fn hget(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    match read::<Hash>(db, key, now, clock)?.and_then(|h| h.get(field)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let hash = read::<Hash>(db, key, now, clock)?;
    out.array(argv.len() - 2);
    for field in &argv[2..] {
        match hash.and_then(|h| h.get(field)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

fn hexists(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let found = read::<Hash>(db, key, now, clock)?.is_some_and(|h| h.contains(field));
    out.int(found as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let len = read::<Hash>(db, key, now, clock)?.map_or(0, Hash::len);
    out.int(len as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let len = read::<Hash>(db, key, now, clock)?
        .and_then(|h| h.get(field))
        .map_or(0, |v| v.len());
    out.int(len as i64);
    Ok(())
}

/// What HKEYS, HVALS and HGETALL return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

fn hgetall_generic(ctx: &mut Ctx, parts: Parts) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let hash = read::<Hash>(db, key, now, clock)?;
    let len = hash.map_or(0, Hash::len);
    match parts {
        Parts::Both => out.map(len),
        _ => out.array(len),
    }
    if let Some(hash) = hash {
        for (f, v) in hash.iter() {
            if parts != Parts::Values {
                out.bulk(f);
            }
            if parts != Parts::Fields {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx) -> CmdResult {
    hgetall_generic(ctx, Parts::Fields)
}

fn hvals(ctx: &mut Ctx) -> CmdResult {
    hgetall_generic(ctx, Parts::Values)
}

fn hgetall(ctx: &mut Ctx) -> CmdResult {
    hgetall_generic(ctx, Parts::Both)
}

fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let incr = parse_int(ctx.arg(3))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let hash = modify_or_create(db, key, now, clock, Hash::new)?;
    let old = match hash.get(field) {
        Some(v) => {
            crate::resp::parser::parse_i64(v).ok_or(CmdError::Fixed(error::HASH_NOT_INTEGER))?
        }
        None => 0,
    };
    let new = old
        .checked_add(incr)
        .ok_or(CmdError::Fixed(error::OVERFLOW))?;
    let mut text = itoa::Buffer::new();
    hash.set(field, text.format(new).as_bytes(), &limits);
    out.int(new);
    ctx.modified(key);
    ctx.notify(notify::HASH, "hincrby", key);
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let incr = ctx.arg(3);
    // The increment is checked on its own first, as Redis parses it before the lookup.
    match long_double_add(b"0", incr) {
        Err(LdAddError::BadIncrement | LdAddError::BadValue) => {
            return Err(CmdError::Fixed(error::NOT_FLOAT))
        }
        Err(LdAddError::NanOrInfinity) => {
            return Err(CmdError::Fixed(error::VALUE_NAN_OR_INFINITY))
        }
        Ok(_) => {}
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let hash = modify_or_create(db, key, now, clock, Hash::new)?;
    let old: Blob = hash
        .get(field)
        .cloned()
        .unwrap_or_else(|| Blob::from_slice(b"0"));
    let new = long_double_add(&old, incr).map_err(|e| match e {
        LdAddError::BadValue => CmdError::Fixed(error::HASH_NOT_FLOAT),
        LdAddError::BadIncrement => CmdError::Fixed(error::NOT_FLOAT),
        LdAddError::NanOrInfinity => CmdError::Fixed(error::NAN_OR_INFINITY),
    })?;
    hash.set(field, &new, &limits);
    out.bulk(&new);
    ctx.modified(key);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    ctx.propagate_as(vec![argv_of(&[b"HSET", key, field, &new])]);
    Ok(())
}

/// Writes a field (and its value) of a random pick: RESP3 nests pairs, RESP2 flattens.
fn reply_pair(out: &mut ReplyBuf, field: &[u8], value: Option<&[u8]>) {
    match value {
        Some(v) => {
            if out.resp3() {
                out.array(2);
            }
            out.bulk(field);
            out.bulk(v);
        }
        None => out.bulk(field),
    }
}

fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    if ctx.argv.len() == 2 {
        let (db, out) = db_out(ctx);
        match read::<Hash>(db, key, now, clock)? {
            None => out.null(),
            Some(hash) => {
                let i = rand::rng().random_range(0..hash.len());
                match hash.nth(i) {
                    Some((f, _)) => out.bulk(f),
                    None => out.null(),
                }
            }
        }
        return Ok(());
    }
    let count = parse_random_count(ctx.arg(2))?;
    let with_values = match ctx.argv.len() {
        3 => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"WITHVALUES") => true,
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::Fixed(error::VALUE_OUT_OF_RANGE));
    }
    let cap = ctx.reply_element_cap();
    let (db, out) = db_out(ctx);
    let Some(hash) = read::<Hash>(db, key, now, clock)? else {
        out.array(0);
        return Ok(());
    };
    let picks = random_picks_capped(hash.len(), count, cap);
    let n = picks.len();
    out.array(if with_values && !out.resp3() {
        n * 2
    } else {
        n
    });
    for i in picks {
        if let Some((f, v)) = hash.nth(i) {
            reply_pair(out, f, with_values.then_some(v.as_slice()));
        }
    }
    Ok(())
}

fn hscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let Some(hash) = read::<Hash>(db, key, now, clock)? else {
        reply_scan(out, 0, &[]);
        return Ok(());
    };
    let opts = parse_scan_options(argv, 3, false)?;
    let (pairs, next): (Vec<(&Blob, &Blob)>, u64) = match hash {
        Hash::Listpack(v) => (v.iter().map(|(f, v)| (f, v)).collect(), 0),
        Hash::Table(m) => scan_step(
            m.iter().map(|(f, v)| (f.as_slice(), (f, v))),
            cursor,
            opts.count,
            m.len(),
        ),
    };
    let kept: Vec<&[u8]> = pairs
        .into_iter()
        .filter(|(f, _)| {
            opts.pattern
                .is_none_or(|p| crate::glob::matches(p, f, false))
        })
        .flat_map(|(f, v)| [f.as_slice(), v.as_slice()])
        .collect();
    reply_scan(out, next, &kept);
    Ok(())
}

/// Hash commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hset),
    cmd!(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        hsetnx
    ),
    cmd!("hget", 3, READONLY | FAST, (1, 1, 1), "hash", hget),
    cmd!("hmget", -3, READONLY | FAST, (1, 1, 1), "hash", hmget),
    cmd!(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        hmset
    ),
    cmd!(
        "hdel",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "hash",
        remove_named::<Hash>
    ),
    cmd!("hexists", 3, READONLY | FAST, (1, 1, 1), "hash", hexists),
    cmd!("hlen", 2, READONLY | FAST, (1, 1, 1), "hash", hlen),
    cmd!("hkeys", 2, READONLY, (1, 1, 1), "hash", hkeys),
    cmd!("hvals", 2, READONLY, (1, 1, 1), "hash", hvals),
    cmd!("hgetall", 2, READONLY, (1, 1, 1), "hash", hgetall),
    cmd!(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        hincrby
    ),
    cmd!(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hash",
        hincrbyfloat
    ),
    cmd!("hstrlen", 3, READONLY | FAST, (1, 1, 1), "hash", hstrlen),
    cmd!("hrandfield", -2, READONLY, (1, 1, 1), "hash", hrandfield),
    cmd!("hscan", -3, READONLY, (1, 1, 1), "hash", hscan),
];

#[cfg(test)]
mod tests {
    use crate::command::reply::random_picks;

    #[test]
    fn random_picks_follow_redis_cases() {
        assert!(random_picks(5, 0).is_empty());
        assert_eq!(random_picks(3, 10), vec![0, 1, 2]);
        assert_eq!(random_picks(3, -7).len(), 7);
        let mut distinct = random_picks(100, 20);
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 20);
        assert!(random_picks(0, -3).is_empty());
    }
}
