//! Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, DUMP and RESTORE, on the machinery of
//! `engine::persistence` (the background save job, save rules, loads) and `engine::aof`.

use crate::engine::notify;
use bytes::Bytes;

use super::ctx::{argv_of, CallMode, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::persistence::{save_now, start_bgsave};
use crate::keyspace::{lfu, AccessMode, NO_EXPIRE};
use crate::rdb::{self, RdbError};

// ---- commands ----

fn save(ctx: &mut Ctx) -> CmdResult {
    if ctx.engine.rdb.bgsave.is_some() {
        return Err(CmdError::Fixed(error::BGSAVE_IN_PROGRESS));
    }
    ctx.engine.rdb.saves += 1;
    save_now(ctx.state, ctx.engine).map_err(|_| CmdError::Fixed(error::SAVE_FAILED))?;
    ctx.out.ok();
    Ok(())
}

fn bgsave(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 1 && (ctx.argv.len() != 2 || !ctx.arg(1).eq_ignore_ascii_case(b"SCHEDULE"))
    {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    if ctx.engine.rdb.bgsave.is_some() {
        return Err(CmdError::Fixed(error::BGSAVE_IN_PROGRESS));
    }
    if matches!(ctx.mode, CallMode::Exec | CallMode::Script) {
        // Inside MULTI/EXEC Redis defers the save to the cron.
        ctx.engine.rdb.bgsave_scheduled = true;
        ctx.out.simple("Background saving scheduled");
        return Ok(());
    }
    start_bgsave(ctx.state, ctx.engine).map_err(|e| {
        tracing::warn!(error = %e, "BGSAVE failed");
        CmdError::Fixed(error::SAVE_FAILED)
    })?;
    ctx.out.simple("Background saving started");
    Ok(())
}

fn bgrewriteaof(ctx: &mut Ctx) -> CmdResult {
    let in_exec = matches!(ctx.mode, CallMode::Exec | CallMode::Script);
    let scheduled = crate::engine::aof::bgrewriteaof(ctx.state, ctx.engine, in_exec)
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    if scheduled {
        ctx.out
            .simple("Background append only file rewriting scheduled");
    } else {
        ctx.out
            .simple("Background append only file rewriting started");
    }
    Ok(())
}

fn dump(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let compression = ctx.engine.settings.rdbcompression;
    let key = ctx.arg(1);
    let payload = ctx
        .db()
        .get_counted(key, now, clock)
        .map(|item| rdb::encode_value(&item.value, compression));
    match payload {
        Some(p) => ctx.out.bulk(&p),
        None => ctx.out.null(),
    }
    Ok(())
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], in
/// Redis's order of checks: options, existing key, TTL, payload.
fn restore(ctx: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut absttl = false;
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < ctx.argv.len() {
        let a = ctx.arg(j);
        let more = ctx.argv.len() - j - 1;
        if a.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"ABSTTL") {
            absttl = true;
        } else if a.eq_ignore_ascii_case(b"IDLETIME") && more >= 1 && freq.is_none() {
            let v = parse_int(ctx.arg(j + 1))?;
            if v < 0 {
                return Err(CmdError::Fixed(error::RESTORE_IDLETIME));
            }
            idle = Some(v);
            j += 1;
        } else if a.eq_ignore_ascii_case(b"FREQ") && more >= 1 && idle.is_none() {
            let v = parse_int(ctx.arg(j + 1))?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::Fixed(error::RESTORE_FREQ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        j += 1;
    }
    let now = ctx.now;
    let key = ctx.arg(1);
    if !replace && ctx.db().get(key, now).is_some() {
        return Err(CmdError::Fixed(error::BUSYKEY));
    }
    let ttl = parse_int(ctx.arg(2))?;
    if ttl < 0 {
        return Err(CmdError::Fixed(error::RESTORE_TTL));
    }
    let limits = ctx.engine.keyspace.limits;
    let value = rdb::decode_value(ctx.arg(3), &limits).map_err(|e| match e {
        RdbError::PayloadFooter => CmdError::Fixed(error::DUMP_PAYLOAD),
        _ => CmdError::Fixed(error::BAD_DATA_FORMAT),
    })?;
    let deleted = replace && ctx.db().delete(key, now);
    let expire_at = match ttl {
        0 => NO_EXPIRE,
        t if absttl => t,
        t => t.saturating_add(now),
    };
    if expire_at != NO_EXPIRE && expire_at <= now && !ctx.engine.is_replica {
        // Already expired: nothing is created; a replaced key is gone (a DEL to replicas).
        if deleted {
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", key);
            ctx.propagate_as(vec![argv_of(&[b"DEL", key])]);
        }
        ctx.out.ok();
        return Ok(());
    }
    let clock = ctx.clock();
    ctx.db().insert(key, value, expire_at, clock);
    // IDLETIME sets the LRU clock under an LRU policy, FREQ the counter under an LFU one
    // (the other is ignored), as Redis's objectSetLRUOrLFU.
    let access = match (ctx.db().access_mode, idle, freq) {
        (AccessMode::Lru, Some(idle), _) => {
            Some(clock.saturating_sub(idle.min(u32::MAX as i64) as u32))
        }
        (AccessMode::Lfu { .. }, _, Some(freq)) => Some(lfu::with_frequency(
            freq.clamp(0, 255) as u8,
            lfu::minutes_now(),
        )),
        _ => None,
    };
    if let Some(access) = access {
        if let Some(item) = ctx.db().peek(key) {
            item.touch_access(access);
        }
    }
    if expire_at != NO_EXPIRE && !absttl {
        // Replicas get the absolute deadline (Redis rewrites the TTL and adds ABSTTL).
        let mut argv: Vec<Bytes> = ctx.argv.to_vec();
        argv[2] = Bytes::from(expire_at.to_string());
        argv.push(Bytes::from_static(b"ABSTTL"));
        ctx.propagate_as(vec![argv.into_iter().collect()]);
    }
    ctx.dirty += 1;
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.out.ok();
    Ok(())
}

/// Persistence commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        save
    ),
    cmd!(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        bgsave
    ),
    cmd!(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        bgrewriteaof
    ),
    cmd!("dump", 2, READONLY, (1, 1, 1), "generic", dump),
    cmd!(
        "restore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "generic",
        restore
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn rdb_files_name_the_version_we_claim() {
        assert_eq!(crate::rdb::REDIS_VER, crate::engine::REDIS_COMPAT_VERSION);
    }
}
