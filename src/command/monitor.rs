//! MONITOR: turns the connection into a monitor that receives a line for every command the
//! server runs (see [`crate::engine::monitor`]); RESET or closing the connection ends it.

use super::ctx::{CallMode, Ctx};
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::Spec;
use crate::command::cmd;
use crate::engine::monitor::Monitor;
use crate::engine::ClientKind;

fn monitor(ctx: &mut Ctx) -> CmdResult {
    // Inside EXEC a client expects one reply per command: it cannot start a stream.
    if ctx.mode != CallMode::Normal {
        return Err(CmdError::Fixed(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    // A replica, or a client already monitoring, is left as it is, with no reply (Redis).
    if ctx.session.info.kind() != ClientKind::Normal {
        return Ok(());
    }
    let Some(tx) = ctx.session.push_tx.clone() else {
        return Ok(());
    };
    let added = ctx.engine.monitors.add(Monitor {
        id: ctx.session.id(),
        tx,
        info: ctx.session.info.clone(),
    });
    if added {
        ctx.out.ok();
    }
    Ok(())
}

/// MONITOR.
pub static COMMANDS: &[Spec] = &[cmd!(
    "monitor",
    1,
    ADMIN | NOSCRIPT | LOADING | STALE,
    (0, 0, 0),
    "server",
    monitor
)];
