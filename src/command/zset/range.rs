//! Sorted-set range commands: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE,
//! the legacy ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX / ZREVRANGEBYLEX / ZREVRANGE,
//! ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK / BYSCORE / BYLEX.
//!
//! Every range becomes an interval of ranks before anything is read: score bounds are
//! found with `ZSet::partition_point` (O(log n) on the skiplist form), so a range reply
//! costs O(log n + m). Lexical ranges assume, as Redis does, that the members in range
//! share a score. Where they do not, Redis's answer depends on how it walks: from the
//! first member at or above min, onwards while members stay at or below max. That walk is
//! reproduced (linearly on the small listpack form, from a logarithmic search on the
//! skiplist form, and never further than the reply can reach), so ZRANGEBYLEX answers as
//! Redis does even on such sets; ZLEXCOUNT on the skiplist form uses two searches.

use super::Spec;
use super::{reply_entries_header, reply_entry};
use crate::command::cmd;
use crate::command::collection::{db_out, modify, read, store};
use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::flags::*;
use crate::command::numeric::{parse_int, strtod_prefix};
use crate::engine::notify;
use crate::keyspace::types::list::clamp_range;
use crate::keyspace::types::ZSet;
use crate::keyspace::Blob;

/// A BYSCORE interval.
#[derive(Debug, Clone, Copy)]
pub struct ScoreRange {
    min: f64,
    min_exclusive: bool,
    max: f64,
    max_exclusive: bool,
}

/// One score bound as `zslParseRange` reads it: an optional `(` then what C's strtod takes
/// whole (leading spaces allowed, NaN refused, an empty number is 0).
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, text) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let (value, used) = if text.is_empty() {
        (0.0, 0)
    } else {
        strtod_prefix(text)
    };
    (used == text.len() && !value.is_nan()).then_some((value, exclusive))
}

impl ScoreRange {
    /// Parses `min` and `max`, or `ERR min or max is not a float`.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let bad = || CmdError::Fixed(error::MIN_MAX_NOT_FLOAT);
        let (min, min_exclusive) = parse_score_bound(min).ok_or_else(bad)?;
        let (max, max_exclusive) = parse_score_bound(max).ok_or_else(bad)?;
        Ok(ScoreRange {
            min,
            min_exclusive,
            max,
            max_exclusive,
        })
    }

    fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Ascending ranks `[start, end)` of the entries in range.
    pub fn span(&self, zset: &ZSet) -> (usize, usize) {
        let start = zset.partition_point(|s, _| !self.above_min(s));
        let end = zset.partition_point(|s, _| self.below_max(s));
        (start, end.max(start))
    }
}

/// One end of a BYLEX interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LexBound<'a> {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[value`
    Inclusive(&'a [u8]),
    /// `(value`
    Exclusive(&'a [u8]),
}

/// A BYLEX interval.
#[derive(Debug, Clone, Copy)]
pub struct LexRange<'a> {
    min: LexBound<'a>,
    max: LexBound<'a>,
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound<'_>> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::Max),
        b'-' if arg.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Exclusive(&arg[1..])),
        b'[' => Some(LexBound::Inclusive(&arg[1..])),
        _ => None,
    }
}

/// Orders bounds as Redis's `sdscmplex` does (`-` below every string, `+` above).
fn cmp_bounds(a: LexBound, b: LexBound) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let rank = |x: LexBound| match x {
        LexBound::Min => 0,
        LexBound::Inclusive(_) | LexBound::Exclusive(_) => 1,
        LexBound::Max => 2,
    };
    match (a, b) {
        (
            LexBound::Inclusive(x) | LexBound::Exclusive(x),
            LexBound::Inclusive(y) | LexBound::Exclusive(y),
        ) => x.cmp(y),
        _ => match rank(a).cmp(&rank(b)) {
            Equal => Equal,
            o => o,
        },
    }
}

