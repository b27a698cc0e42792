//! List commands, blocking pops included.
//!
//! A blocking pop that finds nothing blocks through `Ctx::block_on` and replies later: when
//! a write makes one of its keys a non-empty list, the executor re-runs the command with
//! `ctx.ready_key` set, and the command is then served from that key only (Redis serves a
//! waiter from the key that became ready, not from the first of its keys). What a served
//! or immediate blocking pop did is propagated in its non-blocking form (BLPOP → LPOP,
//! BLMOVE → LMOVE, BLMPOP → LPOP key count).

use super::args::{parse_mpop, parse_positive_count, parse_timeout};
use super::collection::{check_type, db_out, modify, modify_or_create, peek, read};
use super::ctx::{argv_of, Ctx, TimeoutReply};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::types::list::{clamp_range, End};
use crate::keyspace::types::List;
use crate::keyspace::{blob, Blob};

/// LEFT / RIGHT (any case), or a syntax error.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if arg.eq_ignore_ascii_case(b"LEFT") {
        Ok(End::Head)
    } else if arg.eq_ignore_ascii_case(b"RIGHT") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Fixed(error::SYNTAX))
    }
}

/// The propagated spelling of an end, as Redis writes it in LMOVE.
fn end_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"left",
        End::Tail => b"right",
    }
}

/// The non-blocking pop command for an end.
fn pop_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    }
}

/// LPUSH, RPUSH, LPUSHX, RPUSHX.
fn push_generic(ctx: &mut Ctx, end: End, only_existing: bool) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let list = if only_existing {
        match modify::<List>(db, key, now)? {
            Some(list) => list,
            None => {
                out.int(0);
                return Ok(());
            }
        }
    } else {
        modify_or_create(db, key, now, clock, List::new)?
    };
    for value in &argv[2..] {
        list.push(end, blob(value));
    }
    let len = list.len();
    out.int(len as i64);
    db.touch(key);
    ctx.dirty += (argv.len() - 2) as u64;
    ctx.notify(notify::LIST, push_event(end), key);
    Ok(())
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, End::Head, false)
}

fn rpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, End::Head, true)
}

fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, End::Tail, true)
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// Pops up to `count` elements from `key` (which must hold a non-empty list), deleting the
/// key when it empties. Signals the change and reports it (the pop, then `del`).
fn pop_elements(ctx: &mut Ctx, key: &[u8], end: End, count: usize) -> Vec<Blob> {
    let now = ctx.now;
    let db = ctx.db();
    let mut popped = Vec::new();
    let mut emptied = false;
    if let Ok(Some(list)) = modify::<List>(db, key, now) {
        let n = count.min(list.len());
        popped.reserve(n);
        for _ in 0..n {
            if let Some(v) = list.pop(end) {
                popped.push(v);
            }
        }
        if list.is_empty() {
            db.remove(key);
            emptied = true;
        }
    }
    if !popped.is_empty() {
        ctx.modified(key);
        ctx.notify(notify::LIST, pop_event(end), key);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    popped
}

/// LPOP / RPOP key [count].
fn pop_generic(ctx: &mut Ctx, end: End) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(CmdError::WrongArity(ctx.spec.fullname.to_string()));
    }
    let count = match ctx.argv.get(2) {
        Some(arg) => Some(parse_positive_count(arg)?),
        None => None,
    };
    let now = ctx.now;
    let key = ctx.arg(1);
    if peek::<List>(ctx.db(), key, now)?.is_none() {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    match count {
        None => {
            let popped = pop_elements(ctx, key, end, 1);
            match popped.first() {
                Some(v) => ctx.out.bulk(v),
                None => ctx.out.null(),
            }
        }
        Some(n) => {
            let popped = pop_elements(ctx, key, end, n as usize);
            ctx.out.array(popped.len());
            for v in &popped {
                ctx.out.bulk(v);
            }
        }
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, End::Head)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, End::Tail)
}

