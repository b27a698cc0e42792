//! One Lua 5.1 interpreter prepared as Redis 7.0 prepares its own: the libraries Redis
//! loads (base, table, string, math, cjson, struct, cmsgpack, bit; no io, os, package or
//! debug), the `redis` table, Redis's `pcall` and `math.random`, and the read-only
//! environment. [`ScriptVm::run`] calls a compiled script or function with a [`Host`] that
//! runs the commands the script sends, and turns Lua errors into Redis's error texts.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use mlua::{
    chunk::ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value,
    VmState,
};
use parking_lot::Mutex;

use super::control::RunControl;
use super::convert::{error_table, reply_to_lua};
use super::debugger::{self, with_ldb, Console, Ldb};
use super::rand48::Rand48;

/// The libraries whose tables scripts may read but not change.
const LIBRARIES: &[&str] = &[
    "redis",
    "string",
    "math",
    "table",
    "coroutine",
    "cjson",
    "bit",
    "struct",
    "cmsgpack",
];

/// Globals Redis removes from the base library.
const DENIED_GLOBALS: &[&str] = &["dofile", "loadfile", "print"];

/// VM instructions between two checks of the time limit and the kill request, as Redis.
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// Script runs between two incremental garbage-collection steps (Redis's
/// `LUA_GC_CYCLE_PERIOD`), so that the collector never runs a full cycle in one go.
const GC_PERIOD: u32 = 50;

/// The message a killed script ends with.
const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// What the interpreter needs from the server while a script runs.
pub trait Host {
    /// Runs a command for the script. `Ok` holds its reply in RESP (the protocol the script
    /// chose); `Err` a refusal before it ran (`Unknown Redis command called from script`...).
    fn call(&mut self, argv: Vec<Bytes>) -> Result<Vec<u8>, String>;
    /// `redis.setresp(2|3)`.
    fn set_resp(&mut self, resp3: bool);
    /// `redis.set_repl(flags)`: bit 1 = AOF, bit 2 = replicas.
    fn set_repl(&mut self, flags: u8);
    /// `redis.acl_check_cmd`: whether the script's user may run `argv`; `None` when no
    /// such command exists.
    fn acl_check_cmd(&self, argv: &[Bytes]) -> Option<bool>;
}

/// How a script run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The script returned this value (convert it with [`super::convert::lua_to_reply`]).
    Return(Value),
    /// The script failed: the error reply (without the leading `-`) and whether it counts
    /// in the error statistics (a command's error re-raised by `redis.call` was counted).
    Error {
        /// `CODE message script: ..., on @user_script:N.`
        message: String,
        /// Counted in the error statistics.
        counted: bool,
    },
}

/// A compiled interpreter. Cloning gives another handle to the same interpreter.
#[derive(Clone)]
pub struct ScriptVm {
    lua: Lua,
    /// The Rust side of the `redis` table (its `run` entry exists only during a run).
    api: Table,
    /// The hidden table the global environment reads through (KEYS, ARGV go here).
    globals: Table,
    /// `fn(f, eval_mode, keys, args) -> ok, value`, calling through the error handler.
    runner: Function,
    /// Set when the hook stops the script for a kill request.
    killed: Arc<AtomicBool>,
    runs: Arc<AtomicU32>,
    /// While a function library loads: when its code must have finished (see
    /// [`super::control::monotonic_us`]); 0 = no limit.
    load_deadline: Arc<AtomicU64>,
    /// The running script's kill requests and time limit.
    control: Arc<RunControl>,
    /// The debugging session of the running script, if it is debugged (SCRIPT DEBUG).
    ldb: Arc<Mutex<Option<Ldb>>>,
    /// Set when the debugger ends the script (`abort`, a lost client after a timeout): the
    /// error text the script ends with.
    ldb_abort: Arc<Mutex<Option<String>>>,
    /// The running script's host (see [`HostSlot`]).
    host: Arc<HostSlot>,
    /// `impl.run`, the `redis` table's way to the host, present in the table during runs.
    dispatcher: Function,
}

impl std::fmt::Debug for ScriptVm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptVm").finish_non_exhaustive()
    }
}

