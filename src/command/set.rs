//! Set commands.

use super::args::parse_positive_count;
use super::args::parse_random_count;
use super::args::{parse_cursor, parse_scan_options};
use super::collection::{
    check_type, db_out, modify, modify_or_create, peek, read, remove_named, store,
};
use super::ctx::{argv_of, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::reply::{random_picks, random_picks_capped, reply_scan};
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::types::scan::scan_step;
use crate::keyspace::types::Set;
use crate::keyspace::{blob, Blob, Db};
use crate::resp::ReplyBuf;

/// Members per SREM when SPOP with a count is propagated (as Redis batches them).
const SPOP_PROPAGATION_BATCH: usize = 1024;

fn sadd(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let set = modify_or_create(db, key, now, clock, || Set::new_for(&argv[2]))?;
    let mut added = 0;
    for m in &argv[2..] {
        if set.insert(m, &limits) {
            added += 1;
        }
    }
    out.int(added);
    if added > 0 {
        db.touch(key);
        ctx.dirty += added as u64;
        ctx.notify(notify::SET, "sadd", key);
    }
    Ok(())
}

/// Writes a whole set as a RESP3 set (array in RESP2).
fn reply_members(out: &mut ReplyBuf, set: &Set) {
    out.set(set.len());
    set.for_each_member(|m| out.bulk(m));
}

fn smembers(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    match read::<Set>(db, key, now, clock)? {
        Some(set) => reply_members(out, set),
        None => out.set(0),
    }
    Ok(())
}

fn sismember(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let found = read::<Set>(db, key, now, clock)?.is_some_and(|s| s.contains(member));
    out.int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let set = read::<Set>(db, key, now, clock)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(set.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let len = read::<Set>(db, key, now, clock)?.map_or(0, Set::len);
    out.int(len as i64);
    Ok(())
}

fn spop(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 => return spop_with_count(ctx),
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    }
    let now = ctx.now;
    let key = ctx.arg(1);
    let db = ctx.db();
    let Some(set) = modify::<Set>(db, key, now)? else {
        ctx.out.null();
        return Ok(());
    };
    let pick = random_picks(set.len(), 1);
    let Some(member) = pick.first().and_then(|i| set.nth(*i)) else {
        ctx.out.null();
        return Ok(());
    };
    set.remove(&member);
    let emptied = set.is_empty();
    if emptied {
        db.remove(key);
    }
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.propagate_as(vec![argv_of(&[b"SREM", key, &member])]);
    ctx.out.bulk(&member);
    Ok(())
}

fn spop_with_count(ctx: &mut Ctx) -> CmdResult {
    let count = parse_positive_count(ctx.arg(2))? as usize;
    let now = ctx.now;
    let limits = ctx.engine.keyspace.limits;
    let key = ctx.arg(1);
    let db = ctx.db();
    let Some(set) = modify::<Set>(db, key, now)? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    if count >= set.len() {
        // The whole set goes: Redis answers it as a fresh union (intsets in order).
        let all = Set::from_members(set.members(), &limits);
        db.remove(key);
        reply_members(ctx.out, &all);
        ctx.modified(key);
        ctx.notify(notify::SET, "spop", key);
        ctx.notify(notify::GENERIC, "del", key);
        ctx.propagate_as(vec![argv_of(&[b"DEL", key])]);
        return Ok(());
    }
    let picks = random_picks(set.len(), count as i64);
    let members: Vec<Blob> = picks.iter().filter_map(|i| set.nth(*i)).collect();
    for m in &members {
        set.remove(m);
    }
    ctx.out.set(members.len());
    for m in &members {
        ctx.out.bulk(m);
    }
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    let batches = members
        .chunks(SPOP_PROPAGATION_BATCH)
        .map(|chunk| {
            let mut parts: Vec<&[u8]> = vec![b"SREM", key];
            parts.extend(chunk.iter().map(|m| m.as_slice()));
            argv_of(&parts)
        })
        .collect();
    ctx.propagate_as(batches);
    Ok(())
}

fn srandmember(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let count = match ctx.argv.len() {
        2 => None,
        3 => Some(parse_random_count(ctx.arg(2))?),
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    };
    let cap = ctx.reply_element_cap();
    let (db, out) = db_out(ctx);
    let set = read::<Set>(db, key, now, clock)?;
    match (set, count) {
        (None, None) => out.null(),
        (None, Some(_)) => out.array(0),
        (Some(set), None) => {
            let pick = random_picks(set.len(), 1);
            match pick.first().and_then(|i| set.nth(*i)) {
                Some(m) => out.bulk(&m),
                None => out.null(),
            }
        }
        (Some(set), Some(count)) => {
            if count >= set.len() as i64 {
                out.array(set.len());
                set.for_each_member(|m| out.bulk(m));
                return Ok(());
            }
            let picks = random_picks_capped(set.len(), count, cap);
            out.array(picks.len());
            for i in picks {
                match set.nth(i) {
                    Some(m) => out.bulk(&m),
                    None => out.null(),
                }
            }
        }
    }
    Ok(())
}

fn smove(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let (src, dst, member) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let db = ctx.db();
    if peek::<Set>(db, src, now)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    check_type::<Set>(db, dst, now)?;
    if src == dst {
        let found = peek::<Set>(db, src, now)?.is_some_and(|s| s.contains(member));
        ctx.out.int(found as i64);
        return Ok(());
    }
    let Some(set) = modify::<Set>(db, src, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if !set.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = set.is_empty();
    if emptied {
        db.remove(src);
    }
    let added =
        modify_or_create(db, dst, now, clock, || Set::new_for(member))?.insert(member, &limits);
    ctx.modified(src);
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    if added {
        ctx.modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// The sets named by `keys`, all type-checked first (a missing key is `None`, an empty set).
fn load_sets<'d>(
    db: &'d mut Db,
    keys: &[bytes::Bytes],
    now: i64,
    clock: u32,
) -> Result<Vec<Option<&'d Set>>, CmdError> {
    for key in keys {
        read::<Set>(db, key, now, clock)?;
    }
    Ok(keys
        .iter()
        .map(|k| {
            db.peek(k)
                .filter(|it| !it.is_expired(now))
                .and_then(|it| match &it.value {
                    crate::keyspace::Value::Set(s) => Some(&**s),
                    _ => None,
                })
        })
        .collect())
}

/// The members common to all sets (empty when one is missing), in the order of the
/// smallest set, stopping at `limit` when it is not 0.
fn intersect(sets: &[Option<&Set>], limit: usize) -> Vec<Blob> {
    let mut present: Vec<&Set> = match sets.iter().copied().collect::<Option<Vec<_>>>() {
        Some(v) => v,
        None => return Vec::new(),
    };
    present.sort_by_key(|s| s.len());
    let Some((first, rest)) = present.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    first.for_each_member(|m| {
        if (limit == 0 || out.len() < limit) && rest.iter().all(|s| s.contains(m)) {
            out.push(blob(m));
        }
    });
    out
}

/// SUNION / SDIFF as a set built the way Redis builds it (so the encoding and, for
/// intsets, the order match).
fn union_or_diff(
    sets: &[Option<&Set>],
    diff: bool,
    limits: &crate::keyspace::EncodingLimits,
) -> Set {
    let mut members: Vec<Blob> = Vec::new();
    if diff {
        if let Some(Some(first)) = sets.first() {
            first.for_each_member(|m| {
                if !sets[1..].iter().flatten().any(|s| s.contains(m)) {
                    members.push(blob(m));
                }
            });
        }
    } else {
        for set in sets.iter().flatten() {
            set.for_each_member(|m| members.push(blob(m)));
        }
    }
    let mut result = Set::default();
    for m in members {
        result.insert(&m, limits);
    }
    result
}

/// SINTER, SUNION, SDIFF and their STORE forms; `store` is the destination key's index.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

fn set_op(ctx: &mut Ctx, op: SetOp, store_into: bool) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let argv = ctx.argv;
    let keys = if store_into { &argv[2..] } else { &argv[1..] };
    let (db, out) = db_out(ctx);
    let sets = load_sets(db, keys, now, clock)?;
    let result = match op {
        SetOp::Inter => Set::from_members(intersect(&sets, 0), &limits),
        SetOp::Union => union_or_diff(&sets, false, &limits),
        SetOp::Diff => union_or_diff(&sets, true, &limits),
    };
    if store_into {
        let dst = &argv[1];
        let len = result.len();
        if store(db, dst, result, now, clock) {
            ctx.modified(dst);
            let event = match op {
                SetOp::Inter => "sinterstore",
                SetOp::Union => "sunionstore",
                SetOp::Diff => "sdiffstore",
            };
            ctx.notify_stored(len > 0, notify::SET, event, dst);
        }
        ctx.out.int(len as i64);
    } else if op == SetOp::Inter {
        // SINTER answers in the smallest set's order, not the rebuilt set's.
        let members = intersect(&sets, 0);
        out.set(members.len());
        for m in &members {
            out.bulk(m);
        }
    } else {
        reply_members(out, &result);
    }
    Ok(())
}

fn sinter(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Inter, false)
}

