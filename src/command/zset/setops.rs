//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.
//!
//! Inputs may be sorted sets or plain sets (whose members score 1). The arithmetic follows
//! Redis exactly, because it shows in the scores: inputs are taken smallest first (a
//! stable sort, like glibc's qsort), weighted scores that come out NaN count as 0, and a
//! SUM that meets +inf and -inf gives 0.

use super::Spec;
use super::{reply_entries_header, reply_entry};
use crate::command::cmd;
use crate::command::collection::{db_out, store};
use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::flags::*;
use crate::command::numeric::{parse_float, parse_int};
use crate::engine::notify;
use crate::keyspace::types::score_index::cmp_entry;
use crate::keyspace::types::{HMap, Set, ZSet};
use crate::keyspace::{blob, Blob, Value};

/// The operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// How scores of a member found in several inputs combine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input: a sorted set, a set, or nothing (missing key).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::ZSet(z) => {
                for (m, s) in z.iter_range(0, z.len()) {
                    f(m, s);
                }
            }
            Source::Set(s) => s.for_each_member(|m| f(m, 1.0)),
        }
    }

    /// Identity of the underlying value (ZINTER of a key with itself).
    fn ptr(&self) -> *const u8 {
        match self {
            Source::Missing => std::ptr::null(),
            Source::ZSet(z) => *z as *const ZSet as *const u8,
            Source::Set(s) => *s as *const Set as *const u8,
        }
    }
}

/// A parsed request.
struct Request {
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Parses `numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] [LIMIT n]`
/// from `numkeys_at`; the key types are checked by the caller between the key list and
/// the options, as Redis does.
fn parse_keys<'a>(
    argv: &'a [bytes::Bytes],
    numkeys_at: usize,
    name: &str,
) -> Result<&'a [bytes::Bytes], CmdError> {
    let numkeys = parse_int(&argv[numkeys_at])?;
    if numkeys < 1 {
        return Err(CmdError::no_input_keys(name));
    }
    if numkeys as u64 > (argv.len() - numkeys_at - 1) as u64 {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    Ok(&argv[numkeys_at + 1..numkeys_at + 1 + numkeys as usize])
}

fn parse_options<'a>(
    argv: &'a [bytes::Bytes],
    keys: &'a [bytes::Bytes],
    from: usize,
    op: Op,
    storing: bool,
    cardinality: bool,
) -> Result<Request, CmdError> {
    let mut req = Request {
        weights: vec![1.0; keys.len()],
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let mut j = from;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let opt = &argv[j];
        if op != Op::Diff
            && !cardinality
            && remaining > keys.len()
            && opt.eq_ignore_ascii_case(b"WEIGHTS")
        {
            for (i, w) in argv[j + 1..j + 1 + keys.len()].iter().enumerate() {
                req.weights[i] =
                    parse_float(w).map_err(|_| CmdError::Fixed(error::WEIGHT_NOT_FLOAT))?;
            }
            j += 1 + keys.len();
        } else if op != Op::Diff
            && !cardinality
            && remaining >= 2
            && opt.eq_ignore_ascii_case(b"AGGREGATE")
        {
            let a = &argv[j + 1];
            req.aggregate = if a.eq_ignore_ascii_case(b"SUM") {
                Aggregate::Sum
            } else if a.eq_ignore_ascii_case(b"MIN") {
                Aggregate::Min
            } else if a.eq_ignore_ascii_case(b"MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Fixed(error::SYNTAX));
            };
            j += 2;
        } else if !storing && !cardinality && opt.eq_ignore_ascii_case(b"WITHSCORES") {
            req.with_scores = true;
            j += 1;
        } else if cardinality && remaining >= 2 && opt.eq_ignore_ascii_case(b"LIMIT") {
            req.limit = match parse_int(&argv[j + 1]) {
                Ok(n) if n >= 0 => n as usize,
                _ => return Err(CmdError::Fixed(error::LIMIT_NEGATIVE)),
            };
            j += 2;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    Ok(req)
}

/// Computes the result entries, sorted as a sorted set orders them (or only counts them
/// for ZINTERCARD, stopping at the limit).
fn compute(
    sources: &[Source],
    req: &Request,
    op: Op,
    count_only: bool,
) -> (Vec<(Blob, f64)>, usize) {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    let mut entries: Vec<(Blob, f64)> = Vec::new();
    let mut count = 0usize;
    match op {
        Op::Inter => {
            order.sort_by_key(|&i| sources[i].len());
            let first = order[0];
            if sources[first].len() > 0 {
                sources[first].for_each(|m, s| {
                    if count_only && req.limit != 0 && count >= req.limit {
                        return;
                    }
                    let mut score = req.weights[first] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for &i in &order[1..] {
                        let value = if sources[i].ptr() == sources[first].ptr() {
                            Some(s)
                        } else {
                            sources[i].score(m)
                        };
                        match value {
                            Some(v) => req.aggregate.apply(&mut score, v * req.weights[i]),
                            None => return,
                        }
                    }
                    count += 1;
                    if !count_only {
                        entries.push((blob(m), score));
                    }
                });
            }
        }
        Op::Union => {
            order.sort_by_key(|&i| sources[i].len());
            let mut acc: HMap<Blob, f64> = HMap::default();
            let mut first_seen: Vec<Blob> = Vec::new();
            for &i in &order {
                sources[i].for_each(|m, s| {
                    let mut score = req.weights[i] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(existing) => req.aggregate.apply(existing, score),
                        None => {
                            acc.insert(blob(m), score);
                            first_seen.push(blob(m));
                        }
                    }
                });
            }
            entries = first_seen
                .into_iter()
                .map(|m| {
                    let s = acc.get(&m).copied().unwrap_or(0.0);
                    (m, s)
                })
                .collect();
            count = entries.len();
        }
        Op::Diff => {
            sources[0].for_each(|m, s| {
                if !sources[1..].iter().any(|o| o.score(m).is_some()) {
                    entries.push((blob(m), s));
                }
            });
            count = entries.len();
        }
    }
    entries.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    (entries, count)
}

/// Loads the inputs (WRONGTYPE for anything but a set or sorted set).
fn load<'d>(
    db: &'d mut crate::keyspace::Db,
    keys: &[bytes::Bytes],
    now: i64,
    clock: u32,
) -> Result<Vec<Source<'d>>, CmdError> {
    for key in keys {
        if let Some(item) = db.get_counted(key, now, clock) {
            if !matches!(item.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(CmdError::Fixed(error::WRONGTYPE));
            }
        }
    }
    Ok(keys
        .iter()
        .map(|k| {
            match db
                .peek(k)
                .filter(|it| !it.is_expired(now))
                .map(|it| &it.value)
            {
                Some(Value::ZSet(z)) => Source::ZSet(z),
                Some(Value::Set(s)) => Source::Set(s),
                _ => Source::Missing,
            }
        })
        .collect())
}