/// Converts `redis.call`'s arguments to a command line, with Redis's error texts.
fn argv_of(args: &[Value]) -> Result<Vec<Bytes>, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    args.iter()
        .map(|v| match v {
            Value::String(s) => Ok(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => Ok(Bytes::from(n.to_string())),
            // Numbers go as `%.17g`, not Lua's lossy `%.14g`.
            Value::Number(n) => Ok(Bytes::from(crate::resp::format_double(*n))),
            _ => Err("Lua redis lib command arguments must be strings or integers"),
        })
        .collect()
}

fn number_arg(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => std::str::from_utf8(&s.as_bytes()).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// `(false, {err = "ERR <msg>"})`, the failure half of the Rust functions' results.
fn fail(lua: &Lua, msg: &str) -> mlua::Result<(bool, Value)> {
    Ok((false, Value::Table(error_table(lua, msg.as_bytes())?)))
}

/// Lua's `luaL_checkint` for `math.random`: the argument as an int, or its error text.
fn check_int(args: &MultiValue, i: usize) -> Result<i32, String> {
    match number_arg(args.get(i - 1)) {
        Some(n) => Ok(n as i32),
        None => {
            let got = args.get(i - 1).map_or("no value", |v| v.type_name());
            Err(format!(
                "bad argument #{i} to 'random' (number expected, got {got})"
            ))
        }
    }
}

fn random(lua: &Lua, rand: &Mutex<Rand48>, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let r = rand.lock().next_unit();
    let value = match args.len() {
        0 => r,
        1 => {
            let u = match check_int(&args, 1) {
                Ok(u) => u,
                Err(e) => return Ok((false, Value::String(lua.create_string(e)?))),
            };
            if u < 1 {
                let e = "bad argument #1 to 'random' (interval is empty)";
                return Ok((false, Value::String(lua.create_string(e)?)));
            }
            (r * f64::from(u)).floor() + 1.0
        }
        2 => {
            let (l, u) = match (check_int(&args, 1), check_int(&args, 2)) {
                (Ok(l), Ok(u)) => (l, u),
                (Err(e), _) | (_, Err(e)) => {
                    return Ok((false, Value::String(lua.create_string(e)?)))
                }
            };
            if l > u {
                let e = "bad argument #2 to 'random' (interval is empty)";
                return Ok((false, Value::String(lua.create_string(e)?)));
            }
            (r * (f64::from(u) - f64::from(l) + 1.0)).floor() + f64::from(l)
        }
        _ => {
            let e = "wrong number of arguments";
            return Ok((false, Value::String(lua.create_string(e)?)));
        }
    };
    Ok((true, Value::Number(value)))
}

fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    use sha1::{Digest, Sha1};
    if args.len() != 1 {
        return fail(lua, "wrong number of arguments");
    }
    let data: Vec<u8> = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(n) => n.to_string().into_bytes(),
        Value::Number(n) => crate::resp::writer::format_g(*n, 14).into_bytes(),
        _ => Vec::new(),
    };
    let hex = hex_digest(&Sha1::digest(&data));
    Ok((true, Value::String(lua.create_string(hex)?)))
}

/// Lower-case hex of a digest.
pub fn hex_digest(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn log(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if args.len() < 2 {
        return fail(lua, "redis.log() requires two arguments or more.");
    }
    let Some(level) = number_arg(args.front()) else {
        return fail(lua, "First argument must be a number (log level).");
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return fail(lua, "Invalid debug level.");
    }
    let parts: Vec<String> = args
        .iter()
        .skip(1)
        .filter_map(|v| match v {
            Value::String(s) => Some(s.to_string_lossy()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Number(n) => Some(crate::resp::writer::format_g(*n, 14)),
            _ => None,
        })
        .collect();
    let text = parts.join(" ");
    match level {
        0 | 1 => tracing::debug!("{text}"),
        2 => tracing::info!("{text}"),
        _ => tracing::warn!("{text}"),
    }
    Ok((true, Value::Nil))
}

/// The first frame of user code below the error (Lua code not of our own chunks): its
/// source and current line, for the ` script: ..., on @user_script:N.` suffix.
fn user_frame(lua: &Lua) -> Option<(String, i64)> {
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |d| {
            let src = d.source();
            let line = d.current_line().map_or(-1, |l| l as i64);
            (
                src.what.to_string(),
                src.source.map(|s| s.to_string()).unwrap_or_default(),
                line,
            )
        })?;
        let (what, source, line) = frame;
        if what == "C" || source.starts_with('=') {
            continue;
        }
        return Some((source, line));
    }
    None
}