fn llen(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let len = read::<List>(db, key, now, clock)?.map_or(0, List::len);
    out.int(len as i64);
    Ok(())
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let start = parse_int(ctx.arg(2))?;
    let stop = parse_int(ctx.arg(3))?;
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let Some(list) = read::<List>(db, key, now, clock)? else {
        out.array(0);
        return Ok(());
    };
    match list.range(start, stop) {
        None => out.array(0),
        Some((first, last)) => {
            out.array(last - first + 1);
            for v in list.items.range(first..=last) {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let index_arg = ctx.arg(2);
    let (db, out) = db_out(ctx);
    let Some(list) = read::<List>(db, key, now, clock)? else {
        out.null();
        return Ok(());
    };
    let index = parse_int(index_arg)?;
    match list.index(index).and_then(|i| list.items.get(i)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

fn lset(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let value = ctx.arg(3);
    let index_arg = ctx.arg(2);
    let db = ctx.db();
    if peek::<List>(db, key, now)?.is_none() {
        return Err(CmdError::Fixed(error::NO_SUCH_KEY));
    }
    let index = parse_int(index_arg)?;
    let Some(list) = modify::<List>(db, key, now)? else {
        return Err(CmdError::Fixed(error::NO_SUCH_KEY));
    };
    let Some(pos) = list.index(index) else {
        return Err(CmdError::Fixed(error::INDEX_OUT_OF_RANGE));
    };
    list.items[pos] = blob(value);
    ctx.modified(key);
    ctx.notify(notify::LIST, "lset", key);
    ctx.out.ok();
    Ok(())
}

fn lrem(ctx: &mut Ctx) -> CmdResult {
    let count = parse_int(ctx.arg(2))?;
    let now = ctx.now;
    let key = ctx.arg(1);
    let element = ctx.arg(3);
    let db = ctx.db();
    let Some(list) = modify::<List>(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    // As in C: a negative count walks from the tail; i64::MIN stays negative once negated,
    // so it never equals the number removed and removes every match.
    let from_tail = count < 0;
    let limit = if from_tail {
        count.wrapping_neg()
    } else {
        count
    };
    let mut removed: i64 = 0;
    let len = list.len();
    let mut kept: std::collections::VecDeque<Blob> = std::collections::VecDeque::with_capacity(len);
    let mut done = false;
    let order: Box<dyn Iterator<Item = Blob>> = if from_tail {
        Box::new(std::mem::take(&mut list.items).into_iter().rev())
    } else {
        Box::new(std::mem::take(&mut list.items).into_iter())
    };
    for v in order {
        if !done && v.as_slice() == element {
            removed += 1;
            if limit != 0 && removed == limit {
                done = true;
            }
            continue;
        }
        if from_tail {
            kept.push_front(v);
        } else {
            kept.push_back(v);
        }
    }
    list.items = kept;
    let emptied = list.is_empty();
    if emptied {
        db.remove(key);
    }
    if removed > 0 {
        ctx.modified(key);
        ctx.notify(notify::LIST, "lrem", key);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.int(removed);
    Ok(())
}

fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let start = parse_int(ctx.arg(2))?;
    let stop = parse_int(ctx.arg(3))?;
    let now = ctx.now;
    let key = ctx.arg(1);
    let db = ctx.db();
    let Some(list) = modify::<List>(db, key, now)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = list.len();
    let removed = match clamp_range(len, start, stop) {
        None => {
            list.items.clear();
            len
        }
        Some((first, last)) => {
            list.items.truncate(last + 1);
            list.items.drain(..first);
            len - (last - first + 1)
        }
    };
    let emptied = list.is_empty();
    if emptied {
        db.remove(key);
    }
    // Redis signals and reports the key even when nothing was trimmed, and counts what
    // was removed.
    db.touch(key);
    ctx.dirty += removed as u64;
    ctx.notify(notify::LIST, "ltrim", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.ok();
    Ok(())
}

fn linsert(ctx: &mut Ctx) -> CmdResult {
    let after = if ctx.arg(2).eq_ignore_ascii_case(b"AFTER") {
        true
    } else if ctx.arg(2).eq_ignore_ascii_case(b"BEFORE") {
        false
    } else {
        return Err(CmdError::Fixed(error::SYNTAX));
    };
    let now = ctx.now;
    let (key, pivot, element) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let db = ctx.db();
    if peek::<List>(db, key, now)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(list) = modify::<List>(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(pos) = list.items.iter().position(|v| v.as_slice() == pivot) else {
        ctx.out.int(-1);
        return Ok(());
    };
    list.items
        .insert(if after { pos + 1 } else { pos }, blob(element));
    let len = list.len();
    ctx.modified(key);
    ctx.notify(notify::LIST, "linsert", key);
    ctx.out.int(len as i64);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num] [MAXLEN len], following Redis's loop exactly
/// (including its arithmetic on extreme RANK values).
fn lpos(ctx: &mut Ctx) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < ctx.argv.len() {
        let opt = ctx.arg(j);
        let more = j + 1 < ctx.argv.len();
        if opt.eq_ignore_ascii_case(b"RANK") && more {
            rank = parse_int(ctx.arg(j + 1))?;
            if rank == 0 {
                return Err(CmdError::Fixed(error::LPOS_RANK_ZERO));
            }
        } else if opt.eq_ignore_ascii_case(b"COUNT") && more {
            count = Some(match parse_int(ctx.arg(j + 1)) {
                Ok(n) if n >= 0 => n,
                _ => return Err(CmdError::Fixed(error::LPOS_COUNT_NEGATIVE)),
            });
        } else if opt.eq_ignore_ascii_case(b"MAXLEN") && more {
            maxlen = match parse_int(ctx.arg(j + 1)) {
                Ok(n) if n >= 0 => n,
                _ => return Err(CmdError::Fixed(error::LPOS_MAXLEN_NEGATIVE)),
            };
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 2;
    }
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let element = ctx.arg(2);
    let (db, out) = db_out(ctx);
    let Some(list) = read::<List>(db, key, now, clock)? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let len = list.len() as i64;
    let mut found: Vec<i64> = Vec::new();
    let mut matches: i64 = 0;
    let elements: Box<dyn Iterator<Item = &Blob>> = if from_tail {
        Box::new(list.items.iter().rev())
    } else {
        Box::new(list.items.iter())
    };
    for (index, v) in elements.enumerate() {
        let index = index as i64;
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if v.as_slice() != element {
            continue;
        }
        matches += 1;
        if matches >= rank {
            found.push(if from_tail { len - index - 1 } else { index });
            match count {
                None => break,
                Some(c) => {
                    if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c {
                        break;
                    }
                }
            }
        }
    }
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i);
            }
        }
        None => match found.first() {
            Some(i) => out.int(*i),
            None => out.null(),
        },
    }
    Ok(())
}

/// Moves one element from `src` (known to hold a non-empty list) to `dst`, answering the
/// element. `dst` must have been checked to be a list or missing.
fn move_element(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let db = ctx.db();
    let Some(value) = modify::<List>(db, src, now)?.and_then(|l| l.pop(from)) else {
        ctx.out.null();
        return Ok(());
    };
    let mut emptied = false;
    if src == dst {
        if let Some(list) = modify::<List>(db, src, now)? {
            list.push(to, value.clone());
        }
    } else {
        if modify::<List>(db, src, now)?.is_some_and(|l| l.is_empty()) {
            db.remove(src);
            emptied = true;
        }
        modify_or_create(db, dst, now, clock, List::new)?.push(to, value.clone());
        ctx.modified(dst);
    }
    ctx.modified(src);
    // Redis reports the push first, then the pop.
    ctx.notify(notify::LIST, push_event(to), dst);
    ctx.notify(notify::LIST, pop_event(from), src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    ctx.out.bulk(&value);
    Ok(())
}

/// LMOVE and its relatives: blocks (when allowed and `timeout` is given) while `src` is
/// missing.
fn lmove_generic(
    ctx: &mut Ctx,
    from: End,
    to: End,
    timeout: Option<Option<std::time::Duration>>,
) -> CmdResult {
    let now = ctx.now;
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let serving = ctx.ready_key.is_some();
    let src_state = match peek::<List>(ctx.db(), src, now) {
        Ok(list) => list.map(List::len),
        // A waiter whose key became another type keeps waiting, as in Redis 7.0.
        Err(_) if serving => None,
        Err(e) => return Err(e),
    };
    let Some(_) = src_state.filter(|n| *n > 0) else {
        match timeout {
            Some(t) if ctx.may_block() => {
                ctx.block_on(vec![blob(src)], t, TimeoutReply::NullArray);
            }
            _ => ctx.out.null(),
        }
        return Ok(());
    };
    check_type::<List>(ctx.db(), dst, now)?;
    move_element(ctx, src, dst, from, to)?;
    if timeout.is_some() {
        let propagated = if ctx.spec.name == "brpoplpush" {
            argv_of(&[b"RPOPLPUSH", src, dst])
        } else {
            argv_of(&[b"LMOVE", src, dst, end_name(from), end_name(to)])
        };
        ctx.propagate_as(vec![propagated]);
    }
    Ok(())
}

fn lmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    lmove_generic(ctx, from, to, None)
}

fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    lmove_generic(ctx, End::Tail, End::Head, None)
}

fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    let timeout = parse_timeout(ctx.arg(5))?;
    lmove_generic(ctx, from, to, Some(timeout))
}

fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    let timeout = parse_timeout(ctx.arg(3))?;
    lmove_generic(ctx, End::Tail, End::Head, Some(timeout))
}

/// How a multi-key pop answers and propagates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PopShape {
    /// BLPOP / BRPOP: `[key, element]`, propagated as LPOP/RPOP key.
    One,
    /// LMPOP / BLMPOP: `[key, [elements]]`, propagated as LPOP/RPOP key count.
    Many(usize),
}

