//! Function libraries (FUNCTION LOAD, FCALL): code registered once, kept with the data (RDB,
//! replication) and called by name. Libraries share one interpreter, as in Redis 7.0; a
//! library's code runs at load time with a restricted view of the globals in which
//! `redis.register_function` is the only way to leave something behind.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::control::RunControl;
use super::shebang::{parse_library_header, ScriptFlags};
use super::vm::ScriptVm;

/// How long a library's code may run at load time (Redis's `LOAD_TIMEOUT_MS`).
pub const LOAD_TIMEOUT_MS: u64 = 500;

/// The error for names that are not `[A-Za-z0-9_]+`.
const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// One registered function.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// Its name (FCALL's first argument).
    pub name: String,
    /// `description` given at registration.
    pub description: Option<String>,
    /// Declared flags.
    pub flags: ScriptFlags,
    /// The callback.
    pub callback: Function,
    /// The library it belongs to.
    pub library: String,
}

/// One loaded library.
#[derive(Debug, Clone)]
pub struct Library {
    /// Its name, from `#!lua name=<name>`.
    pub name: String,
    /// The whole code as loaded (shebang included): what DUMP, RDB and replication carry.
    pub code: Bytes,
    /// Its functions, in the order the code registered them.
    pub functions: Vec<FunctionInfo>,
}

/// What FUNCTION RESTORE does with libraries already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Fail on a name collision (the default).
    Append,
    /// Replace libraries of the same name.
    Replace,
    /// Delete every library first.
    Flush,
}

/// Functions registered by the library being loaded.
type Pending = Arc<Mutex<Option<Vec<FunctionInfo>>>>;

/// Every library and function, and the interpreter they live in.
#[derive(Debug)]
pub struct Functions {
    vm: ScriptVm,
    control: Arc<RunControl>,
    /// By lower-case name: library and function names are case-insensitive, as in Redis.
    libraries: BTreeMap<String, Library>,
    /// Lower-case function name → lower-case library name.
    index: hashbrown::HashMap<String, String>,
    /// The globals a library sees while it loads.
    load_view: Table,
    pending: Pending,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn error_value(lua: &Lua, msg: &str) -> mlua::Result<(bool, Value)> {
    Ok((
        false,
        Value::Table(super::convert::error_table(lua, msg.as_bytes())?),
    ))
}

/// `redis.register_function(name, callback)` or `redis.register_function{...}`.
fn register(lua: &Lua, pending: &Pending, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let mut guard = pending.lock();
    let Some(list) = guard.as_mut() else {
        return error_value(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    };
    let info = match read_registration(&args) {
        Ok(info) => info,
        Err(msg) => return error_value(lua, msg),
    };
    if !valid_name(&info.name) {
        return error_value(lua, BAD_NAME);
    }
    if list.iter().any(|f| f.name.eq_ignore_ascii_case(&info.name)) {
        return error_value(lua, "Function already exists in the library");
    }
    list.push(info);
    Ok((true, Value::Nil))
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Number(n) => Some(crate::resp::writer::format_g(*n, 14)),
        _ => None,
    }
}

fn read_registration(args: &MultiValue) -> Result<FunctionInfo, &'static str> {
    let blank = |name: String, callback: Function| FunctionInfo {
        name,
        description: None,
        flags: ScriptFlags::default(),
        callback,
        library: String::new(),
    };
    match args.len() {
        2 => {
            let name = string_of(&args[0])
                .ok_or("first argument to redis.register_function must be a string")?;
            let Value::Function(callback) = &args[1] else {
                return Err("second argument to redis.register_function must be a function");
            };
            Ok(blank(name, callback.clone()))
        }
        1 => {
            let Value::Table(t) = &args[0] else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut description, mut callback) = (None, None, None);
            let mut flags = ScriptFlags::default();
            for pair in t.pairs::<Value, Value>() {
                let (k, v) =
                    pair.map_err(|_| "unknown argument given to redis.register_function")?;
                let Some(key) = string_of(&k) else {
                    return Err(
                        "named argument key given to redis.register_function is not a string",
                    );
                };
                match key.to_ascii_lowercase().as_str() {
                    "function_name" => name = Some(string_of(&v).ok_or(
                        "function_name argument given to redis.register_function must be a string",
                    )?),
                    "description" => description = Some(string_of(&v).ok_or(
                        "description argument given to redis.register_function must be a string",
                    )?),
                    "callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return Err(
                            "callback argument given to redis.register_function must be a function",
                        ),
                    },
                    "flags" => {
                        let Value::Table(list) = v else {
                            return Err("flags argument to redis.register_function must be a table representing function flags");
                        };
                        for flag in list.sequence_values::<Value>() {
                            let flag = flag.map_err(|_| "unknown flag given")?;
                            let Value::String(s) = flag else {
                                return Err("unknown flag given");
                            };
                            flags.set(&s.as_bytes()).ok_or("unknown flag given")?;
                        }
                    }
                    _ => return Err("unknown argument given to redis.register_function"),
                }
            }
            let name = name.ok_or("redis.register_function must get a function name argument")?;
            let callback =
                callback.ok_or("redis.register_function must get a callback argument")?;
            let mut info = blank(name, callback);
            info.description = description;
            info.flags = flags;
            Ok(info)
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    }
}