impl ScriptVm {
    /// A new interpreter whose running scripts obey `control` (kill requests, time limit).
    pub fn new(control: Arc<RunControl>) -> mlua::Result<ScriptVm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let globals = lua.globals();
        for name in DENIED_GLOBALS {
            globals.raw_set(*name, Value::Nil)?;
        }
        super::libs::register_all(&lua)?;

        let killed = Arc::new(AtomicBool::new(false));
        let api = lua.create_table()?;
        api.raw_set("sha1hex", lua.create_function(sha1hex)?)?;
        api.raw_set("log", lua.create_function(log)?)?;
        let rand = Arc::new(Mutex::new(Rand48::default()));
        let r = rand.clone();
        api.raw_set(
            "random",
            lua.create_function(move |lua, args: MultiValue| random(lua, &r, args))?,
        )?;
        let r = rand;
        api.raw_set(
            "randomseed",
            lua.create_function(move |lua, args: MultiValue| match check_int(&args, 1) {
                Ok(seed) => {
                    r.lock().seed(seed);
                    Ok((true, Value::Nil))
                }
                Err(e) => Ok((false, Value::String(lua.create_string(e)?))),
            })?,
        )?;
        let k = killed.clone();
        api.raw_set(
            "is_killed",
            lua.create_function(move |_, ()| Ok(k.load(Ordering::Relaxed)))?,
        )?;

