//! String commands.

use super::ctx::{argv_of, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::{long_double_add, parse_int};
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::{blob, Blob, StrValue, Value, NO_EXPIRE};
use bytes::Bytes;

/// Reads a string value for a read command: `Ok(None)` when missing, WRONGTYPE when the key
/// holds another type.
fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Blob>, CmdError> {
    ctx.with_string(key, |_, bytes| blob(bytes))
}

/// The length of the string at `key`, without counting a keyspace hit or miss (for write
/// commands that change it in place).
fn string_len(ctx: &mut Ctx, key: &[u8]) -> Result<Option<usize>, CmdError> {
    let now = ctx.now;
    match ctx.db().get(key, now) {
        None => Ok(None),
        Some(item) => match &item.value {
            Value::Str(s) => Ok(Some(s.len())),
            _ => Err(CmdError::Fixed(error::WRONGTYPE)),
        },
    }
}

/// Like [`read_string`] without counting a keyspace hit or miss (for write commands).
fn lookup_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<StrValue>, CmdError> {
    let now = ctx.now;
    match ctx.db().get(key, now) {
        None => Ok(None),
        Some(item) => match &item.value {
            Value::Str(s) => Ok(Some(s.clone())),
            _ => Err(CmdError::Fixed(error::WRONGTYPE)),
        },
    }
}

/// Stores a string, keeping the TTL when `keep_ttl`, and records the change.
fn store(ctx: &mut Ctx, key: &[u8], value: StrValue, keep_ttl: bool) {
    let (now, clock) = (ctx.now, ctx.clock());
    if keep_ttl {
        ctx.db().insert_keep_ttl(key, Value::Str(value), now, clock);
    } else {
        ctx.db().insert(key, Value::Str(value), NO_EXPIRE, clock);
    }
    ctx.dirty += 1;
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    if ctx
        .with_string(key, |out, bytes| out.bulk(bytes))?
        .is_none()
    {
        ctx.out.null();
    }
    Ok(())
}

/// Which expiry option a SET / GETEX carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireOpt {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Parsed SET / GETEX options, with Redis's rules on which combine.
#[derive(Debug, Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireOpt, &'a [u8])>,
}

