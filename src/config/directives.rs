//! The directive table: every configuration directive replikv understands, one row each.
//!
//! A row names the directive (and its old `slave*` / `*-ziplist-*` alias), gives its default
//! in redis.conf syntax, says whether `CONFIG SET` may change it while running, and carries
//! two functions: `get` renders the value as `CONFIG GET` shows it, `set` parses arguments
//! with the error texts Redis 7.0 uses. Defaults are applied through `set`, so a default that
//! does not parse is caught by a unit test.

use super::stored::{stored, Kind};
use super::{
    AppendFsync, ClientMemoryLimit, DisklessLoad, HttpEnabled, HttpPort, LogLevel, OomScoreAdj,
    OutputLimit, PropagationErrorBehavior, Protected, Settings, ShutdownFlags,
};
use std::path::PathBuf;

/// Renders a directive's current value as CONFIG GET shows it.
pub type Getter = fn(&Settings) -> String;
/// Parses a directive's arguments into the settings, or says why they are refused.
pub type Setter = fn(&mut Settings, &[String]) -> Result<(), String>;

/// One row of the table.
pub struct Directive {
    /// Canonical name.
    pub name: &'static str,
    /// Older name still accepted (and answered by CONFIG GET).
    pub alias: Option<&'static str>,
    /// Default, as it would be written in redis.conf.
    pub default: &'static str,
    /// May change at run time through CONFIG SET.
    pub mutable: bool,
    /// Takes several space-separated values (`save`, `bind`, `client-output-buffer-limit`).
    pub multi_arg: bool,
    /// CONFIG GET rendering.
    pub get: Getter,
    /// Parser and validator.
    pub set: Setter,
    /// One line for conf/replikv.conf and the docs.
    pub doc: &'static str,
}

/// Directives that can write files where the server runs (Redis's PROTECTED_CONFIG):
/// changed at run time only where `enable-protected-configs` allows.
pub const PROTECTED_CONFIGS: &[&str] = &["dir", "dbfilename"];

/// Directives whose values are secrets (Redis's SENSITIVE_CONFIG, plus our control plane's
/// token and the TLS key passphrases): CONFIG SET hides them from the slow log, and the
/// control plane shows them as `null`.
pub const SENSITIVE_CONFIGS: &[&str] = &[
    "masterauth",
    "masteruser",
    "requirepass",
    "http-auth-token",
    "tls-key-file-pass",
    "tls-client-key-file-pass",
];

/// True when `name` (a directive's name or alias, any case) holds a secret.
pub fn is_sensitive(name: &str) -> bool {
    find(name).is_some_and(|d| SENSITIVE_CONFIGS.contains(&d.name))
}

