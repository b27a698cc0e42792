//! Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID here; reading
//! (XREAD, XREADGROUP) in `read.rs`; consumer groups (XGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM) in `groups.rs`; XINFO in `info.rs`.
//!
//! Replication follows Redis 7.0: a write whose outcome depends on the master's state is
//! propagated in a form that replays the same way — XADD with the ID it generated and an
//! approximate trim turned exact; deliveries to a consumer group as `XCLAIM ... FORCE JUSTID`
//! per entry, with `XGROUP SETID` / `XGROUP CREATECONSUMER` where a claim cannot say it.

mod groups;
mod info;
mod read;

use crate::engine::notify;
use bytes::Bytes;

use super::collection::{db_out, modify, modify_or_create, read as read_value};
use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::keyspace::types::stream::{
    AppendError, Fields, IdRequest, Stream, StreamId, Trim, TrimTo,
};
use crate::resp::{Argv, ReplyBuf};

// ---- IDs ----

/// Redis's `string2ull`: a canonical integer that is not negative, or what C's `strtoull`
/// accepts in full (leading spaces, a sign, leading zeros; a minus sign wraps around).
fn string_to_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::resp::parser::parse_i64(s) {
        return (n >= 0).then_some(n as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    for d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// How a stream ID argument may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdForm {
    /// `-` and `+` allowed (range bounds).
    Range,
    /// A concrete ID only.
    Strict,
}

/// Parses `<ms>-<seq>`, `<ms>` (the sequence then being `missing_seq`), and with
/// [`IdForm::Range`] `-` / `+` (Redis's `streamGenericParseIDOrReply`).
fn parse_id(arg: &[u8], missing_seq: u64, form: IdForm) -> Result<StreamId, CmdError> {
    let invalid = || CmdError::Fixed(error::STREAM_ID_INVALID);
    if arg.len() > 127 {
        return Err(invalid());
    }
    match arg {
        b"-" if form == IdForm::Range => return Ok(StreamId::MIN),
        b"+" if form == IdForm::Range => return Ok(StreamId::MAX),
        _ => {}
    }
    let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (
            string_to_u64(&arg[..dash]).ok_or_else(invalid)?,
            string_to_u64(&arg[dash + 1..]).ok_or_else(invalid)?,
        ),
        None => (string_to_u64(arg).ok_or_else(invalid)?, missing_seq),
    };
    Ok(StreamId::new(ms, seq))
}

/// A range bound: `(id` is exclusive. Returns the inclusive bound, or the interval error
/// when an exclusive bound has no neighbour.
fn parse_bound(arg: &[u8], start: bool) -> Result<StreamId, CmdError> {
    let exclusive = arg.len() > 1 && arg[0] == b'(';
    if !exclusive {
        return parse_id(arg, if start { 0 } else { u64::MAX }, IdForm::Range);
    }
    let id = parse_id(&arg[1..], if start { 0 } else { u64::MAX }, IdForm::Strict)?;
    if start {
        id.next()
            .ok_or(CmdError::Fixed(error::STREAM_START_INVALID))
    } else {
        id.prev().ok_or(CmdError::Fixed(error::STREAM_END_INVALID))
    }
}

/// The ID as a bulk string.
fn id_bytes(id: StreamId) -> Vec<u8> {
    let mut out = Vec::with_capacity(41);
    out.extend_from_slice(itoa::Buffer::new().format(id.ms).as_bytes());
    out.push(b'-');
    out.extend_from_slice(itoa::Buffer::new().format(id.seq).as_bytes());
    out
}

fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    out.bulk(&id_bytes(id));
}

/// An entry as `[id, [field, value, ...]]`.
fn reply_entry(out: &mut ReplyBuf, id: StreamId, fields: &Fields) {
    out.array(2);
    reply_id(out, id);
    out.array(2 * fields.pairs());
    for part in fields.interleaved() {
        out.bulk(part);
    }
}

fn parse_int_arg(arg: &[u8]) -> Result<i64, CmdError> {
    parse_int(arg)
}

fn arg_bytes(bytes: &[u8]) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