/// Parses the options of SET (`for_set`) or GETEX starting at argument `from`.
fn parse_set_options<'a>(
    argv: &'a [bytes::Bytes],
    from: usize,
    for_set: bool,
) -> Result<SetOptions<'a>, CmdError> {
    let mut o = SetOptions::default();
    let mut j = from;
    while j < argv.len() {
        let opt = &argv[j][..];
        let next = argv.get(j + 1).map(|a| &a[..]);
        let has_expire = o.expire.is_some();
        let expire_kind = o.expire.map(|(k, _)| k);
        let up = opt.to_ascii_uppercase();
        match up.as_slice() {
            b"NX" if for_set && !o.xx => o.nx = true,
            b"XX" if for_set && !o.nx => o.xx = true,
            b"GET" if for_set => o.get = true,
            b"KEEPTTL" if for_set && !o.persist && !has_expire => o.keepttl = true,
            b"PERSIST" if !for_set && !has_expire && !o.keepttl => o.persist = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if next.is_some() && !o.keepttl && !o.persist => {
                let kind = match up.as_slice() {
                    b"EX" => ExpireOpt::Ex,
                    b"PX" => ExpireOpt::Px,
                    b"EXAT" => ExpireOpt::ExAt,
                    _ => ExpireOpt::PxAt,
                };
                if expire_kind.is_some_and(|k| k != kind) {
                    return Err(CmdError::Fixed(error::SYNTAX));
                }
                o.expire = next.map(|n| (kind, n));
                j += 1;
            }
            _ => return Err(CmdError::Fixed(error::SYNTAX)),
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry in ms of an EX/PX/EXAT/PXAT argument, with Redis's checks.
fn expire_millis(ctx: &Ctx, kind: ExpireOpt, arg: &[u8]) -> Result<i64, CmdError> {
    let invalid = || CmdError::InvalidExpire(ctx.spec.fullname.to_string());
    let mut ms = parse_int(arg)?;
    let seconds = matches!(kind, ExpireOpt::Ex | ExpireOpt::ExAt);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(kind, ExpireOpt::Ex | ExpireOpt::Px) {
        ms = ms.checked_add(ctx.now).ok_or_else(invalid)?;
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms)
}

/// SET and its relatives: stores `value` under `key` with the options, replying OK, the
/// old value (GET), or null when NX/XX refused.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &Bytes,
    opts: &SetOptions,
    setnx_reply: bool,
) -> CmdResult {
    let expire_at = match opts.expire {
        Some((kind, arg)) => Some(expire_millis(ctx, kind, arg)?),
        None => None,
    };
    let old = if opts.get {
        lookup_string(ctx, key)?
    } else {
        None
    };
    let now = ctx.now;
    let found = ctx.db().get(key, now).is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        if setnx_reply {
            ctx.out.int(0);
        } else if opts.get {
            reply_old(ctx, old);
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    store(ctx, key, StrValue::from_arg(value), opts.keepttl);
    ctx.notify(notify::STRING, "set", key);
    if let Some(at) = expire_at {
        ctx.db().set_expire(key, at, now);
        ctx.notify(notify::GENERIC, "expire", key);
        let mut t = itoa::Buffer::new();
        // The value goes to the stream as the buffer it is (a big one is not copied again).
        let mut argv = argv_of(&[b"SET", key]);
        argv.push(value.clone());
        argv.extend(argv_of(&[b"PXAT", t.format(at).as_bytes()]));
        ctx.propagate_as(vec![argv]);
    } else if opts.get {
        let mut parts: Vec<&[u8]> = ctx.argv[..3].iter().map(|a| a.as_ref()).collect();
        parts.extend(
            ctx.argv[3..]
                .iter()
                .map(|a| a.as_ref())
                .filter(|a| !a.eq_ignore_ascii_case(b"GET")),
        );
        ctx.propagate_as(vec![argv_of(&parts)]);
    }
    if setnx_reply {
        ctx.out.int(1);
    } else if opts.get {
        reply_old(ctx, old);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn reply_old(ctx: &mut Ctx, old: Option<StrValue>) {
    match old {
        Some(v) => {
            let mut scratch = itoa::Buffer::new();
            ctx.out.bulk(v.as_bytes(&mut scratch));
        }
        None => ctx.out.null(),
    }
}

fn set(ctx: &mut Ctx) -> CmdResult {
    let opts = parse_set_options(ctx.argv, 3, true)?;
    let (key, value) = (ctx.arg(1), ctx.arg_bytes(2));
    set_generic(ctx, key, value, &opts, false)
}

fn setnx(ctx: &mut Ctx) -> CmdResult {
    let opts = SetOptions {
        nx: true,
        ..Default::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg_bytes(2));
    set_generic(ctx, key, value, &opts, true)
}

fn setex(ctx: &mut Ctx) -> CmdResult {
    let opts = SetOptions {
        expire: Some((ExpireOpt::Ex, ctx.arg(2))),
        ..Default::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg_bytes(3));
    set_generic(ctx, key, value, &opts, false)
}

fn psetex(ctx: &mut Ctx) -> CmdResult {
    let opts = SetOptions {
        expire: Some((ExpireOpt::Px, ctx.arg(2))),
        ..Default::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg_bytes(3));
    set_generic(ctx, key, value, &opts, false)
}

fn getset(ctx: &mut Ctx) -> CmdResult {
    let (key, value) = (ctx.arg(1), ctx.arg_bytes(2));
    let old = lookup_string(ctx, key)?;
    store(ctx, key, StrValue::from_arg(value), false);
    ctx.notify(notify::STRING, "set", key);
    let mut argv = argv_of(&[b"SET", key]);
    argv.push(value.clone());
    ctx.propagate_as(vec![argv]);
    reply_old(ctx, old);
    Ok(())
}

fn getdel(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    match ctx.with_string(key, |out, bytes| out.bulk(bytes))? {
        Some(()) => {
            ctx.db().remove(key);
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", key);
            ctx.propagate_as(vec![argv_of(&[b"DEL", key])]);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn getex(ctx: &mut Ctx) -> CmdResult {
    let opts = parse_set_options(ctx.argv, 2, false)?;
    let key = ctx.arg(1);
    let Some(value) = read_string(ctx, key)? else {
        ctx.out.null();
        return Ok(());
    };
    let expire_at = match opts.expire {
        Some((kind, arg)) => Some((kind, expire_millis(ctx, kind, arg)?)),
        None => None,
    };
    ctx.out.bulk(&value);
    let now = ctx.now;
    let is_replica = ctx.engine.is_replica;
    match expire_at {
        Some((kind, at))
            if matches!(kind, ExpireOpt::ExAt | ExpireOpt::PxAt) && at <= now && !is_replica =>
        {
            ctx.db().remove(key);
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", key);
            ctx.propagate_as(vec![argv_of(&[b"DEL", key])]);
        }
        Some((_, at)) => {
            ctx.db().set_expire(key, at, now);
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "expire", key);
            let mut t = itoa::Buffer::new();
            ctx.propagate_as(vec![argv_of(&[b"PEXPIREAT", key, t.format(at).as_bytes()])]);
        }
        None if opts.persist && ctx.db().get(key, now).is_some_and(|it| it.has_expire()) => {
            ctx.db().set_expire(key, NO_EXPIRE, now);
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "persist", key);
            ctx.propagate_as(vec![argv_of(&[b"PERSIST", key])]);
        }
        None => {}
    }
    Ok(())
}

fn mget(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let n = ctx.argv.len() - 1;
    ctx.out.array(n);
    for i in 1..=n {
        let key = ctx.arg(i);
        let db = ctx.session.db;
        match ctx.engine.keyspace.dbs[db]
            .get_counted(key, now, clock)
            .map(|it| &it.value)
        {
            Some(Value::Str(s)) => {
                let mut scratch = itoa::Buffer::new();
                ctx.out.bulk(s.as_bytes(&mut scratch));
            }
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    if ctx.argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.spec.fullname.to_string()));
    }
    let now = ctx.now;
    if nx {
        for i in (1..ctx.argv.len()).step_by(2) {
            let key = ctx.arg(i);
            if ctx.db().get(key, now).is_some() {
                ctx.out.int(0);
                return Ok(());
            }
        }
    }
    for i in (1..ctx.argv.len()).step_by(2) {
        let (key, value) = (ctx.arg(i), ctx.arg_bytes(i + 1));
        store(ctx, key, StrValue::from_arg(value), false);
        ctx.notify(notify::STRING, "set", key);
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)
}

fn msetnx(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, true)
}

fn incr_generic(ctx: &mut Ctx, incr: i64) -> CmdResult {
    let key = ctx.arg(1);
    let (now, clock) = (ctx.now, ctx.clock());
    let db = ctx.db();
    // An existing counter changes in place (one lookup, no new item), as Redis updates an
    // unshared integer object.
    let mode = db.access_mode;
    let value = match db.get_item_mut(key, now) {
        Some(item) => {
            let Value::Str(s) = &mut item.value else {
                return Err(CmdError::Fixed(error::WRONGTYPE));
            };
            let current = s.as_i64().ok_or(CmdError::Fixed(error::NOT_INTEGER))?;
            let value = current
                .checked_add(incr)
                .ok_or(CmdError::Fixed(error::OVERFLOW))?;
            *s = StrValue::Int(value);
            item.record_access(mode, clock);
            db.touch(key);
            ctx.dirty += 1;
            value
        }
        None => {
            store(ctx, key, StrValue::Int(incr), false);
            incr
        }
    };
    ctx.notify(notify::STRING, "incrby", key);
    ctx.out.int(value);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_generic(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_generic(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = parse_int(ctx.arg(2))?;
    incr_generic(ctx, by)
}

fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = parse_int(ctx.arg(2))?;
    if by == i64::MIN {
        return Err(CmdError::Fixed("ERR decrement would overflow"));
    }
    incr_generic(ctx, -by)
}

fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let current = match lookup_string(ctx, key)? {
        Some(v) => v.to_blob(),
        None => Blob::from_slice(b"0"),
    };
    let result = long_double_add(&current, ctx.arg(2))?;
    let value = if result.len() <= crate::keyspace::value::EMBSTR_MAX {
        StrValue::Embstr(Blob::from_slice(&result))
    } else {
        StrValue::Raw(Blob::from_slice(&result))
    };
    store(ctx, key, value, true);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    ctx.propagate_as(vec![argv_of(&[b"SET", key, &result, b"KEEPTTL"])]);
    ctx.out.bulk(&result);
    Ok(())
}

/// Refuses strings longer than `proto-max-bulk-len` (except from the master link or the
/// AOF).
fn check_length(ctx: &Ctx, total: u64) -> CmdResult {
    if !ctx.session.must_obey() && total > ctx.engine.settings.proto_max_bulk_len {
        return Err(CmdError::Fixed(error::STRING_TOO_LONG));
    }
    Ok(())
}

fn append(ctx: &mut Ctx) -> CmdResult {
    let (key, suffix) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.now;
    let Some(current) = string_len(ctx, key)? else {
        store(ctx, key, StrValue::from_arg(ctx.arg_bytes(2)), false);
        ctx.notify(notify::STRING, "append", key);
        ctx.out.int(suffix.len() as i64);
        return Ok(());
    };
    check_length(ctx, current as u64 + suffix.len() as u64)?;
    let new_len = current + suffix.len();
    if let Some(Value::Str(s)) = ctx.db().get_mut(key, now) {
        s.write_raw(|bytes| bytes.extend_from_slice(suffix));
    }
    ctx.modified(key);
    ctx.notify(notify::STRING, "append", key);
    ctx.out.int(new_len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let len = ctx.with_string(key, |_, bytes| bytes.len())?.unwrap_or(0);
    ctx.out.int(len as i64);
    Ok(())
}

fn getrange(ctx: &mut Ctx) -> CmdResult {
    let mut start = parse_int(ctx.arg(2))?;
    let mut end = parse_int(ctx.arg(3))?;
    let key = ctx.arg(1);
    let found = ctx.with_string(key, |out, value| {
        let len = value.len() as i64;
        if start < 0 && end < 0 && start > end {
            out.bulk(b"");
            return;
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            out.bulk(b"");
        } else {
            out.bulk(&value[start as usize..=end as usize]);
        }
    })?;
    if found.is_none() {
        ctx.out.bulk(b"");
    }
    Ok(())
}

fn setrange(ctx: &mut Ctx) -> CmdResult {
    let offset = parse_int(ctx.arg(2))?;
    if offset < 0 {
        return Err(CmdError::Fixed(error::OFFSET_OUT_OF_RANGE));
    }
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    let now = ctx.now;
    let current = string_len(ctx, key)?;
    let total = (offset as u64).saturating_add(value.len() as u64);
    match current {
        None => {
            if value.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_length(ctx, total)?;
            let mut bytes = Blob::from_elem(0, total as usize);
            bytes[offset as usize..].copy_from_slice(value);
            store(ctx, key, StrValue::raw(bytes), false);
            ctx.notify(notify::STRING, "setrange", key);
            ctx.out.int(total as i64);
        }
        Some(cur) => {
            if value.is_empty() {
                ctx.out.int(cur as i64);
                return Ok(());
            }
            check_length(ctx, total)?;
            let mut len = cur;
            if let Some(Value::Str(s)) = ctx.db().get_mut(key, now) {
                len = s.write_raw(|bytes| {
                    if bytes.len() < total as usize {
                        bytes.resize(total as usize, 0);
                    }
                    bytes[offset as usize..total as usize].copy_from_slice(value);
                    bytes.len()
                });
            }
            ctx.modified(key);
            ctx.notify(notify::STRING, "setrange", key);
            ctx.out.int(len as i64);
        }
    }
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common
/// subsequence of two strings, its length, or the matching ranges, walked back through
/// the dynamic-programming table exactly as Redis walks it (so ties pick the same
/// subsequence and ranges come out in the same order).
fn lcs(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (now, clock) = (ctx.now, ctx.clock());
    let mut strings: [Blob; 2] = Default::default();
    let mut wrong_type = false;
    for (i, key) in argv[1..3].iter().enumerate() {
        match ctx.db().get_counted(key, now, clock).map(|it| &it.value) {
            Some(Value::Str(v)) => strings[i] = v.to_blob(),
            Some(_) => wrong_type = true,
            None => {}
        }
    }
    if wrong_type {
        return Err(CmdError::Fixed(error::LCS_NOT_STRINGS));
    }
    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        match argv[j].to_ascii_uppercase().as_slice() {
            b"IDX" => get_idx = true,
            b"LEN" => get_len = true,
            b"WITHMATCHLEN" => with_match_len = true,
            b"MINMATCHLEN" if more => {
                min_match_len = parse_int(&argv[j + 1])?.max(0);
                j += 1;
            }
            _ => return Err(CmdError::Fixed(error::SYNTAX)),
        }
        j += 1;
    }
    if get_len && get_idx {
        return Err(CmdError::Fixed(error::LCS_LEN_AND_IDX));
    }
    let [a, b] = &strings;
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::Fixed(error::LCS_TOO_LONG));
    }
    let (alen, blen) = (a.len(), b.len());
    // The table Redis allocates, bounded as Redis bounds it.
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.engine.settings.proto_max_bulk_len {
        return Err(CmdError::Fixed(error::LCS_TOO_MUCH_MEMORY));
    }
    let width = blen + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen];
    if get_len {
        ctx.out.int(i64::from(total));
        return Ok(());
    }
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges = crate::resp::ReplyBuf::new(ctx.out.proto);
    let mut emitted = 0usize;
    // `alen` as the start means no range is open.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        let match_len = a_end.wrapping_sub(a_start).wrapping_add(1);
        if emit {
            if get_idx && (min_match_len == 0 || match_len as i64 >= min_match_len) {
                ranges.array(2 + with_match_len as usize);
                ranges.array(2);
                ranges.int(a_start as i64);
                ranges.int(a_end as i64);
                ranges.array(2);
                ranges.int(b_start as i64);
                ranges.int(b_end as i64);
                if with_match_len {
                    ranges.int(match_len as i64);
                }
                emitted += 1;
            }
            a_start = alen;
        }
    }
    if get_idx {
        ctx.out.map(2);
        ctx.out.bulk(b"matches");
        ctx.out.array(emitted);
        ctx.out.raw(&ranges.buf);
        ctx.out.bulk(b"len");
        ctx.out.int(i64::from(total));
    } else {
        ctx.out.bulk(&result);
    }
    Ok(())
}