impl<'a> LexRange<'a> {
    /// Parses `min` and `max`, or `ERR min or max not valid string range item`.
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
        let bad = || CmdError::Fixed(error::MIN_MAX_NOT_LEX);
        Ok(LexRange {
            min: parse_lex_bound(min).ok_or_else(bad)?,
            max: parse_lex_bound(max).ok_or_else(bad)?,
        })
    }

    fn above_min(&self, m: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(x) => m >= x,
            LexBound::Exclusive(x) => m > x,
        }
    }

    fn below_max(&self, m: &[u8]) -> bool {
        match self.max {
            LexBound::Max => true,
            LexBound::Min => false,
            LexBound::Inclusive(x) => m <= x,
            LexBound::Exclusive(x) => m < x,
        }
    }

    /// True when no member can be in range (`zslIsInLexRange`'s first test), or the set's
    /// ends are outside it.
    fn excludes(&self, zset: &ZSet) -> bool {
        let exclusive = |b: LexBound| !matches!(b, LexBound::Inclusive(_));
        match cmp_bounds(self.min, self.max) {
            std::cmp::Ordering::Greater => return true,
            std::cmp::Ordering::Equal if exclusive(self.min) || exclusive(self.max) => return true,
            _ => {}
        }
        let len = zset.len();
        let (Some((last, _)), Some((first, _))) =
            (zset.get_by_rank(len.wrapping_sub(1)), zset.get_by_rank(0))
        else {
            return true;
        };
        !self.above_min(last) || !self.below_max(first)
    }

    /// Ascending ranks `[start, end)` walked from the low end, as Redis walks them: from
    /// the first member at or above min, onwards while members stay at or below max,
    /// looking at no more than `cap` members.
    pub fn span(&self, zset: &ZSet, cap: usize) -> (usize, usize) {
        if self.excludes(zset) {
            return (0, 0);
        }
        let start = match zset {
            ZSet::Listpack(v) => match v.iter().position(|(m, _)| self.above_min(m)) {
                Some(i) => i,
                None => return (0, 0),
            },
            ZSet::Skiplist { .. } => zset.partition_point(|_, m| !self.above_min(m)),
        };
        let run = zset
            .iter_range(start, zset.len())
            .take(cap)
            .take_while(|(m, _)| self.below_max(m))
            .count();
        (start, start + run)
    }

    /// Like [`LexRange::span`] walked from the high end (ZREVRANGEBYLEX): from the last
    /// member at or below max, downwards while members stay at or above min.
    pub fn span_rev(&self, zset: &ZSet, cap: usize) -> (usize, usize) {
        if self.excludes(zset) {
            return (0, 0);
        }
        let end = match zset {
            ZSet::Listpack(v) => match v.iter().rposition(|(m, _)| self.below_max(m)) {
                Some(i) => i + 1,
                None => return (0, 0),
            },
            ZSet::Skiplist { .. } => zset.partition_point(|_, m| self.below_max(m)),
        };
        let run = zset
            .iter_range_rev(0, end)
            .take(cap)
            .take_while(|(m, _)| self.above_min(m))
            .count();
        (end - run, end)
    }

    /// Number of members in range (ZLEXCOUNT): the walk on the listpack form, two
    /// O(log n) searches on the skiplist form.
    pub fn count(&self, zset: &ZSet) -> usize {
        match zset {
            ZSet::Listpack(_) => {
                let (s, e) = self.span(zset, usize::MAX);
                e - s
            }
            ZSet::Skiplist { .. } => {
                if self.excludes(zset) {
                    return 0;
                }
                let start = zset.partition_point(|_, m| !self.above_min(m));
                let end = zset.partition_point(|_, m| self.below_max(m));
                end.saturating_sub(start)
            }
        }
    }
}

/// What kind of range a ZRANGE-family command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request.
struct RangeRequest {
    kind: RangeKind,
    reverse: bool,
    with_scores: bool,
    offset: i64,
    limit: i64,
    /// Argument positions of the low and high bounds (swapped by REV for BYSCORE/BYLEX).
    low_at: usize,
    high_at: usize,
}