        let redis = lua.create_table()?;
        for (name, value) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.raw_set(name, value)?;
        }
        redis.raw_set("REDIS_VERSION", crate::rdb::REDIS_VER)?;
        redis.raw_set("REDIS_VERSION_NUM", redis_version_num())?;
        globals.raw_set("redis", redis.clone())?;
        lua.load(include_str!("api.lua"))
            .set_name("=redis_api")
            .call::<()>((api.clone(), redis.clone()))?;

        api.raw_set("error_reply", lua.create_function(error_reply)?)?;
        let math: Table = globals.raw_get("math")?;
        for (target, field, raw) in [
            (&redis, "call", "call"),
            (&redis, "setresp", "setresp"),
            (&redis, "set_repl", "set_repl"),
            (&redis, "acl_check_cmd", "acl_check_cmd"),
            (&redis, "sha1hex", "sha1hex"),
            (&redis, "log", "log"),
            (&redis, "error_reply", "error_reply"),
            (&math, "random", "random"),
            (&math, "randomseed", "randomseed"),
        ] {
            let raw: Function = api.raw_get(raw)?;
            let raising = if field == "error_reply" {
                returning(&lua, raw)?
            } else {
                raising(&lua, raw)?
            };
            target.raw_set(field, raising)?;
        }

        let k = killed.clone();
        let ldb_abort: Arc<Mutex<Option<String>>> = Arc::default();
        let abort = ldb_abort.clone();
        let handler = lua.create_function(move |lua, err: Value| {
            let table = match err {
                Value::Table(t) => t,
                Value::String(s) => {
                    let t = lua.create_table()?;
                    let mut text = b"ERR ".to_vec();
                    text.extend_from_slice(&s.as_bytes());
                    t.raw_set("err", lua.create_string(&text)?)?;
                    t
                }
                other => {
                    let t = lua.create_table()?;
                    let text = if k.load(Ordering::Relaxed) {
                        KILLED.to_string()
                    } else if let Some(reason) = abort.lock().take() {
                        format!("ERR {reason}")
                    } else {
                        format!("ERR {}", other.to_string().unwrap_or_default())
                    };
                    t.raw_set("err", text)?;
                    t
                }
            };
            if let Some((source, line)) = user_frame(lua) {
                table.raw_set("source", source)?;
                table.raw_set("line", line)?;
            }
            Ok(table)
        })?;
        let runner: Function = lua
            .load(
                "local xpcall, handler = ...\n\
                 return function(f, eval_mode, keys, args)\n\
                   if eval_mode then return xpcall(f, handler) end\n\
                   return xpcall(function() return f(keys, args) end, handler)\n\
                 end",
            )
            .set_name("=redis_runner")
            .call((globals.raw_get::<Function>("xpcall")?, handler))?;

        let libraries = lua.create_sequence_from(LIBRARIES.iter().copied())?;
        let (hidden, set_view, freeze): (Table, Function, Function) = lua
            .load(include_str!("sandbox.lua"))
            .set_name("=redis_sandbox")
            .call(libraries)?;

        api.raw_set("set_view", set_view)?;
        api.raw_set("freeze", freeze)?;
        let host: Arc<HostSlot> = Arc::default();
        let ldb: Arc<Mutex<Option<Ldb>>> = Arc::default();
        let (slot, session) = (host.clone(), ldb.clone());
        let dispatcher = lua.create_function(move |lua, (op, rest): (u8, MultiValue)| {
            match slot.with(|host| dispatch(lua, host, &session, op, rest)) {
                Some(result) => result,
                // api.lua removes the dispatcher outside runs: this is not reached.
                None => fail(
                    lua,
                    "redis.call/pcall can only be called inside a script invocation",
                ),
            }
        })?;
        let vm = ScriptVm {
            lua,
            api,
            globals: hidden,
            runner,
            killed,
            runs: Arc::new(AtomicU32::new(0)),
            load_deadline: Arc::new(AtomicU64::new(0)),
            control,
            ldb,
            ldb_abort,
            host,
            dispatcher,
        };
        vm.register_debugger_api(&redis)?;
        vm.install_hook(false)?;
        // What setting up left behind goes now, and the collector starts a cycle as soon
        // as the last one ended (pause 100 %): the interpreter stays near its live size
        // under a stream of short scripts, as Redis's stays under 100 KB.
        vm.lua.gc_collect()?;
        vm.lua.gc_set_mode(mlua::state::GcMode::Incremental(
            mlua::state::GcIncParams::default().pause(100),
        ));
        Ok(vm)
    }

    /// `redis.breakpoint()` and `redis.debug()`: they act only in a debugging session.
    fn register_debugger_api(&self, redis: &Table) -> mlua::Result<()> {
        let slot = self.ldb.clone();
        redis.raw_set(
            "breakpoint",
            self.lua.create_function(move |_, ()| {
                Ok(match slot.lock().as_mut() {
                    Some(ldb) => {
                        ldb.set_lua_breakpoint();
                        true
                    }
                    None => false,
                })
            })?,
        )?;
        let slot = self.ldb.clone();
        redis.raw_set(
            "debug",
            self.lua.create_function(move |_, args: MultiValue| {
                if let Some(ldb) = slot.lock().as_mut() {
                    ldb.log_debug(&args);
                }
                Ok(())
            })?,
        )
    }

    /// The hook every script runs under: every [`HOOK_INSTRUCTIONS`] instructions it checks
    /// the load deadline and kill requests; a debugged script also stops at lines (see
    /// [`debugger::on_hook`]).
    fn install_hook(&self, debugging: bool) -> mlua::Result<()> {
        let killed = self.killed.clone();
        let deadline = self.load_deadline.clone();
        let control = self.control.clone();
        let slot = self.ldb.clone();
        let abort = self.ldb_abort.clone();
        let mut triggers = HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS);
        if debugging {
            triggers = triggers.every_line();
        }
        self.lua.set_hook(triggers, move |lua, debug| {
            if debug.event() == mlua::debug::DebugEvent::Count {
                let limit = deadline.load(Ordering::Relaxed);
                if limit != 0 && super::control::monotonic_us() > limit {
                    return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
                }
                if control.check() {
                    tracing::warn!("Lua script killed by user with SCRIPT KILL.");
                    killed.store(true, Ordering::Relaxed);
                    return Err(mlua::Error::RuntimeError(KILLED.into()));
                }
            }
            if !debugging {
                return Ok(VmState::Continue);
            }
            let session = debugger::Session { slot: &slot, lua };
            debugger::on_hook(&session, debug).map_err(|debugger::Abort(reason)| {
                *abort.lock() = Some(reason.clone());
                mlua::Error::RuntimeError(reason)
            })
        })
    }

    /// [`ScriptVm::run`] under the debugger (SCRIPT DEBUG SYNC): `source` is the script's
    /// text, `console` the client's connection. Returns the outcome and the connection
    /// (`None` would mean the session was lost: the client's task then closes it).
    #[allow(clippy::too_many_arguments)]
    pub fn run_debugged(
        &self,
        console: Box<dyn Console>,
        source: &[u8],
        threshold_ms: u64,
        function: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
    ) -> (Outcome, Option<Box<dyn Console>>) {
        tracing::warn!("Redis synchronous debugging eval session started");
        *self.ldb.lock() = Some(Ldb::new(console, source, threshold_ms));
        *self.ldb_abort.lock() = None;
        let hooked = self.install_hook(true);
        let outcome = match hooked {
            Ok(()) => self.run(function, name, true, keys, args, host),
            Err(e) => Outcome::Error {
                message: format!("ERR Error running script {name}, {e}"),
                counted: true,
            },
        };
        let _ = self.install_hook(false);
        *self.ldb_abort.lock() = None;
        let ldb = self.ldb.lock().take();
        tracing::warn!("Redis synchronous debugging eval session ended");
        (outcome, ldb.map(Ldb::end))
    }

    /// The interpreter.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The hidden table behind the global environment.
    pub fn globals(&self) -> &Table {
        &self.globals
    }

    /// The Rust side of the `redis` table and the sandbox's helpers (`set_view`, `freeze`,
    /// `raw_pcall`).
    pub fn api(&self) -> &Table {
        &self.api
    }

    /// Compiles source code as chunk `name` (`@user_script`); the error is Lua's message.
    pub fn compile(&self, code: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(code)
            .set_name(name)
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Limits the code run from now on to `timeout_ms` (0 lifts the limit): FUNCTION LOAD.
    pub fn set_load_deadline(&self, timeout_ms: u64) {
        let deadline = match timeout_ms {
            0 => 0,
            ms => super::control::monotonic_us() + ms * 1000,
        };
        self.load_deadline.store(deadline, Ordering::Relaxed);
    }

    /// Bytes the interpreter uses (INFO used_memory_lua).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// Runs `function` for one EVAL or FCALL. `name` is what errors name the script by (its
    /// SHA-1, or the function's name). In EVAL mode the keys and arguments are the KEYS and
    /// ARGV globals; for functions they are the two arguments.
    pub fn run(
        &self,
        function: &Function,
        name: &str,
        eval_mode: bool,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
    ) -> Outcome {
        self.killed.store(false, Ordering::Relaxed);
        let result = self.run_inner(function, eval_mode, keys, args, host);
        if self.runs.fetch_add(1, Ordering::Relaxed) + 1 >= GC_PERIOD {
            self.runs.store(0, Ordering::Relaxed);
            let _ = self.lua.gc_step();
        }
        match result {
            Ok((true, value)) => Outcome::Return(value),
            Ok((false, Value::Table(t))) => {
                let err: String = t
                    .raw_get::<Option<mlua::LuaString>>("err")
                    .ok()
                    .flatten()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_else(|| "ERR unknown error".into());
                let counted = !matches!(
                    t.raw_get::<Value>("ignore_error_stats_update"),
                    Ok(Value::Boolean(true))
                );
                let source: Option<String> = t.raw_get("source").ok().flatten();
                let line: Option<i64> = t.raw_get("line").ok().flatten();
                let message = match (source, line) {
                    (Some(source), Some(line)) => {
                        format!("{err} script: {name}, on {source}:{line}.")
                    }
                    _ => err,
                };
                Outcome::Error { message, counted }
            }
            Ok((false, other)) => Outcome::Error {
                message: format!(
                    "ERR Error running script {name}, {:.100}",
                    other.to_string().unwrap_or_default()
                ),
                counted: true,
            },
            Err(e) => Outcome::Error {
                message: format!("ERR Error running script {name}, {e}"),
                counted: true,
            },
        }
    }

    fn run_inner(
        &self,
        function: &Function,
        eval_mode: bool,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
    ) -> mlua::Result<(bool, Value)> {
        let lua = &self.lua;
        let keys_table = string_array(lua, keys)?;
        let args_table = string_array(lua, args)?;
        if eval_mode {
            self.globals.raw_set("KEYS", keys_table.clone())?;
            self.globals.raw_set("ARGV", args_table.clone())?;
        }
        let _running = self.host.enter(host);
        self.api.raw_set("run", &self.dispatcher)?;
        let result = self.runner.call::<(bool, Value)>((
            function.clone(),
            eval_mode,
            keys_table,
            args_table,
        ));
        self.api.raw_set("run", Value::Nil)?;
        result
    }
}

