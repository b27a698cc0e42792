//! Sorted-set commands on members and scores: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//! ZRANK, ZREVRANK, the pops (blocking ones included), ZRANDMEMBER and ZSCAN. Range
//! commands are in `zset_range`, the set operations in `zset_setops`.
//!
//! Scores are written as Redis 7.0 writes them: `%.17g` through `ReplyBuf::double` for
//! every reply, except ZSCAN over the listpack form, which returns the score text the
//! listpack stores (integers spelled out, see [`listpack_score_text`]).

pub mod geo;
mod geohash;
pub mod range;
pub mod setops;

use super::args::parse_random_count;
use super::args::parse_timeout;
use super::args::{parse_cursor, parse_scan_options};
use super::args::{parse_mpop, parse_positive_count};
use super::collection::{db_out, modify, modify_or_create, peek, read, remove_named};
use super::ctx::{argv_of, Ctx, TimeoutReply};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_float;
use super::reply::{random_picks, random_picks_capped, reply_scan};
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::types::scan::scan_step;
use crate::keyspace::types::ZSet;
use crate::keyspace::{blob, Blob};
use crate::resp::writer::format_double;
use crate::resp::ReplyBuf;
use bytes::Bytes;

/// The text a listpack stores for a score (Redis's `d2string`): integral values within
/// ±2^62 as plain integers, others as `%.17g`. ZSCAN over a listpack returns this text.
pub fn listpack_score_text(score: f64) -> String {
    const LIMIT: f64 = 4_611_686_018_427_387_904.0; // LLONG_MAX / 2 as a double
    if score.is_finite() && (-LIMIT..=LIMIT).contains(&score) && score.trunc() == score {
        return itoa::Buffer::new().format(score as i64).to_string();
    }
    format_double(score)
}

/// Writes one `member [score]` of a range reply: RESP3 nests each pair, RESP2 flattens.
pub fn reply_entry(out: &mut ReplyBuf, member: &[u8], score: f64, with_scores: bool) {
    if with_scores && out.resp3() {
        out.array(2);
    }
    out.bulk(member);
    if with_scores {
        out.double(score);
    }
}

/// The header of a range reply of `n` entries.
pub fn reply_entries_header(out: &mut ReplyBuf, n: usize, with_scores: bool) {
    out.array(if with_scores && !out.resp3() {
        n * 2
    } else {
        n
    });
}

