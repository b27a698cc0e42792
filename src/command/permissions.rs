//! The ACL check every command passes (at the gate, inside EXEC and from scripts), and what
//! it needs from the command table: the [`Catalog`] rules are written against (command ids,
//! names, categories) and the [`Request`] a command line makes (its keys with the
//! permission each needs, its channels). Shared by the executor, scripting and the ACL
//! family.

use std::sync::OnceLock;

use bytes::Bytes;

use super::error::{self, CmdError};
use super::flags::*;
use super::keyspec::{self, K_ACCESS, K_DELETE, K_INSERT, K_UPDATE};
use super::{CommandTable, Spec};
use crate::engine::acl::{Catalog, Denied, LogEntry, Request, PERM_READ, PERM_WRITE};
use crate::engine::session::Session;
use crate::engine::Engine;

/// The catalog of `table`, built once: ids in table order, each container followed by its
/// subcommands.
pub fn catalog(table: &CommandTable) -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut cat = Catalog::default();
        let add = |cat: &mut Catalog, spec: &'static Spec, parent: Option<usize>| {
            let id = cat.names.len();
            cat.names.push(spec.fullname);
            cat.categories.push(keyspec::categories(spec));
            cat.parent.push(parent);
            cat.children.push(Vec::new());
            cat.no_auth.push(spec.has(NO_AUTH));
            cat.by_name.insert(spec.fullname.to_string(), id);
            if let Some(p) = parent {
                cat.children[p].push(id);
            }
            id
        };
        for family in table.families() {
            for spec in family.iter() {
                let id = add(&mut cat, spec, None);
                for sub in spec.subcommands {
                    add(&mut cat, sub, Some(id));
                }
            }
        }
        cat
    })
}

/// What `argv` asks of the ACL: the command, its keys with the permissions each needs
/// (read for a key it accesses, write for one it inserts into, deletes from or updates),
/// and the channels it publishes or subscribes to.
pub fn request<'a>(cat: &Catalog, spec: &'static Spec, argv: &'a [Bytes]) -> Request<'a> {
    let id = cat.by_name.get(spec.fullname).copied().unwrap_or(0);
    let keys = keyspec::keys_with_flags(spec, argv)
        .into_iter()
        .map(|(i, f)| {
            let mut need = 0;
            if f & K_ACCESS != 0 {
                need |= PERM_READ;
            }
            if f & (K_INSERT | K_DELETE | K_UPDATE) != 0 {
                need |= PERM_WRITE;
            }
            (i, need)
        })
        .collect();
    let channels = match spec.fullname {
        "publish" | "spublish" => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    };
    Request {
        id,
        argv,
        keys,
        channels,
    }
}

/// The ACL gate of `processCommand`: the refusal to answer, after logging it, when the
/// session's user may not run `argv`. Free for a user who may do anything.
pub fn check(
    table: &CommandTable,
    engine: &mut Engine,
    session: &mut Session,
    spec: &'static Spec,
    argv: &[Bytes],
) -> Option<CmdError> {
    let context = if session.multi.is_some() {
        "multi"
    } else {
        "toplevel"
    };
    let denied = denial(table, engine, session, spec, argv, context)?;
    Some(match denied {
        Denied::Command | Denied::Auth => error::noperm_command(spec.fullname),
        Denied::Key(_) => CmdError::Fixed(error::NOPERM_KEY),
        Denied::Channel(_) => CmdError::Fixed(error::NOPERM_CHANNEL),
    })
}

/// The refusal of `argv` for the session's user, logged in the ACL log under `context`
/// (`toplevel`, `multi`, `lua`); `None` when it may run.
pub fn denial(
    table: &CommandTable,
    engine: &mut Engine,
    session: &mut Session,
    spec: &'static Spec,
    argv: &[Bytes],
    context: &'static str,
) -> Option<Denied> {
    if session.acl_epoch != engine.acl.epoch {
        session.acl_unrestricted = engine
            .acl
            .users
            .get(&session.user[..])
            .is_none_or(|u| u.unrestricted());
        session.acl_epoch = engine.acl.epoch;
    }
    if session.acl_unrestricted {
        return None;
    }
    let cat = catalog(table);
    let user = engine.acl.users.get(&session.user[..])?;
    let denied = user.check(cat, &request(cat, spec, argv)).err()?;
    log_denial(engine, session, spec, argv, denied, context);
    Some(denied)
}