/// Parses a ZRANGE-family command as Redis's `zrangeGenericCommand` does: options after
/// `src min max`; `kind` / `reverse` are preset by the legacy commands (which then refuse
/// BYSCORE, BYLEX and REV as options).
fn parse_request(
    argv: &[bytes::Bytes],
    src_at: usize,
    storing: bool,
    kind: Option<RangeKind>,
    reverse: Option<bool>,
) -> Result<RangeRequest, CmdError> {
    let (mut kind, mut reverse) = (kind, reverse);
    let mut with_scores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src_at + 3;
    while j < argv.len() {
        let opt = &argv[j];
        let left = argv.len() - j - 1;
        if !storing && opt.eq_ignore_ascii_case(b"WITHSCORES") {
            with_scores = true;
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            offset = parse_int(&argv[j + 1])?;
            limit = parse_int(&argv[j + 2])?;
            j += 2;
        } else if reverse.is_none() && opt.eq_ignore_ascii_case(b"REV") {
            reverse = Some(true);
        } else if kind.is_none() && opt.eq_ignore_ascii_case(b"BYLEX") {
            kind = Some(RangeKind::Lex);
        } else if kind.is_none() && opt.eq_ignore_ascii_case(b"BYSCORE") {
            kind = Some(RangeKind::Score);
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    let kind = kind.unwrap_or(RangeKind::Rank);
    let reverse = reverse.unwrap_or(false);
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CmdError::Fixed(error::LIMIT_NEEDS_BY));
    }
    if with_scores && kind == RangeKind::Lex {
        return Err(CmdError::Fixed(error::WITHSCORES_BYLEX));
    }
    let (mut low_at, mut high_at) = (src_at + 1, src_at + 2);
    if reverse && kind != RangeKind::Rank {
        std::mem::swap(&mut low_at, &mut high_at);
    }
    Ok(RangeRequest {
        kind,
        reverse,
        with_scores,
        offset,
        limit,
        low_at,
        high_at,
    })
}

/// A parsed range, ready to be resolved against a set.
enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

fn parse_bounds<'a>(argv: &'a [bytes::Bytes], req: &RangeRequest) -> Result<Bounds<'a>, CmdError> {
    let (low, high) = (&argv[req.low_at][..], &argv[req.high_at][..]);
    Ok(match req.kind {
        RangeKind::Rank => Bounds::Rank(parse_int(low)?, parse_int(high)?),
        RangeKind::Score => Bounds::Score(ScoreRange::parse(low, high)?),
        RangeKind::Lex => Bounds::Lex(LexRange::parse(low, high)?),
    })
}

/// Applies OFFSET / LIMIT (as Redis walks them: a negative offset skips everything, a
/// negative limit takes everything) to the span `[start, end)` walked in `reverse` or not.
fn apply_limit(start: usize, end: usize, reverse: bool, offset: i64, limit: i64) -> (usize, usize) {
    if offset < 0 || start >= end {
        return (0, 0);
    }
    let available = end - start;
    let skip = (offset as u64).min(available as u64) as usize;
    let left = available - skip;
    let take = if limit < 0 {
        left
    } else {
        (limit as u64).min(left as u64) as usize
    };
    if reverse {
        (end - skip - take, end - skip)
    } else {
        (start + skip, start + skip + take)
    }
}

/// The ascending ranks `[start, end)` a request selects (walked downwards when reverse).
fn resolve(zset: &ZSet, bounds: &Bounds, req: &RangeRequest) -> (usize, usize) {
    let len = zset.len();
    match bounds {
        Bounds::Rank(a, b) => match clamp_range(len, *a, *b) {
            None => (0, 0),
            Some((first, last)) if req.reverse => (len - 1 - last, len - first),
            Some((first, last)) => (first, last + 1),
        },
        Bounds::Score(r) => {
            let (s, e) = r.span(zset);
            apply_limit(s, e, req.reverse, req.offset, req.limit)
        }
        Bounds::Lex(r) => {
            // Only the members the reply can reach are walked.
            let cap = if req.offset < 0 {
                0
            } else if req.limit < 0 {
                usize::MAX
            } else {
                (req.offset as u64)
                    .saturating_add(req.limit as u64)
                    .min(usize::MAX as u64) as usize
            };
            let (s, e) = if req.reverse {
                r.span_rev(zset, cap)
            } else {
                r.span(zset, cap)
            };
            apply_limit(s, e, req.reverse, req.offset, req.limit)
        }
    }
}

