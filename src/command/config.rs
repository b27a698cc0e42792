//! CONFIG GET | SET | RESETSTAT | REWRITE | HELP. Changes go through the engine's
//! [`apply_config_set`], the same path as the control plane's `PATCH /v1/config`.

use super::ctx::{CallMode, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::reply::help_reply;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::config;
use crate::engine::settings::{apply_config_set, may_change_protected};

fn config_get(ctx: &mut Ctx) -> CmdResult {
    let settings = ctx.engine.settings.clone();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pattern in &ctx.argv[2..] {
        for d in config::DIRECTIVES {
            for name in std::iter::once(d.name).chain(d.alias) {
                // Test-only directives answer only when named exactly (Redis's HIDDEN_CONFIG).
                let hidden = config::directives::HIDDEN.contains(&d.name)
                    && !pattern.eq_ignore_ascii_case(name.as_bytes());
                if !hidden
                    && crate::glob::matches(pattern, name.as_bytes(), true)
                    && !pairs.iter().any(|(n, _)| n == name)
                {
                    pairs.push((name.to_string(), (d.get)(&settings)));
                }
            }
        }
    }
    ctx.out.map(pairs.len());
    for (n, v) in &pairs {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx) -> CmdResult {
    if !ctx.argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("config|set".into()));
    }
    let pairs: Vec<(String, String)> = ctx.argv[2..]
        .chunks(2)
        .map(|pair| {
            (
                String::from_utf8_lossy(&pair[0]).into_owned(),
                String::from_utf8_lossy(&pair[1]).into_owned(),
            )
        })
        .collect();
    // Every pair is checked, even past an invalid one, so that no secret reaches the slow
    // log whatever the outcome (as Redis does).
    for (i, (name, _)) in pairs.iter().enumerate() {
        if config::directives::is_sensitive(name) {
            ctx.redact(3 + 2 * i);
        }
    }
    let allow_protected = may_change_protected(&ctx.engine.settings, ctx.session.is_local);
    let in_exec = ctx.mode == CallMode::Exec;
    apply_config_set(ctx.state, ctx.engine, &pairs, allow_protected, in_exec)
        .map_err(|e| CmdError::Other(e.resp_message()))?;
    ctx.out.ok();
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx) -> CmdResult {
    ctx.state.reset_stats(ctx.engine);
    ctx.out.ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx) -> CmdResult {
    let Some(path) = ctx.state.config_file.clone() else {
        return Err(CmdError::Fixed(error::NO_CONFIG_FILE));
    };
    let users = super::permissions::user_lines(ctx.table, ctx.engine);
    config::rewrite::rewrite_file(&path, &ctx.engine.settings, &users, false)
        .map_err(|e| CmdError::Other(format!("ERR Rewriting config file: {e}")))?;
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Print this help.",
        ],
    )
}

static CONFIG_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "config",
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        config_get
    ),
    subcmd!(
        "config",
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        config_set
    ),
    subcmd!(
        "config",
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        config_resetstat
    ),
    subcmd!(
        "config",
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        config_rewrite
    ),
    subcmd!(
        "config",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        config_help
    ),
];

/// CONFIG.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: CONFIG_SUBCOMMANDS,
    ..cmd!("config", -2, 0, (0, 0, 0), "server", container)
}];