/// Pops from the first of `keys` holding a non-empty list (only from the ready key when
/// serving a blocked client); returns false when none had elements.
fn pop_first_nonempty(
    ctx: &mut Ctx,
    keys: &[bytes::Bytes],
    end: End,
    shape: PopShape,
) -> Result<bool, CmdError> {
    let now = ctx.now;
    let serving = ctx.ready_key;
    for key in keys {
        let key: &[u8] = key;
        if serving.is_some_and(|k| k != key) {
            continue;
        }
        let len = match peek::<List>(ctx.db(), key, now) {
            Ok(Some(list)) => list.len(),
            Ok(None) => continue,
            Err(_) if serving.is_some() => continue,
            Err(e) => return Err(e),
        };
        if len == 0 {
            continue;
        }
        match shape {
            PopShape::One => {
                let popped = pop_elements(ctx, key, end, 1);
                ctx.out.array(2);
                ctx.out.bulk(key);
                ctx.out.bulk(popped.first().map_or(&b""[..], |v| v));
                ctx.propagate_as(vec![argv_of(&[pop_name(end), key])]);
            }
            PopShape::Many(count) => {
                let popped = pop_elements(ctx, key, end, count);
                ctx.out.array(2);
                ctx.out.bulk(key);
                ctx.out.array(popped.len());
                for v in &popped {
                    ctx.out.bulk(v);
                }
                let mut n = itoa::Buffer::new();
                let n = n.format(popped.len()).as_bytes();
                ctx.propagate_as(vec![argv_of(&[pop_name(end), key, n])]);
            }
        }
        return Ok(true);
    }
    Ok(false)
}

