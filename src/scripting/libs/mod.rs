//! The C libraries that Redis 7.0 preloads into its Lua 5.1 scripting
//! environment, re-implemented in Rust on top of `mlua`.
//!
//! Scripts written for Redis expect four extra globals: `bit` (LuaBitOp),
//! `cjson` (Lua CJSON 2.1.0), `cmsgpack` (lua-cmsgpack 0.4.0) and `struct`
//! (Roberto Ierusalimschy's struct library). Each submodule reproduces the
//! observable behaviour of the C version that Redis 7.0.15 ships — results,
//! number formatting, and the exact error texts — because scripts compare
//! outputs byte for byte and sometimes match on error messages.
//!
//! Errors reach scripts the way a C library raises them: as a plain Lua
//! string, prefixed by `luaL_error` with the calling script's position
//! (`user_script:1: `). mlua would hand scripts an opaque error userdata
//! instead, and a Lua-function wrapper would lose the caller's position and
//! the function's name on tail calls, so every library function is a real C
//! function (`dispatch`) that forwards to its Rust body and raises the text
//! the body reports.
//!
//! The module also holds the small pieces of the Lua auxiliary library that
//! all four libraries share: argument access with Lua's coercions, and the
//! `luaL_argerror`/`luaL_typerror` message formats.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use std::ffi::{c_int, CStr};
use std::fmt;

use mlua::{ffi, Function, Lua, MaybeSend, MultiValue, Table, Value};

/// Creates the global tables `bit`, `cjson`, `cmsgpack` and `struct`.
pub fn register_all(lua: &Lua) -> mlua::Result<()> {
    bit::register(lua)?;
    cjson::register(lua)?;
    cmsgpack::register(lua)?;
    structlib::register(lua)?;
    Ok(())
}

/// Lua 5.1 refuses to let a C function hold more than this many stack slots
/// (`LUAI_MAXCSTACK`); the C libraries report overflows against it, so the
/// Rust versions count slots the same way to fail at the same point.
pub(crate) const LUA_MAX_C_STACK: usize = 8000;

/// Registry key of the table that maps each library C function to the mlua
/// callback holding its Rust body.
const DISPATCH_TABLE_KEY: &str = "replikv.scripting.libs.dispatch";
const DISPATCH_TABLE_KEY_C: &CStr = c"replikv.scripting.libs.dispatch";

/// A library function body: receives the call's arguments and returns its
/// results, or an error whose text is what the C library would raise.
pub(crate) type LibResult = mlua::Result<Returns>;

/// What a library function returns to its caller.
pub(crate) enum Returns {
    /// A handful of values, returned directly.
    Values(MultiValue),
    /// `count` values stored at `table[1..=count]` (nils allowed). Used by
    /// functions that can return thousands of values: mlua can hold only
    /// about 8000 handles at once and pads the stack of Rust callbacks, so
    /// such results are unpacked onto the Lua stack by `dispatch` itself.
    Packed { table: Table, count: usize },
}

/// An error raised by library code, carrying the C library's exact text.
#[derive(Debug)]
pub(crate) struct LibError {
    /// Bytes, not UTF-8: C messages may quote arbitrary script data.
    message: Vec<u8>,
    /// Whether the caller's position is prepended, as `luaL_error` does.
    /// Errors the Lua core raises itself from inside a C function (such as
    /// "table index is nil") carry no position.
    with_position: bool,
}

impl fmt::Display for LibError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message))
    }
}

impl std::error::Error for LibError {}

/// An error raised the way `luaL_error` raises it (position prepended).
pub(crate) fn lua_error(msg: impl Into<Vec<u8>>) -> mlua::Error {
    mlua::Error::external(LibError {
        message: msg.into(),
        with_position: true,
    })
}

/// An error raised the way the Lua core raises it inside a C function (no
/// position prepended).
pub(crate) fn raw_lua_error(msg: impl Into<Vec<u8>>) -> mlua::Error {
    mlua::Error::external(LibError {
        message: msg.into(),
        with_position: false,
    })
}