/// The host of the running script, for the dispatcher the interpreter keeps (made once:
/// a callback made per run costs an allocation, a finalizer and collector work each time).
#[derive(Default)]
struct HostSlot(Mutex<Option<HostPtr>>);

/// A host whose borrow lives in `ScriptVm::run_inner`, which alone sets and clears it.
#[derive(Clone, Copy)]
struct HostPtr(*mut (dyn Host + 'static));

// SAFETY: the pointer is only dereferenced by the dispatcher, on the thread running the
// script, while `run_inner` holds the borrow it came from.
unsafe impl Send for HostPtr {}

/// Clears the slot when the run ends, however it ends.
struct Running<'a>(&'a HostSlot);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock() = None;
    }
}

impl HostSlot {
    /// Makes `host` the running script's host until the returned guard drops.
    fn enter<'a>(&'a self, host: &'a mut dyn Host) -> Running<'a> {
        let ptr: *mut (dyn Host + 'a) = host;
        // SAFETY: only the lifetime is erased; the guard clears the slot before `host`'s
        // borrow ends, and nothing reads the slot after that.
        let ptr: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(ptr) };
        *self.0.lock() = Some(HostPtr(ptr));
        Running(self)
    }

    /// Runs `f` with the running script's host; `None` outside a run.
    fn with<R>(&self, f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
        let ptr = (*self.0.lock())?;
        // SAFETY: set by `enter` for the current run (see `HostPtr`); the script that calls
        // the dispatcher runs inside that run, and calls it one at a time.
        Some(f(unsafe { &mut *ptr.0 }))
    }
}