/// ZADD's options.
#[derive(Default, Clone, Copy)]
struct ZaddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// ZADD and ZINCRBY (which is ZADD INCR with one pair), over `argv` rather than the
/// client's arguments: GEOADD runs as the ZADD it rewrites itself into.
pub(super) fn zadd_generic(ctx: &mut Ctx, argv: &[Bytes], zincrby: bool) -> CmdResult {
    let mut f = ZaddFlags {
        incr: zincrby,
        ..Default::default()
    };
    let mut at = 2;
    if !zincrby {
        while at < argv.len() {
            let opt = &argv[at];
            match opt.to_ascii_lowercase().as_slice() {
                b"nx" => f.nx = true,
                b"xx" => f.xx = true,
                b"ch" => f.ch = true,
                b"incr" => f.incr = true,
                b"gt" => f.gt = true,
                b"lt" => f.lt = true,
                _ => break,
            }
            at += 1;
        }
    }
    let rest = argv.len() - at;
    if rest % 2 == 1 || rest == 0 {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    if f.nx && f.xx {
        return Err(CmdError::Fixed(error::XX_AND_NX));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::Fixed(error::GT_LT_NX));
    }
    if f.incr && rest > 2 {
        return Err(CmdError::Fixed(error::INCR_SINGLE_PAIR));
    }
    let mut pairs: Vec<(f64, &[u8])> = Vec::with_capacity(rest / 2);
    for pair in argv[at..].chunks(2) {
        pairs.push((parse_float(&pair[0])?, &pair[1]));
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let key: &[u8] = &argv[1];
    let db = ctx.db();
    let exists = peek::<ZSet>(db, key, now)?.is_some();
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last_score = 0.0;
    let mut failure = None;
    if exists || !f.xx {
        let zset = modify_or_create(db, key, now, clock, ZSet::default)?;
        for (score, member) in pairs {
            match zset.score(member) {
                Some(current) => {
                    if f.nx {
                        continue;
                    }
                    let score = if f.incr { score + current } else { score };
                    if score.is_nan() {
                        failure = Some(CmdError::Fixed(error::SCORE_NAN));
                        break;
                    }
                    if (f.lt && score >= current) || (f.gt && score <= current) {
                        continue;
                    }
                    last_score = score;
                    processed += 1;
                    if score != current {
                        zset.add(member, score, &limits);
                        updated += 1;
                    }
                }
                None if !f.xx => {
                    zset.add(member, score, &limits);
                    last_score = score;
                    added += 1;
                    processed += 1;
                }
                None => {}
            }
        }
        if zset.is_empty() {
            db.remove(key);
        }
    }
    if added + updated > 0 {
        db.touch(key);
        ctx.dirty += (added + updated) as u64;
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(last_score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if f.ch { added + updated } else { added });
    }
    Ok(())
}

fn zadd(ctx: &mut Ctx) -> CmdResult {
    zadd_generic(ctx, ctx.argv, false)
}

fn zincrby(ctx: &mut Ctx) -> CmdResult {
    zadd_generic(ctx, ctx.argv, true)
}

fn zscore(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    match read::<ZSet>(db, key, now, clock)?.and_then(|z| z.score(member)) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let zset = read::<ZSet>(db, key, now, clock)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match zset.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn zcard(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let len = read::<ZSet>(db, key, now, clock)?.map_or(0, ZSet::len);
    out.int(len as i64);
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx, reverse: bool) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let (db, out) = db_out(ctx);
    let Some(zset) = read::<ZSet>(db, key, now, clock)? else {
        out.null();
        return Ok(());
    };
    match zset.rank(member) {
        Some(r) if reverse => out.int((zset.len() - 1 - r) as i64),
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, true)
}

/// How a pop answers: the reply layouts of ZPOPMIN, BZPOPMIN and ZMPOP differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PopReply {
    /// ZPOPMIN/MAX: flat `m s m s` (nested pairs in RESP3 when a count was given).
    Plain { nested: bool },
    /// BZPOPMIN/MAX: `[key, m, s]`.
    WithKey,
    /// ZMPOP/BZMPOP: `[key, [[m, s], ...]]`.
    Nested,
}

/// Pops up to `count` entries from the zset at `key` (known to exist) and writes the
/// reply; deletes the key when it empties. Returns how many were popped.
fn pop_and_reply(ctx: &mut Ctx, key: &[u8], max: bool, count: usize, shape: PopReply) -> usize {
    let now = ctx.now;
    let db = ctx.db();
    let mut popped: Vec<(Blob, f64)> = Vec::new();
    let mut emptied = false;
    if let Ok(Some(zset)) = modify::<ZSet>(db, key, now) {
        let n = count.min(zset.len());
        popped.reserve(n);
        for _ in 0..n {
            if let Some(e) = zset.pop(max) {
                popped.push(e);
            }
        }
        if zset.is_empty() {
            db.remove(key);
            emptied = true;
        }
    }
    if !popped.is_empty() {
        ctx.modified(key);
        ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    let out = &mut *ctx.out;
    match shape {
        PopReply::Plain { nested } => {
            out.array(if nested {
                popped.len()
            } else {
                popped.len() * 2
            });
            for (m, s) in &popped {
                if nested {
                    out.array(2);
                }
                out.bulk(m);
                out.double(*s);
            }
        }
        PopReply::WithKey => {
            out.array(popped.len() * 2 + 1);
            out.bulk(key);
            for (m, s) in &popped {
                out.bulk(m);
                out.double(*s);
            }
        }
        PopReply::Nested => {
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
            for (m, s) in &popped {
                out.array(2);
                out.bulk(m);
                out.double(*s);
            }
        }
    }
    popped.len()
}

/// The propagated form of a pop.
fn pop_name(max: bool) -> &'static [u8] {
    if max {
        b"ZPOPMAX"
    } else {
        b"ZPOPMIN"
    }
}

