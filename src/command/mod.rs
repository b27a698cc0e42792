//! The Redis command set: a static table of [`Spec`] rows (one slice per command family)
//! and the executor that runs them behind the gates Redis applies, on the engine.
//!
//! A command is a row and a function: `fn(&mut Ctx) -> CmdResult`. The row's flags decide
//! authentication, read-only and stale-replica gating, MULTI queueing and propagation; the
//! handler only parses its arguments, touches the keyspace and writes its reply.

// Shared by the families (none of them a family).
pub mod args;
pub mod call;
pub mod collection;
pub mod ctx;
pub mod docs;
pub mod error;
pub mod keyspec;
pub mod meta;
pub mod numeric;
pub mod permissions;
pub mod reply;

// The families: one file or folder per Redis command group; none imports another.
pub mod acl;
pub mod bitops;
pub mod client;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod debug;
pub mod generic;
pub mod hash;
pub mod hyperloglog;
pub mod info;
pub mod introspection;
pub mod latency;
pub mod list;
pub mod lolwut;
pub mod memory;
pub mod migrate;
pub mod monitor;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transactions;
pub mod zset;

// Above every family: the table that gathers them and the executor that looks them up.
pub mod exec;
pub mod table;

pub use ctx::{Action, Ctx};
pub use error::{CmdError, CmdResult};
pub use exec::{describe_command, execute, run_command};

/// A command handler.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// Command flags, named as COMMAND INFO names them.
pub mod flags {
    /// May modify the dataset.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/Sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading the dataset.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a replica with a down link and replica-serve-stale-data no.
    pub const STALE: u32 = 1 << 8;
    /// Not shown in MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged in SLOWLOG.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May propagate without being a write (PUBLISH).
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Protected by enable-debug-command.
    pub const PROTECTED: u32 = 1 << 15;
    /// Allowed in a RESP2 subscribed context.
    pub const SUBSCRIBE_CONTEXT: u32 = 1 << 16;
    /// Keys cannot be found from first/last/step alone.
    pub const MOVABLEKEYS: u32 = 1 << 17;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 18;
    /// Runs immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub const TRANSACTION_CONTROL: u32 = 1 << 19;
    /// Refused while a replica loads a full sync beside the dataset it keeps serving
    /// (async loading): commands that would act on, save or replace a dataset about to be
    /// swapped out.
    pub const NO_ASYNC_LOADING: u32 = 1 << 20;

    /// Names for COMMAND INFO, in Redis's order (Redis hides `may_replicate`).
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// One command (or subcommand) of the table.
#[derive(Debug)]
pub struct Spec {
    /// Lower-case name (`get`, or `get` under `config`).
    pub name: &'static str,
    /// Full name as Redis reports it (`get`, `config|get`).
    pub fullname: &'static str,
    /// Redis arity: exact when positive, minimum when negative; counts the name (and the
    /// subcommand for subcommands).
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u32,
    /// First key argument (0 = none).
    pub first_key: i32,
    /// Last key argument (negative counts from the end).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Command group (`string`, `generic`, `server`...).
    pub group: &'static str,
    /// The implementation; commands with subcommands have a dispatcher that is not called.
    pub handler: Handler,
    /// Subcommands (CONFIG GET, CLIENT LIST...).
    pub subcommands: &'static [Spec],
}

impl Spec {
    /// True when the flag is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True when the arity accepts `argc` arguments.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}

/// Builds a [`Spec`] row without subcommands.
macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, ($first:expr, $last:expr, $step:expr), $group:literal, $handler:expr) => {
        $crate::command::Spec {
            name: $name,
            fullname: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            group: $group,
            handler: $handler,
            subcommands: &[],
        }
    };
}

/// Builds a subcommand [`Spec`] row.
macro_rules! subcmd {
    ($parent:literal, $name:literal, $arity:expr, $flags:expr, ($first:expr, $last:expr, $step:expr), $group:literal, $handler:expr) => {
        $crate::command::Spec {
            name: $name,
            fullname: concat!($parent, "|", $name),
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            group: $group,
            handler: $handler,
            subcommands: &[],
        }
    };
}
pub(crate) use {cmd, subcmd};

/// Handler of a container command whose subcommands do the work; never called.
pub fn container(_ctx: &mut Ctx) -> CmdResult {
    Ok(())
}

/// `rename-command`: lower-case name → the command it now stands for (`None`: a name that
/// no longer answers). Process-wide and set once at start-up, as Redis's command table.
static RENAMES: std::sync::OnceLock<crate::keyspace::types::HMap<Vec<u8>, Option<&'static Spec>>> =
    std::sync::OnceLock::new();