fn sunion(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Union, false)
}

fn sdiff(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Diff, false)
}

fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Inter, true)
}

fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Union, true)
}

fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    set_op(ctx, SetOp::Diff, true)
}

/// Parses `numkeys key... [LIMIT n]` of SINTERCARD / ZINTERCARD: the keys and the limit
/// (0 = none).
pub fn parse_intercard(argv: &[bytes::Bytes]) -> Result<(&[bytes::Bytes], usize), CmdError> {
    let numkeys = match parse_int(&argv[1]) {
        Ok(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::Fixed(error::NUMKEYS_POSITIVE)),
    };
    if numkeys > argv.len() - 2 {
        return Err(CmdError::Fixed(error::NUMKEYS_PAST_ARGS));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"LIMIT") && j + 1 < argv.len() {
            limit = match parse_int(&argv[j + 1]) {
                Ok(n) if n >= 0 => n as usize,
                _ => return Err(CmdError::Fixed(error::LIMIT_NEGATIVE)),
            };
            j += 2;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    Ok((&argv[2..2 + numkeys], limit))
}

fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let (keys, limit) = parse_intercard(ctx.argv)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let (db, out) = db_out(ctx);
    let sets = load_sets(db, keys, now, clock)?;
    out.int(intersect(&sets, limit).len() as i64);
    Ok(())
}