/// Makes a Lua function with C-library semantics out of a Rust body: errors
/// arrive as plain strings with the caller's position, and argument errors
/// can name the function the way `luaL_argerror` does.
pub(crate) fn lib_function<F>(lua: &Lua, body: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Args) -> LibResult + MaybeSend + 'static,
{
    // The body reports `true, results...`, `count, table` for packed
    // results, or `false, message, with_position`, for `dispatch` to act on.
    let callback =
        lua.create_function(
            move |lua, args: MultiValue| match body(lua, Args::new(args)) {
                Ok(Returns::Values(mut results)) => {
                    results.push_front(Value::Boolean(true));
                    Ok(results)
                }
                Ok(Returns::Packed { table, count }) => Ok(MultiValue::from_iter([
                    Value::Integer(count as i64),
                    Value::Table(table),
                ])),
                Err(err) => {
                    let (text, with_position) = describe_error(&err);
                    Ok(MultiValue::from_iter([
                        Value::Boolean(false),
                        Value::String(lua.create_string(text)?),
                        Value::Boolean(with_position),
                    ]))
                }
            },
        )?;
    // SAFETY: `dispatch` follows the Lua C API protocol: it checks stack
    // space, keeps no Rust values with destructors alive across `lua_call`
    // or `lua_error`, and returns the number of results it leaves on top.
    let function = unsafe { lua.create_c_function(dispatch)? };
    dispatch_table(lua)?.raw_set(&function, callback)?;
    Ok(function)
}

/// Returns the table that maps library C functions to their bodies. Its
/// keys are weak so that functions dropped by scripts (say, the tables made
/// by `cjson.new()`) are collected with their bodies.
fn dispatch_table(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(table) = lua.named_registry_value::<Table>(DISPATCH_TABLE_KEY) {
        return Ok(table);
    }
    let table = lua.create_table()?;
    let weak_keys = lua.create_table()?;
    weak_keys.raw_set("__mode", "k")?;
    table.set_metatable(Some(weak_keys))?;
    lua.set_named_registry_value(DISPATCH_TABLE_KEY, &table)?;
    Ok(table)
}

/// The C entry point shared by every library function: finds the running
/// function's Rust body in the dispatch table, calls it with the same
/// arguments, and returns its results or raises its error like `luaL_error`.
unsafe extern "C-unwind" fn dispatch(state: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): only Lua C API calls on the state Lua passed in;
    // every local is plain data, so `lua_call`/`lua_error` may unwind freely.
    unsafe {
        let nargs = ffi::lua_gettop(state);
        if ffi::lua_checkstack(state, 4) == 0 {
            return ffi::luaL_error(state, c"stack overflow".as_ptr());
        }
        let mut frame: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(state, 0, &mut frame) == 0
            || ffi::lua_getinfo(state, c"f".as_ptr(), &mut frame) == 0
        {
            return ffi::luaL_error(state, c"library function has no call frame".as_ptr());
        }
        // Stack: args..., self
        if ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, DISPATCH_TABLE_KEY_C.as_ptr())
            != ffi::LUA_TTABLE
        {
            return ffi::luaL_error(state, c"library dispatch table is missing".as_ptr());
        }
        ffi::lua_insert(state, -2); // args..., map, self
        ffi::lua_rawget(state, -2); // args..., map, body
        ffi::lua_remove(state, -2); // args..., body
        ffi::lua_insert(state, 1); // body, args...
        ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
        if ffi::lua_type(state, 1) == ffi::LUA_TNUMBER {
            // Packed results: count at 1, table at 2.
            let count = ffi::lua_tointeger(state, 1) as c_int;
            if ffi::lua_checkstack(state, count) == 0 {
                return ffi::luaL_error(state, c"stack overflow (too many results)".as_ptr());
            }
            for index in 1..=count {
                ffi::lua_rawgeti(state, 2, index as _);
            }
            return count;
        }
        if ffi::lua_toboolean(state, 1) != 0 {
            return ffi::lua_gettop(state) - 1;
        }
        if ffi::lua_toboolean(state, 3) != 0 {
            ffi::luaL_where(state, 1);
            ffi::lua_pushvalue(state, 2);
            ffi::lua_concat(state, 2);
        } else {
            ffi::lua_pushvalue(state, 2);
        }
        ffi::lua_error(state)
    }
}

/// The message a script should see for an error from a library body, and
/// whether the caller's position goes in front of it. Errors that came back
/// from Lua itself already carry whatever position Lua gave them.
fn describe_error(err: &mlua::Error) -> (Vec<u8>, bool) {
    if let Some(lib_error) = err.downcast_ref::<LibError>() {
        return (lib_error.message.clone(), lib_error.with_position);
    }
    match err {
        mlua::Error::RuntimeError(msg) | mlua::Error::MemoryError(msg) => {
            (msg.clone().into_bytes(), false)
        }
        mlua::Error::CallbackError { cause, .. } => describe_error(cause),
        other => (other.to_string().into_bytes(), false),
    }
}

/// Collects results into the form library functions return.
pub(crate) fn results<I: IntoIterator<Item = Value>>(values: I) -> LibResult {
    Ok(Returns::Values(MultiValue::from_iter(values)))
}

/// The arguments of one library call, indexed from 1 like the Lua stack.
pub(crate) struct Args {
    values: Vec<Value>,
}

impl Args {
    fn new(values: MultiValue) -> Self {
        Args {
            values: values.into_iter().collect(),
        }
    }