/// Every command, gathered from the families' `COMMANDS` slices and looked up by name
/// without allocation. The one instance is [`table::TABLE`]; handlers reach it through
/// [`Ctx::table`].
pub struct CommandTable {
    families: &'static [&'static [Spec]],
    index: std::sync::OnceLock<crate::keyspace::types::HMap<&'static [u8], &'static Spec>>,
}

impl CommandTable {
    /// A table over `families` (indexed on first use).
    pub const fn new(families: &'static [&'static [Spec]]) -> CommandTable {
        CommandTable {
            families,
            index: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> &crate::keyspace::types::HMap<&'static [u8], &'static Spec> {
        self.index.get_or_init(|| {
            let mut map = crate::keyspace::types::HMap::default();
            for family in self.families.iter().copied() {
                for spec in family {
                    map.insert(spec.name.as_bytes(), spec);
                }
            }
            map
        })
    }

    /// The command called `name` (any case), under its `rename-command` name if it has one.
    pub fn lookup(&self, name: &[u8]) -> Option<&'static Spec> {
        if let Some(renames) = RENAMES.get() {
            let lower = name.to_ascii_lowercase();
            if let Some(renamed) = renames.get(&lower) {
                return *renamed;
            }
        }
        self.lookup_original(name)
    }

    /// The command called `name` in the table, renames aside.
    fn lookup_original(&self, name: &[u8]) -> Option<&'static Spec> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.index().get(&buf[..name.len()]).copied()
    }

    /// Applies `rename-command` lines (start-up only, once): each command answers to its
    /// new name only (none when the new name is empty), as Redis's. Refused with Redis's
    /// reasons: a command that does not exist, a new name already taken.
    pub fn install_renames(&self, pairs: &[(String, String)]) -> Result<(), String> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut renames: crate::keyspace::types::HMap<Vec<u8>, Option<&'static Spec>> =
            crate::keyspace::types::HMap::default();
        for (from, to) in pairs {
            let from = from.to_ascii_lowercase().into_bytes();
            let current = match renames.get(&from) {
                Some(renamed) => *renamed,
                None => self.lookup_original(&from),
            };
            let Some(spec) = current else {
                return Err(format!(
                    "rename-command {}: No such command in rename-command",
                    String::from_utf8_lossy(&from)
                ));
            };
            renames.insert(from, None);
            if !to.is_empty() {
                let to = to.to_ascii_lowercase().into_bytes();
                let taken = match renames.get(&to) {
                    Some(r) => r.is_some(),
                    None => self.lookup_original(&to).is_some(),
                };
                if taken {
                    return Err(format!(
                        "rename-command {}: Target command name already exists",
                        String::from_utf8_lossy(&to)
                    ));
                }
                renames.insert(to, Some(spec));
            }
        }
        RENAMES
            .set(renames)
            .map_err(|_| "rename-command: the commands were renamed already".to_string())
    }

    /// The subcommand `name` of `parent` (any case).
    pub fn lookup_sub(&self, parent: &'static Spec, name: &[u8]) -> Option<&'static Spec> {
        parent
            .subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Every command, sorted by name (COMMAND, COMMAND LIST, COMMAND DOCS).
    pub fn all(&self) -> Vec<&'static Spec> {
        let mut v: Vec<&'static Spec> = self.index().values().copied().collect();
        v.sort_by_key(|s| s.name);
        v
    }

    /// The families' slices, in table order.
    pub fn families(&self) -> &'static [&'static [Spec]] {
        self.families
    }

    /// Resolves `argv` to a command or subcommand row; on failure, the row found (if any)
    /// and the error to answer.
    pub fn resolve(
        &self,
        argv: &[bytes::Bytes],
    ) -> Result<&'static Spec, (Option<&'static Spec>, CmdError)> {
        let Some(spec) = argv.first().and_then(|n| self.lookup(n)) else {
            return Err((None, CmdError::unknown_command(argv)));
        };
        if spec.subcommands.is_empty() {
            return Ok(spec);
        }
        if argv.len() < 2 {
            // A container that also works alone (COMMAND) runs its own handler.
            if spec.arity_ok(argv.len()) {
                return Ok(spec);
            }
            return Err((Some(spec), CmdError::WrongArity(spec.fullname.to_string())));
        }
        match self.lookup_sub(spec, &argv[1]) {
            Some(sub) => Ok(sub),
            None => Err((Some(spec), CmdError::unknown_subcommand(&argv[0], &argv[1]))),
        }
    }
}