/// String commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("get", 2, READONLY | FAST, (1, 1, 1), "string", get),
    cmd!("set", -3, WRITE | DENYOOM, (1, 1, 1), "string", set),
    cmd!(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        setnx
    ),
    cmd!("setex", 4, WRITE | DENYOOM, (1, 1, 1), "string", setex),
    cmd!("psetex", 4, WRITE | DENYOOM, (1, 1, 1), "string", psetex),
    cmd!(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        getset
    ),
    cmd!("getdel", 2, WRITE | FAST, (1, 1, 1), "string", getdel),
    cmd!("getex", -2, WRITE | FAST, (1, 1, 1), "string", getex),
    cmd!("mget", -2, READONLY | FAST, (1, -1, 1), "string", mget),
    cmd!("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", mset),
    cmd!("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), "string", msetnx),
    cmd!("incr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", incr),
    cmd!("decr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", decr),
    cmd!(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        incrby
    ),
    cmd!(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        decrby
    ),
    cmd!(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        incrbyfloat
    ),
    cmd!(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "string",
        append
    ),
    cmd!("lcs", -3, READONLY, (1, 2, 1), "string", lcs),
    cmd!("strlen", 2, READONLY | FAST, (1, 1, 1), "string", strlen),
    cmd!("getrange", 4, READONLY, (1, 1, 1), "string", getrange),
    cmd!("substr", 4, READONLY, (1, 1, 1), "string", getrange),
    cmd!(
        "setrange",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "string",
        setrange
    ),
];