    /// Makes the slot after the last argument read as nil rather than "no
    /// value", for C functions that push a value right after their arguments
    /// before reading them.
    pub(crate) fn with_trailing_nil(mut self) -> Self {
        self.values.push(Value::Nil);
        self
    }

    /// Number of arguments passed (`lua_gettop`).
    pub(crate) fn count(&self) -> usize {
        self.values.len()
    }

    /// Argument `n` (1-based); absent arguments read as nil.
    pub(crate) fn get(&self, n: usize) -> Value {
        n.checked_sub(1)
            .and_then(|i| self.values.get(i))
            .cloned()
            .unwrap_or(Value::Nil)
    }

    /// True when fewer than `n` arguments were passed (`lua_isnone`).
    pub(crate) fn is_none(&self, n: usize) -> bool {
        n == 0 || n > self.values.len()
    }

    /// True when argument `n` is absent or nil (`lua_isnoneornil`).
    pub(crate) fn is_none_or_nil(&self, n: usize) -> bool {
        matches!(self.get(n), Value::Nil)
    }

    /// `lua_tonumber`: numbers, and strings Lua can convert to numbers.
    pub(crate) fn to_number(&self, lua: &Lua, n: usize) -> mlua::Result<Option<f64>> {
        to_number(lua, self.get(n))
    }

    /// `luaL_checknumber`.
    pub(crate) fn check_number(&self, lua: &Lua, n: usize) -> mlua::Result<f64> {
        match self.to_number(lua, n)? {
            Some(value) => Ok(value),
            None => Err(self.type_error(lua, n, "number")),
        }
    }

    /// `luaL_checkinteger`: a number truncated toward zero.
    pub(crate) fn check_integer(&self, lua: &Lua, n: usize) -> mlua::Result<i64> {
        self.check_number(lua, n).map(c_double_to_i64)
    }

    /// `luaL_optinteger`: `default` when the argument is absent or nil.
    pub(crate) fn opt_integer(&self, lua: &Lua, n: usize, default: i64) -> mlua::Result<i64> {
        if self.is_none_or_nil(n) {
            Ok(default)
        } else {
            self.check_integer(lua, n)
        }
    }

    /// `luaL_checklstring`: strings, and numbers converted the way Lua
    /// converts them (`%.14g`).
    pub(crate) fn check_bytes(&self, lua: &Lua, n: usize) -> mlua::Result<Vec<u8>> {
        match lua.coerce_string(self.get(n))? {
            Some(s) => Ok(s.as_bytes().to_vec()),
            None => Err(self.type_error(lua, n, "string")),
        }
    }

    /// `luaL_typerror`: "<expected> expected, got <type>".
    pub(crate) fn type_error(&self, lua: &Lua, n: usize, expected: &str) -> mlua::Error {
        let got = if self.is_none(n) {
            "no value"
        } else {
            lua_type_name(&self.get(n))
        };
        arg_error(lua, n as i64, format!("{expected} expected, got {got}"))
    }
}

/// `lua_tonumber` on an arbitrary value.
pub(crate) fn to_number(lua: &Lua, value: Value) -> mlua::Result<Option<f64>> {
    match value {
        Value::Integer(i) => Ok(Some(i as f64)),
        Value::Number(n) => Ok(Some(n)),
        Value::String(_) => lua.coerce_number(value),
        _ => Ok(None),
    }
}

