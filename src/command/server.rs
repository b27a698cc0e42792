//! Server commands: CONFIG, COMMAND, TIME, LASTSAVE, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB,
//! SHUTDOWN, DEBUG.

use std::sync::Arc;
use std::time::Duration;

use super::error::{self, CmdError, CmdResult};
use super::exec::{Action, Ctx};
use super::flags::*;
use super::numeric::parse_int;
use super::{container, table, Spec};
use crate::config::{self, directives::split_value, Settings};
use crate::keyspace::free_in_background;
use crate::{cmd, subcmd};

// ---- CONFIG ----

fn config_get(ctx: &mut Ctx) -> CmdResult {
    let settings = ctx.engine.settings.clone();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pattern in &ctx.argv[2..] {
        for d in config::DIRECTIVES {
            for name in std::iter::once(d.name).chain(d.alias) {
                if crate::glob::matches(pattern, name.as_bytes(), true)
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
    let allow_protected = may_change_protected(&ctx.engine.settings, ctx.session.is_local);
    apply_config_set(ctx.state, ctx.engine, &pairs, allow_protected)
        .map_err(|e| CmdError::Other(e.resp_message()))?;
    ctx.out.ok();
    Ok(())
}

/// Why CONFIG SET (or the control plane's `PATCH /v1/config`) refused a change. Nothing was
/// applied: a change is all or nothing, as in Redis 7.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSetError {
    /// No directive has this name.
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The same directive appears twice.
    Duplicate {
        /// The name as given.
        name: String,
    },
    /// The directive cannot change while running.
    Immutable {
        /// The name as given.
        name: String,
    },
    /// The directive may write files elsewhere and `enable-protected-configs` forbids it.
    Protected {
        /// The name as given.
        name: String,
    },
    /// The value does not parse or is out of range.
    Invalid {
        /// The name as given.
        name: String,
        /// Redis's reason text (`argument must be 'yes' or 'no'`...).
        reason: String,
    },
}

impl ConfigSetError {
    /// The directive the error is about, as the caller spelled it.
    pub fn name(&self) -> &str {
        match self {
            ConfigSetError::Unknown { name }
            | ConfigSetError::Duplicate { name }
            | ConfigSetError::Immutable { name }
            | ConfigSetError::Protected { name }
            | ConfigSetError::Invalid { name, .. } => name,
        }
    }

    /// Why, in Redis's words.
    pub fn reason(&self) -> &str {
        match self {
            ConfigSetError::Unknown { .. } => "unknown option",
            ConfigSetError::Duplicate { .. } => "duplicate parameter",
            ConfigSetError::Immutable { .. } => "can't set immutable config",
            ConfigSetError::Protected { .. } => "can't set protected config",
            ConfigSetError::Invalid { reason, .. } => reason,
        }
    }

    /// The RESP error reply, byte for byte as Redis 7.0 words it.
    pub fn resp_message(&self) -> String {
        match self {
            ConfigSetError::Unknown { name } => {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            }
            other => format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                other.name(),
                other.reason()
            ),
        }
    }
}

/// Whether a caller may change `dir` and `dbfilename` (Redis's `allowProtectedAction`):
/// `enable-protected-configs yes`, or `local` and the caller is on loopback.
pub fn may_change_protected(settings: &Settings, caller_is_local: bool) -> bool {
    match settings.enable_protected_configs {
        crate::config::Protected::Yes => true,
        crate::config::Protected::Local => caller_is_local,
        crate::config::Protected::No => false,
    }
}

/// Applies `(directive, value)` pairs as CONFIG SET does: every pair is checked (known,
/// not repeated, mutable, valid value) on a copy of the settings, and only when all pass is
/// the copy published to the engine and to readers outside the lock. RESP's CONFIG SET and
/// the control plane's `PATCH /v1/config` both come through here, so they accept and refuse
/// exactly the same things. The caller holds the engine lock.
pub fn apply_config_set(
    state: &crate::command::State,
    engine: &mut crate::command::Engine,
    pairs: &[(String, String)],
    allow_protected: bool,
) -> Result<Arc<Settings>, ConfigSetError> {
    let mut next: Settings = (*engine.settings).clone();
    let mut seen: Vec<&'static str> = Vec::new();
    for (name, value) in pairs {
        let Some(d) = config::find(name) else {
            return Err(ConfigSetError::Unknown { name: name.clone() });
        };
        if seen.contains(&d.name) {
            return Err(ConfigSetError::Duplicate { name: name.clone() });
        }
        seen.push(d.name);
        if !d.mutable {
            return Err(ConfigSetError::Immutable { name: name.clone() });
        }
        if !allow_protected && config::directives::PROTECTED_CONFIGS.contains(&d.name) {
            return Err(ConfigSetError::Protected { name: name.clone() });
        }
        let args = if d.multi_arg {
            split_value(value)
        } else {
            vec![value.clone()]
        };
        (d.set)(&mut next, &args).map_err(|reason| ConfigSetError::Invalid {
            name: name.clone(),
            reason,
        })?;
    }
    let next = Arc::new(next);
    if next.sync_history_size != engine.settings.sync_history_size {
        state
            .repl
            .history
            .lock()
            .set_capacity(next.sync_history_size as usize);
    }
    engine.apply_settings(next.clone());
    engine.subscriptions.hard_limit = next.obuf_pubsub.hard;
    state.publish_settings(next.clone());
    Ok(next)
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
    config::rewrite::rewrite_file(&path, &ctx.engine.settings)
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

/// Replies with help lines as status strings, as Redis's `addReplyHelp` does.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) -> CmdResult {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
    Ok(())
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

// ---- COMMAND ----

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
        out.simple(c);
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
    let rw: &[&str] = if spec.has(WRITE) {
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

/// ACL categories of a command, derived from its flags and group.
fn acl_categories(spec: &Spec) -> Vec<&'static str> {
    // Redis prints categories in the order of its category bits: keyspace, read, write,
    // set, sortedset, list, hash, string, ..., pubsub, admin, fast, slow, blocking,
    // dangerous, connection, transaction.
    let group = |g: &str| spec.group == g;
    let all: [(&'static str, bool); 17] = [
        ("@keyspace", group("generic")),
        ("@read", spec.has(READONLY)),
        ("@write", spec.has(WRITE)),
        ("@set", group("set")),
        ("@sortedset", group("sorted_set")),
        ("@list", group("list")),
        ("@hash", group("hash")),
        ("@string", group("string")),
        ("@pubsub", spec.has(PUBSUB)),
        ("@admin", spec.has(ADMIN)),
        ("@fast", spec.has(FAST)),
        ("@slow", !spec.has(FAST)),
        ("@blocking", spec.has(BLOCKING)),
        ("@dangerous", spec.has(ADMIN)),
        ("@connection", group("connection")),
        ("@transaction", group("transactions")),
        ("@scripting", false),
    ];
    all.iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect()
}

fn command(ctx: &mut Ctx) -> CmdResult {
    let all = table::all();
    ctx.out.array(all.len());
    for spec in all {
        write_command_info(ctx, spec);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(table::all().len() as i64);
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
        match find_by_fullname(name) {
            Some(spec) => write_command_info(ctx, spec),
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

/// Finds `get` or `config|get` style names.
fn find_by_fullname(name: &[u8]) -> Option<&'static Spec> {
    match name.iter().position(|&b| b == b'|') {
        Some(p) => {
            table::lookup(&name[..p]).and_then(|parent| table::lookup_sub(parent, &name[p + 1..]))
        }
        None => table::lookup(name),
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
    for spec in table::all() {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            if let Some(p) = pattern {
                if !crate::glob::matches(p, s.fullname.as_bytes(), true) {
                    continue;
                }
            }
            if let Some(c) = &category {
                let wanted = format!("@{}", String::from_utf8_lossy(c));
                if !acl_categories(s).contains(&wanted.as_str()) {
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
        table::all()
    } else {
        ctx.argv[2..]
            .iter()
            .filter_map(|n| find_by_fullname(n))
            .collect()
    };
    ctx.out.map(specs.len());
    for spec in specs {
        ctx.out.bulk(spec.fullname.as_bytes());
        super::docs::write_docs(ctx.out, spec);
    }
    Ok(())
}

fn command_getkeys(ctx: &mut Ctx) -> CmdResult {
    let args = &ctx.argv[2..];
    let spec = match super::exec::resolve(args) {
        Ok(s) => s,
        Err(_) => return Err(CmdError::Fixed("ERR Invalid command specified")),
    };
    if !spec.arity_ok(args.len()) {
        return Err(CmdError::Fixed(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    if spec.first_key == 0 {
        return Err(CmdError::Fixed("ERR The command has no key arguments"));
    }
    let last = if spec.last_key < 0 {
        args.len() as i32 + spec.last_key
    } else {
        spec.last_key
    };
    let mut keys = Vec::new();
    let mut i = spec.first_key;
    while i <= last && (i as usize) < args.len() {
        keys.push(args[i as usize].clone());
        i += spec.step.max(1);
    }
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(&k);
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
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        command_help
    ),
];

// ---- data set wide ----

fn time(ctx: &mut Ctx) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.engine.lastsave);
    Ok(())
}

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// Parses the optional ASYNC | SYNC of FLUSHDB / FLUSHALL.
fn parse_flush_mode(ctx: &Ctx) -> CmdResult {
    match ctx.argv.len() {
        1 => Ok(()),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"ASYNC")
            || ctx.arg(1).eq_ignore_ascii_case(b"SYNC") =>
        {
            Ok(())
        }
        _ => Err(CmdError::Fixed(error::SYNTAX)),
    }
}

fn flushdb(ctx: &mut Ctx) -> CmdResult {
    parse_flush_mode(ctx)?;
    let garbage = ctx.db().clear();
    free_in_background(garbage);
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx) -> CmdResult {
    parse_flush_mode(ctx)?;
    let garbage = ctx.engine.keyspace.clear_all();
    free_in_background(garbage);
    if super::persistence::flushall_save(ctx.state, ctx.engine) {
        // The save reset the changes counter (as in Redis 7.0); FLUSHALL still propagates.
        ctx.force_propagate = true;
    } else {
        ctx.dirty += 1;
    }
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let parse = |arg: &[u8], msg: &'static str| -> Result<i64, CmdError> {
        let n = parse_int(arg).map_err(|_| CmdError::Fixed(msg))?;
        if n < i32::MIN as i64 || n > i32::MAX as i64 {
            return Err(CmdError::Fixed(msg));
        }
        Ok(n)
    };
    let a = parse(ctx.arg(1), "ERR invalid first DB index")?;
    let b = parse(ctx.arg(2), "ERR invalid second DB index")?;
    let n = ctx.engine.keyspace.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::Fixed(error::DB_INDEX_OUT_OF_RANGE));
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let dbs = &mut ctx.engine.keyspace.dbs;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0]);
        for id in [a, b] {
            let db = &mut ctx.engine.keyspace.dbs[id];
            db.touch_existing_watched();
            db.signal_all_blocked();
        }
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn shutdown(ctx: &mut Ctx) -> CmdResult {
    for a in &ctx.argv[1..] {
        let ok = [&b"NOSAVE"[..], b"SAVE", b"NOW", b"FORCE", b"ABORT"]
            .iter()
            .any(|o| a.eq_ignore_ascii_case(o));
        if !ok {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        if a.eq_ignore_ascii_case(b"ABORT") {
            if ctx.argv.len() > 2 {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
            return Err(CmdError::Fixed("ERR No shutdown in progress."));
        }
    }
    let nosave = ctx.argv[1..]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(b"NOSAVE"));
    let save = ctx.argv[1..]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(b"SAVE"));
    if nosave && save {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let force = ctx.argv[1..]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(b"FORCE"));
    tracing::warn!(client = ctx.session.id(), "user requested shutdown");
    super::persistence::shutdown_save(ctx.state, ctx.engine, nosave, save, force)?;
    ctx.action = Action::Shutdown;
    Ok(())
}

// ---- DEBUG ----

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
        b"reload" => super::persistence::debug_reload(ctx),
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

/// Server commands.
pub static COMMANDS: &[Spec] = &[
    Spec {
        subcommands: CONFIG_SUBCOMMANDS,
        ..cmd!("config", -2, 0, (0, 0, 0), "server", container)
    },
    Spec {
        subcommands: COMMAND_SUBCOMMANDS,
        ..cmd!("command", -1, LOADING | STALE, (0, 0, 0), "server", command)
    },
    cmd!("time", 1, LOADING | STALE | FAST, (0, 0, 0), "server", time),
    cmd!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        lastsave
    ),
    cmd!("dbsize", 1, READONLY | FAST, (0, 0, 0), "server", dbsize),
    cmd!("flushdb", -1, WRITE, (0, 0, 0), "server", flushdb),
    cmd!("flushall", -1, WRITE, (0, 0, 0), "server", flushall),
    cmd!("swapdb", 3, WRITE | FAST, (0, 0, 0), "server", swapdb),
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SKIP_MONITOR | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        shutdown
    ),
    cmd!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        (0, 0, 0),
        "server",
        debug
    ),
];
