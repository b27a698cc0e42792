//! DEBUG: the subcommands tests and operators use to look inside and to provoke states
//! (SLEEP, SET-ACTIVE-EXPIRE, RELOAD, LOADAOF, OBJECT, DIGEST, DIGEST-VALUE, POPULATE, LOG,
//! CHANGE-REPL-ID, REPLICATE, PAUSE-CRON, QUICKLIST-PACKED-THRESHOLD). Protected by `enable-debug-command`.

use std::time::Duration;

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::reply::help_reply;
use super::Spec;
use crate::command::cmd;
use crate::engine::persistence::{cancel_bgsave, reload, save_now, ReloadError, ReloadOptions};
use crate::keyspace::{digest, StrValue, Value, NO_EXPIRE};
use crate::replication::fault;

/// DEBUG PROTOCOL <type>: one reply of each RESP type, for clients' and scripts' tests.
fn debug_protocol(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.arg(2).to_ascii_lowercase();
    let out = &mut *ctx.out;
    match name.as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // The value Redis answers, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if out.resp3() {
                out.raw(b"(");
                out.raw(n);
                out.raw(b"\r\n");
            } else {
                out.bulk(n);
            }
        }
        b"null" => out.null(),
        b"array" | b"set" => {
            if name == b"array" {
                out.array(3);
            } else {
                out.set(3);
            }
            for j in 0..3 {
                out.int(j);
            }
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if out.resp3() {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !out.resp3() {
                return Err(CmdError::Fixed(
                    "ERR RESP2 is not supported by this command",
                ));
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring"),
        _ => return Err(CmdError::Fixed("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")),
    }
    Ok(())
}

fn debug(ctx: &mut Ctx) -> CmdResult {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"sleep" if ctx.argv.len() == 3 => {
            let secs = super::numeric::strtod_prefix(ctx.arg(2)).0;
            if secs > 0.0 && secs.is_finite() {
                // Like Redis, DEBUG SLEEP blocks the whole server: the engine lock is held.
                std::thread::sleep(Duration::from_secs_f64(secs));
            }
            ctx.out.ok();
            Ok(())
        }
        b"protocol" if ctx.argv.len() == 3 => debug_protocol(ctx),
        b"set-disable-deny-scripts" if ctx.argv.len() == 3 => {
            ctx.engine.scripts.noscript_allowed = parse_int(ctx.arg(2))? != 0;
            ctx.out.ok();
            Ok(())
        }
        b"quicklist-packed-threshold" if ctx.argv.len() == 3 => {
            let bytes = std::str::from_utf8(ctx.arg(2))
                .ok()
                .and_then(crate::config::directives::parse_memory_value);
            match bytes {
                Some(b) if crate::rdb::encode::set_plain_node_threshold(b) => {
                    ctx.out.ok();
                    Ok(())
                }
                _ => Err(CmdError::Fixed(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                )),
            }
        }
        b"pause-cron" if ctx.argv.len() == 3 => {
            ctx.engine.cron_paused = parse_int(ctx.arg(2))? != 0;
            ctx.out.ok();
            Ok(())
        }
        b"set-active-expire" if ctx.argv.len() == 3 => {
            let on = parse_int(ctx.arg(2))? != 0;
            ctx.engine.active_expire_enabled = on;
            ctx.out.ok();
            Ok(())
        }
        b"reload" => debug_reload(ctx),
        b"config-rewrite-force-all" if ctx.argv.len() == 2 => {
            let Some(path) = ctx.state.config_file.clone() else {
                return Err(CmdError::Fixed(error::NO_CONFIG_FILE));
            };
            let users = super::permissions::user_lines(ctx.table, ctx.engine);
            crate::config::rewrite::rewrite_file(&path, &ctx.engine.settings, &users, true)
                .map_err(|e| CmdError::Other(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {e}")))?;
            ctx.out.ok();
            Ok(())
        }
        b"loadaof" if ctx.argv.len() == 2 => {
            crate::engine::aof::debug_loadaof(ctx.state, ctx.engine)
                .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
            ctx.out.ok();
            Ok(())
        }
        b"digest" if ctx.argv.len() == 2 => {
            let d = digest::dataset_digest(&ctx.engine.keyspace.dbs);
            ctx.out.simple(&digest::to_hex(&d));
            Ok(())
        }
        b"digest-value" => {
            let keys = &ctx.argv[2..];
            ctx.out.array(keys.len());
            for key in keys {
                let d = digest::key_digest(ctx.db(), key);
                ctx.out.simple(&digest::to_hex(&d));
            }
            Ok(())
        }
        b"populate" if (3..=5).contains(&ctx.argv.len()) => debug_populate(ctx),
        b"log" if ctx.argv.len() == 3 => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.arg(2)));
            ctx.out.ok();
            Ok(())
        }
        b"change-repl-id" if ctx.argv.len() == 2 => {
            tracing::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.engine.repl.change_replid();
            ctx.out.ok();
            Ok(())
        }
        b"replicate" if ctx.argv.len() >= 3 => {
            // Straight into the stream, in whatever database it last selected (Redis's
            // tests use it to send a replica a command it will refuse).
            let args: Vec<&[u8]> = ctx.argv[2..].iter().map(|a| a.as_ref()).collect();
            ctx.engine.repl.feed_dbless(&args);
            ctx.out.ok();
            Ok(())
        }
        b"fault" if ctx.argv.len() == 4 => {
            // replikv's own: a test cuts or stalls a sync at a named phase (built only with
            // the `fault-points` feature; see replication::fault).
            let point = String::from_utf8_lossy(ctx.arg(2)).into_owned();
            let action = String::from_utf8_lossy(ctx.arg(3)).into_owned();
            fault::configure(&point, &action).map_err(|e| CmdError::Other(format!("ERR {e}")))?;
            ctx.out.ok();
            Ok(())
        }
        b"object" if ctx.argv.len() == 3 => {
            // As Redis, the key is looked up without expiring it.
            let key = ctx.arg(2);
            let Some(item) = ctx.db().peek(key) else {
                return Err(CmdError::Fixed(error::NO_SUCH_KEY));
            };
            let line = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:0 lru:{} lru_seconds_idle:0",
                item.value.encoding(),
                item.access()
            );
            ctx.out.simple(&line);
            Ok(())
        }
        b"help" => help_reply(
            ctx,
            &[
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANGE-REPL-ID",
                "    Change the replication IDs of the instance.",
                "    Dangerous: should be used only for testing the replication subsystem.",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "FAULT <point> <cut|stall(ms)|N*action|off>",
                "    (replikv) Cut or stall replication syncs at a phase, e.g. repl.replica.receive.",
                "    Only in builds with the fault-points feature.",
                "CONFIG-REWRITE-FORCE-ALL",
                "    Like CONFIG REWRITE but writes all configuration options, including",
                "    keywords not listed in original configuration file or default values.",
                "LOADAOF",
                "    Flush the AOF buffers on disk and reload the AOF in memory.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "QUICKLIST-PACKED-THRESHOLD <size>",
                "    Sets the threshold for elements to be inserted as plain vs packed nodes",
                "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Available <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "REPLICATE <command> [<arg> ...]",
                "    Feed the command to the replication stream as it is.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "HELP",
                "    Print this help.",
            ],
        ),
        _ => Err(CmdError::Other(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(ctx.arg(1))
        ))),
    }
}

