//! SORT and SORT_RO: the elements of a list, set or sorted set, ordered numerically or
//! lexically, by themselves or by weights kept in other keys (BY), answered as themselves
//! or as values looked up per element (GET), optionally stored as a list (STORE).
//!
//! Every rule is Redis 7.0's (sort.c): option parsing and its errors, the LIMIT clamping,
//! `BY` without `*` meaning "do not sort" (native order for lists and sorted sets, forced
//! ALPHA order for a set whose order would otherwise leak into a STORE or a script), how
//! weights are read (`strtod` over the whole value; a missing weight is 0), ties broken by
//! the element's bytes, and `pattern->field` looking into hashes.

use bytes::Bytes;

use super::collection::{store, Collection};
use super::ctx::{CallMode, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::{parse_int, sort_score};
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::types::list::List;
use crate::keyspace::value::blob;
use crate::keyspace::{Blob, Db, Value};

/// SORT's options, as parsed.
struct Options {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<Bytes>,
    by: Option<Bytes>,
    gets: Vec<Bytes>,
    /// `BY` named a pattern without `*`: keep the native order.
    dont_sort: bool,
}

fn parse_options(ctx: &Ctx, readonly: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: None,
        store: None,
        by: None,
        gets: Vec::new(),
        dont_sort: false,
    };
    let argv = ctx.argv;
    let full_access =
        || super::permissions::full_read_access(ctx.table, ctx.engine, ctx.session, ctx.spec, argv);
    let mut j = 2;
    while j < argv.len() {
        let arg = &argv[j][..];
        let left = argv.len() - j - 1;
        if arg.eq_ignore_ascii_case(b"ASC") {
            o.desc = false;
        } else if arg.eq_ignore_ascii_case(b"DESC") {
            o.desc = true;
        } else if arg.eq_ignore_ascii_case(b"ALPHA") {
            o.alpha = true;
        } else if arg.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            o.limit = Some((parse_int(&argv[j + 1])?, parse_int(&argv[j + 2])?));
            j += 2;
        } else if !readonly && arg.eq_ignore_ascii_case(b"STORE") && left >= 1 {
            o.store = Some(argv[j + 1].clone());
            j += 1;
        } else if arg.eq_ignore_ascii_case(b"BY") && left >= 1 {
            o.by = Some(argv[j + 1].clone());
            o.dont_sort = !argv[j + 1].contains(&b'*');
            // A real pattern reads keys no argument names: the user needs every key.
            if !o.dont_sort && !full_access() {
                return Err(CmdError::Fixed(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            j += 1;
        } else if arg.eq_ignore_ascii_case(b"GET") && left >= 1 {
            if !full_access() {
                return Err(CmdError::Fixed(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.gets.push(argv[j + 1].clone());
            j += 1;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` of the
/// pattern is replaced by the element, and the key found must hold a string — or a hash
/// when the pattern ends in `->field` after the `*`, whose field is then read. A pattern
/// without `*` finds nothing.
fn lookup_by_pattern(
    db: &mut Db,
    pattern: &[u8],
    element: &[u8],
    now: i64,
    clock: u32,
) -> Option<Blob> {
    if pattern == b"#" {
        return Some(blob(element));
    }
    // C string functions: the pattern ends at its first NUL byte.
    let pattern = &pattern[..pattern
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(pattern.len())];
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after.windows(2).position(|w| w == b"->");
    let (postfix, field) = match arrow {
        Some(at) if at + 2 < after.len() => (&after[..at], Some(&after[at + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let item = db.get_counted(&key, now, clock)?;
    match (&item.value, field) {
        (Value::Hash(hash), Some(field)) => hash.get(field).cloned(),
        (Value::Str(s), None) => Some(blob(s.as_bytes(&mut itoa::Buffer::new()))),
        _ => None,
    }
}

/// One element being sorted, with what it is compared by.
struct Sortable {
    element: Blob,
    score: f64,
    /// ALPHA with BY: the weight found, if any.
    weight: Option<Blob>,
}

/// The first `start..=end` bounds Redis derives from LIMIT over `len` elements (`end` may
/// be below `start`: nothing to answer).
fn limit_bounds(limit: Option<(i64, i64)>, len: i64) -> (i64, i64) {
    let (offset, count) = limit.unwrap_or((0, -1));
    let mut start = offset.max(0).min(len);
    let count = count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

/// C's `strcoll` in the C locale: bytes compared up to the first NUL of each.
fn collate(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let cut = |s: &[u8]| -> usize { s.iter().position(|&c| c == 0).unwrap_or(s.len()) };
    a[..cut(a)].cmp(&b[..cut(b)])
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let mut o = parse_options(ctx, readonly)?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    // The elements, in native order, and the native order's own kind.
    enum Source {
        List(Vec<Blob>),
        Set(Vec<Blob>),
        ZSet(Vec<Blob>),
    }
    let source = match ctx.db().get_counted(key, now, clock) {
        None => Source::List(Vec::new()),
        Some(item) => match &item.value {
            Value::List(list) => Source::List(list.items.iter().cloned().collect()),
            Value::Set(set) => Source::Set(set.members()),
            Value::ZSet(zset) => Source::ZSet(zset.entries().into_iter().map(|(m, _)| m).collect()),
            _ => return Err(CmdError::Fixed(error::WRONGTYPE)),
        },
    };
    // A set has no order of its own: where its iteration order would be stored or seen by
    // a script (and so replicated), it is sorted alphabetically instead.
    let is_set = matches!(source, Source::Set(_));
    if o.dont_sort && is_set && (o.store.is_some() || ctx.mode == CallMode::Script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let native = matches!(source, Source::List(_) | Source::ZSet(_));
    let mut elements = match source {
        Source::List(v) | Source::Set(v) | Source::ZSet(v) => v,
    };
    let len = elements.len() as i64;
    let (mut start, mut end) = limit_bounds(o.limit, len);
    if o.dont_sort && native {
        // Native order, read from the right end for DESC, only the range asked for.
        if o.desc {
            elements.reverse();
        }
        let range = if end >= start {
            elements[start as usize..=end as usize].to_vec()
        } else {
            Vec::new()
        };
        elements = range;
        end -= start;
        start = 0;
    }
    let mut vector: Vec<Sortable> = elements
        .into_iter()
        .map(|element| Sortable {
            element,
            score: 0.0,
            weight: None,
        })
        .collect();
    let mut conversion_error = false;
    if !o.dont_sort {
        let db = ctx.db();
        for item in &mut vector {
            let weight = match &o.by {
                Some(pattern) => match lookup_by_pattern(db, pattern, &item.element, now, clock) {
                    Some(w) => w,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    item.weight = Some(weight);
                }
            } else {
                match sort_score(&weight) {
                    Some(score) => item.score = score,
                    None => conversion_error = true,
                }
            }
        }
        let binary = o.store.is_some();
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        vector.sort_by(|a, b| {
            let order = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.element.as_ref().cmp(b.element.as_ref()))
            } else {
                let (x, y) = if by {
                    match (&a.weight, &b.weight) {
                        (Some(x), Some(y)) => (x.as_ref(), y.as_ref()),
                        (None, None) => return std::cmp::Ordering::Equal,
                        (None, Some(_)) => return flip(std::cmp::Ordering::Less, desc),
                        (Some(_), None) => return flip(std::cmp::Ordering::Greater, desc),
                    }
                } else {
                    (a.element.as_ref(), b.element.as_ref())
                };
                if binary {
                    x.cmp(y)
                } else {
                    collate(x, y)
                }
            };
            flip(order, desc)
        });
    }
    if conversion_error {
        return Err(CmdError::Fixed(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let picked: &[Sortable] = if end >= start {
        &vector[start as usize..=end as usize]
    } else {
        &[]
    };
    let per_element = o.gets.len().max(1);
    let output_len = picked.len() * per_element;
    let db_index = ctx.session.db;
    match o.store.clone() {
        None => {
            ctx.out.array(output_len);
            for item in picked {
                if o.gets.is_empty() {
                    ctx.out.bulk(&item.element);
                }
                for pattern in &o.gets {
                    let db = &mut ctx.engine.keyspace.dbs[db_index];
                    match lookup_by_pattern(db, pattern, &item.element, now, clock) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = List::new();
            for item in picked {
                if o.gets.is_empty() {
                    list.items.push_back(item.element.clone());
                }
                for pattern in &o.gets {
                    let db = &mut ctx.engine.keyspace.dbs[db_index];
                    let v = lookup_by_pattern(db, pattern, &item.element, now, clock);
                    list.items.push_back(v.unwrap_or_default());
                }
            }
            let stored = !list.is_empty_collection();
            if store(ctx.db(), &dst, list, now, clock) {
                ctx.modified(&dst);
                ctx.dirty += output_len.saturating_sub(1) as u64;
                ctx.notify_stored(stored, notify::LIST, "sortstore", &dst);
            }
            ctx.out.int(output_len as i64);
        }
    }
    Ok(())
}

fn flip(order: std::cmp::Ordering, desc: bool) -> std::cmp::Ordering {
    if desc {
        order.reverse()
    } else {
        order
    }
}

fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// SORT and SORT_RO.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "sort",
        -2,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "generic",
        sort
    ),
    cmd!(
        "sort_ro",
        -2,
        READONLY | MOVABLEKEYS,
        (1, 1, 1),
        "generic",
        sort_ro
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds_follow_redis() {
        assert_eq!(limit_bounds(None, 5), (0, 4));
        assert_eq!(limit_bounds(Some((1, 2)), 5), (1, 2));
        assert_eq!(limit_bounds(Some((-3, 2)), 5), (0, 1));
        assert_eq!(limit_bounds(Some((3, 100)), 5), (3, 4));
        assert_eq!(limit_bounds(Some((10, 1)), 5), (4, 3));
        assert_eq!(limit_bounds(Some((0, 0)), 5), (0, -1));
        assert_eq!(limit_bounds(Some((2, -5)), 5), (2, 4));
        assert_eq!(limit_bounds(None, 0), (-1, -2));
    }

    #[test]
    fn collation_stops_at_nul_bytes() {
        use std::cmp::Ordering::*;
        assert_eq!(collate(b"a\0b", b"a\0c"), Equal);
        assert_eq!(collate(b"ab", b"b"), Less);
        assert_eq!(collate(b"a", b"a\0"), Equal);
    }
}