/// The message of a Lua error value, as Redis's `luaExtractErrorInformation` reads it.
fn error_message(v: &Value) -> String {
    match v {
        Value::Table(t) => t
            .raw_get::<Option<String>>("err")
            .ok()
            .flatten()
            .unwrap_or_default(),
        Value::String(s) => format!("ERR {}", s.to_string_lossy()),
        Value::Error(e) => match e.as_ref() {
            mlua::Error::RuntimeError(m) => format!("ERR {m}"),
            other => format!("ERR {other}"),
        },
        other => format!("ERR {}", other.to_string().unwrap_or_default()),
    }
}

impl Functions {
    /// No libraries, a fresh interpreter.
    pub fn new(control: Arc<RunControl>) -> mlua::Result<Functions> {
        let vm = ScriptVm::new(control.clone())?;
        let lua = vm.lua().clone();
        let pending: Pending = Arc::new(Mutex::new(None));
        let p = pending.clone();
        let register_impl =
            lua.create_function(move |lua, args: MultiValue| register(lua, &p, args))?;
        let register_fn = super::vm::raising(&lua, register_impl)?;
        let redis: Table = vm.globals().raw_get("redis")?;
        let lib_redis = lua.create_table()?;
        lib_redis.raw_set("register_function", register_fn)?;
        for key in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            lib_redis.raw_set(key, redis.get::<Value>(key)?)?;
        }
        let freeze: Function = vm.api().raw_get("freeze")?;
        let view: Table = lua
            .load(
                "local redis, freeze = ...\n\
                 local error, tostring = error, tostring\n\
                 local function missing(_, k)\n\
                   error(\"Script attempted to access nonexistent global variable '\" .. tostring(k) .. \"'\", 2)\n\
                 end\n\
                 setmetatable(redis, {__index = missing})\n\
                 local view = {redis = freeze(redis)}\n\
                 setmetatable(view, {__index = missing})\n\
                 return view",
            )
            .set_name("=redis_load_view")
            .call((lib_redis, freeze))?;
        Ok(Functions {
            vm,
            control,
            libraries: BTreeMap::new(),
            index: hashbrown::HashMap::new(),
            load_view: view,
            pending,
        })
    }

    /// The interpreter.
    pub fn vm(&self) -> ScriptVm {
        self.vm.clone()
    }

    /// The function called `name`.
    pub fn get(&self, name: &str) -> Option<&FunctionInfo> {
        let key = name.to_ascii_lowercase();
        let library = self.index.get(&key)?;
        self.libraries
            .get(library)?
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Every library, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// Number of functions (FUNCTION STATS).
    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Interpreter memory (INFO used_memory_vm_functions).
    pub fn vm_memory(&self) -> usize {
        self.vm.memory()
    }

    /// Runs a library's code and returns what it registered (Redis's `luaEngineCreate`).
    fn compile_library(&self, name: &str, code: &[u8], timeout_ms: u64) -> Result<Library, String> {
        let (_, _, header_len) = parse_library_header(code).map_err(|e| format!("ERR {e}"))?;
        let chunk = self
            .vm
            .compile(&code[header_len..], "@user_function")
            .map_err(|e| format!("ERR Error compiling function: {e}"))?;
        *self.pending.lock() = Some(Vec::new());
        let api = self.vm.api();
        let result = (|| -> mlua::Result<(bool, Value)> {
            let set_view: Function = api.raw_get("set_view")?;
            let raw_pcall: Function = api.raw_get("raw_pcall")?;
            set_view.call::<()>(self.load_view.clone())?;
            self.vm.set_load_deadline(timeout_ms);
            let r = raw_pcall.call::<(bool, Value)>(chunk);
            self.vm.set_load_deadline(0);
            set_view.call::<()>(Value::Nil)?;
            r
        })();
        let registered = self.pending.lock().take().unwrap_or_default();
        match result {
            Ok((true, _)) => {}
            Ok((false, err)) => {
                return Err(format!(
                    "ERR Error registering functions: {}",
                    error_message(&err)
                ))
            }
            Err(e) => return Err(format!("ERR Error registering functions: ERR {e}")),
        }
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
        }
        let functions = registered
            .into_iter()
            .map(|mut f| {
                f.library = name.to_string();
                f
            })
            .collect();
        Ok(Library {
            name: name.to_string(),
            code: Bytes::copy_from_slice(code),
            functions,
        })
    }

    /// FUNCTION LOAD [REPLACE]: returns the library's name, or the error reply.
    /// `timeout_ms` 0 means no limit (code from our master, from an RDB).
    pub fn load(&mut self, code: &Bytes, replace: bool, timeout_ms: u64) -> Result<String, String> {
        let (engine, name, _) = parse_library_header(code).map_err(|e| format!("ERR {e}"))?;
        if !valid_name(&name) {
            return Err(format!("ERR {BAD_NAME}"));
        }
        if !engine.eq_ignore_ascii_case("lua") {
            return Err(format!("ERR Engine '{engine}' not found"));
        }
        let key = name.to_ascii_lowercase();
        if self.libraries.contains_key(&key) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let library = self.compile_library(&name, code, timeout_ms)?;
        for f in &library.functions {
            let owner = self.index.get(&f.name.to_ascii_lowercase());
            if owner.is_some_and(|owner| *owner != key) {
                return Err(format!("ERR Function {} already exists", f.name));
            }
        }
        self.delete(&key);
        for f in &library.functions {
            self.index.insert(f.name.to_ascii_lowercase(), key.clone());
        }
        self.libraries.insert(key, library);
        Ok(name)
    }

    /// FUNCTION DELETE: true when the library existed.
    pub fn delete(&mut self, name: &str) -> bool {
        let Some(library) = self.libraries.remove(&name.to_ascii_lowercase()) else {
            return false;
        };
        for f in &library.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        true
    }

    /// FUNCTION FLUSH: no libraries, a fresh interpreter.
    pub fn flush(&mut self) -> mlua::Result<()> {
        *self = Functions::new(self.control.clone())?;
        Ok(())
    }

    /// Every library's code, by library name (FUNCTION DUMP, RDB).
    pub fn codes(&self) -> Vec<Bytes> {
        self.libraries.values().map(|l| l.code.clone()).collect()
    }

    /// FUNCTION RESTORE / RDB load: loads `codes` with `policy`; all or nothing.
    pub fn restore(&mut self, codes: &[Bytes], policy: RestorePolicy) -> Result<(), String> {
        let mut next = Functions::new(self.control.clone()).map_err(|e| format!("ERR {e}"))?;
        if policy != RestorePolicy::Flush {
            for code in self.codes() {
                next.load(&code, false, 0)?;
            }
        }
        for code in codes {
            let (_, name, _) = parse_library_header(code).map_err(|e| format!("ERR {e}"))?;
            if next.libraries.contains_key(&name.to_ascii_lowercase()) {
                if policy == RestorePolicy::Append {
                    return Err(format!("ERR Library {name} already exists"));
                }
                next.delete(&name);
            }
            next.load(code, false, 0)?;
        }
        *self = next;
        Ok(())
    }
}