/// DEBUG POPULATE count [prefix] [size]: creates `prefix:N` (default `key:N`) = `value:N`
/// for N below count, skipping names that exist; with a size, each value is that long
/// (the text cut, or padded with zero bytes). Nothing is propagated, as in Redis.
fn debug_populate(ctx: &mut Ctx) -> CmdResult {
    let count = positive(ctx.arg(2))?;
    let prefix = ctx.argv.get(3).map_or(&b"key"[..], |p| p.as_ref());
    let size = match ctx.argv.get(4) {
        Some(s) => Some(positive(s)? as usize).filter(|&n| n > 0),
        None => None,
    };
    let (now, clock) = (ctx.now, ctx.clock());
    let db = ctx.db();
    db.reserve(count as usize);
    let mut numbers = itoa::Buffer::new();
    for n in 0..count {
        let number = numbers.format(n).as_bytes();
        let key = [prefix, b":", number].concat();
        if db.contains(&key, now) {
            continue;
        }
        let mut value = [&b"value:"[..], number].concat();
        if let Some(size) = size {
            value.resize(size, 0);
        }
        db.insert(
            &key,
            Value::Str(StrValue::from_bytes(&value)),
            NO_EXPIRE,
            clock,
        );
    }
    ctx.out.ok();
    Ok(())
}

/// A count that must be a non-negative integer; anything else is "value is out of range,
/// must be positive", as Redis words both cases.
fn positive(arg: &[u8]) -> Result<i64, CmdError> {
    parse_int(arg)
        .ok()
        .filter(|n| *n >= 0)
        .ok_or(CmdError::Fixed(error::POSITIVE_COUNT))
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save (unless NOSAVE), then load the file back
/// (on top of the current data with NOFLUSH; replacing duplicates with MERGE). Unlike
/// Redis, a file that fails to load leaves the current data in place.
fn debug_reload(ctx: &mut Ctx) -> CmdResult {
    let mut options = ReloadOptions {
        flush: true,
        merge: false,
    };
    let mut save = true;
    for a in &ctx.argv[2..] {
        if a.eq_ignore_ascii_case(b"MERGE") {
            options.merge = true;
        } else if a.eq_ignore_ascii_case(b"NOFLUSH") {
            options.flush = false;
        } else if a.eq_ignore_ascii_case(b"NOSAVE") {
            save = false;
        } else {
            return Err(CmdError::Fixed(error::DEBUG_RELOAD_OPTIONS));
        }
    }
    if save {
        cancel_bgsave(ctx.engine);
        save_now(ctx.state, ctx.engine).map_err(|_| CmdError::Fixed(error::SAVE_FAILED))?;
    }
    match reload(ctx.engine, options) {
        Ok(()) => {
            tracing::warn!("DB reloaded by DEBUG RELOAD");
            ctx.out.ok();
            Ok(())
        }
        Err(ReloadError::Save(_)) => Err(CmdError::Fixed(error::SAVE_FAILED)),
        Err(ReloadError::Load(why)) => {
            tracing::warn!(error = %why, "DEBUG RELOAD failed");
            Err(CmdError::Fixed(error::DEBUG_RELOAD_LOAD))
        }
    }
}

/// DEBUG.
pub static COMMANDS: &[Spec] = &[cmd!(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    (0, 0, 0),
    "server",
    debug
)];
