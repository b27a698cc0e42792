//! COMMAND and its subcommands (COUNT, INFO, LIST, DOCS, GETKEYS, HELP), and TIME: what a
//! client learns about the server's command set, read from the table handed down in
//! [`Ctx::table`].

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::reply::help_reply;
use super::{CommandTable, Spec};
use crate::command::{cmd, subcmd};

/// Writes one command's COMMAND INFO entry.
fn write_command_info(ctx: &mut Ctx, spec: &Spec) {
    let out = &mut *ctx.out;
    out.array(10);
    out.bulk(spec.fullname.as_bytes());
    out.int(spec.arity as i64);
    let names: Vec<&str> = super::flags::NAMES
        .iter()
        .filter(|(bit, _)| spec.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    let cats = acl_categories(spec);
    out.set(cats.len());
    for c in cats {
        out.simple(&c);
    }
    out.set(0);
    if spec.first_key > 0 {
        out.array(1);
        write_key_spec(out, spec);
    } else {
        out.array(0);
    }
    let subs = spec.subcommands;
    out.array(subs.len());
    for s in subs {
        write_command_info(ctx, s);
    }
}

/// Key specifications derived from first/last/step (what Redis calls a "range" key spec).
fn write_key_spec(out: &mut crate::resp::ReplyBuf, spec: &Spec) {
    out.map(3);
    out.bulk(b"flags");
    // Shard channels sit where keys do (cluster slots) but are not keys.
    let rw: &[&str] = if spec.has(PUBSUB) {
        &["not_key"]
    } else if spec.has(WRITE) {
        &["RW", "update"]
    } else {
        &["RO", "access"]
    };
    out.array(rw.len());
    for f in rw {
        out.simple(f);
    }
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"index");
    out.bulk(b"spec");
    out.map(1);
    out.bulk(b"index");
    out.int(spec.first_key as i64);
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    out.int(if spec.last_key < 0 {
        spec.last_key as i64
    } else {
        (spec.last_key - spec.first_key) as i64
    });
    out.bulk(b"keystep");
    out.int(spec.step as i64);
    out.bulk(b"limit");
    out.int(0);
}

/// ACL categories of a command, in Redis's order: those Redis's definition names plus the
/// implicit ones its flags give.
fn acl_categories(spec: &Spec) -> Vec<String> {
    let bits = super::keyspec::categories(spec);
    super::keyspec::CATEGORY_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, name)| format!("@{name}"))
        .collect()
}

