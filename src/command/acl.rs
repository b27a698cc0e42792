//! ACL: users and their permissions (`ACL SETUSER`, `GETUSER`, `LIST`, `USERS`, `DELUSER`,
//! `WHOAMI`, `CAT`, `GENPASS`, `LOG`, `DRYRUN`, `LOAD`, `SAVE`), and the users a server
//! starts with. The users live in the engine ([`crate::engine::acl`]); the check every
//! command passes is in [`super::permissions`].

use super::ctx::{Action, Ctx};
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::keyspec;
use super::numeric::parse_int;
use super::permissions::{catalog, request, user_lines};
use super::reply::help_reply;
use super::{container, CommandTable, Spec};
use crate::command::{cmd, subcmd};
use crate::engine::acl::{
    revoked_channels, subscription_allowed, Catalog, Denied, LogEntry, Users,
};
use crate::engine::Engine;

fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

fn setuser(ctx: &mut Ctx) -> CmdResult {
    for i in 2..ctx.argv.len() {
        ctx.redact(i);
    }
    let name = ctx.arg(2).to_vec();
    if name.iter().any(|b| b.is_ascii_whitespace() || *b == 0) {
        return Err(CmdError::Fixed(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let rules: Vec<String> = ctx.argv[3..].iter().map(|a| text(a)).collect();
    let cat = catalog(ctx.table);
    let allchannels = ctx.engine.settings.acl_pubsub_allchannels;
    let before = ctx.engine.acl.users.get(&name[..]).cloned();
    ctx.engine
        .acl
        .set_user(cat, &name, &rules, allchannels)
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    if let (Some(old), Some(new)) = (before, ctx.engine.acl.users.get(&name[..])) {
        if let Some(allowed) = revoked_channels(&old, new) {
            close_revoked_subscribers(ctx, &name, &allowed);
        }
    }
    ctx.out.ok();
    Ok(())
}

/// Closes the user's subscribers holding a subscription its new rules no longer allow.
fn close_revoked_subscribers(ctx: &mut Ctx, user: &[u8], allowed: &[Vec<u8>]) {
    for client in ctx.state.clients.all() {
        if &client.user.lock()[..] != user {
            continue;
        }
        let (channels, patterns, shard) = ctx.engine.subscriptions.subscribed_by(client.id);
        let revoked = patterns
            .iter()
            .any(|p| !subscription_allowed(allowed, p, true))
            || channels
                .iter()
                .chain(shard.iter())
                .any(|c| !subscription_allowed(allowed, c, false));
        if revoked {
            ctx.engine.subscriptions.remove_client(client.id);
            client.kill();
        }
    }
}

fn getuser(ctx: &mut Ctx) -> CmdResult {
    let cat = catalog(ctx.table);
    let Some(user) = ctx.engine.acl.users.get(ctx.argv[2].as_ref()).cloned() else {
        ctx.out.null();
        return Ok(());
    };
    let out = &mut *ctx.out;
    out.map(6);
    out.bulk(b"flags");
    let flags = user.flag_names();
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(user.passwords.len());
    for p in &user.passwords {
        out.bulk(p.as_bytes());
    }
    let describe = |out: &mut crate::resp::ReplyBuf, s: &crate::engine::acl::Selector| {
        out.bulk(b"commands");
        out.bulk(s.describe_commands(cat).as_bytes());
        out.bulk(b"keys");
        out.bulk(s.describe_keys().as_bytes());
        out.bulk(b"channels");
        out.bulk(s.describe_channels().as_bytes());
    };
    describe(out, &user.selectors[0]);
    out.bulk(b"selectors");
    out.array(user.selectors.len() - 1);
    for s in &user.selectors[1..] {
        out.map(3);
        describe(out, s);
    }
    Ok(())
}

fn deluser(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv[2..].iter().any(|n| &n[..] == b"default") {
        return Err(CmdError::Fixed("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    let argv = ctx.argv;
    for name in &argv[2..] {
        if ctx.engine.acl.users.remove(&name[..]).is_some() {
            deleted += 1;
            // Its clients are logged out and closed (the caller after its reply).
            for client in ctx.state.clients.all() {
                if *client.user.lock() == *name {
                    if client.id == ctx.session.id() {
                        ctx.session.authenticated = false;
                        ctx.action = Action::Close;
                    } else {
                        client.kill();
                    }
                }
            }
        }
    }
    if deleted > 0 {
        ctx.engine.acl.epoch += 1;
    }
    ctx.out.int(deleted);
    Ok(())
}

fn list(ctx: &mut Ctx) -> CmdResult {
    let lines = user_lines(ctx.table, ctx.engine);
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.bulk(l.as_bytes());
    }
    Ok(())
}

fn users_cmd(ctx: &mut Ctx) -> CmdResult {
    let names: Vec<Vec<u8>> = ctx.engine.acl.users.keys().cloned().collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn whoami(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.session.user.clone();
    ctx.out.bulk(&name);
    Ok(())
}

fn cat(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() == 2 {
        ctx.out.array(keyspec::CATEGORY_NAMES.len());
        for c in keyspec::CATEGORY_NAMES {
            ctx.out.bulk(c.as_bytes());
        }
        return Ok(());
    }
    if ctx.argv.len() != 3 {
        return Err(CmdError::subcommand_syntax(ctx.arg(0), ctx.arg(1)));
    }
    let Some(bit) = keyspec::category_bit(ctx.arg(2)) else {
        let name: String = text(ctx.arg(2)).chars().take(128).collect();
        return Err(CmdError::Other(format!("ERR Unknown category '{name}'")));
    };
    let cat = catalog(ctx.table);
    let names: Vec<&str> = (0..cat.names.len())
        .filter(|&id| cat.categories[id] & bit != 0)
        .map(|id| cat.names[id])
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn genpass(ctx: &mut Ctx) -> CmdResult {
    const MAX_BITS: i64 = 4096;
    let bits = match ctx.argv.len() {
        2 => 256,
        3 => parse_int(ctx.arg(2))?,
        _ => return Err(CmdError::subcommand_syntax(ctx.arg(0), ctx.arg(1))),
    };
    if bits <= 0 || bits > MAX_BITS {
        return Err(CmdError::Other(format!("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {MAX_BITS}")));
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(chars);
    ctx.out.bulk(hex.as_bytes());
    Ok(())
}

fn log(ctx: &mut Ctx) -> CmdResult {
    let mut count = 10usize;
    match ctx.argv.len() {
        2 => {}
        3 if ctx.arg(2).eq_ignore_ascii_case(b"RESET") => {
            ctx.engine.acl.log.clear();
            ctx.out.ok();
            return Ok(());
        }
        3 => count = parse_int(ctx.arg(2))?.max(0) as usize,
        _ => return Err(CmdError::subcommand_syntax(ctx.arg(0), ctx.arg(1))),
    }
    let now = crate::keyspace::now_ms();
    let entries: Vec<LogEntry> = ctx.engine.acl.log.iter().take(count).cloned().collect();
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason.as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        out.double((now - e.at_ms) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

fn dryrun(ctx: &mut Ctx) -> CmdResult {
    let cat = catalog(ctx.table);
    let Some(user) = ctx.engine.acl.users.get(ctx.argv[2].as_ref()).cloned() else {
        return Err(CmdError::Other(format!(
            "ERR User '{}' not found",
            text(ctx.arg(2))
        )));
    };
    let argv = &ctx.argv[3..];
    let spec = ctx
        .table
        .resolve(argv)
        .map_err(|_| CmdError::Other(format!("ERR Command '{}' not found", text(&argv[0]))))?;
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::Other(format!(
            "ERR wrong number of arguments for '{}' command",
            spec.fullname
        )));
    }
    match user.check(cat, &request(cat, spec, argv)) {
        Ok(()) => ctx.out.ok(),
        Err(Denied::Key(i)) => ctx.out.bulk(
            format!(
                "This user has no permissions to access the '{}' key",
                text(&argv[i])
            )
            .as_bytes(),
        ),
        Err(Denied::Channel(i)) => ctx.out.bulk(
            format!(
                "This user has no permissions to access the '{}' channel",
                text(&argv[i])
            )
            .as_bytes(),
        ),
        Err(_) => ctx.out.bulk(
            format!(
                "This user has no permissions to run the '{}' command",
                spec.fullname
            )
            .as_bytes(),
        ),
    }
    Ok(())
}

/// The ACL file's path: relative to `dir`, as Redis (which runs inside `dir`) reads it.
fn acl_path(settings: &crate::config::Settings) -> String {
    let p = std::path::Path::new(&settings.aclfile);
    if p.is_absolute() {
        settings.aclfile.clone()
    } else {
        settings.dir.join(p).display().to_string()
    }
}

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// Reads an ACL file into a fresh set of users (the default user as shipped, then every
/// `user` line); the errors name the lines, as Redis's `ACLLoadFromFile`.
pub fn users_from_file(
    cat: &Catalog,
    path: &str,
    allchannels: bool,
    requirepass: &str,
) -> Result<Users, String> {
    let content = std::fs::read_to_string(path)
        .map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))?;
    let mut users = Users::new();
    users.set_default_password(requirepass);
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(args) = crate::resp::parser::split_args(line.as_bytes()) else {
            errors.push(format!("{path}:{}: unbalanced quotes in acl line. ", n + 1));
            continue;
        };
        if args.first().map(|a| &a[..]) != Some(b"user") || args.len() < 2 {
            errors.push(format!(
                "{path}:{}: line should start with user keyword. ",
                n + 1
            ));
            continue;
        }
        if !seen.insert(args[1].clone()) {
            errors.push(format!(
                "{path}:{}: Duplicate user '{}' found. ",
                n + 1,
                text(&args[1])
            ));
            continue;
        }
        let mut rules: Vec<String> = args[2..].iter().map(|a| text(a)).collect();
        // A user in the file starts from nothing; the default user is reset.
        if &args[1][..] == b"default" {
            rules.insert(0, "reset".into());
        } else {
            users.users.remove(&args[1][..]);
        }
        if let Err(e) = users.set_user(cat, &args[1], &rules, allchannels) {
            let e = e.trim_start_matches("Error in ACL SETUSER modifier ");
            errors.push(format!("{path}:{}: {e}. ", n + 1));
        }
    }
    if !errors.is_empty() {
        return Err(errors.concat().trim_end().to_string());
    }
    // The default user exists even when the file does not name it.
    if !users.users.contains_key(&b"default"[..]) {
        let mut fresh = Users::new();
        fresh.set_default_password(requirepass);
        users.users.extend(fresh.users);
    }
    Ok(users)
}

fn load(ctx: &mut Ctx) -> CmdResult {
    if ctx.engine.settings.aclfile.is_empty() {
        return Err(CmdError::Fixed(NO_ACL_FILE));
    }
    let path = acl_path(&ctx.engine.settings);
    let cat = catalog(ctx.table);
    let s = &ctx.engine.settings;
    let mut loaded = users_from_file(cat, &path, s.acl_pubsub_allchannels, &s.requirepass)
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    loaded.log = std::mem::take(&mut ctx.engine.acl.log);
    loaded.epoch = ctx.engine.acl.epoch + 1;
    ctx.engine.acl = loaded;
    // Every user but the default one was replaced: as Redis 7.0, their clients are closed
    // (the caller after this reply).
    for client in ctx.state.clients.all() {
        if &client.user.lock()[..] == b"default" {
            continue;
        }
        if client.id == ctx.session.id() {
            ctx.action = Action::Close;
        } else {
            client.kill();
        }
    }
    ctx.out.ok();
    Ok(())
}

fn save(ctx: &mut Ctx) -> CmdResult {
    if ctx.engine.settings.aclfile.is_empty() {
        return Err(CmdError::Fixed(NO_ACL_FILE));
    }
    let path = acl_path(&ctx.engine.settings);
    let mut body = String::new();
    for line in user_lines(ctx.table, ctx.engine) {
        body.push_str(&line);
        body.push('\n');
    }
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let written = std::fs::write(&tmp, body).and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!("Failed to save the ACL file {path}: {e}");
        return Err(CmdError::Fixed("ERR There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
            "HELP",
            "    Print this help.",
        ],
    )
}

const ADM: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN: u32 = NOSCRIPT | LOADING | STALE;

static ACL_SUBCOMMANDS: &[Spec] = &[
    subcmd!("acl", "cat", -2, PLAIN, (0, 0, 0), "server", cat),
    subcmd!("acl", "deluser", -3, ADM, (0, 0, 0), "server", deluser),
    subcmd!("acl", "dryrun", -4, ADM, (0, 0, 0), "server", dryrun),
    subcmd!("acl", "genpass", -2, PLAIN, (0, 0, 0), "server", genpass),
    subcmd!("acl", "getuser", 3, ADM, (0, 0, 0), "server", getuser),
    subcmd!("acl", "help", 2, LOADING | STALE, (0, 0, 0), "server", help),
    subcmd!("acl", "list", 2, ADM, (0, 0, 0), "server", list),
    subcmd!("acl", "load", 2, ADM, (0, 0, 0), "server", load),
    subcmd!("acl", "log", -2, ADM, (0, 0, 0), "server", log),
    subcmd!("acl", "save", 2, ADM, (0, 0, 0), "server", save),
    subcmd!("acl", "setuser", -3, ADM, (0, 0, 0), "server", setuser),
    subcmd!("acl", "users", 2, ADM, (0, 0, 0), "server", users_cmd),
    subcmd!("acl", "whoami", 2, PLAIN, (0, 0, 0), "server", whoami),
];

/// ACL.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: ACL_SUBCOMMANDS,
    ..cmd!("acl", -2, 0, (0, 0, 0), "server", container)
}];

/// Builds the users a server starts with: the `user` lines of its configuration, or its
/// `aclfile` (never both, as Redis refuses that). An error names the faulty declaration.
pub fn load_users_at_startup(table: &CommandTable, engine: &mut Engine) -> Result<(), String> {
    let s = engine.settings.clone();
    let cat = catalog(table);
    if !s.users.is_empty() && !s.aclfile.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    if !s.aclfile.is_empty() {
        let mut users =
            users_from_file(cat, &acl_path(&s), s.acl_pubsub_allchannels, &s.requirepass)?;
        users.epoch = engine.acl.epoch + 1;
        engine.acl = users;
        return Ok(());
    }
    let mut seen = std::collections::HashSet::new();
    for line in &s.users {
        let name = line[0].as_bytes();
        if !seen.insert(name.to_vec()) {
            return Err(format!(
                "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                line[0]
            ));
        }
        // A declared user starts from nothing; the default user is reset (Redis's
        // ACLLoadConfiguredUsers).
        let mut rules = line[1..].to_vec();
        if name == b"default" {
            rules.insert(0, "reset".into());
        } else {
            engine.acl.users.remove(name);
        }
        engine
            .acl
            .set_user(cat, name, &rules, s.acl_pubsub_allchannels)
            .map_err(|e| {
                let e = e
                    .split_once(": ")
                    .map_or(e.as_str(), |(_, m)| m)
                    .to_string();
                format!("Error in user declaration '{}': {e}", line[0])
            })?;
    }
    if !engine.acl.users.contains_key(&b"default"[..]) {
        let mut fresh = Users::new();
        fresh.set_default_password(&s.requirepass);
        engine.acl.users.extend(fresh.users);
    }
    Ok(())
}