// ---- XADD / XTRIM arguments ----

/// XADD's and XTRIM's options as `streamParseAddOrTrimArgsOrReply` reads them.
#[derive(Debug, Default)]
struct AddTrimArgs {
    /// Where the ID is (XADD); the fields follow it.
    id_pos: usize,
    /// The ID: `None` for `*`.
    id: Option<IdRequest>,
    /// NOMKSTREAM.
    no_mkstream: bool,
    /// MAXLEN / MINID with its options.
    trim: Option<Trim>,
    /// Index of the MAXLEN / MINID threshold (rewritten when trimming approximately).
    threshold_pos: usize,
}

fn parse_add_trim(ctx: &Ctx, xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let argv = ctx.argv;
    let argc = argv.len();
    let mut args = AddTrimArgs::default();
    let mut limit: Option<u64> = None;
    let mut to: Option<(TrimTo, bool)> = None;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid"))
            && more > 0
        {
            if to.is_some() {
                return Err(CmdError::Fixed(error::TRIM_BOTH));
            }
            let mut approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && (next == b"~" || next == b"=") {
                approx = next == b"~";
                i += 1;
            }
            let value = &argv[i + 1][..];
            let threshold = if opt.eq_ignore_ascii_case(b"maxlen") {
                let n = parse_int(value)?;
                if n < 0 {
                    return Err(CmdError::Fixed(error::TRIM_MAXLEN_NEGATIVE));
                }
                TrimTo::MaxLen(n as u64)
            } else {
                TrimTo::MinId(parse_id(value, 0, IdForm::Strict)?)
            };
            i += 1;
            args.threshold_pos = i;
            to = Some((threshold, approx));
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            let n = parse_int(&argv[i + 1])?;
            if n < 0 {
                return Err(CmdError::Fixed(error::TRIM_LIMIT_NEGATIVE));
            }
            limit = Some(n as u64);
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            args.no_mkstream = true;
        } else if xadd {
            args.id = Some(parse_add_id(opt)?);
            break;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        i += 1;
    }
    args.id_pos = i;
    if limit.is_some_and(|l| l > 0) && to.is_none() {
        return Err(CmdError::Fixed(error::TRIM_LIMIT_WITHOUT_STRATEGY));
    }
    let Some((to, approx)) = to else {
        if !xadd {
            return Err(CmdError::Fixed(error::XTRIM_NO_STRATEGY));
        }
        return Ok(args);
    };
    let limit = if ctx.session.must_obey() {
        // Our master (or the AOF) rewrote the threshold to what it trimmed to: apply it exactly.
        0
    } else if let Some(given) = limit {
        if !approx {
            return Err(CmdError::Fixed(error::TRIM_LIMIT_WITHOUT_APPROX));
        }
        given
    } else if approx {
        // At most 100 nodes of work per call, as Redis bounds an unlimited `~` trim.
        let per_node = ctx.engine.keyspace.limits.stream_nodes.max_entries as u64;
        match per_node.saturating_mul(100) {
            0 => 10_000,
            n => n.min(1_000_000),
        }
    } else {
        0
    };
    args.trim = Some(Trim { to, approx, limit });
    Ok(args)
}

/// XADD's ID argument: `<ms>-*` asks for the next sequence in that millisecond.
fn parse_add_id(arg: &[u8]) -> Result<IdRequest, CmdError> {
    if let Some(ms) = arg.strip_suffix(b"-*") {
        if arg.len() <= 127 && !ms.is_empty() {
            if let Some(ms) = string_to_u64(ms) {
                return Ok(IdRequest::Ms(ms));
            }
        }
        return Err(CmdError::Fixed(error::STREAM_ID_INVALID));
    }
    parse_id(arg, 0, IdForm::Strict).map(IdRequest::Exact)
}