/// Finds a directive by name or alias, ignoring case.
pub fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Splits a CONFIG SET value or a default into arguments (`"3600 1 300 100"` → four).
/// An empty value is one empty argument, as `save ""` is.
pub fn split_value(value: &str) -> Vec<String> {
    let parts: Vec<String> = value.split_whitespace().map(str::to_string).collect();
    if parts.is_empty() {
        vec![String::new()]
    } else {
        parts
    }
}

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [a] => Ok(a.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

/// A percentile as Redis prints it: `%f`, then trailing zeros and a trailing point
/// removed (50 → "50", 99.9 → "99.9").
pub fn format_percentile(p: f64) -> String {
    let text = format!("{p:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub(super) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub(super) fn parse_bool(args: &[String]) -> Result<bool, String> {
    let v = one(args)?;
    if v.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

pub(super) fn parse_int(args: &[String], min: i64, max: i64) -> Result<i64, String> {
    let v = one(args)?;
    let n: i64 = v
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Parses a memory amount as Redis's `memtoull`: `1k`=1000, `1kb`=1024, `m`/`mb`, `g`/`gb`.
pub fn parse_memory_value(v: &str) -> Option<u64> {
    let lower = v.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

fn parse_memory(args: &[String], min: u64, max: u64) -> Result<u64, String> {
    let v = one(args)?;
    let n = parse_memory_value(v).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

fn parse_enum<T: Copy>(args: &[String], options: &[(&str, T)]) -> Result<T, String> {
    let v = one(args)?;
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

fn enum_name<T: PartialEq>(value: T, options: &[(&'static str, T)]) -> String {
    options
        .iter()
        .find(|(_, t)| *t == value)
        .map(|(n, _)| n.to_string())
        .unwrap_or_default()
}

const LOGLEVELS: &[(&str, LogLevel)] = &[
    ("debug", LogLevel::Debug),
    ("verbose", LogLevel::Verbose),
    ("notice", LogLevel::Notice),
    ("warning", LogLevel::Warning),
];
const DISKLESS_LOAD: &[(&str, DisklessLoad)] = &[
    ("disabled", DisklessLoad::Disabled),
    ("on-empty-db", DisklessLoad::OnEmptyDb),
    ("swapdb", DisklessLoad::Swapdb),
];
const PROPAGATION_ERROR: &[(&str, PropagationErrorBehavior)] = &[
    ("ignore", PropagationErrorBehavior::Ignore),
    ("panic", PropagationErrorBehavior::Panic),
    (
        "panic-on-replicas",
        PropagationErrorBehavior::PanicOnReplicas,
    ),
];
const HTTP_ENABLED: &[(&str, HttpEnabled)] = &[
    ("yes", HttpEnabled::Yes),
    ("no", HttpEnabled::No),
    ("optional", HttpEnabled::Optional),
];

const PROTECTED: &[(&str, Protected)] = &[
    ("no", Protected::No),
    ("yes", Protected::Yes),
    ("local", Protected::Local),
];

/// `notify-keyspace-events` classes, as Redis's `NOTIFY_*` bits.
pub mod notify {
    /// `K`: `__keyspace@<db>__:<key>` channels.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: `__keyevent@<db>__:<event>` channels.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired keys.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted keys.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses (not in `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new keys (not in `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// The classes of a `notify-keyspace-events` string, or `None` for a character Redis
    /// refuses.
    pub fn parse(classes: &str) -> Option<u32> {
        classes.chars().try_fold(0, |flags, c| {
            Some(
                flags
                    | match c {
                        'A' => ALL,
                        'g' => GENERIC,
                        '$' => STRING,
                        'l' => LIST,
                        's' => SET,
                        'h' => HASH,
                        'z' => ZSET,
                        'x' => EXPIRED,
                        'e' => EVICTED,
                        'K' => KEYSPACE,
                        'E' => KEYEVENT,
                        't' => STREAM,
                        'm' => KEY_MISS,
                        'd' => MODULE,
                        'n' => NEW,
                        _ => return None,
                    },
            )
        })
    }

    /// The string CONFIG GET shows for `flags`, in Redis's order.
    pub fn render(flags: u32) -> String {
        let mut out = String::new();
        if flags & ALL == ALL {
            out.push('A');
        } else {
            for (bit, c) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if flags & bit != 0 {
                    out.push(c);
                }
            }
        }
        for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
        out
    }
}

fn parse_save(args: &[String]) -> Result<Vec<(u64, u64)>, String> {
    // `save ""` and a bare `save` (what a harness writing `save {}` produces) both mean
    // no rules, as in Redis.
    if args.is_empty() || (args.len() == 1 && args[0].is_empty()) {
        return Ok(Vec::new());
    }
    if !args.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    args.chunks(2)
        .map(
            |pair| match (pair[0].parse::<u64>(), pair[1].parse::<u64>()) {
                (Ok(s), Ok(c)) => Ok((s, c)),
                _ => Err("Invalid save parameters".to_string()),
            },
        )
        .collect()
}

fn render_save(rules: &[(u64, u64)]) -> String {
    rules
        .iter()
        .map(|(s, c)| format!("{s} {c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_output_limits(s: &mut Settings, args: &[String]) -> Result<(), String> {
    if args.is_empty() || !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut updates = Vec::new();
    for group in args.chunks(4) {
        let class = group[0].to_ascii_lowercase();
        let hard = parse_memory_value(&group[1]);
        let soft = parse_memory_value(&group[2]);
        let secs = group[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(soft_seconds)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        let limit = OutputLimit {
            hard,
            soft,
            soft_seconds,
        };
        match class.as_str() {
            "normal" | "slave" | "replica" | "pubsub" => updates.push((class, limit)),
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    for (class, limit) in updates {
        match class.as_str() {
            "normal" => s.obuf_normal = limit,
            "pubsub" => s.obuf_pubsub = limit,
            _ => s.obuf_replica = limit,
        }
    }
    Ok(())
}

fn render_output_limits(s: &Settings) -> String {
    let f =
        |name: &str, l: &OutputLimit| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds);
    format!(
        "{} {} {}",
        f("normal", &s.obuf_normal),
        f("slave", &s.obuf_replica),
        f("pubsub", &s.obuf_pubsub)
    )
}

fn parse_replicaof(args: &[String]) -> Result<Option<(String, u16)>, String> {
    match args {
        [a] if a.is_empty() => Ok(None),
        [h, p] if h.eq_ignore_ascii_case("no") && p.eq_ignore_ascii_case("one") => Ok(None),
        [h, p] => {
            let port: u16 = p.parse().map_err(|_| "Invalid master port".to_string())?;
            Ok(Some((h.clone(), port)))
        }
        _ => Err("wrong number of arguments".into()),
    }
}

fn string_arg(args: &[String]) -> Result<String, String> {
    one(args).map(str::to_string)
}

fn parse_dir(args: &[String]) -> Result<PathBuf, String> {
    let v = one(args)?;
    let path = PathBuf::from(v);
    if !path.is_dir() {
        return Err(format!("No such file or directory: {v}"));
    }
    std::fs::canonicalize(&path).map_err(|e| e.to_string())
}

/// Redis's flag names, in its order.
fn parse_shutdown_flags(args: &[String]) -> Result<ShutdownFlags, String> {
    let mut f = ShutdownFlags::default();
    if args.is_empty() {
        return Err(
            "argument(s) must be one of the following: default, save, nosave, now, force".into(),
        );
    }
    for a in args {
        match a.to_ascii_lowercase().as_str() {
            "default" => {}
            "save" => f.save = true,
            "nosave" => f.nosave = true,
            "now" => f.now = true,
            "force" => f.force = true,
            _ => {
                return Err(
                    "argument(s) must be one of the following: default, save, nosave, now, force"
                        .into(),
                )
            }
        }
    }
    if f.save && f.nosave {
        return Err("shutdown can't have both 'save' and 'nosave' flags".into());
    }
    Ok(f)
}

fn render_shutdown_flags(f: ShutdownFlags) -> String {
    let names: Vec<&str> = [
        (f.save, "save"),
        (f.nosave, "nosave"),
        (f.now, "now"),
        (f.force, "force"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if names.is_empty() {
        "default".into()
    } else {
        names.join(" ")
    }
}

const OOM_SCORE_ADJ: &[(&str, OomScoreAdj)] = &[
    ("no", OomScoreAdj::No),
    ("yes", OomScoreAdj::Relative),
    ("relative", OomScoreAdj::Relative),
    ("absolute", OomScoreAdj::Absolute),
];

const APPENDFSYNC: &[(&str, AppendFsync)] = &[
    ("always", AppendFsync::Always),
    ("everysec", AppendFsync::EverySec),
    ("no", AppendFsync::No),
];

/// Directives for tests and debugging that CONFIG GET lists only when asked for by their
/// exact name, never through a pattern (Redis's HIDDEN_CONFIG).
pub const HIDDEN: &[&str] = &[
    "rdb-key-save-delay",
    "key-load-delay",
    "watchdog-period",
    "loading-process-events-interval-bytes",
];

/// Every directive, in the order conf/replikv.conf lists them.
/// A `tls-*` text directive (a path, a passphrase or a list), settable at run time.
macro_rules! tls_text {
    ($name:literal, $field:ident, $doc:literal) => {
        Directive {
            name: $name,
            alias: None,
            default: "",
            mutable: true,
            multi_arg: false,
            get: |s| s.tls.$field.clone(),
            set: |s, a| {
                s.tls.$field = string_arg(a)?;
                Ok(())
            },
            doc: $doc,
        }
    };
}

/// A `tls-*` yes/no directive, settable at run time.
macro_rules! tls_flag {
    ($name:literal, $field:ident, $default:literal, $doc:literal) => {
        Directive {
            name: $name,
            alias: None,
            default: $default,
            mutable: true,
            multi_arg: false,
            get: |s| yes_no(s.tls.$field),
            set: |s, a| {
                s.tls.$field = parse_bool(a)?;
                Ok(())
            },
            doc: $doc,
        }
    };
}

pub static DIRECTIVES: &[Directive] = &[
    // ---- network ----
    Directive {
        name: "bind",
        alias: None,
        default: "127.0.0.1 -::1",
        mutable: true,
        multi_arg: true,
        get: |s| s.bind.join(" "),
        set: |s, a| {
            if a.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            s.bind = a.iter().filter(|x| !x.is_empty()).cloned().collect();
            Ok(())
        },
        doc: "Addresses to listen on; a leading '-' marks an address that may be unavailable; \"\" listens on none (Unix socket only). At run time the listeners move, connections stay.",
    },
    Directive {
        name: "bind-source-addr",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.bind_source_addr.clone(),
        set: |s, a| {
            s.bind_source_addr = string_arg(a)?;
            Ok(())
        },
        doc: "Local address replication connects to its master from (\"\" lets the system choose).",
    },
    Directive {
        name: "port",
        alias: None,
        default: "6379",
        mutable: true,
        multi_arg: false,
        get: |s| s.port.to_string(),
        set: |s, a| {
            s.port = parse_int(a, 0, 65535)? as u16;
            Ok(())
        },
        doc: "RESP port; 0 binds an ephemeral port (reported in the ready log line). At run time the listeners move, connections stay.",
    },
    Directive {
        name: "tcp-backlog",
        alias: None,
        default: "511",
        mutable: false,
        multi_arg: false,
        get: |s| s.tcp_backlog.to_string(),
        set: |s, a| {
            s.tcp_backlog = parse_int(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
        doc: "Listen backlog of the RESP socket.",
    },
    Directive {
        name: "protected-mode",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.protected_mode),
        set: |s, a| {
            s.protected_mode = parse_bool(a)?;
            Ok(())
        },
        doc: "With no requirepass, refuse clients that are not on loopback or the Unix socket (Redis's DENIED error).",
    },
    Directive {
        name: "timeout",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.timeout.to_string(),
        set: |s, a| {
            s.timeout = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Close a client idle for this many seconds (0 = never).",
    },
    Directive {
        name: "tcp-keepalive",
        alias: None,
        default: "300",
        mutable: true,
        multi_arg: false,
        get: |s| s.tcp_keepalive.to_string(),
        set: |s, a| {
            s.tcp_keepalive = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "TCP keepalive interval in seconds (0 = off).",
    },
    Directive {
        name: "requirepass",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.requirepass.clone(),
        set: |s, a| {
            s.requirepass = string_arg(a)?;
            Ok(())
        },
        doc: "Password clients must give with AUTH (empty = none).",
    },
    Directive {
        name: "maxclients",
        alias: None,
        default: "10000",
        mutable: true,
        multi_arg: false,
        get: |s| s.maxclients.to_string(),
        set: |s, a| {
            s.maxclients = parse_int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Maximum number of connected clients.",
    },
    // ---- general ----
    Directive {
        name: "databases",
        alias: None,
        default: "16",
        mutable: false,
        multi_arg: false,
        get: |s| s.databases.to_string(),
        set: |s, a| {
            s.databases = parse_int(a, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
        doc: "Number of databases (SELECT 0 .. databases-1).",
    },
    Directive {
        name: "io-threads",
        alias: None,
        default: "1",
        mutable: false,
        multi_arg: false,
        get: |s| s.io_threads.to_string(),
        set: |s, a| {
            s.io_threads = parse_int(a, 1, 128)? as usize;
            Ok(())
        },
        doc: "Threads that run connections (tokio runtime workers). 1, as Redis's default: one thread runs every command, measured cheaper per operation than two (docs/execution-model.md); more spread reading, parsing and writing over threads, with the engine lock passing between them.",
    },
    stored!(
        "io-threads-do-reads",
        "no",
        false,
        Kind::Bool,
        "Accepted for compatibility: with io-threads above 1, every thread reads and parses its connections' input."
    ),
    Directive {
        name: "daemonize",
        alias: None,
        default: "no",
        mutable: false,
        multi_arg: false,
        get: |s| yes_no(s.daemonize),
        set: |s, a| {
            if parse_bool(a)? {
                return Err("replikv runs in the foreground; use a service manager".into());
            }
            s.daemonize = false;
            Ok(())
        },
        doc: "Only 'no': run replikv under a service manager.",
    },
    Directive {
        name: "pidfile",
        alias: None,
        default: "",
        mutable: false,
        multi_arg: false,
        get: |s| s.pidfile.clone(),
        set: |s, a| {
            s.pidfile = string_arg(a)?;
            Ok(())
        },
        doc: "Write the process id to this file at start-up (empty = none).",
    },
    Directive {
        name: "loglevel",
        alias: None,
        default: "notice",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.loglevel, LOGLEVELS),
        set: |s, a| {
            s.loglevel = parse_enum(a, LOGLEVELS)?;
            Ok(())
        },
        doc: "debug, verbose, notice or warning.",
    },
    Directive {
        name: "logfile",
        alias: None,
        default: "",
        mutable: false,
        multi_arg: false,
        get: |s| s.logfile.clone(),
        set: |s, a| {
            s.logfile = string_arg(a)?;
            Ok(())
        },
        doc: "Log file (empty = standard output).",
    },
    Directive {
        name: "hz",
        alias: None,
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.hz.to_string(),
        set: |s, a| {
            // Redis clamps hz into 1..=500 instead of refusing.
            s.hz = parse_int(a, i32::MIN as i64, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
        doc: "Frequency of the server cron (active expiry, timeouts), 1..500.",
    },
    Directive {
        name: "enable-debug-command",
        alias: None,
        default: "no",
        mutable: false,
        multi_arg: false,
        get: |s| enum_name(s.enable_debug_command, PROTECTED),
        set: |s, a| {
            s.enable_debug_command = parse_enum(a, PROTECTED)?;
            Ok(())
        },
        doc: "Allow DEBUG: no, yes, or local (loopback clients only).",
    },
    Directive {
        name: "always-show-logo",
        alias: None,
        default: "no",
        mutable: false,
        multi_arg: false,
        get: |s| yes_no(s.always_show_logo),
        set: |s, a| {
            s.always_show_logo = parse_bool(a)?;
            Ok(())
        },
        doc: "Print the start-up banner (version, port, PID) even when the log is not a terminal.",
    },
    Directive {
        name: "notify-keyspace-events",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| notify::render(s.notify_keyspace_events),
        set: |s, a| {
            s.notify_keyspace_events = notify::parse(one(a)?)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
            Ok(())
        },
        doc: "Keyspace notifications to publish: K (keyspace), E (keyevent) and classes g$lshzxetd (A = all), m (misses), n (new keys).",
    },
    stored!(
        "activerehashing",
        "yes",
        true,
        Kind::Bool,
        "Accepted for compatibility: replikv's tables grow segment by segment and never need Redis's background rehashing."
    ),
    stored!(
        "dynamic-hz",
        "yes",
        true,
        Kind::Bool,
        "Accepted for compatibility: replikv's cron cost does not grow with the number of clients, so hz is not raised with it."
    ),
    stored!(
        "loading-process-events-interval-bytes",
        "2097152",
        true,
        Kind::Int(1024, i32::MAX as i64),
        "Accepted for compatibility: a replica parses a full sync off the engine lock, so loading never stops other clients and never needs to pause for events."
    ),
    stored!(
        "sanitize-dump-payload",
        "no",
        true,
        Kind::Enum(&["no", "yes", "clients"]),
        "Accepted for compatibility: replikv always checks a RESTORE payload or an RDB in full before using it, as Redis's 'yes'."
    ),
    stored!(
        "watchdog-period",
        "0",
        true,
        Kind::Int(0, i32::MAX as i64),
        "Accepted for compatibility: Redis's debugging watchdog (a stack trace of a slow event loop); replikv logs slow commands through LATENCY and its traces instead."
    ),
    Directive {
        name: "latency-tracking",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.latency_tracking),
        set: |s, a| {
            s.latency_tracking = parse_bool(a)?;
            Ok(())
        },
        doc: "Keep a latency histogram per command (INFO latencystats, LATENCY HISTOGRAM).",
    },
    Directive {
        name: "latency-tracking-info-percentiles",
        alias: None,
        default: "50 99 99.9",
        mutable: true,
        multi_arg: true,
        get: |s| {
            s.latency_tracking_info_percentiles
                .iter()
                .map(|p| format_percentile(*p))
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: |s, a| {
            // A single empty argument means no percentiles, as Redis.
            if a.len() == 1 && a[0].is_empty() {
                s.latency_tracking_info_percentiles.clear();
                return Ok(());
            }
            let mut list = Vec::with_capacity(a.len());
            for v in a {
                let p: f64 = v
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite())
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                list.push(p);
            }
            s.latency_tracking_info_percentiles = list;
            Ok(())
        },
        doc: "Percentiles INFO latencystats shows for each command.",
    },
    Directive {
        name: "latency-monitor-threshold",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.latency_monitor_threshold.to_string(),
        set: |s, a| {
            s.latency_monitor_threshold = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "Milliseconds from which a command is recorded by the latency monitor (LATENCY LATEST, HISTORY; 0 = off).",
    },
    Directive {
        name: "slowlog-log-slower-than",
        alias: None,
        default: "10000",
        mutable: true,
        multi_arg: false,
        get: |s| s.slowlog_log_slower_than.to_string(),
        set: |s, a| {
            s.slowlog_log_slower_than = parse_int(a, -1, i64::MAX)?;
            Ok(())
        },
        doc: "Microseconds from which a command is recorded in the slow log (SLOWLOG GET); 0 records every command, -1 none.",
    },
    Directive {
        name: "slowlog-max-len",
        alias: None,
        default: "128",
        mutable: true,
        multi_arg: false,
        get: |s| s.slowlog_max_len.to_string(),
        set: |s, a| {
            s.slowlog_max_len = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "Entries the slow log keeps (the oldest are dropped first).",
    },
    Directive {
        name: "acllog-max-len",
        alias: None,
        default: "128",
        mutable: true,
        multi_arg: false,
        get: |s| s.acllog_max_len.to_string(),
        set: |s, a| {
            s.acllog_max_len = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "Entries the ACL log keeps (ACL LOG).",
    },
    Directive {
        name: "acl-pubsub-default",
        alias: None,
        default: "resetchannels",
        mutable: true,
        multi_arg: false,
        get: |s| {
            if s.acl_pubsub_allchannels {
                "allchannels".into()
            } else {
                "resetchannels".into()
            }
        },
        set: |s, a| {
            s.acl_pubsub_allchannels =
                parse_enum(a, &[("allchannels", true), ("resetchannels", false)])?;
            Ok(())
        },
        doc: "The channels a new ACL user or selector may use: resetchannels (none) or allchannels.",
    },
    Directive {
        name: "aclfile",
        alias: None,
        default: "",
        mutable: false,
        multi_arg: false,
        get: |s| s.aclfile.clone(),
        set: |s, a| {
            s.aclfile = string_arg(a)?;
            Ok(())
        },
        doc: "A file of ACL users (ACL LOAD, ACL SAVE, read at start-up); cannot be combined with user lines.",
    },
    Directive {
        name: "propagation-error-behavior",
        alias: None,
        default: "ignore",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.propagation_error_behavior, PROPAGATION_ERROR),
        set: |s, a| {
            s.propagation_error_behavior = parse_enum(a, PROPAGATION_ERROR)?;
            Ok(())
        },
        doc: "What a read-only replica does when a command from its master fails: ignore (log `== CRITICAL ==` and go on), panic or panic-on-replicas (log, then stop the process).",
    },
    Directive {
        name: "unixsocket",
        alias: None,
        default: "",
        mutable: false,
        multi_arg: false,
        get: |s| s.unixsocket.clone(),
        set: |s, a| {
            s.unixsocket = one(a)?.to_string();
            Ok(())
        },
        doc: "Also accept clients on this Unix-domain socket (empty = none).",
    },
    Directive {
        name: "proc-title-template",
        alias: None,
        default: "{title} {listen-addr} {server-mode}",
        mutable: true,
        multi_arg: false,
        get: |s| s.proc_title_template.clone(),
        set: |s, a| {
            let template = one(a)?;
            if !super::proctitle::is_valid(template) {
                return Err("template format is invalid or contains unknown variables".into());
            }
            s.proc_title_template = template.to_string();
            Ok(())
        },
        doc: "The process title ps shows: {title} (the program as run), {listen-addr}, {server-mode}, {port}, {tls-port}, {unixsocket}, {config-file}; {{ is a literal brace.",
    },
    Directive {
        name: "unixsocketperm",
        alias: None,
        default: "0",
        mutable: false,
        multi_arg: false,
        get: |s| format!("{:o}", s.unixsocketperm),
        set: |s, a| {
            let v = one(a)?;
            let n = u32::from_str_radix(v, 8)
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n > 0o777 {
                return Err("argument must be between 0 and 777 inclusive".into());
            }
            s.unixsocketperm = n;
            Ok(())
        },
        doc: "Permissions of the Unix-domain socket, in octal (0 = the process umask's).",
    },
    Directive {
        name: "enable-protected-configs",
        alias: None,
        default: "no",
        mutable: false,
        multi_arg: false,
        get: |s| enum_name(s.enable_protected_configs, PROTECTED),
        set: |s, a| {
            s.enable_protected_configs = parse_enum(a, PROTECTED)?;
            Ok(())
        },
        doc: "Allow changing dir and dbfilename at run time (CONFIG SET, PATCH /v1/config): no, yes, or local.",
    },
    Directive {
        name: "enable-module-command",
        alias: None,
        default: "no",
        mutable: false,
        multi_arg: false,
        get: |s| enum_name(s.enable_module_command, PROTECTED),
        set: |s, a| {
            s.enable_module_command = parse_enum(a, PROTECTED)?;
            Ok(())
        },
        doc: "Accepted for compatibility: replikv loads no modules, so MODULE is refused whatever its value.",
    },
    Directive {
        name: "maxmemory",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.maxmemory.to_string(),
        set: |s, a| {
            s.maxmemory = parse_memory(a, 0, u64::MAX)?;
            Ok(())
        },
        doc: "Memory limit for the dataset (0 = none): past it, keys are evicted by maxmemory-policy, or commands that add data are refused with -OOM.",
    },
    Directive {
        name: "maxmemory-clients",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| match s.maxmemory_clients {
            ClientMemoryLimit::Bytes(b) => b.to_string(),
            ClientMemoryLimit::Percent(p) => format!("{p}%"),
        },
        set: |s, a| {
            let v = one(a)?;
            s.maxmemory_clients = match v.strip_suffix('%') {
                Some(p) => {
                    let p: u64 = p
                        .parse()
                        .map_err(|_| "argument must be a memory or percent value".to_string())?;
                    if p > 100 {
                        return Err("percentage argument must be less or equal to 100".into());
                    }
                    ClientMemoryLimit::Percent(p as u32)
                }
                None => ClientMemoryLimit::Bytes(parse_memory(a, 0, i64::MAX as u64)?),
            };
            Ok(())
        },
        doc: "Memory all normal and Pub/Sub clients may use together (0 = no limit), in bytes or as a percentage of maxmemory (\"10%\"): past it, the clients using the most are disconnected, as Redis's client eviction (CLIENT NO-EVICT exempts a client).",
    },
    Directive {
        name: "maxmemory-policy",
        alias: None,
        default: "noeviction",
        mutable: true,
        multi_arg: false,
        get: |s| s.maxmemory_policy.clone(),
        set: |s, a| {
            s.maxmemory_policy = parse_enum(
                a,
                &[
                    ("volatile-lru", "volatile-lru"),
                    ("volatile-lfu", "volatile-lfu"),
                    ("volatile-random", "volatile-random"),
                    ("volatile-ttl", "volatile-ttl"),
                    ("allkeys-lru", "allkeys-lru"),
                    ("allkeys-lfu", "allkeys-lfu"),
                    ("allkeys-random", "allkeys-random"),
                    ("noeviction", "noeviction"),
                ],
            )?
            .to_string();
            Ok(())
        },
        doc: "Which keys maxmemory evicts: noeviction (refuse writes with -OOM), allkeys-lru, allkeys-lfu, allkeys-random, or volatile-lru, volatile-lfu, volatile-random, volatile-ttl (keys with a TTL only).",
    },
    Directive {
        name: "maxmemory-samples",
        alias: None,
        default: "5",
        mutable: true,
        multi_arg: false,
        get: |s| s.maxmemory_samples.to_string(),
        set: |s, a| {
            s.maxmemory_samples = parse_int(a, 1, 64)? as u32;
            Ok(())
        },
        doc: "Keys sampled per database to choose each eviction (more is closer to true LRU/LFU/TTL order, and slower).",
    },
    Directive {
        name: "tracking-table-max-keys",
        alias: None,
        default: "1000000",
        mutable: true,
        multi_arg: false,
        get: |s| s.tracking_table_max_keys.to_string(),
        set: |s, a| {
            s.tracking_table_max_keys = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "Most keys CLIENT TRACKING remembers reads of (0 = no limit); past it, keys are forgotten and their readers invalidated, as Redis.",
    },
    Directive {
        name: "maxmemory-eviction-tenacity",
        alias: None,
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.maxmemory_eviction_tenacity.to_string(),
        set: |s, a| {
            s.maxmemory_eviction_tenacity = parse_int(a, 0, 100)? as u32;
            Ok(())
        },
        doc: "How long one command may spend evicting, 0..100 (10 = about 500 us, 100 = no limit), as Redis.",
    },
    Directive {
        name: "replica-ignore-maxmemory",
        alias: Some("slave-ignore-maxmemory"),
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_ignore_maxmemory),
        set: |s, a| {
            s.replica_ignore_maxmemory = parse_bool(a)?;
            Ok(())
        },
        doc: "A replica never evicts on its own (its master's DELs keep it equal).",
    },
    Directive {
        name: "lazyfree-lazy-eviction",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.lazyfree_lazy_eviction),
        set: |s, a| {
            s.lazyfree_lazy_eviction = parse_bool(a)?;
            Ok(())
        },
        doc: "Propagate evictions as UNLINK rather than DEL, as Redis.",
    },
    Directive {
        name: "lazyfree-lazy-user-flush",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.lazyfree_lazy_user_flush),
        set: |s, a| {
            s.lazyfree_lazy_user_flush = parse_bool(a)?;
            Ok(())
        },
        doc: "FLUSHDB and FLUSHALL without SYNC or ASYNC free the old data in the background (as with ASYNC) rather than before they reply.",
    },
    Directive {
        name: "lfu-log-factor",
        alias: None,
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.lfu_log_factor.to_string(),
        set: |s, a| {
            s.lfu_log_factor = parse_int(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
        doc: "How slowly the LFU access counter grows (higher = more accesses per step).",
    },
    Directive {
        name: "lfu-decay-time",
        alias: None,
        default: "1",
        mutable: true,
        multi_arg: false,
        get: |s| s.lfu_decay_time.to_string(),
        set: |s, a| {
            s.lfu_decay_time = parse_int(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
        doc: "Minutes of idleness per decrement of a key's LFU counter (0 = never decays).",
    },
    // ---- limits ----
    Directive {
        name: "proto-max-bulk-len",
        alias: None,
        default: "512mb",
        mutable: true,
        multi_arg: false,
        get: |s| s.proto_max_bulk_len.to_string(),
        set: |s, a| {
            s.proto_max_bulk_len = parse_memory(a, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        doc: "Longest bulk string a client may send.",
    },
    Directive {
        name: "client-query-buffer-limit",
        alias: None,
        default: "1gb",
        mutable: true,
        multi_arg: false,
        get: |s| s.client_query_buffer_limit.to_string(),
        set: |s, a| {
            s.client_query_buffer_limit = parse_memory(a, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        doc: "A client whose unprocessed input exceeds this is disconnected.",
    },
    Directive {
        name: "client-output-buffer-limit",
        alias: None,
        default: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
        mutable: true,
        multi_arg: true,
        get: render_output_limits,
        set: parse_output_limits,
        doc: "<class> <hard> <soft> <soft-seconds> for normal, replica and pubsub clients.",
    },
    // ---- snapshots ----
    Directive {
        name: "save",
        alias: None,
        default: "3600 1 300 100 60 10000",
        mutable: true,
        multi_arg: true,
        get: |s| render_save(&s.save),
        set: |s, a| {
            s.save = parse_save(a)?;
            Ok(())
        },
        doc: "<seconds> <changes> pairs: snapshot when that many changes happened in that time; \"\" disables.",
    },
    Directive {
        name: "dir",
        alias: None,
        default: "./",
        mutable: true,
        multi_arg: false,
        get: |s| s.dir.display().to_string(),
        set: |s, a| {
            s.dir = parse_dir(a)?;
            Ok(())
        },
        doc: "Working directory: RDB files are written here.",
    },
    Directive {
        name: "dbfilename",
        alias: None,
        default: "dump.rdb",
        mutable: true,
        multi_arg: false,
        get: |s| s.dbfilename.clone(),
        set: |s, a| {
            let v = string_arg(a)?;
            if v.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            s.dbfilename = v;
            Ok(())
        },
        doc: "Name of the RDB file inside dir.",
    },
    Directive {
        name: "rdbcompression",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.rdbcompression),
        set: |s, a| {
            s.rdbcompression = parse_bool(a)?;
            Ok(())
        },
        doc: "LZF-compress long strings in RDB files.",
    },
    Directive {
        name: "rdbchecksum",
        alias: None,
        default: "yes",
        mutable: false,
        multi_arg: false,
        get: |s| yes_no(s.rdbchecksum),
        set: |s, a| {
            s.rdbchecksum = parse_bool(a)?;
            Ok(())
        },
        doc: "Write and verify the CRC64 trailer of RDB files.",
    },
    Directive {
        name: "rdb-key-save-delay",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.rdb_key_save_delay.to_string(),
        set: |s, a| {
            s.rdb_key_save_delay = parse_int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
        doc: "For tests: a pause after each key written to an RDB (file or full sync), in microseconds; -n pauses 1 us once every n keys.",
    },
    Directive {
        name: "key-load-delay",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.key_load_delay.to_string(),
        set: |s, a| {
            s.key_load_delay = parse_int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
        doc: "For tests: a pause after each key loaded from an RDB (start-up, full sync, DEBUG RELOAD), in microseconds; -n pauses 1 us once every n keys.",
    },
    Directive {
        name: "stop-writes-on-bgsave-error",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.stop_writes_on_bgsave_error),
        set: |s, a| {
            s.stop_writes_on_bgsave_error = parse_bool(a)?;
            Ok(())
        },
        doc: "Refuse writes (-MISCONF) after a failed background save.",
    },
    Directive {
        name: "appendonly",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.appendonly),
        set: |s, a| {
            s.appendonly = parse_bool(a)?;
            Ok(())
        },
        doc: "Append every write to the append-only file (Redis 7's multi-part layout in appenddirname); at start-up the AOF, not the RDB, is loaded.",
    },
    Directive {
        name: "appendfilename",
        alias: None,
        default: "appendonly.aof",
        mutable: false,
        multi_arg: false,
        get: |s| s.appendfilename.clone(),
        set: |s, a| {
            let v = string_arg(a)?;
            if v.contains('/') || v.is_empty() {
                return Err("appendfilename can't be a path, just a filename".into());
            }
            s.appendfilename = v;
            Ok(())
        },
        doc: "Stem of the AOF's file names (<stem>.manifest, <stem>.<n>.base.rdb, <stem>.<n>.incr.aof).",
    },
    Directive {
        name: "appenddirname",
        alias: None,
        default: "appendonlydir",
        mutable: false,
        multi_arg: false,
        get: |s| s.appenddirname.clone(),
        set: |s, a| {
            let v = string_arg(a)?;
            if v.contains('/') || v.is_empty() {
                return Err("appenddirname can't be a path, just a dirname".into());
            }
            s.appenddirname = v;
            Ok(())
        },
        doc: "Directory of the AOF's files, inside dir.",
    },
    Directive {
        name: "appendfsync",
        alias: None,
        default: "everysec",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.appendfsync, APPENDFSYNC).to_string(),
        set: |s, a| {
            s.appendfsync = parse_enum(a, APPENDFSYNC)?;
            Ok(())
        },
        doc: "When the AOF reaches the disk: always (before each reply), everysec (in the background, once a second) or no (when the kernel writes it).",
    },
    Directive {
        name: "no-appendfsync-on-rewrite",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.no_appendfsync_on_rewrite),
        set: |s, a| {
            s.no_appendfsync_on_rewrite = parse_bool(a)?;
            Ok(())
        },
        doc: "Skip the AOF's fsync while a rewrite writes its base (less disk contention, up to the rewrite's length of writes at risk).",
    },
    Directive {
        name: "auto-aof-rewrite-percentage",
        alias: None,
        default: "100",
        mutable: true,
        multi_arg: false,
        get: |s| s.auto_aof_rewrite_percentage.to_string(),
        set: |s, a| {
            s.auto_aof_rewrite_percentage = parse_int(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
        doc: "Rewrite the AOF when it grew by this percentage over the last rewrite's size (0 turns automatic rewrites off).",
    },
    Directive {
        name: "auto-aof-rewrite-min-size",
        alias: None,
        default: "64mb",
        mutable: true,
        multi_arg: false,
        get: |s| s.auto_aof_rewrite_min_size.to_string(),
        set: |s, a| {
            s.auto_aof_rewrite_min_size = parse_memory(a, 0, i64::MAX as u64)?;
            Ok(())
        },
        doc: "No automatic AOF rewrite below this size.",
    },
    Directive {
        name: "aof-load-truncated",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.aof_load_truncated),
        set: |s, a| {
            s.aof_load_truncated = parse_bool(a)?;
            Ok(())
        },
        doc: "Load an AOF whose last file ends in the middle of a command up to that command (and cut the file there), with a warning; 'no' refuses to start.",
    },
    Directive {
        name: "aof-use-rdb-preamble",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.aof_use_rdb_preamble),
        set: |s, a| {
            s.aof_use_rdb_preamble = parse_bool(a)?;
            Ok(())
        },
        doc: "A rewrite writes the AOF's base as an RDB (compact, fast to load); 'no' writes it as commands.",
    },
    Directive {
        name: "aof-timestamp-enabled",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.aof_timestamp_enabled),
        set: |s, a| {
            s.aof_timestamp_enabled = parse_bool(a)?;
            Ok(())
        },
        doc: "Write a '#TS:<unix seconds>' annotation into the AOF when the second changes between writes.",
    },
    stored!(
        "aof-rewrite-incremental-fsync",
        "yes",
        true,
        Kind::Bool,
        "Accepted for compatibility: a rewrite's base is written through one buffered stream and synced once at its end; the page cache it fills is the kernel's to flush."
    ),
    // ---- data type encodings ----
    Directive {
        name: "hll-sparse-max-bytes",
        alias: None,
        default: "3000",
        mutable: true,
        multi_arg: false,
        get: |s| s.hll_sparse_max_bytes.to_string(),
        set: |s, a| {
            s.hll_sparse_max_bytes = parse_memory(a, 0, i64::MAX as u64)?;
            Ok(())
        },
        doc: "A HyperLogLog past this many bytes in its sparse form turns dense (12 KB, faster to update).",
    },
    Directive {
        name: "hash-max-listpack-entries",
        alias: Some("hash-max-ziplist-entries"),
        default: "512",
        mutable: true,
        multi_arg: false,
        get: |s| s.hash_max_listpack_entries.to_string(),
        set: |s, a| {
            s.hash_max_listpack_entries = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A hash with more fields is reported (and stored) as a hashtable.",
    },
    Directive {
        name: "hash-max-listpack-value",
        alias: Some("hash-max-ziplist-value"),
        default: "64",
        mutable: true,
        multi_arg: false,
        get: |s| s.hash_max_listpack_value.to_string(),
        set: |s, a| {
            s.hash_max_listpack_value = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A hash with a longer field or value is a hashtable.",
    },
    Directive {
        name: "list-max-listpack-size",
        alias: Some("list-max-ziplist-size"),
        default: "-2",
        mutable: true,
        multi_arg: false,
        get: |s| s.list_max_listpack_size.to_string(),
        set: |s, a| {
            s.list_max_listpack_size = parse_int(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
        doc: "Listpack node size of lists: positive = entries, -1..-5 = 4..64 KiB.",
    },
    Directive {
        name: "list-compress-depth",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.list_compress_depth.to_string(),
        set: |s, a| {
            s.list_compress_depth = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Accepted for compatibility.",
    },
    Directive {
        name: "set-max-intset-entries",
        alias: None,
        default: "512",
        mutable: true,
        multi_arg: false,
        get: |s| s.set_max_intset_entries.to_string(),
        set: |s, a| {
            s.set_max_intset_entries = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A set of integers with more members is a hashtable.",
    },
    Directive {
        name: "zset-max-listpack-entries",
        alias: Some("zset-max-ziplist-entries"),
        default: "128",
        mutable: true,
        multi_arg: false,
        get: |s| s.zset_max_listpack_entries.to_string(),
        set: |s, a| {
            s.zset_max_listpack_entries = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A sorted set with more members is a skiplist.",
    },
    Directive {
        name: "zset-max-listpack-value",
        alias: Some("zset-max-ziplist-value"),
        default: "64",
        mutable: true,
        multi_arg: false,
        get: |s| s.zset_max_listpack_value.to_string(),
        set: |s, a| {
            s.zset_max_listpack_value = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A sorted set with a longer member is a skiplist.",
    },
    Directive {
        name: "stream-node-max-bytes",
        alias: None,
        default: "4096",
        mutable: true,
        multi_arg: false,
        get: |s| s.stream_node_max_bytes.to_string(),
        set: |s, a| {
            s.stream_node_max_bytes = parse_memory(a, 0, i64::MAX as u64)?;
            Ok(())
        },
        doc: "A stream node (one listpack of entries) holds at most this many bytes; 0 = no limit but the 1 GiB one.",
    },
    Directive {
        name: "stream-node-max-entries",
        alias: None,
        default: "100",
        mutable: true,
        multi_arg: false,
        get: |s| s.stream_node_max_entries.to_string(),
        set: |s, a| {
            s.stream_node_max_entries = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "A stream node holds at most this many entries (deleted ones included); 0 = no limit. Approximate trimming (MAXLEN ~) removes whole nodes.",
    },
    // ---- replication ----
    Directive {
        name: "replicaof",
        alias: Some("slaveof"),
        default: "",
        mutable: false,
        multi_arg: true,
        get: |s| s.replicaof.as_ref().map(|(h, p)| format!("{h} {p}")).unwrap_or_default(),
        set: |s, a| {
            s.replicaof = parse_replicaof(a)?;
            Ok(())
        },
        doc: "<host> <port>: follow that master (use REPLICAOF at run time).",
    },
    Directive {
        name: "masterauth",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.masterauth.clone(),
        set: |s, a| {
            s.masterauth = string_arg(a)?;
            Ok(())
        },
        doc: "Password to authenticate to the master.",
    },
    Directive {
        name: "masteruser",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.masteruser.clone(),
        set: |s, a| {
            s.masteruser = string_arg(a)?;
            Ok(())
        },
        doc: "User name to authenticate to the master (AUTH user pass).",
    },
    Directive {
        name: "replica-serve-stale-data",
        alias: Some("slave-serve-stale-data"),
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_serve_stale_data),
        set: |s, a| {
            s.replica_serve_stale_data = parse_bool(a)?;
            Ok(())
        },
        doc: "Serve reads while the link to the master is down.",
    },
    Directive {
        name: "replica-serve-while-loading",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_serve_while_loading),
        set: |s, a| {
            s.replica_serve_while_loading = parse_bool(a)?;
            Ok(())
        },
        doc: "replikv: keep serving reads from the old dataset while a full sync loads, in every load mode (no: only repl-diskless-load swapdb of the same history, as Redis).",
    },
    Directive {
        name: "replica-read-only",
        alias: Some("slave-read-only"),
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_read_only),
        set: |s, a| {
            s.replica_read_only = parse_bool(a)?;
            Ok(())
        },
        doc: "Refuse client writes on a replica.",
    },
    Directive {
        name: "repl-diskless-sync",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.repl_diskless_sync),
        set: |s, a| {
            s.repl_diskless_sync = parse_bool(a)?;
            Ok(())
        },
        doc: "Stream full syncs to replicas that accept it instead of going through a file.",
    },
    Directive {
        name: "repl-diskless-sync-delay",
        alias: None,
        default: "5",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_diskless_sync_delay.to_string(),
        set: |s, a| {
            s.repl_diskless_sync_delay = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Seconds to wait for more replicas before a diskless full sync starts.",
    },
    Directive {
        name: "repl-diskless-sync-max-replicas",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_diskless_sync_max_replicas.to_string(),
        set: |s, a| {
            s.repl_diskless_sync_max_replicas = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Start the diskless sync early once this many replicas wait (0 = no limit).",
    },
    Directive {
        name: "repl-diskless-load",
        alias: None,
        default: "disabled",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.repl_diskless_load, DISKLESS_LOAD),
        set: |s, a| {
            s.repl_diskless_load = parse_enum(a, DISKLESS_LOAD)?;
            Ok(())
        },
        doc: "disabled, on-empty-db or swapdb: how a replica loads a full sync.",
    },
    Directive {
        name: "replica-load-memory-limit",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.replica_load_memory_limit.to_string(),
        set: |s, a| {
            s.replica_load_memory_limit = parse_memory(a, 0, i64::MAX as u64)?;
            Ok(())
        },
        doc: "replikv: memory a replica may use while a full sync loads beside the old dataset that keeps serving; past it the old dataset is freed and clients get -LOADING, as Redis (0 = maxmemory; no limit when that is 0 too).",
    },
    Directive {
        name: "dual-channel-replication-enabled",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.dual_channel_replication),
        set: |s, a| {
            s.dual_channel_replication = parse_bool(a)?;
            Ok(())
        },
        doc: "replikv: full syncs between replikv nodes send the snapshot on a channel of its own while the stream flows on the main link and is buffered by the replica (both sides must enable it; a Redis peer gets the classic sync).",
    },
    Directive {
        name: "replica-full-sync-buffer-limit",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.replica_full_sync_buffer_limit.to_string(),
        set: |s, a| {
            s.replica_full_sync_buffer_limit = parse_memory(a, 0, i64::MAX as u64)?;
            Ok(())
        },
        doc: "replikv: bytes of stream a replica buffers during a dual-channel full sync before it stops reading (0 = the client-output-buffer-limit replica hard limit, 256mb when that is 0).",
    },
    Directive {
        name: "repl-ping-replica-period",
        alias: Some("repl-ping-slave-period"),
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_ping_replica_period.to_string(),
        set: |s, a| {
            s.repl_ping_replica_period = parse_int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Seconds between PINGs the master sends its replicas.",
    },
    Directive {
        name: "busy-reply-threshold",
        alias: Some("lua-time-limit"),
        default: "5000",
        mutable: true,
        multi_arg: false,
        get: |s| s.busy_reply_threshold.to_string(),
        set: |s, a| {
            s.busy_reply_threshold = parse_int(a, 0, i64::MAX)? as u64;
            Ok(())
        },
        doc: "Milliseconds a script may run before other clients are answered -BUSY and SCRIPT KILL / FUNCTION KILL can stop it (0: never).",
    },
    Directive {
        name: "repl-timeout",
        alias: None,
        default: "60",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_timeout.to_string(),
        set: |s, a| {
            s.repl_timeout = parse_int(a, 1, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Seconds without traffic after which a replication link is dropped.",
    },
    Directive {
        name: "shutdown-timeout",
        alias: None,
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.shutdown_timeout.to_string(),
        set: |s, a| {
            s.shutdown_timeout = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Seconds a shutdown waits for lagging replicas to acknowledge every write before the final save (0: no wait); a termination signal also exits without the final save when the engine stays busy this long.",
    },
    Directive {
        name: "oom-score-adj",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.oom_score_adj, OOM_SCORE_ADJ),
        set: |s, a| {
            s.oom_score_adj = parse_enum(a, OOM_SCORE_ADJ)?;
            Ok(())
        },
        doc: "Set the Linux OOM score by role (oom-score-adj-values): no, yes or relative (added to the starting score), absolute.",
    },
    Directive {
        name: "oom-score-adj-values",
        alias: None,
        default: "0 200 800",
        mutable: true,
        multi_arg: true,
        get: |s| {
            let [m, r, c] = s.oom_score_adj_values;
            format!("{m} {r} {c}")
        },
        set: |s, a| {
            let [m, r, c] = a else {
                return Err("wrong number of arguments".into());
            };
            let parse = |v: &String| {
                v.parse::<i32>()
                    .ok()
                    .filter(|n| (-2000..=2000).contains(n))
                    .ok_or_else(|| {
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .to_string()
                    })
            };
            s.oom_score_adj_values = [parse(m)?, parse(r)?, parse(c)?];
            Ok(())
        },
        doc: "OOM scores for a master, a replica and a background child (replikv has none: its saves run in threads).",
    },
    Directive {
        name: "shutdown-on-sigterm",
        alias: None,
        default: "default",
        mutable: true,
        multi_arg: true,
        get: |s| render_shutdown_flags(s.shutdown_on_sigterm),
        set: |s, a| {
            s.shutdown_on_sigterm = parse_shutdown_flags(a)?;
            Ok(())
        },
        doc: "What SIGTERM's shutdown does: default (save when save rules exist), or any of save, nosave, now, force, as SHUTDOWN's options.",
    },
    Directive {
        name: "shutdown-on-sigint",
        alias: None,
        default: "default",
        mutable: true,
        multi_arg: true,
        get: |s| render_shutdown_flags(s.shutdown_on_sigint),
        set: |s, a| {
            s.shutdown_on_sigint = parse_shutdown_flags(a)?;
            Ok(())
        },
        doc: "What SIGINT's shutdown does, as shutdown-on-sigterm.",
    },
    Directive {
        name: "repl-backlog-size",
        alias: None,
        default: "1mb",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_backlog_size.to_string(),
        set: |s, a| {
            s.repl_backlog_size = parse_memory(a, 1, i64::MAX as u64)?;
            Ok(())
        },
        doc: "Bytes of replication stream kept for partial resyncs.",
    },
    Directive {
        name: "repl-backlog-ttl",
        alias: None,
        default: "3600",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_backlog_ttl.to_string(),
        set: |s, a| {
            s.repl_backlog_ttl = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Free the backlog after this many seconds without replicas (0 = never).",
    },
    Directive {
        name: "repl-max-concurrent-full-syncs",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.repl_max_concurrent_full_syncs.to_string(),
        set: |s, a| {
            s.repl_max_concurrent_full_syncs = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "replikv: at most this many full-sync transfers at once, the rest wait their turn with the reason shown in the sync history, events and /metrics (0 = unlimited).",
    },
    Directive {
        name: "replica-priority",
        alias: Some("slave-priority"),
        default: "100",
        mutable: true,
        multi_arg: false,
        get: |s| s.replica_priority.to_string(),
        set: |s, a| {
            s.replica_priority = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Sentinel's promotion priority (lower first; 0 = never promote).",
    },
    Directive {
        name: "replica-announced",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_announced),
        set: |s, a| {
            s.replica_announced = parse_bool(a)?;
            Ok(())
        },
        doc: "Whether Sentinel should report this replica.",
    },
    Directive {
        name: "jemalloc-bg-thread",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.jemalloc_bg_thread),
        set: |s, a| {
            s.jemalloc_bg_thread = parse_bool(a)?;
            Ok(())
        },
        doc: "jemalloc's background threads return freed memory to the system (after its 10 s decay) even while the server is idle, as Redis.",
    },
    Directive {
        name: "replica-refuse-empty-full-sync",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.replica_refuse_empty_full_sync),
        set: |s, a| {
            s.replica_refuse_empty_full_sync = parse_bool(a)?;
            Ok(())
        },
        doc: "replikv: a replica holding data refuses a full sync that would replace it with an empty dataset from a new replication history (a master restarted empty without persistence); it keeps its data and retries. Off by default, as Redis.",
    },
    Directive {
        name: "replica-announce-ip",
        alias: Some("slave-announce-ip"),
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.replica_announce_ip.clone(),
        set: |s, a| {
            s.replica_announce_ip = string_arg(a)?;
            Ok(())
        },
        doc: "Address this replica announces to its master.",
    },
    Directive {
        name: "replica-announce-port",
        alias: Some("slave-announce-port"),
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.replica_announce_port.to_string(),
        set: |s, a| {
            s.replica_announce_port = parse_int(a, 0, 65535)? as u16;
            Ok(())
        },
        doc: "Port this replica announces to its master (0 = its own port).",
    },
    Directive {
        name: "min-replicas-to-write",
        alias: Some("min-slaves-to-write"),
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.min_replicas_to_write.to_string(),
        set: |s, a| {
            s.min_replicas_to_write = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Refuse writes unless this many replicas are connected with a small enough lag.",
    },
    Directive {
        name: "min-replicas-max-lag",
        alias: Some("min-slaves-max-lag"),
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.min_replicas_max_lag.to_string(),
        set: |s, a| {
            s.min_replicas_max_lag = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Largest lag in seconds of a replica counted by min-replicas-to-write.",
    },
    // ---- control plane ----
    Directive {
        name: "http-enabled",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.http_enabled, HTTP_ENABLED),
        set: |s, a| {
            s.http_enabled = parse_enum(a, HTTP_ENABLED)?;
            Ok(())
        },
        doc: "replikv: run the HTTP control plane: yes, no, or optional (start without it, with a warning, when its port is taken).",
    },
    Directive {
        name: "http-bind",
        alias: None,
        default: "127.0.0.1",
        mutable: true,
        multi_arg: false,
        get: |s| s.http_bind.clone(),
        set: |s, a| {
            s.http_bind = string_arg(a)?;
            Ok(())
        },
        doc: "replikv: address of the HTTP control plane.",
    },
    Directive {
        name: "http-port",
        alias: None,
        default: "auto",
        mutable: true,
        multi_arg: false,
        get: |s| match s.http_port {
            HttpPort::Auto => "auto".to_string(),
            HttpPort::Fixed(p) => p.to_string(),
        },
        set: |s, a| {
            s.http_port = if one(a)?.eq_ignore_ascii_case("auto") {
                HttpPort::Auto
            } else {
                HttpPort::Fixed(parse_int(a, 0, 65535)? as u16)
            };
            Ok(())
        },
        doc: "replikv: port of the HTTP control plane: auto (the RESP port + 3000, 6379 → 9379), a port, or 0 for an ephemeral one.",
    },
    Directive {
        name: "http-auth-token",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.http_auth_token.clone(),
        set: |s, a| {
            s.http_auth_token = string_arg(a)?;
            Ok(())
        },
        doc: "replikv: bearer token required by mutating HTTP calls (also REPLIKV_HTTP_AUTH_TOKEN).",
    },
    Directive {
        name: "http-auth-max-failures",
        alias: None,
        default: "10",
        mutable: true,
        multi_arg: false,
        get: |s| s.http_auth_max_failures.to_string(),
        set: |s, a| {
            s.http_auth_max_failures = parse_int(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
        doc: "Failed control-plane credentials one address may present per minute before it gets 429 (0 = no limit).",
    },
    Directive {
        name: "http-allowed-hosts",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: true,
        get: |s| s.http_allowed_hosts.join(" "),
        set: |s, a| {
            s.http_allowed_hosts = a.iter().filter(|h| !h.is_empty()).cloned().collect();
            Ok(())
        },
        doc: "Host names the control plane answers to besides IP literals and localhost (a guard against DNS rebinding).",
    },
    Directive {
        name: "http-auth-reads",
        alias: None,
        default: "no",
        mutable: true,
        multi_arg: false,
        get: |s| yes_no(s.http_auth_reads),
        set: |s, a| {
            s.http_auth_reads = parse_bool(a)?;
            Ok(())
        },
        doc: "replikv: require the token for reads too.",
    },
    Directive {
        name: "otel-endpoint",
        alias: None,
        default: "",
        mutable: true,
        multi_arg: false,
        get: |s| s.otel_endpoint.clone(),
        set: |s, a| {
            s.otel_endpoint = string_arg(a)?;
            Ok(())
        },
        doc: "replikv: OTLP/HTTP endpoint for traces (OTEL_EXPORTER_OTLP_ENDPOINT also works).",
    },
    Directive {
        name: "otel-service-name",
        alias: None,
        default: "replikv",
        mutable: true,
        multi_arg: false,
        get: |s| s.otel_service_name.clone(),
        set: |s, a| {
            s.otel_service_name = string_arg(a)?;
            Ok(())
        },
        doc: "replikv: service.name of exported traces.",
    },
    Directive {
        name: "sync-history-size",
        alias: None,
        default: "64",
        mutable: true,
        multi_arg: false,
        get: |s| s.sync_history_size.to_string(),
        set: |s, a| {
            s.sync_history_size = parse_int(a, 1, 100_000)? as u64;
            Ok(())
        },
        doc: "replikv: sync sessions kept in memory for the control plane.",
    },
    // ---- TLS (Redis 7.0's names and defaults; see crate::tls for what they do)
    Directive {
        name: "tls-port",
        alias: None,
        default: "0",
        mutable: true,
        multi_arg: false,
        get: |s| s.tls.port.to_string(),
        set: |s, a| {
            s.tls.port = parse_int(a, 0, 65535)? as u16;
            Ok(())
        },
        doc: "Port for TLS clients (0 = none). With it set, `port 0` turns plain TCP off, as in Redis. At run time the listeners move, connections stay.",
    },
    tls_text!("tls-cert-file", cert_file, "Server certificate chain (PEM); also the replication link's client certificate when tls-client-cert-file is unset."),
    tls_text!("tls-key-file", key_file, "Private key of tls-cert-file (PEM: PKCS#8, PKCS#1 or SEC1)."),
    tls_text!("tls-key-file-pass", key_file_pass, "Passphrase of an encrypted (PKCS#8) tls-key-file."),
    tls_text!("tls-client-cert-file", client_cert_file, "Certificate a replica shows its master (default: tls-cert-file)."),
    tls_text!("tls-client-key-file", client_key_file, "Private key of tls-client-cert-file."),
    tls_text!("tls-client-key-file-pass", client_key_file_pass, "Passphrase of an encrypted tls-client-key-file."),
    tls_text!("tls-dh-params-file", dh_params_file, "DH parameters file: checked to be readable PEM; key exchange is ECDHE (X25519, P-256, P-384), so it is not used."),
    tls_text!("tls-ca-cert-file", ca_cert_file, "CA certificates (PEM) that sign clients' and masters' certificates."),
    tls_text!("tls-ca-cert-dir", ca_cert_dir, "Directory of CA certificates (every PEM file in it)."),
    tls_text!("tls-protocols", protocols, "Protocol versions allowed, e.g. \"TLSv1.2 TLSv1.3\" (empty = both; TLSv1 and TLSv1.1 are not offered)."),
    tls_text!("tls-ciphers", ciphers, "TLS 1.2 cipher suites in OpenSSL's list syntax (AEAD ECDHE suites; empty = all of them)."),
    tls_text!("tls-ciphersuites", ciphersuites, "TLS 1.3 cipher suites, colon-separated (empty = all of them)."),
    Directive {
        name: "tls-auth-clients",
        alias: None,
        default: "yes",
        mutable: true,
        multi_arg: false,
        get: |s| enum_name(s.tls.auth_clients, super::tls::TLS_AUTH_CLIENTS),
        set: |s, a| {
            s.tls.auth_clients = parse_enum(a, super::tls::TLS_AUTH_CLIENTS)?;
            Ok(())
        },
        doc: "TLS clients must show a certificate signed by the CA: yes, no, or optional (checked when shown).",
    },
    tls_flag!("tls-replication", replication, "no", "A replica connects to its master over TLS."),
    tls_flag!("tls-cluster", cluster, "no", "MIGRATE connects to its targets over TLS (as Redis; replikv has no cluster bus)."),
    tls_flag!("tls-prefer-server-ciphers", prefer_server_ciphers, "no", "The server's cipher order wins over the client's."),
    tls_flag!("tls-session-caching", session_caching, "yes", "TLS sessions may be resumed."),
    Directive {
        name: "tls-session-cache-size",
        alias: None,
        default: "20480",
        mutable: true,
        multi_arg: false,
        get: |s| s.tls.session_cache_size.to_string(),
        set: |s, a| {
            s.tls.session_cache_size = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "TLS sessions kept for resumption.",
    },
    Directive {
        name: "tls-session-cache-timeout",
        alias: None,
        default: "300",
        mutable: true,
        multi_arg: false,
        get: |s| s.tls.session_cache_timeout.to_string(),
        set: |s, a| {
            s.tls.session_cache_timeout = parse_int(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        doc: "Seconds a stored TLS session may be resumed for.",
    },
    tls_text!("http-tls-cert-file", http_cert_file, "replikv: the control plane serves HTTPS with this certificate chain (PEM; empty = plain HTTP)."),
    tls_text!("http-tls-key-file", http_key_file, "replikv: private key of http-tls-cert-file."),
    tls_text!("http-tls-ca-cert-file", http_ca_cert_file, "replikv: with HTTPS, callers must show a client certificate signed by these CA certificates (empty = none asked)."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_and_round_trips() {
        let defaults = Settings::defaults();
        for d in DIRECTIVES {
            let mut s = defaults.clone();
            let shown = (d.get)(&s);
            let args = if d.multi_arg {
                split_value(&shown)
            } else {
                vec![shown.clone()]
            };
            (d.set)(&mut s, &args).unwrap_or_else(|e| panic!("{}: {shown:?}: {e}", d.name));
            assert_eq!((d.get)(&s), shown, "{}", d.name);
        }
    }

    #[test]
    fn save_rules_parse_as_redis() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_save(&args(&["900", "1", "300", "10"])),
            Ok(vec![(900, 1), (300, 10)])
        );
        // `save ""` and a bare `save` line both clear the rules.
        assert_eq!(parse_save(&args(&[""])), Ok(vec![]));
        assert_eq!(parse_save(&args(&[])), Ok(vec![]));
        assert!(parse_save(&args(&["900"])).is_err());
        assert!(parse_save(&args(&["900", "x"])).is_err());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory_value("1kb"), Some(1024));
        assert_eq!(parse_memory_value("1k"), Some(1000));
        assert_eq!(parse_memory_value("2GB"), Some(2 << 30));
        assert_eq!(parse_memory_value("12"), Some(12));
        assert_eq!(parse_memory_value("x"), None);
        assert_eq!(parse_memory_value("-1"), None);
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(find("SLAVEOF").map(|d| d.name), Some("replicaof"));
        assert_eq!(
            find("hash-max-ziplist-entries").map(|d| d.name),
            Some("hash-max-listpack-entries")
        );
        assert!(find("nope").is_none());
    }

    use proptest::prelude::*;

    /// Values a user might write, and junk.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("yes".to_string()),
            Just("no".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (0u64..100_000).prop_map(|n| n.to_string()),
            (
                0u64..4096,
                prop::sample::select(vec!["k", "kb", "m", "mb", "gb", "b", "x"])
            )
                .prop_map(|(n, u)| format!("{n}{u}")),
            "[a-z0-9 .:*/-]{0,24}",
            any::<String>(),
        ]
    }

    proptest! {
        /// The config parser's fuzz properties (fuzz/fuzz_targets/config_parse.rs), run in
        /// CI: any value for any directive is accepted or refused, never a panic; an accepted
        /// one reads back (CONFIG GET) as a value that parses again to the same thing, so
        /// CONFIG REWRITE and a restart keep it.
        #[test]
        fn any_value_for_any_directive_is_refused_or_reads_back(
            index in any::<prop::sample::Index>(),
            values in proptest::collection::vec(value(), 1..4),
        ) {
            let d = &DIRECTIVES[index.index(DIRECTIVES.len())];
            let mut s = Settings::defaults();
            let args = if d.multi_arg { split_value(&values.join(" ")) } else { vec![values[0].clone()] };
            if (d.set)(&mut s, &args).is_ok() {
                let shown = (d.get)(&s);
                let again = if d.multi_arg { split_value(&shown) } else { vec![shown.clone()] };
                let mut t = Settings::defaults();
                prop_assert!((d.set)(&mut t, &again).is_ok(), "{}: {:?} read back as {:?}, refused", d.name, args, shown);
                prop_assert_eq!((d.get)(&t), shown, "{}", d.name);
            }
        }

        /// Whole config lines (a directive and arguments, quoted or not) never panic the
        /// reader, and a refusal names the line.
        #[test]
        fn any_config_line_is_applied_or_refused(
            index in any::<prop::sample::Index>(),
            values in proptest::collection::vec(value(), 0..4),
        ) {
            let d = &DIRECTIVES[index.index(DIRECTIVES.len())];
            let text = format!("{} {}", d.name, values.join(" "));
            let line = super::super::Line {
                name: d.name.to_string(),
                args: values,
                origin: super::super::Origin::CommandLine { text },
            };
            let mut s = Settings::defaults();
            let _ = s.apply_lines(std::slice::from_ref(&line));
        }
    }
}