/// The ZRANGE family. `src_at` is the source key's position; `dst_at` the destination of
/// ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    src_at: usize,
    dst_at: Option<usize>,
    kind: Option<RangeKind>,
    reverse: Option<bool>,
) -> CmdResult {
    let argv = ctx.argv;
    let req = parse_request(argv, src_at, dst_at.is_some(), kind, reverse)?;
    let bounds = parse_bounds(argv, &req)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let src = &argv[src_at];
    let (db, out) = db_out(ctx);
    let zset = read::<ZSet>(db, src, now, clock)?;
    let Some(dst_at) = dst_at else {
        let Some(zset) = zset else {
            out.array(0);
            return Ok(());
        };
        let (start, end) = resolve(zset, &bounds, &req);
        let with_scores = req.with_scores;
        reply_entries_header(out, end - start, with_scores);
        if req.reverse {
            for (m, s) in zset.iter_range_rev(start, end) {
                reply_entry(out, m, s, with_scores);
            }
        } else {
            for (m, s) in zset.iter_range(start, end) {
                reply_entry(out, m, s, with_scores);
            }
        }
        return Ok(());
    };
    let entries: Vec<(Blob, f64)> = match zset {
        None => Vec::new(),
        Some(zset) => {
            let (start, end) = resolve(zset, &bounds, &req);
            let it: Box<dyn Iterator<Item = (&Blob, f64)>> = if req.reverse {
                Box::new(zset.iter_range_rev(start, end))
            } else {
                Box::new(zset.iter_range(start, end))
            };
            it.map(|(m, s)| (m.clone(), s)).collect()
        }
    };
    let dst = &argv[dst_at];
    let count = entries.len();
    let limits = ctx.engine.keyspace.limits;
    let db = ctx.db();
    if store(db, dst, ZSet::from_entries(entries, &limits), now, clock) {
        ctx.modified(dst);
        ctx.notify_stored(count > 0, notify::ZSET, "zrangestore", dst);
    }
    ctx.out.int(count as i64);
    Ok(())
}

fn zrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, None, None)
}

fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 2, Some(1), None, None)
}

fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Some(RangeKind::Lex), Some(true))
}

fn zcount(ctx: &mut Ctx) -> CmdResult {
    let range = ScoreRange::parse(ctx.arg(2), ctx.arg(3))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let n = read::<ZSet>(db, key, now, clock)?.map_or(0, |z| {
        let (s, e) = range.span(z);
        e - s
    });
    out.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    let range = LexRange::parse(ctx.arg(2), ctx.arg(3))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let n = read::<ZSet>(db, key, now, clock)?.map_or(0, |z| range.count(z));
    out.int(n as i64);
    Ok(())
}

/// ZREMRANGEBYRANK / BYSCORE / BYLEX.
fn zremrange_generic(ctx: &mut Ctx, kind: RangeKind) -> CmdResult {
    let argv = ctx.argv;
    let bounds = match kind {
        RangeKind::Rank => Bounds::Rank(parse_int(&argv[2])?, parse_int(&argv[3])?),
        RangeKind::Score => Bounds::Score(ScoreRange::parse(&argv[2], &argv[3])?),
        RangeKind::Lex => Bounds::Lex(LexRange::parse(&argv[2], &argv[3])?),
    };
    let now = ctx.now;
    let key = &argv[1];
    let db = ctx.db();
    let Some(zset) = modify::<ZSet>(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (start, end) = match &bounds {
        Bounds::Rank(a, b) => match clamp_range(zset.len(), *a, *b) {
            Some((first, last)) => (first, last + 1),
            None => (0, 0),
        },
        Bounds::Score(r) => r.span(zset),
        Bounds::Lex(r) => r.span(zset, usize::MAX),
    };
    let removed = zset.remove_rank_range(start, end);
    let emptied = zset.is_empty();
    if emptied {
        db.remove(key);
    }
    if removed > 0 {
        db.touch(key);
        ctx.dirty += removed as u64;
        let event = match kind {
            RangeKind::Rank => "zremrangebyrank",
            RangeKind::Score => "zremrangebyscore",
            RangeKind::Lex => "zremrangebylex",
        };
        ctx.notify(notify::ZSET, event, key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Score)
}

fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, RangeKind::Lex)
}