/// ZPOPMIN / ZPOPMAX key [count].
fn zpop_generic(ctx: &mut Ctx, max: bool) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let count = match ctx.argv.get(2) {
        Some(arg) => Some(parse_positive_count(arg)? as usize),
        None => None,
    };
    let now = ctx.now;
    let key = ctx.arg(1);
    if peek::<ZSet>(ctx.db(), key, now)?.is_none() || count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let nested = ctx.out.resp3() && count.is_some();
    pop_and_reply(
        ctx,
        key,
        max,
        count.unwrap_or(1),
        PopReply::Plain { nested },
    );
    Ok(())
}

fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, true)
}

/// Pops from the first of `keys` holding a sorted set (only the ready key when serving a
/// blocked client). Returns false when none exists. A key of another type is an error,
/// except for a waiter, which keeps waiting as in Redis 7.0.
fn pop_first_existing(
    ctx: &mut Ctx,
    keys: &[bytes::Bytes],
    max: bool,
    count: usize,
    shape: PopReply,
    propagate_count: bool,
) -> Result<bool, CmdError> {
    let now = ctx.now;
    let serving = ctx.ready_key;
    for key in keys {
        let key: &[u8] = key;
        if serving.is_some_and(|k| k != key) {
            continue;
        }
        match peek::<ZSet>(ctx.db(), key, now) {
            Ok(Some(z)) if !z.is_empty() => {}
            Ok(_) => continue,
            Err(_) if serving.is_some() => continue,
            Err(e) => return Err(e),
        }
        let n = pop_and_reply(ctx, key, max, count, shape);
        let propagated = if propagate_count {
            let mut text = itoa::Buffer::new();
            argv_of(&[pop_name(max), key, text.format(n).as_bytes()])
        } else {
            argv_of(&[pop_name(max), key])
        };
        ctx.propagate_as(vec![propagated]);
        return Ok(true);
    }
    Ok(false)
}

/// BZPOPMIN / BZPOPMAX key [key ...] timeout.
fn bzpop_generic(ctx: &mut Ctx, max: bool) -> CmdResult {
    let timeout = parse_timeout(ctx.arg(ctx.argv.len() - 1))?;
    let keys = &ctx.argv[1..ctx.argv.len() - 1];
    if pop_first_existing(ctx, keys, max, 1, PopReply::WithKey, false)? {
        return Ok(());
    }
    if ctx.may_block() {
        let keys = keys.iter().map(|k| blob(k)).collect();
        ctx.block_on(keys, timeout, TimeoutReply::NullArray);
    } else {
        ctx.out.null_array();
    }
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    bzpop_generic(ctx, false)
}

fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    bzpop_generic(ctx, true)
}

/// MIN / MAX (any case), or a syntax error.
fn parse_min_max(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"MIN") {
        Ok(false)
    } else if arg.eq_ignore_ascii_case(b"MAX") {
        Ok(true)
    } else {
        Err(CmdError::Fixed(error::SYNTAX))
    }
}

/// ZMPOP / BZMPOP; `timeout` is `Some` for the blocking form.
fn zmpop_generic(
    ctx: &mut Ctx,
    numkeys_at: usize,
    timeout: Option<Option<std::time::Duration>>,
) -> CmdResult {
    let args = parse_mpop(ctx.argv, numkeys_at)?;
    let max = parse_min_max(args.which)?;
    if pop_first_existing(ctx, args.keys, max, args.count, PopReply::Nested, true)? {
        return Ok(());
    }
    match timeout {
        Some(t) if ctx.may_block() => {
            let keys = args.keys.iter().map(|k| blob(k)).collect();
            ctx.block_on(keys, t, TimeoutReply::NullArray);
        }
        _ => ctx.out.null_array(),
    }
    Ok(())
}

fn zmpop(ctx: &mut Ctx) -> CmdResult {
    zmpop_generic(ctx, 1, None)
}

fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let timeout = parse_timeout(ctx.arg(1))?;
    zmpop_generic(ctx, 2, Some(timeout))
}

fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    if ctx.argv.len() == 2 {
        let (db, out) = db_out(ctx);
        match read::<ZSet>(db, key, now, clock)? {
            None => out.null(),
            Some(zset) => {
                let pick = random_picks(zset.len(), 1);
                match pick.first().and_then(|i| zset.get_by_rank(*i)) {
                    Some((m, _)) => out.bulk(m),
                    None => out.null(),
                }
            }
        }
        return Ok(());
    }
    let count = parse_random_count(ctx.arg(2))?;
    let with_scores = match ctx.argv.len() {
        3 => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"WITHSCORES") => true,
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    };
    if with_scores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::Fixed(error::VALUE_OUT_OF_RANGE));
    }
    let cap = ctx.reply_element_cap();
    let (db, out) = db_out(ctx);
    let Some(zset) = read::<ZSet>(db, key, now, clock)? else {
        out.array(0);
        return Ok(());
    };
    let len = zset.len();
    let mut picks = random_picks_capped(len, count, cap);
    if count >= len as i64 {
        // The whole set: Redis walks it from the highest score down.
        picks.reverse();
    }
    reply_entries_header(out, picks.len(), with_scores);
    for rank in picks {
        if let Some((m, s)) = zset.get_by_rank(rank) {
            reply_entry(out, m, s, with_scores);
        }
    }
    Ok(())
}

fn zscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let Some(zset) = read::<ZSet>(db, key, now, clock)? else {
        reply_scan(out, 0, &[]);
        return Ok(());
    };
    let opts = parse_scan_options(argv, 3, false)?;
    let (entries, next): (Vec<(&[u8], String)>, u64) = match zset {
        ZSet::Listpack(v) => (
            v.iter()
                .map(|(m, s)| (m.as_slice(), listpack_score_text(*s)))
                .collect(),
            0,
        ),
        ZSet::Skiplist { dict, .. } => scan_step(
            dict.iter()
                .map(|(m, s)| (m.as_slice(), (m.as_slice(), format_double(*s)))),
            cursor,
            opts.count,
            dict.len(),
        ),
    };
    let kept: Vec<&[u8]> = entries
        .iter()
        .filter(|(m, _)| {
            opts.pattern
                .is_none_or(|p| crate::glob::matches(p, m, false))
        })
        .flat_map(|(m, s)| [*m, s.as_bytes()])
        .collect();
    reply_scan(out, next, &kept);
    Ok(())
}

/// Sorted-set commands on members and scores.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "sorted_set",
        zadd
    ),
    cmd!(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "sorted_set",
        zincrby
    ),
    cmd!(
        "zrem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "sorted_set",
        remove_named::<ZSet>
    ),
    cmd!(
        "zscore",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "sorted_set",
        zscore
    ),
    cmd!(
        "zmscore",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        "sorted_set",
        zmscore
    ),
    cmd!("zcard", 2, READONLY | FAST, (1, 1, 1), "sorted_set", zcard),
    cmd!("zrank", 3, READONLY | FAST, (1, 1, 1), "sorted_set", zrank),
    cmd!(
        "zrevrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "sorted_set",
        zrevrank
    ),
    cmd!(
        "zpopmin",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "sorted_set",
        zpopmin
    ),
    cmd!(
        "zpopmax",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        "sorted_set",
        zpopmax
    ),
    cmd!(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        "sorted_set",
        bzpopmin
    ),
    cmd!(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        "sorted_set",
        bzpopmax
    ),
    cmd!(
        "zmpop",
        -4,
        WRITE | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        zmpop
    ),
    cmd!(
        "bzmpop",
        -5,
        WRITE | BLOCKING | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        bzmpop
    ),
    cmd!(
        "zrandmember",
        -2,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrandmember
    ),
    cmd!("zscan", -3, READONLY, (1, 1, 1), "sorted_set", zscan),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_scores_are_written_like_d2string() {
        assert_eq!(listpack_score_text(1e17), "100000000000000000");
        assert_eq!(
            listpack_score_text(4611686018427387904.0),
            "4611686018427387904"
        );
        assert_eq!(listpack_score_text(4.7e18), "4.7e+18");
        assert_eq!(listpack_score_text(-0.0), "0");
        assert_eq!(listpack_score_text(1.5), "1.5");
        assert_eq!(listpack_score_text(f64::NEG_INFINITY), "-inf");
    }
}
