//! Key commands: DEL, UNLINK, EXISTS, TYPE, the EXPIRE family, TTL family, PERSIST, KEYS,
//! SCAN, RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, TOUCH, OBJECT.

use super::args::{parse_cursor, parse_scan_options};
use super::ctx::{argv_of, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::engine::notify;
use crate::keyspace::{lazyfree, lfu, Value, NO_EXPIRE};

/// DEL and UNLINK: UNLINK hands values that are costly to free to the lazy-free thread.
fn del(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let lazy = ctx.spec.name == "unlink";
    let mut deleted = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        if let Some(item) = ctx.db().take(key, now) {
            if lazy && lazyfree::free_effort(&item.value) > lazyfree::EFFORT_THRESHOLD {
                lazyfree::free_later(item, 1);
            }
            deleted += 1;
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

fn exists(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let mut count = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        if ctx.db().get_counted_untouched(key, now).is_some() {
            count += 1;
        }
    }
    ctx.out.int(count);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let name = ctx
        .db()
        .get_counted_untouched(key, now)
        .map(|it| it.value.value_type().name())
        .unwrap_or("none");
    ctx.out.simple(name);
    Ok(())
}

/// The NX | XX | GT | LT flags of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_flags(ctx: &Ctx) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for a in &ctx.argv[3..] {
        if a.eq_ignore_ascii_case(b"NX") {
            f.nx = true;
        } else if a.eq_ignore_ascii_case(b"XX") {
            f.xx = true;
        } else if a.eq_ignore_ascii_case(b"GT") {
            f.gt = true;
        } else if a.eq_ignore_ascii_case(b"LT") {
            f.lt = true;
        } else {
            return Err(CmdError::Other(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::Fixed(error::NX_XX_GT_LT));
    }
    if f.gt && f.lt {
        return Err(CmdError::Fixed(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `base` is added (now, or 0 for the AT forms) and
/// seconds are scaled to milliseconds, with Redis's overflow checks.
fn expire_generic(ctx: &mut Ctx, base: i64, seconds: bool) -> CmdResult {
    let flags = parse_expire_flags(ctx)?;
    let mut when = parse_int(ctx.arg(2))?;
    let invalid = || CmdError::InvalidExpire(ctx.spec.fullname.to_string());
    if seconds {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    when = when.checked_add(base).ok_or_else(invalid)?;
    let now = ctx.now;
    let key = ctx.arg(1);
    let Some(item) = ctx.db().get(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = item.has_expire().then(|| item.expire_at());
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    let is_replica = ctx.engine.is_replica;
    if when <= now && !is_replica && !ctx.engine.loading {
        ctx.db().remove(key);
        ctx.dirty += 1;
        ctx.notify(notify::GENERIC, "del", key);
        ctx.propagate_as(vec![argv_of(&[b"DEL", key])]);
        ctx.out.int(1);
        return Ok(());
    }
    ctx.db().set_expire(key, when, now);
    ctx.dirty += 1;
    ctx.notify(notify::GENERIC, "expire", key);
    let mut when_text = itoa::Buffer::new();
    let mut parts: Vec<&[u8]> = vec![b"PEXPIREAT", key, when_text.format(when).as_bytes()];
    parts.extend(ctx.argv[3..].iter().map(|a| a.as_ref()));
    ctx.propagate_as(vec![argv_of(&parts)]);
    ctx.out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    expire_generic(ctx, now, true)
}

fn pexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    expire_generic(ctx, now, false)
}

fn expireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, true)
}

fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, false)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
fn ttl_generic(ctx: &mut Ctx, millis: bool, absolute: bool) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let Some(item) = ctx.db().get_counted_untouched(key, now) else {
        ctx.out.int(-2);
        return Ok(());
    };
    if !item.has_expire() {
        ctx.out.int(-1);
        return Ok(());
    }
    let mut ttl = if absolute {
        item.expire_at()
    } else {
        item.expire_at() - now
    };
    if ttl < 0 {
        ttl = 0;
    }
    ctx.out.int(if millis { ttl } else { (ttl + 500) / 1000 });
    Ok(())
}

fn ttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, false)
}

fn pttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, false)
}

fn expiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, true)
}

fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, true)
}

fn persist(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let has = ctx.db().get(key, now).is_some_and(|it| it.has_expire());
    if has {
        ctx.db().set_expire(key, NO_EXPIRE, now);
        ctx.dirty += 1;
        ctx.notify(notify::GENERIC, "persist", key);
    }
    ctx.out.int(has as i64);
    Ok(())
}