/// BLPOP / BRPOP key [key ...] timeout.
fn blocking_pop(ctx: &mut Ctx, end: End) -> CmdResult {
    let timeout = parse_timeout(ctx.arg(ctx.argv.len() - 1))?;
    let keys = &ctx.argv[1..ctx.argv.len() - 1];
    if pop_first_nonempty(ctx, keys, end, PopShape::One)? {
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

fn blpop(ctx: &mut Ctx) -> CmdResult {
    blocking_pop(ctx, End::Head)
}

fn brpop(ctx: &mut Ctx) -> CmdResult {
    blocking_pop(ctx, End::Tail)
}

/// LMPOP / BLMPOP; `timeout` is `Some` for the blocking form.
fn mpop_generic(
    ctx: &mut Ctx,
    numkeys_at: usize,
    timeout: Option<Option<std::time::Duration>>,
) -> CmdResult {
    let args = parse_mpop(ctx.argv, numkeys_at)?;
    let end = parse_end(args.which)?;
    if pop_first_nonempty(ctx, args.keys, end, PopShape::Many(args.count))? {
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

fn lmpop(ctx: &mut Ctx) -> CmdResult {
    mpop_generic(ctx, 1, None)
}

fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let timeout = parse_timeout(ctx.arg(1))?;
    mpop_generic(ctx, 2, Some(timeout))
}

/// List commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        lpush
    ),
    cmd!(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        rpush
    ),
    cmd!(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        lpushx
    ),
    cmd!(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "list",
        rpushx
    ),
    cmd!("lpop", -2, WRITE | FAST, (1, 1, 1), "list", lpop),
    cmd!("rpop", -2, WRITE | FAST, (1, 1, 1), "list", rpop),
    cmd!("llen", 2, READONLY | FAST, (1, 1, 1), "list", llen),
    cmd!("lrange", 4, READONLY, (1, 1, 1), "list", lrange),
    cmd!("lindex", 3, READONLY, (1, 1, 1), "list", lindex),
    cmd!("lset", 4, WRITE | DENYOOM, (1, 1, 1), "list", lset),
    cmd!("lrem", 4, WRITE, (1, 1, 1), "list", lrem),
    cmd!("ltrim", 4, WRITE, (1, 1, 1), "list", ltrim),
    cmd!("linsert", 5, WRITE | DENYOOM, (1, 1, 1), "list", linsert),
    cmd!("lpos", -3, READONLY, (1, 1, 1), "list", lpos),
    cmd!("lmove", 5, WRITE | DENYOOM, (1, 2, 1), "list", lmove),
    cmd!(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        (1, 2, 1),
        "list",
        rpoplpush
    ),
    cmd!("lmpop", -4, WRITE | MOVABLEKEYS, (0, 0, 0), "list", lmpop),
    cmd!(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        blpop
    ),
    cmd!(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        brpop
    ),
    cmd!(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        blmove
    ),
    cmd!(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        "list",
        brpoplpush
    ),
    cmd!(
        "blmpop",
        -5,
        WRITE | BLOCKING | MOVABLEKEYS,
        (0, 0, 0),
        "list",
        blmpop
    ),
];