/// What an approximate trim is propagated as: `=` and the threshold it reached, so that
/// replicas, whose node boundaries may differ, keep the same entries.
fn exact_trim_rewrite(argv: &mut [Bytes], threshold_pos: usize, stream: &Stream, to: TrimTo) {
    argv[threshold_pos - 1] = Bytes::from_static(b"=");
    argv[threshold_pos] = match to {
        TrimTo::MaxLen(_) => arg_bytes(itoa::Buffer::new().format(stream.len()).as_bytes()),
        TrimTo::MinId(_) => {
            let first = stream.first_entry().map_or(StreamId::MAX, |(id, _)| *id);
            Bytes::from(id_bytes(first))
        }
    };
}

fn xadd(ctx: &mut Ctx) -> CmdResult {
    let args = parse_add_trim(ctx, true)?;
    let field_pos = args.id_pos + 1;
    let argc = ctx.argv.len();
    if argc < field_pos + 2 || (argc - field_pos) % 2 == 1 {
        return Err(CmdError::WrongArity(ctx.spec.fullname.to_string()));
    }
    if args.id == Some(IdRequest::Exact(StreamId::MIN)) {
        return Err(CmdError::Fixed(error::XADD_ID_ZERO));
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let nodes = ctx.engine.keyspace.limits.stream_nodes;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let stream = if args.no_mkstream {
        match modify::<Stream>(db, key, now)? {
            Some(s) => s,
            None => {
                out.null();
                return Ok(());
            }
        }
    } else {
        modify_or_create(db, key, now, clock, Stream::new)?
    };
    if stream.last_id == StreamId::MAX {
        return Err(CmdError::Fixed(error::XADD_ID_EXHAUSTED));
    }
    let request = args.id.unwrap_or(IdRequest::Auto {
        now_ms: now.max(0) as u64,
    });
    let id = stream
        .append(request, &argv[field_pos..], nodes)
        .map_err(|e| match e {
            AppendError::NotGreater => CmdError::Fixed(error::XADD_ID_NOT_GREATER),
            AppendError::TooLarge => CmdError::Fixed(error::XADD_TOO_LARGE),
        })?;
    let id_arg = id_bytes(id);
    out.bulk(&id_arg);
    // Replicas replay the ID this XADD generated and the trim it actually made.
    let mut rewritten: Option<Argv> = None;
    let mut trimmed = 0;
    if let Some(trim) = args.trim {
        trimmed = stream.trim(trim);
        if trim.approx {
            let mut v: Argv = argv.iter().cloned().collect();
            exact_trim_rewrite(&mut v, args.threshold_pos, stream, trim.to);
            rewritten = Some(v);
        }
    }
    if !matches!(args.id, Some(IdRequest::Exact(_))) {
        let v = rewritten.get_or_insert_with(|| argv.iter().cloned().collect());
        v[args.id_pos] = Bytes::from(id_arg);
    }
    db.signal_ready(key);
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    if let Some(v) = rewritten {
        ctx.propagate_as(vec![v]);
    }
    Ok(())
}

fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let args = parse_add_trim(ctx, false)?;
    let Some(trim) = args.trim else {
        return Err(CmdError::Fixed(error::XTRIM_NO_STRATEGY));
    };
    let now = ctx.now;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let Some(stream) = modify::<Stream>(db, key, now)? else {
        out.int(0);
        return Ok(());
    };
    let removed = stream.trim(trim);
    out.int(removed as i64);
    if removed == 0 {
        return Ok(());
    }
    let rewrite = trim.approx.then(|| {
        let mut v = argv.to_vec();
        exact_trim_rewrite(&mut v, args.threshold_pos, stream, trim.to);
        v
    });
    db.touch(key);
    ctx.dirty += removed;
    ctx.notify(notify::STREAM, "xtrim", key);
    if let Some(v) = rewrite {
        ctx.propagate_as(vec![v.into_iter().collect()]);
    }
    Ok(())
}

fn xdel(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let Some(stream) = modify::<Stream>(db, key, now)? else {
        out.int(0);
        return Ok(());
    };
    let ids = argv[2..]
        .iter()
        .map(|a| parse_id(a, 0, IdForm::Strict))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = ids.into_iter().filter(|id| stream.delete(*id)).count();
    out.int(deleted as i64);
    if deleted > 0 {
        db.touch(key);
        ctx.dirty += deleted as u64;
        ctx.notify(notify::STREAM, "xdel", key);
    }
    Ok(())
}

