//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG. The values are strings in
//! Redis's byte layout (`keyspace::types::hll`), so they replicate, dump and load exactly
//! as Redis's do; PFCOUNT of one key refreshes the cached count inside the value and, like
//! Redis, propagates itself so replicas keep the same bytes.

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::types::hll::{self, Corrupt, REGISTERS};
use crate::keyspace::{Blob, StrValue, Value, NO_EXPIRE};

impl From<Corrupt> for CmdError {
    fn from(_: Corrupt) -> CmdError {
        CmdError::Fixed(error::HLL_CORRUPT)
    }
}

/// Whether `key` holds a HyperLogLog (false when missing), without counting a hit (write
/// paths); an error for another type or a string that is not a HyperLogLog.
fn hll_exists(ctx: &mut Ctx, key: &[u8]) -> Result<bool, CmdError> {
    let now = ctx.now;
    match ctx.db().get(key, now) {
        None => Ok(false),
        Some(item) => hll_bytes(&item.value).map(|_| true),
    }
}

/// The bytes of a HyperLogLog value; Redis's errors for another type or for a string that
/// is not one (a HyperLogLog starts with `HYLL`, so it is never an integer string).
fn hll_bytes(value: &Value) -> Result<&[u8], CmdError> {
    match value {
        Value::Str(s) => match s.bytes() {
            Some(b) if hll::is_hll(b) => Ok(b),
            _ => Err(CmdError::Fixed(error::HLL_WRONGTYPE)),
        },
        _ => Err(CmdError::Fixed(error::WRONGTYPE)),
    }
}

/// The bytes of the HyperLogLog at `key` for change in place (the string becomes `raw`, as
/// Redis's `dbUnshareStringValue` leaves it). The key was checked.
fn bytes_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Blob> {
    let now = ctx.now;
    let Some(Value::Str(s)) = ctx.db().get_mut(key, now) else {
        return None;
    };
    if !matches!(s, StrValue::Raw(_)) {
        *s = StrValue::raw(s.to_blob());
    }
    match s {
        StrValue::Raw(b) => Some(b),
        _ => None,
    }
}

/// Creates an empty HyperLogLog at `key`.
fn create(ctx: &mut Ctx, key: &[u8]) {
    let clock = ctx.clock();
    ctx.db().insert(
        key,
        Value::Str(StrValue::raw(hll::new_sparse())),
        NO_EXPIRE,
        clock,
    );
}