/// The C function behind `redis.call` and the other functions that raise: calls the `ok,
/// value` function in its upvalue and raises `value` when `ok` is false. Being a C
/// function, it keeps the caller's frame (and line) even under `return redis.call(...)`.
unsafe extern "C-unwind" fn raise_on_failure(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 2);
    if ffi::lua_toboolean(state, -2) == 0 {
        // A message (not an error table) gets the caller's position, as `luaL_error` in a
        // C function gives it.
        if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
            ffi::luaL_where(state, 1);
            ffi::lua_insert(state, -2);
            ffi::lua_concat(state, 2);
        }
        ffi::lua_error(state);
    }
    1
}

/// The C function behind `redis.error_reply`: returns the value whatever `ok` says.
unsafe extern "C-unwind" fn return_value(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 2);
    1
}

fn c_closure(
    lua: &Lua,
    inner: Function,
    body: unsafe extern "C-unwind" fn(*mut mlua::ffi::lua_State) -> std::ffi::c_int,
) -> mlua::Result<Function> {
    // SAFETY: `inner` is the one value pushed; the closure takes it as its upvalue and
    // is left alone on the stack, which is what `exec_raw` returns.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            mlua::ffi::lua_pushcclosure(state, body, 1);
        })
    }
}

/// A C function that calls `inner` (which returns `ok, value`) and raises `value` when
/// `ok` is false.
pub fn raising(lua: &Lua, inner: Function) -> mlua::Result<Function> {
    c_closure(lua, inner, raise_on_failure)
}

fn returning(lua: &Lua, inner: Function) -> mlua::Result<Function> {
    c_closure(lua, inner, return_value)
}