/// Why EXEC refuses a queued command the rules no longer allow (Redis's execCommand).
pub fn exec_text(denied: Denied) -> &'static str {
    match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        Denied::Auth => "no permission",
    }
}

/// Redis's `getAclErrorMessage`: the refusal as scripts word it, after "The user executing
/// the script ".
pub fn script_text(denied: Denied) -> &'static str {
    match denied {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        Denied::Auth => "lacking the permissions for the command",
    }
}

/// Adds a refusal to the ACL log (Redis's `addACLLogEntry`).
fn log_denial(
    engine: &mut Engine,
    session: &Session,
    spec: &Spec,
    argv: &[Bytes],
    denied: Denied,
    context: &'static str,
) {
    let (reason, object) = match denied {
        Denied::Command => ("command", spec.fullname.as_bytes().to_vec()),
        Denied::Key(i) => ("key", argv[i].to_vec()),
        Denied::Channel(i) => ("channel", argv[i].to_vec()),
        Denied::Auth => ("auth", argv[0].to_vec()),
    };
    let entry = LogEntry {
        count: 1,
        reason,
        context,
        object,
        username: session.user.to_vec(),
        at_ms: crate::keyspace::now_ms(),
        client_info: session.info.describe(),
    };
    let max = engine.settings.acllog_max_len as usize;
    engine.acl.log(entry, max);
}

/// True when the session's user may run `argv` (`redis.acl_check_cmd`); nothing is logged.
pub fn allowed(
    table: &CommandTable,
    engine: &Engine,
    session: &Session,
    spec: &'static Spec,
    argv: &[Bytes],
) -> bool {
    judge(table, engine, session, spec, argv, |user, cat, req| {
        user.check(cat, req).is_ok()
    })
}

/// True when the session's user may read any key with this command (SORT's BY and GET
/// patterns, which read keys no argument names).
pub fn full_read_access(
    table: &CommandTable,
    engine: &Engine,
    session: &Session,
    spec: &'static Spec,
    argv: &[Bytes],
) -> bool {
    judge(table, engine, session, spec, argv, |user, cat, req| {
        user.unrestricted_key_access(cat, req, PERM_READ)
    })
}

/// `verdict` on the session's user and the request `argv` makes; true without asking for a
/// user who may do anything (or one that no longer exists: its clients are being closed).
fn judge(
    table: &CommandTable,
    engine: &Engine,
    session: &Session,
    spec: &'static Spec,
    argv: &[Bytes],
    verdict: impl FnOnce(&crate::engine::acl::User, &Catalog, &Request) -> bool,
) -> bool {
    let Some(user) = engine.acl.users.get(&session.user[..]) else {
        return true;
    };
    if user.unrestricted() {
        return true;
    }
    let cat = catalog(table);
    verdict(user, cat, &request(cat, spec, argv))
}

/// True when `user` exists and may run `argv` (the HTTP control plane judges a caller who
/// proved an ACL user by the RESP command its operation amounts to).
pub fn user_may(table: &CommandTable, engine: &Engine, user: &[u8], argv: &[&str]) -> bool {
    let Some(user) = engine.acl.users.get(user) else {
        return false;
    };
    let argv: Vec<Bytes> = argv
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    let Ok(spec) = table.resolve(&argv) else {
        return false;
    };
    let cat = catalog(table);
    user.unrestricted() || user.check(cat, &request(cat, spec, &argv)).is_ok()
}

/// Every user as a configuration line (`user <name> <rules>`), in name order: ACL LIST,
/// ACL SAVE and CONFIG REWRITE write these.
pub fn user_lines(table: &CommandTable, engine: &Engine) -> Vec<String> {
    let cat = catalog(table);
    engine
        .acl
        .users
        .values()
        .map(|u| {
            format!(
                "user {} {}",
                String::from_utf8_lossy(&u.name),
                u.describe(cat)
            )
        })
        .collect()
}