fn xlen(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let len = read_value::<Stream>(db, key, now, clock)?.map_or(0, Stream::len);
    out.int(len as i64);
    Ok(())
}

/// XRANGE / XREVRANGE (`rev`: the end comes first).
fn range_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (ctx.arg(3), ctx.arg(2))
    } else {
        (ctx.arg(2), ctx.arg(3))
    };
    let start = parse_bound(start_arg, true)?;
    let end = parse_bound(end_arg, false)?;
    let mut count: Option<usize> = None;
    let mut i = 4;
    while i < ctx.argv.len() {
        if ctx.argv[i].eq_ignore_ascii_case(b"COUNT") && i + 1 < ctx.argv.len() {
            count = Some(parse_int(&ctx.argv[i + 1])?.max(0) as usize);
            i += 2;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let Some(stream) = read_value::<Stream>(db, key, now, clock)? else {
        out.array(0);
        return Ok(());
    };
    if count == Some(0) {
        out.null_array();
        return Ok(());
    }
    let entries: Vec<_> = stream
        .range(start, end, rev)
        .take(count.unwrap_or(usize::MAX))
        .collect();
    out.array(entries.len());
    for (id, fields) in entries {
        reply_entry(out, *id, fields);
    }
    Ok(())
}

fn xrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, true)
}

fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let id = parse_id(ctx.arg(2), 0, IdForm::Strict)?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let argv = ctx.argv;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if opt.eq_ignore_ascii_case(b"ENTRIESADDED") && more > 0 {
            let n = parse_int(&argv[i + 1])?;
            if n < 0 {
                return Err(CmdError::Fixed(error::XSETID_ENTRIES_ADDED));
            }
            entries_added = Some(n as u64);
        } else if opt.eq_ignore_ascii_case(b"MAXDELETEDID") && more > 0 {
            max_deleted = parse_id(&argv[i + 1], 0, IdForm::Strict)?;
            if id < max_deleted {
                return Err(CmdError::Fixed(error::XSETID_MAX_DELETED));
            }
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        i += 2;
    }
    let now = ctx.now;
    let key = ctx.arg(1);
    let (db, out) = db_out(ctx);
    let stream = modify::<Stream>(db, key, now)?.ok_or(CmdError::Fixed(error::NO_SUCH_KEY))?;
    if let Some((top, _)) = stream.last_entry() {
        if id < *top {
            return Err(CmdError::Fixed(error::XSETID_TOO_SMALL));
        }
        if entries_added.is_some_and(|n| (stream.len() as u64) > n) {
            return Err(CmdError::Fixed(error::XSETID_ENTRIES_BELOW_LENGTH));
        }
    }
    stream.last_id = id;
    if let Some(n) = entries_added {
        stream.entries_added = n;
    }
    if !max_deleted.is_zero() {
        stream.max_deleted_id = max_deleted;
    }
    out.ok();
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xsetid", key);
    Ok(())
}

/// The XGROUP subcommands.
static XGROUP_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "xgroup",
        "create",
        -5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "stream",
        groups::xgroup_create
    ),
    subcmd!(
        "xgroup",
        "createconsumer",
        5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "stream",
        groups::xgroup_createconsumer
    ),
    subcmd!(
        "xgroup",
        "delconsumer",
        5,
        WRITE,
        (2, 2, 1),
        "stream",
        groups::xgroup_delconsumer
    ),
    subcmd!(
        "xgroup",
        "destroy",
        4,
        WRITE,
        (2, 2, 1),
        "stream",
        groups::xgroup_destroy
    ),
    subcmd!(
        "xgroup",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        groups::xgroup_help
    ),
    subcmd!(
        "xgroup",
        "setid",
        -5,
        WRITE,
        (2, 2, 1),
        "stream",
        groups::xgroup_setid
    ),
];