fn command(ctx: &mut Ctx) -> CmdResult {
    let all = ctx.table.all();
    ctx.out.array(all.len());
    for spec in all {
        write_command_info(ctx, spec);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.table.all().len() as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() == 2 {
        return command(ctx);
    }
    let n = ctx.argv.len() - 2;
    ctx.out.array(n);
    for i in 2..ctx.argv.len() {
        let name = ctx.arg(i);
        match find_by_fullname(ctx.table, name) {
            Some(spec) => write_command_info(ctx, spec),
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

/// Finds `get` or `config|get` style names.
fn find_by_fullname(table: &CommandTable, name: &[u8]) -> Option<&'static Spec> {
    match name.iter().position(|&b| b == b'|') {
        Some(p) => table
            .lookup(&name[..p])
            .and_then(|parent| table.lookup_sub(parent, &name[p + 1..])),
        None => table.lookup(name),
    }
}

fn command_list(ctx: &mut Ctx) -> CmdResult {
    let mut pattern: Option<&[u8]> = None;
    let mut category: Option<Vec<u8>> = None;
    if ctx.argv.len() > 2 {
        if ctx.argv.len() != 5 || !ctx.arg(2).eq_ignore_ascii_case(b"FILTERBY") {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        let (kind, value) = (ctx.arg(3), ctx.arg(4));
        if kind.eq_ignore_ascii_case(b"PATTERN") {
            pattern = Some(value);
        } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
            category = Some(value.to_ascii_lowercase());
        } else if kind.eq_ignore_ascii_case(b"MODULE") {
            ctx.out.array(0);
            return Ok(());
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for spec in ctx.table.all() {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            if let Some(p) = pattern {
                if !crate::glob::matches(p, s.fullname.as_bytes(), true) {
                    continue;
                }
            }
            if let Some(c) = &category {
                let wanted = format!("@{}", String::from_utf8_lossy(c));
                if !acl_categories(s).contains(&wanted) {
                    continue;
                }
            }
            names.push(s.fullname);
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx) -> CmdResult {
    let specs: Vec<&'static Spec> = if ctx.argv.len() == 2 {
        ctx.table.all()
    } else {
        ctx.argv[2..]
            .iter()
            .filter_map(|n| find_by_fullname(ctx.table, n))
            .collect()
    };
    ctx.out.map(specs.len());
    for spec in specs {
        ctx.out.bulk(spec.fullname.as_bytes());
        super::docs::write_docs(ctx.out, spec);
    }
    Ok(())
}

/// COMMAND GETKEYS: the keys a full command line names.
fn command_getkeys(ctx: &mut Ctx) -> CmdResult {
    getkeys(ctx, false)
}

/// COMMAND GETKEYSANDFLAGS: the keys a command line names, each with the key spec flags
/// that say how the command uses it.
fn command_getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    getkeys(ctx, true)
}

/// Redis's `getKeysSubcommandImpl`: the command's key specs (its own key finder where they
/// cannot say), the same checks and errors in the same order.
fn getkeys(ctx: &mut Ctx, with_flags: bool) -> CmdResult {
    use super::keyspec::{self, KEY_FLAG_NAMES, K_NOT_KEY};
    let args = &ctx.argv[2..];
    let spec = ctx
        .table
        .resolve(args)
        .map_err(|_| CmdError::Fixed("ERR Invalid command specified"))?;
    let has_keys = keyspec::meta(spec.fullname)
        .is_some_and(|(_, specs)| specs.iter().any(|k| k.flags & K_NOT_KEY == 0));
    if !has_keys {
        return Err(CmdError::Fixed("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(args.len()) {
        return Err(CmdError::Fixed(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = keyspec::keys_with_flags(spec, args);
    // Scripts and functions may name no key at all (Redis's NO_MANDATORY_KEYS).
    let keys_optional = matches!(
        spec.name,
        "eval" | "eval_ro" | "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro"
    );
    if keys.is_empty() && !keys_optional {
        return Err(CmdError::Fixed(
            "ERR Invalid arguments specified for command",
        ));
    }
    ctx.out.array(keys.len());
    for (i, flags) in keys {
        if !with_flags {
            ctx.out.bulk(&args[i]);
            continue;
        }
        ctx.out.array(2);
        ctx.out.bulk(&args[i]);
        let names: Vec<&str> = KEY_FLAG_NAMES
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, n)| *n)
            .collect();
        ctx.out.set(names.len());
        for n in names {
            ctx.out.simple(n);
        }
    }
    Ok(())
}

fn command_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
            "HELP",
            "    Print this help.",
        ],
    )
}

static COMMAND_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "command",
        "count",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_count
    ),
    subcmd!(
        "command",
        "info",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_info
    ),
    subcmd!(
        "command",
        "list",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_list
    ),
    subcmd!(
        "command",
        "docs",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_docs
    ),
    subcmd!(
        "command",
        "getkeys",
        -3,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_getkeys
    ),
    subcmd!(
        "command",
        "getkeysandflags",
        -4,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_getkeysandflags
    ),
    subcmd!(
        "command",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_help
    ),
];

/// TIME: the server's clock as seconds and microseconds.
fn time(ctx: &mut Ctx) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

/// Introspection commands.
pub static COMMANDS: &[Spec] = &[
    Spec {
        subcommands: COMMAND_SUBCOMMANDS,
        ..cmd!("command", -1, LOADING | STALE, (0, 0, 0), "server", command)
    },
    cmd!("time", 1, LOADING | STALE | FAST, (0, 0, 0), "server", time),
];