/// ZUNION / ZINTER / ZDIFF and their STORE forms; `dst` is the destination's position.
fn generic(ctx: &mut Ctx, op: Op, dst: Option<usize>) -> CmdResult {
    let argv = ctx.argv;
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let keys = parse_keys(argv, numkeys_at, ctx.spec.fullname)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let limits = ctx.engine.keyspace.limits;
    let (db, out) = db_out(ctx);
    let sources = load(db, keys, now, clock)?;
    let req = parse_options(
        argv,
        keys,
        numkeys_at + 1 + keys.len(),
        op,
        dst.is_some(),
        false,
    )?;
    let (entries, _) = compute(&sources, &req, op, false);
    match dst {
        None => {
            reply_entries_header(out, entries.len(), req.with_scores);
            for (m, s) in &entries {
                reply_entry(out, m, *s, req.with_scores);
            }
        }
        Some(at) => {
            let dst = &argv[at];
            let count = entries.len();
            if store(db, dst, ZSet::from_entries(entries, &limits), now, clock) {
                ctx.modified(dst);
                let event = match op {
                    Op::Union => "zunionstore",
                    Op::Inter => "zinterstore",
                    Op::Diff => "zdiffstore",
                };
                ctx.notify_stored(count > 0, notify::ZSET, event, dst);
            }
            ctx.out.int(count as i64);
        }
    }
    Ok(())
}

fn zunion(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Union, None)
}

fn zinter(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Inter, None)
}

fn zdiff(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Diff, None)
}

fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Union, Some(1))
}

fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Inter, Some(1))
}

fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    generic(ctx, Op::Diff, Some(1))
}

fn zintercard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let keys = parse_keys(argv, 1, ctx.spec.fullname)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let (db, out) = db_out(ctx);
    let sources = load(db, keys, now, clock)?;
    let req = parse_options(argv, keys, 2 + keys.len(), Op::Inter, false, true)?;
    let (_, count) = compute(&sources, &req, Op::Inter, true);
    out.int(count as i64);
    Ok(())
}

/// Sorted-set algebra commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "zunionstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "sorted_set",
        zunionstore
    ),
    cmd!(
        "zinterstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "sorted_set",
        zinterstore
    ),
    cmd!(
        "zdiffstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "sorted_set",
        zdiffstore
    ),
    cmd!(
        "zunion",
        -3,
        READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        zunion
    ),
    cmd!(
        "zinter",
        -3,
        READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        zinter
    ),
    cmd!(
        "zdiff",
        -3,
        READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        zdiff
    ),
    cmd!(
        "zintercard",
        -3,
        READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "sorted_set",
        zintercard
    ),
];