/// The XINFO subcommands.
static XINFO_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "xinfo",
        "consumers",
        4,
        READONLY,
        (2, 2, 1),
        "stream",
        info::xinfo_consumers
    ),
    subcmd!(
        "xinfo",
        "groups",
        3,
        READONLY,
        (2, 2, 1),
        "stream",
        info::xinfo_groups
    ),
    subcmd!(
        "xinfo",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        info::xinfo_help
    ),
    subcmd!(
        "xinfo",
        "stream",
        -3,
        READONLY,
        (2, 2, 1),
        "stream",
        info::xinfo_stream
    ),
];

/// Stream commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "xadd",
        -5,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "stream",
        xadd
    ),
    cmd!("xrange", -4, READONLY, (1, 1, 1), "stream", xrange),
    cmd!("xrevrange", -4, READONLY, (1, 1, 1), "stream", xrevrange),
    cmd!("xlen", 2, READONLY | FAST, (1, 1, 1), "stream", xlen),
    cmd!("xdel", -3, WRITE | FAST, (1, 1, 1), "stream", xdel),
    cmd!("xtrim", -4, WRITE, (1, 1, 1), "stream", xtrim),
    cmd!(
        "xsetid",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "stream",
        xsetid
    ),
    cmd!(
        "xread",
        -4,
        READONLY | BLOCKING | MOVABLEKEYS,
        (0, 0, 0),
        "stream",
        read::xread
    ),
    cmd!(
        "xreadgroup",
        -7,
        WRITE | BLOCKING | MOVABLEKEYS,
        (0, 0, 0),
        "stream",
        read::xreadgroup
    ),
    cmd!("xack", -4, WRITE | FAST, (1, 1, 1), "stream", groups::xack),
    cmd!(
        "xpending",
        -3,
        READONLY,
        (1, 1, 1),
        "stream",
        groups::xpending
    ),
    cmd!(
        "xclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        groups::xclaim
    ),
    cmd!(
        "xautoclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        groups::xautoclaim
    ),
    Spec {
        name: "xgroup",
        fullname: "xgroup",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        group: "stream",
        handler: container,
        subcommands: XGROUP_SUBCOMMANDS,
    },
    Spec {
        name: "xinfo",
        fullname: "xinfo",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        group: "stream",
        handler: container,
        subcommands: XINFO_SUBCOMMANDS,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_parses_them() {
        let id = |s: &[u8]| parse_id(s, 0, IdForm::Range).ok();
        assert_eq!(id(b"5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(id(b"5"), Some(StreamId::new(5, 0)));
        assert_eq!(id(b"-"), Some(StreamId::MIN));
        assert_eq!(id(b"+"), Some(StreamId::MAX));
        assert_eq!(id(b"05-1"), Some(StreamId::new(5, 1)));
        assert_eq!(id(b" 7"), Some(StreamId::new(7, 0)));
        assert_eq!(id(b"-5"), None);
        assert_eq!(id(b"5-"), None);
        assert_eq!(id(b"a-1"), None);
        assert_eq!(id(b"18446744073709551616"), None);
        assert_eq!(parse_id(b"+", 0, IdForm::Strict).ok(), None);
        assert_eq!(
            parse_id(b"5", u64::MAX, IdForm::Range).ok(),
            Some(StreamId::new(5, u64::MAX))
        );
    }

    #[test]
    fn exclusive_bounds_step_over_the_id() {
        assert_eq!(parse_bound(b"(5-0", true).ok(), Some(StreamId::new(5, 1)));
        assert_eq!(
            parse_bound(b"(5-0", false).ok(),
            Some(StreamId::new(4, u64::MAX))
        );
        assert!(parse_bound(b"(0-0", false).is_err());
        assert!(parse_bound(b"(-", true).is_err());
    }

    #[test]
    fn add_ids_accept_the_ms_star_form() {
        assert_eq!(parse_add_id(b"12-*").ok(), Some(IdRequest::Ms(12)));
        assert_eq!(
            parse_add_id(b"12-3").ok(),
            Some(IdRequest::Exact(StreamId::new(12, 3)))
        );
        assert!(parse_add_id(b"-*").is_err());
        assert!(parse_add_id(b"x-*").is_err());
    }
}