fn sscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let Some(set) = read::<Set>(db, key, now, clock)? else {
        reply_scan(out, 0, &[]);
        return Ok(());
    };
    let opts = parse_scan_options(argv, 3, false)?;
    let (members, next): (Vec<Blob>, u64) = match set {
        Set::Intset(_) => (set.members(), 0),
        Set::Table(s) => scan_step(
            s.iter().map(|(m, _)| (m.as_slice(), m.clone())),
            cursor,
            opts.count,
            s.len(),
        ),
    };
    let kept: Vec<&[u8]> = members
        .iter()
        .map(|m| m.as_slice())
        .filter(|m| {
            opts.pattern
                .is_none_or(|p| crate::glob::matches(p, m, false))
        })
        .collect();
    reply_scan(out, next, &kept);
    Ok(())
}

/// Set commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "set", sadd),
    cmd!(
        "srem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "set",
        remove_named::<Set>
    ),
    cmd!("smembers", 2, READONLY, (1, 1, 1), "set", smembers),
    cmd!("sismember", 3, READONLY | FAST, (1, 1, 1), "set", sismember),
    cmd!(
        "smismember",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        "set",
        smismember
    ),
    cmd!("scard", 2, READONLY | FAST, (1, 1, 1), "set", scard),
    cmd!("spop", -2, WRITE | FAST, (1, 1, 1), "set", spop),
    cmd!("srandmember", -2, READONLY, (1, 1, 1), "set", srandmember),
    cmd!("smove", 4, WRITE | FAST, (1, 2, 1), "set", smove),
    cmd!("sinter", -2, READONLY, (1, -1, 1), "set", sinter),
    cmd!("sunion", -2, READONLY, (1, -1, 1), "set", sunion),
    cmd!("sdiff", -2, READONLY, (1, -1, 1), "set", sdiff),
    cmd!(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        sinterstore
    ),
    cmd!(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        sunionstore
    ),
    cmd!(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        sdiffstore
    ),
    cmd!(
        "sintercard",
        -3,
        READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "set",
        sintercard
    ),
    cmd!("sscan", -3, READONLY, (1, 1, 1), "set", sscan),
];