fn sparse_max(ctx: &Ctx) -> usize {
    usize::try_from(ctx.engine.settings.hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

/// PFADD key [element ...]: 1 when the key was created or a register changed.
fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let mut updated = 0u64;
    if !hll_exists(ctx, key)? {
        create(ctx, key);
        updated += 1;
    }
    let limit = sparse_max(ctx);
    let argv = ctx.argv;
    let elements = &argv[2..];
    let mut result = Ok(());
    if let Some(value) = bytes_mut(ctx, key) {
        for element in elements {
            match hll::add(value, element, limit) {
                Ok(true) => updated += 1,
                Ok(false) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if updated > 0 {
            hll::invalidate_cache(value);
        }
    }
    if updated > 0 {
        ctx.modified(key);
        ctx.dirty += updated - 1;
        ctx.notify(notify::STRING, "pfadd", key);
    }
    result?;
    ctx.out.int(i64::from(updated > 0));
    Ok(())
}

/// PFCOUNT key [key ...]: one key answers from (or refreshes) its cached count; several
/// keys answer the count of their union, without touching them.
fn pfcount(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 2 {
        let mut max = [0u8; REGISTERS];
        union_into(ctx, &mut max, 1)?;
        ctx.out.int(hll::count_registers(&max) as i64);
        return Ok(());
    }
    let key = ctx.arg(1);
    let (now, clock) = (ctx.now, ctx.clock());
    let cached_or_fresh = match ctx.db().get_counted(key, now, clock) {
        None => None,
        Some(item) => {
            let bytes = hll_bytes(&item.value)?;
            Some(match hll::cached_count(bytes) {
                Some(count) => Ok(count),
                None => Err(hll::count(bytes)?),
            })
        }
    };
    let computed = match cached_or_fresh {
        None => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(Ok(cached)) => {
            ctx.out.int(cached as i64);
            return Ok(());
        }
        Some(Err(computed)) => computed,
    };
    if let Some(value) = bytes_mut(ctx, key) {
        hll::set_cached_count(value, computed);
    }
    // The value changed (its cache): replicas get this PFCOUNT to stay byte-identical.
    ctx.modified(key);
    ctx.out.int(computed as i64);
    Ok(())
}

/// Raises `max` with the registers of every key from argument `from` on (missing keys
/// count as empty). Returns whether one of them was dense.
fn union_into(ctx: &mut Ctx, max: &mut [u8; REGISTERS], from: usize) -> Result<bool, CmdError> {
    let (now, clock) = (ctx.now, ctx.clock());
    let mut any_dense = false;
    for i in from..ctx.argv.len() {
        let key = ctx.arg(i);
        let Some(item) = ctx.db().get_counted(key, now, clock) else {
            continue;
        };
        let bytes = hll_bytes(&item.value)?;
        any_dense |= !hll::is_sparse(bytes);
        hll::merge_into(max, bytes)?;
    }
    Ok(any_dense)
}

/// PFMERGE destkey [sourcekey ...]: the union of the sources and the destination, stored
/// in the destination (dense as soon as one input is).
fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let mut max = [0u8; REGISTERS];
    let any_dense = union_into(ctx, &mut max, 1)?;
    let dest = ctx.arg(1);
    if !hll_exists(ctx, dest)? {
        create(ctx, dest);
    }
    let limit = sparse_max(ctx);
    if let Some(value) = bytes_mut(ctx, dest) {
        if any_dense {
            hll::to_dense(value)?;
        }
        for (i, m) in max.iter().enumerate() {
            if *m > 0 {
                hll::raise(value, i, *m, limit)?;
            }
        }
        hll::invalidate_cache(value);
    }
    ctx.modified(dest);
    // Redis reports a merge as a PFADD: a mass-add of elements.
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: Redis's introspection of the encodings.
fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let sub = ctx.arg(1).to_ascii_lowercase();
    let key = ctx.arg(2);
    if !hll_exists(ctx, key)? {
        return Err(CmdError::Fixed(error::PFDEBUG_NO_KEY));
    }
    let Some(value) = bytes_mut(ctx, key) else {
        return Err(CmdError::Fixed(error::PFDEBUG_NO_KEY));
    };
    match sub.as_slice() {
        b"getreg" => {
            let converted = hll::to_dense(value)?;
            let registers = hll::dense_registers(value);
            if converted {
                ctx.modified(key);
            }
            ctx.out.array(registers.len());
            for r in registers {
                ctx.out.int(i64::from(r));
            }
        }
        b"decode" => {
            if !hll::is_sparse(value) {
                return Err(CmdError::Fixed(error::HLL_NOT_SPARSE));
            }
            let text = hll::decode_sparse(value);
            ctx.out.bulk(text.as_bytes());
        }
        b"encoding" => {
            let name = if hll::is_sparse(value) {
                "sparse"
            } else {
                "dense"
            };
            ctx.out.simple(name);
        }
        b"todense" => {
            let converted = hll::to_dense(value)?;
            if converted {
                ctx.modified(key);
            }
            ctx.out.int(i64::from(converted));
        }
        _ => {
            return Err(CmdError::Other(format!(
                "ERR Unknown PFDEBUG subcommand '{}'",
                String::from_utf8_lossy(ctx.arg(1))
            )))
        }
    }
    Ok(())
}

/// PFSELFTEST: the implementation's self test (see `hll::self_test`); holds the server for
/// a second or two, as in Redis.
fn pfselftest(ctx: &mut Ctx) -> CmdResult {
    hll::self_test(sparse_max(ctx)).map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    ctx.out.ok();
    Ok(())
}

/// The HyperLogLog family.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "pfadd",
        -2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hyperloglog",
        pfadd
    ),
    cmd!(
        "pfcount",
        -2,
        READONLY | MAY_REPLICATE,
        (1, -1, 1),
        "hyperloglog",
        pfcount
    ),
    cmd!(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        (2, 2, 1),
        "hyperloglog",
        pfdebug
    ),
    cmd!("pfselftest", 1, ADMIN, (0, 0, 0), "hyperloglog", pfselftest),
    cmd!(
        "pfmerge",
        -2,
        WRITE | DENYOOM,
        (1, -1, 1),
        "hyperloglog",
        pfmerge
    ),
];