fn keys(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let pattern = ctx.arg(1);
    let all = pattern == b"*";
    let compiled = crate::glob::Pattern::new(pattern, false);
    let mut found = Vec::new();
    ctx.db().for_each_live(now, |it| {
        if all || compiled.matches(&it.key) {
            found.push(it.key.clone());
        }
    });
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

fn scan(ctx: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(ctx.arg(1))?;
    let opts = parse_scan_options(ctx.argv, 2, true)?;
    let now = ctx.now;
    let pattern = opts.pattern.map(|p| crate::glob::Pattern::new(p, false));
    let mut found = Vec::new();
    let mut expired = Vec::new();
    let next = ctx.db().scan(cursor, opts.count, |it| {
        if it.is_expired(now) {
            expired.push(it.key.clone());
            return;
        }
        if let Some(p) = &pattern {
            if !p.matches(&it.key) {
                return;
            }
        }
        if let Some(t) = opts.value_type {
            if t != Some(it.value.value_type()) {
                return;
            }
        }
        found.push(it.key.clone());
    });
    // Keys found expired are deleted (and their DELs propagated) as Redis's SCAN does.
    for key in expired {
        let _ = ctx.db().get(&key, now);
    }
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    match ctx.db().random_key(now) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

/// RENAME and RENAMENX.
fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let Some(item) = ctx.db().get(src, now) else {
        return Err(CmdError::Fixed(error::NO_SUCH_KEY));
    };
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    let (value, expire) = (item.value.clone(), item.expire_at());
    if ctx.db().get(dst, now).is_some() {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.db().remove(dst);
    }
    ctx.db().remove(src);
    ctx.db().insert(dst, value, expire, clock);
    ctx.dirty += 1;
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

/// A database number argument as `getIntFromObjectOrReply` reads it (32-bit).
fn parse_db_index(arg: &[u8], databases: usize) -> Result<usize, CmdError> {
    let n = parse_int(arg)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(CmdError::Fixed(error::NOT_INTEGER));
    }
    if n < 0 || n as usize >= databases {
        return Err(CmdError::Fixed(error::DB_INDEX_OUT_OF_RANGE));
    }
    Ok(n as usize)
}

fn copy(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let src_db = ctx.session.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.argv.len() {
        let a = ctx.arg(j);
        if a.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"DB") && j + 1 < ctx.argv.len() {
            dst_db = parse_db_index(ctx.arg(j + 1), ctx.engine.keyspace.dbs.len())?;
            j += 1;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if src_db == dst_db && src == dst {
        return Err(CmdError::Fixed(error::SAME_OBJECT));
    }
    let Some(item) = ctx.engine.keyspace.dbs[src_db].get_counted(src, now, clock) else {
        ctx.out.int(0);
        return Ok(());
    };
    let (value, expire) = (item.value.clone(), item.expire_at());
    let target = &mut ctx.engine.keyspace.dbs[dst_db];
    if target.get(dst, now).is_some() {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        target.remove(dst);
    }
    target.insert(dst, value, expire, clock);
    ctx.dirty += 1;
    ctx.notify_in(dst_db, notify::GENERIC, "copy_to", dst);
    ctx.out.int(1);
    Ok(())
}

fn move_cmd(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let src_db = ctx.session.db;
    let dst_db = parse_db_index(ctx.arg(2), ctx.engine.keyspace.dbs.len())?;
    if src_db == dst_db {
        return Err(CmdError::Fixed(error::SAME_OBJECT));
    }
    let key = ctx.arg(1);
    let Some(item) = ctx.engine.keyspace.dbs[src_db].get(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let (value, expire) = (item.value.clone(), item.expire_at());
    if ctx.engine.keyspace.dbs[dst_db].get(key, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.engine.keyspace.dbs[dst_db].insert(key, value, expire, clock);
    ctx.engine.keyspace.dbs[src_db].remove(key);
    ctx.dirty += 1;
    ctx.notify_in(src_db, notify::GENERIC, "move_from", key);
    ctx.notify_in(dst_db, notify::GENERIC, "move_to", key);
    ctx.out.int(1);
    Ok(())
}

fn touch(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let mut count = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i);
        let db = ctx.db();
        let mode = db.access_mode;
        if let Some(it) = db.get(key, now) {
            it.record_access(mode, clock);
            count += 1;
        }
    }
    ctx.out.int(count);
    Ok(())
}

/// Integers Redis shares between keys (refcount reported as INT_MAX).
const SHARED_INTEGERS: i64 = 10000;

fn object_lookup<'c>(ctx: &'c mut Ctx) -> Option<&'c crate::keyspace::ItemRef> {
    let now = ctx.now;
    let key = ctx.arg(2);
    ctx.db().get(key, now)
}

fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    match object_lookup(ctx).map(|it| it.value.encoding()) {
        Some(enc) => ctx.out.bulk(enc.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Small integers are stored inline here, so "shared" is what Redis would answer: it shares
/// them unless `maxmemory` is set with an LRU or LFU policy (each key then needs its own
/// object to carry its access time).
fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    use crate::engine::eviction::Policy;
    let settings = &ctx.engine.settings;
    let shared_ok = settings.maxmemory == 0
        || !matches!(
            Policy::parse(&settings.maxmemory_policy),
            Policy::Lru { .. } | Policy::Lfu { .. }
        );
    match object_lookup(ctx) {
        Some(it) => {
            let shared = shared_ok
                && matches!(it.value, Value::Str(crate::keyspace::StrValue::Int(n)) if (0..SHARED_INTEGERS).contains(&n));
            ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    if ctx.engine.settings.maxmemory_policy.contains("lfu") {
        return Err(CmdError::Fixed("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let clock = ctx.clock();
    match object_lookup(ctx) {
        Some(it) => {
            let idle = clock.saturating_sub(it.access());
            ctx.out.int(idle as i64);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn object_freq(ctx: &mut Ctx) -> CmdResult {
    if !ctx.engine.settings.maxmemory_policy.contains("lfu") {
        return Err(CmdError::Fixed("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let decay = ctx.engine.settings.lfu_decay_time;
    match object_lookup(ctx) {
        Some(it) => {
            let freq = lfu::decayed(it.access(), decay, lfu::minutes_now());
            ctx.out.int(freq as i64);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn object_help(ctx: &mut Ctx) -> CmdResult {
    let lines: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ];
    super::reply::help_reply(ctx, lines)
}

static OBJECT_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "object",
        "encoding",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        object_encoding
    ),
    subcmd!(
        "object",
        "refcount",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        object_refcount
    ),
    subcmd!(
        "object",
        "idletime",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        object_idletime
    ),
    subcmd!(
        "object",
        "freq",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        object_freq
    ),
    subcmd!(
        "object",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "generic",
        object_help
    ),
];

/// Key commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("del", -2, WRITE, (1, -1, 1), "generic", del),
    cmd!("unlink", -2, WRITE | FAST, (1, -1, 1), "generic", del),
    cmd!("exists", -2, READONLY | FAST, (1, -1, 1), "generic", exists),
    cmd!("type", 2, READONLY | FAST, (1, 1, 1), "generic", type_cmd),
    cmd!("expire", -3, WRITE | FAST, (1, 1, 1), "generic", expire),
    cmd!("pexpire", -3, WRITE | FAST, (1, 1, 1), "generic", pexpire),
    cmd!("expireat", -3, WRITE | FAST, (1, 1, 1), "generic", expireat),
    cmd!(
        "pexpireat",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "generic",
        pexpireat
    ),
    cmd!("ttl", 2, READONLY | FAST, (1, 1, 1), "generic", ttl),
    cmd!("pttl", 2, READONLY | FAST, (1, 1, 1), "generic", pttl),
    cmd!(
        "expiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        expiretime
    ),
    cmd!(
        "pexpiretime",
        2,
        READONLY | FAST,
        (1, 1, 1),
        "generic",
        pexpiretime
    ),
    cmd!("persist", 2, WRITE | FAST, (1, 1, 1), "generic", persist),
    cmd!("keys", 2, READONLY, (0, 0, 0), "generic", keys),
    cmd!("scan", -2, READONLY, (0, 0, 0), "generic", scan),
    cmd!("randomkey", 1, READONLY, (0, 0, 0), "generic", randomkey),
    cmd!("rename", 3, WRITE, (1, 2, 1), "generic", rename),
    cmd!("renamenx", 3, WRITE | FAST, (1, 2, 1), "generic", renamenx),
    cmd!("copy", -3, WRITE | DENYOOM, (1, 2, 1), "generic", copy),
    cmd!("move", 3, WRITE | FAST, (1, 1, 1), "generic", move_cmd),
    cmd!("touch", -2, READONLY | FAST, (1, -1, 1), "generic", touch),
    Spec {
        subcommands: OBJECT_SUBCOMMANDS,
        ..cmd!("object", -2, 0, (0, 0, 0), "generic", container)
    },
];
