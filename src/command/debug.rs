//! DEBUG: the subcommands tests and operators use to look inside and to provoke states
//! (SLEEP, SET-ACTIVE-EXPIRE, RELOAD, OBJECT). Protected by `enable-debug-command`.

use std::time::Duration;

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::reply::help_reply;
use super::Spec;
use crate::command::cmd;
use crate::engine::persistence::{cancel_bgsave, reload, save_now, ReloadError, ReloadOptions};

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
        b"set-active-expire" if ctx.argv.len() == 3 => {
            let on = parse_int(ctx.arg(2))? != 0;
            ctx.engine.active_expire_enabled = on;
            ctx.out.ok();
            Ok(())
        }
        b"reload" => debug_reload(ctx),
        b"object" if ctx.argv.len() == 3 => {
            let now = ctx.now;
            let key = ctx.arg(2);
            let Some(item) = ctx.db().get(key, now) else {
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
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Available <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
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