/// Sorted-set range commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("zrange", -4, READONLY, (1, 1, 1), "sorted_set", zrange),
    cmd!(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        "sorted_set",
        zrangestore
    ),
    cmd!(
        "zrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrevrange
    ),
    cmd!(
        "zrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrangebyscore
    ),
    cmd!(
        "zrevrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrevrangebyscore
    ),
    cmd!(
        "zrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrangebylex
    ),
    cmd!(
        "zrevrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        "sorted_set",
        zrevrangebylex
    ),
    cmd!(
        "zcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        "sorted_set",
        zcount
    ),
    cmd!(
        "zlexcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        "sorted_set",
        zlexcount
    ),
    cmd!(
        "zremrangebyrank",
        4,
        WRITE,
        (1, 1, 1),
        "sorted_set",
        zremrangebyrank
    ),
    cmd!(
        "zremrangebyscore",
        4,
        WRITE,
        (1, 1, 1),
        "sorted_set",
        zremrangebyscore
    ),
    cmd!(
        "zremrangebylex",
        4,
        WRITE,
        (1, 1, 1),
        "sorted_set",
        zremrangebylex
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{blob, EncodingLimits};

    fn zset(entries: &[(&str, f64)], limits: &EncodingLimits) -> ZSet {
        let mut z = ZSet::default();
        for (m, s) in entries {
            z.add(m.as_bytes(), *s, limits);
        }
        z
    }

    #[test]
    fn score_bounds_parse_like_strtod() {
        assert_eq!(parse_score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_score_bound(b"1 "), None);
        assert_eq!(parse_score_bound(b"nan"), None);
        assert_eq!(parse_score_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_score_bound(b"1e999"), Some((f64::INFINITY, false)));
    }

    #[test]
    fn spans_agree_between_forms() {
        let small = EncodingLimits::default();
        let tiny = EncodingLimits {
            zset_max_listpack_entries: 1,
            ..Default::default()
        };
        let entries = [("a", 1.0), ("b", 2.0), ("c", 2.0), ("d", 3.0), ("e", 5.0)];
        let (lp, sl) = (zset(&entries, &small), zset(&entries, &tiny));
        assert_eq!((lp.encoding(), sl.encoding()), ("listpack", "skiplist"));
        for (min, max) in [
            ("2", "3"),
            ("(2", "5"),
            ("-inf", "(2"),
            ("4", "1"),
            ("(2", "(2"),
        ] {
            let r = ScoreRange::parse(min.as_bytes(), max.as_bytes()).unwrap();
            assert_eq!(r.span(&lp), r.span(&sl), "{min} {max}");
        }
        for (min, max) in [
            ("[b", "[d"),
            ("(a", "+"),
            ("-", "(c"),
            ("+", "-"),
            ("[c", "[c"),
            ("(c", "[c"),
        ] {
            let r = LexRange::parse(min.as_bytes(), max.as_bytes()).unwrap();
            let all = usize::MAX;
            assert_eq!(r.span(&lp, all), r.span(&sl, all), "{min} {max}");
            assert_eq!(r.span_rev(&lp, all), r.span(&sl, all), "{min} {max}");
            assert_eq!(r.count(&lp), r.count(&sl), "{min} {max}");
        }
        let _ = blob(b"x");
    }

    #[test]
    fn limits_walk_like_redis() {
        assert_eq!(apply_limit(2, 8, false, 1, 2), (3, 5));
        assert_eq!(apply_limit(2, 8, true, 1, 2), (5, 7));
        assert_eq!(apply_limit(2, 8, false, -1, 2), (0, 0));
        assert_eq!(apply_limit(2, 8, false, 0, -5), (2, 8));
        assert_eq!(apply_limit(2, 8, false, 100, 1), (8, 8));
    }
}