/// The number held by a value that is a Lua number, if it is one (no string
/// coercion; mlua reports integral numbers as `Value::Integer`).
pub(crate) fn number_value(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// `luaL_argerror`: names the called function the way Lua's debug info
/// sees it from the caller (or `?` when it cannot), and does not count the
/// receiver of a method call.
pub(crate) fn arg_error(lua: &Lua, narg: i64, extramsg: impl AsRef<[u8]>) -> mlua::Error {
    let extramsg = extramsg.as_ref();
    // Level 0 is the Rust callback, level 1 the Lua wrapper the script called.
    let (name, name_what) = lua
        .inspect_stack(1, |frame| {
            let names = frame.names();
            (names.name.map(|n| n.into_owned()), names.name_what)
        })
        .unwrap_or((None, None));
    let mut narg = narg;
    if name_what == Some("method") {
        narg -= 1;
        if narg == 0 {
            let name = name.unwrap_or_else(|| "?".to_string());
            let head = format!("calling '{name}' on bad self (");
            return lua_error([head.as_bytes(), extramsg, b")"].concat());
        }
    }
    let name = name.unwrap_or_else(|| "?".to_string());
    let head = format!("bad argument #{narg} to '{name}' (");
    lua_error([head.as_bytes(), extramsg, b")"].concat())
}

/// `lua_typename` of a value as Lua 5.1 names it.
pub(crate) fn lua_type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// A C `(int64_t)double` conversion as x86-64 performs it: truncation toward
/// zero, with NaN and out-of-range values becoming `i64::MIN`.
pub(crate) fn c_double_to_i64(value: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if value.is_nan() || !(-LIMIT..LIMIT).contains(&value) {
        i64::MIN
    } else {
        value as i64
    }
}

/// A C `(int)double` conversion as x86-64 performs it: truncation toward
/// zero, with NaN and out-of-range values becoming `i32::MIN`.
pub(crate) fn c_double_to_i32(value: f64) -> i32 {
    if value.is_nan() || value <= -2_147_483_649.0 || value >= 2_147_483_648.0 {
        i32::MIN
    } else {
        value as i32
    }
}

/// What the libraries' unit tests share: a state with every library, and snippets run and
/// compared with what redis-server 7.0.15 answered.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Lua state with every library registered.
    pub(crate) fn lua() -> Lua {
        let lua = Lua::new();
        register_all(&lua).expect("register libraries");
        lua
    }

    /// Runs a snippet under the chunk name Redis gives scripts.
    pub(crate) fn eval_str(lua: &Lua, code: &str) -> String {
        lua.load(code)
            .set_name("=user_script")
            .eval::<String>()
            .unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    /// A `hex(s)` helper the cases may call, prepended to each.
    pub(crate) const HEX: &str = "local function hex(s) local h = '' for i = 1, #s do \
                       h = h .. string.format('%02x', string.byte(s, i)) end return h end ";

    /// Each case is a snippet and what redis-server 7.0.15 returned for it.
    pub(crate) fn assert_cases(cases: &[(&str, &str)]) {
        for (code, expected) in cases {
            let lua = lua();
            assert_eq!(eval_str(&lua, &format!("{HEX}{code}")), *expected, "{code}");
        }
    }

    #[test]
    fn all_four_globals_exist() {
        let lua = lua();
        let kinds = eval_str(
            &lua,
            "return type(bit)..type(cjson)..type(cmsgpack)..type(struct)",
        );
        assert_eq!(kinds, "tabletabletabletable");
    }

    #[test]
    fn errors_reach_scripts_as_plain_strings() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "local ok, e = pcall(cjson.decode, 'x'); return type(e) .. ': ' .. e",
        );
        assert_eq!(
            out,
            "string: Expected value but found invalid token at character 1"
        );
    }

    #[test]
    fn errors_carry_the_callers_position_like_lual_error() {
        let lua = lua();
        // Values taken from redis-server 7.0.15.
        let cases = [
            (
                "return select(2, pcall(function() return cjson.encode(1, 2) end))",
                "user_script:1: bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "return select(2, pcall(cjson.encode, 1, 2))",
                "bad argument #1 to '?' (expected 1 argument)",
            ),
            (
                "return select(2, pcall(function()\n local x = bit:band()\n end))",
                "user_script:2: calling 'band' on bad self (number expected, got table)",
            ),
        ];
        for (code, expected) in cases {
            assert_eq!(eval_str(&lua, code), expected, "{code}");
        }
    }

    #[test]
    fn errors_seen_from_rust_keep_the_text() {
        let lua = lua();
        let err = lua
            .load("return cjson.decode('[')")
            .set_name("=user_script")
            .exec()
            .expect_err("must fail");
        assert!(
            err.to_string()
                .contains("user_script:1: Expected value but found T_END at character 2"),
            "{err}"
        );
    }

    #[test]
    fn functions_survive_many_calls() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "local n = 0
             for i = 1, 20000 do n = n + bit.band(i, 1) end
             for i = 1, 2000 do pcall(cjson.decode, '[') end
             return tostring(n)",
        );
        assert_eq!(out, "10000");
    }

    #[test]
    fn dropped_module_tables_are_collected() {
        let lua = lua();
        let entries = |lua: &Lua| -> usize {
            lua.gc_collect().expect("gc");
            lua.gc_collect().expect("gc");
            let table: Table = lua
                .named_registry_value(DISPATCH_TABLE_KEY)
                .expect("dispatch table");
            table.pairs::<Value, Value>().count()
        };
        let before = entries(&lua);
        lua.load("for i = 1, 50 do local c = cjson.new() c.encode({i}) end")
            .exec()
            .expect("make modules");
        assert_eq!(entries(&lua), before);
    }

    #[test]
    fn c_conversions_match_x86_64() {
        assert_eq!(c_double_to_i64(-1.9), -1);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_i64(9.3e18), i64::MIN);
        assert_eq!(c_double_to_i32(4_294_967_301.0), i32::MIN);
        assert_eq!(c_double_to_i32(-7.5), -7);
    }
}