/// `redis.error_reply(msg)`: the error table (Redis's `luaRedisErrorReplyCommand`).
fn error_reply(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => {
            let text = s.as_bytes();
            let mut err = Vec::with_capacity(text.len() + 1);
            if text.first() != Some(&b'-') {
                err.push(b'-');
            }
            err.extend_from_slice(&text);
            Ok((true, Value::Table(error_table(lua, &err)?)))
        }
        _ => fail(lua, "wrong number or type of arguments"),
    }
}

/// A Lua array of `items` (KEYS, ARGV).
fn string_array(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

/// Operations whose arguments come packed in a table (see api.lua's `dispatch`).
const PACKED: u8 = 100;

/// The operations the `redis` table sends to the host (see api.lua).
fn dispatch(
    lua: &Lua,
    host: &mut dyn Host,
    ldb: &Mutex<Option<Ldb>>,
    op: u8,
    args: MultiValue,
) -> mlua::Result<(bool, Value)> {
    let (op, args): (u8, Vec<Value>) = if op >= PACKED {
        let mut it = args.into_iter();
        let (Some(Value::Table(packed)), Some(n)) = (it.next(), it.next()) else {
            return fail(
                lua,
                "Please specify at least one argument for this redis lib call",
            );
        };
        let n = number_arg(Some(&n)).unwrap_or(0.0) as usize;
        let mut values = Vec::with_capacity(n);
        for i in 1..=n {
            values.push(packed.raw_get::<Value>(i)?);
        }
        (op - PACKED, values)
    } else {
        (op, args.into_iter().collect())
    };
    match op {
        0 => {
            // A stepping debugger logs the command, then its reply or its refusal.
            let stepping = || ldb.lock().as_ref().is_some_and(Ldb::stepping);
            let argv = match argv_of(&args) {
                Ok(argv) => argv,
                Err(msg) => {
                    if stepping() {
                        with_ldb(ldb, |l| l.log_error(msg));
                    }
                    return fail(lua, msg);
                }
            };
            let logging = stepping();
            if logging {
                with_ldb(ldb, |l| l.log_command(&argv));
            }
            let called = host.call(argv);
            if logging {
                match &called {
                    Ok(reply) => with_ldb(ldb, |l| l.log_reply(reply)),
                    Err(msg) => with_ldb(ldb, |l| l.log_error(msg)),
                }
            }
            match called {
                Ok(reply) => {
                    let value = reply_to_lua(lua, &reply)?;
                    let failed = matches!(&value, Value::Table(t) if t.raw_get::<Value>("err").is_ok_and(|v| v.is_string()))
                        && reply.first() == Some(&b'-');
                    Ok((!failed, value))
                }
                Err(msg) => {
                    let t = error_table(lua, msg.as_bytes())?;
                    t.raw_set("ignore_error_stats_update", true)?;
                    Ok((false, Value::Table(t)))
                }
            }
        }
        1 => {
            if args.len() != 1 {
                return fail(lua, "redis.setresp() requires one argument.");
            }
            match number_arg(args.first()).map(|n| n as i64) {
                Some(2) => host.set_resp(false),
                Some(3) => host.set_resp(true),
                _ => return fail(lua, "RESP version must be 2 or 3."),
            }
            Ok((true, Value::Nil))
        }
        2 => {
            if args.len() != 1 {
                return fail(lua, "redis.set_repl() requires two arguments.");
            }
            let flags = number_arg(args.first()).map_or(0, |n| n as i64);
            if flags & !3 != 0 {
                return fail(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                );
            }
            host.set_repl(flags as u8);
            Ok((true, Value::Nil))
        }
        _ => {
            let argv = match argv_of(&args) {
                Ok(argv) => argv,
                Err(msg) => return fail(lua, msg),
            };
            match host.acl_check_cmd(&argv) {
                Some(allowed) => Ok((true, Value::Boolean(allowed))),
                None => fail(lua, "Invalid command passed to redis.acl_check_cmd()"),
            }
        }
    }
}

/// `REDIS_VERSION_NUM`: 0x00MMmmpp.
fn redis_version_num() -> i64 {
    let mut parts = crate::rdb::REDIS_VER
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major << 16) | (minor << 8) | patch
}
