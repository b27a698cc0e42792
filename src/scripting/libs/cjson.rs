//! `cjson`: the Lua CJSON 2.1.0 library as Redis 7.0 ships it.
//!
//! Scripts use `cjson.encode`/`cjson.decode` to exchange JSON with clients
//! and compare the produced text byte for byte, so this module reproduces
//! the C library's observable behaviour: object keys in Lua's `next` order,
//! its array detection and sparse-array rules, numbers printed with `%.14g`,
//! its string escape table, `strtod`-style number parsing (which accepts
//! hex, `inf` and `nan` by default), depth limits, and every error text.
//!
//! Each module table (the global one and every `cjson.new()` result) owns
//! its configuration, shared by the closures of that table only. Encoding
//! and decoding are iterative so that deeply nested input cannot exhaust the
//! Rust stack; the limits the C library derives from the Lua C stack
//! (`LUAI_MAXCSTACK`) are reproduced by counting the slots it would use.

use std::ptr;
use std::sync::{Arc, Mutex};

use mlua::{Function, LightUserData, Lua, Table, Value};

use super::{
    c_double_to_i32, lib_function, lua_error, lua_type_name, number_value, results, Args,
    LibResult, LUA_MAX_C_STACK,
};

const MODULE_NAME: &str = "cjson";
const MODULE_VERSION: &str = "2.1.0";

/// Creates the global `cjson` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.globals().set("cjson", create_module(lua)?)
}

/// Builds a `cjson` module table with its own, default configuration.
///
/// Object encoding walks tables with the base library's `next` (the C code
/// uses `lua_next`, which mlua does not expose for resumable iteration), so
/// the base library must be loaded.
pub fn create_module(lua: &Lua) -> mlua::Result<Table> {
    let config = Arc::new(Mutex::new(JsonConfig::default()));
    let module = lua.create_table()?;
    let next: Function = lua.globals().raw_get("next")?;

    let cfg = Arc::clone(&config);
    module.set(
        "encode",
        lib_function(lua, move |lua, args| encode_fn(lua, &args, &cfg, &next))?,
    )?;
    let cfg = Arc::clone(&config);
    module.set(
        "decode",
        lib_function(lua, move |lua, args| decode_fn(lua, &args, &cfg))?,
    )?;
    let cfg = Arc::clone(&config);
    module.set(
        "encode_sparse_array",
        lib_function(lua, move |lua, args| {
            encode_sparse_array_fn(lua, &args, &cfg)
        })?,
    )?;
    register_integer_option(
        lua,
        &module,
        &config,
        "encode_max_depth",
        (1, i32::MAX),
        |c| &mut c.encode_max_depth,
    )?;
    register_integer_option(
        lua,
        &module,
        &config,
        "decode_max_depth",
        (1, i32::MAX),
        |c| &mut c.decode_max_depth,
    )?;
    register_integer_option(
        lua,
        &module,
        &config,
        "encode_number_precision",
        (1, 14),
        |c| &mut c.encode_number_precision,
    )?;
    register_enum_option(
        lua,
        &module,
        &config,
        "encode_keep_buffer",
        BOOL_OPTIONS,
        |c| &mut c.encode_keep_buffer,
    )?;
    register_enum_option(
        lua,
        &module,
        &config,
        "encode_invalid_numbers",
        INVALID_NUMBER_OPTIONS,
        |c| &mut c.encode_invalid_numbers,
    )?;
    register_enum_option(
        lua,
        &module,
        &config,
        "decode_invalid_numbers",
        BOOL_OPTIONS,
        |c| &mut c.decode_invalid_numbers,
    )?;
    module.set(
        "new",
        lib_function(lua, |lua, _args| {
            results([Value::Table(create_module(lua)?)])
        })?,
    )?;
    module.set("null", json_null())?;
    module.set("_NAME", MODULE_NAME)?;
    module.set("_VERSION", MODULE_VERSION)?;
    Ok(module)
}

/// `cjson.null`: the NULL light userdata that stands for JSON `null`.
pub fn json_null() -> Value {
    Value::LightUserData(LightUserData(ptr::null_mut()))
}

// ===== Configuration =====

/// Per-module settings, with the C library's defaults.
#[derive(Clone, Copy, Debug)]
struct JsonConfig {
    /// Encode excessively sparse arrays as objects instead of failing.
    encode_sparse_convert: i32,
    /// 0 allows any sparseness; otherwise max index may not exceed
    /// `ratio * items` (unless it is within `encode_sparse_safe`).
    encode_sparse_ratio: i32,
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    /// 0: error, 1: emit `inf`/`nan`, 2: emit `null`.
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    /// Only reported back; buffer reuse has no observable effect here.
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
    decode_max_depth: i32,
}

impl Default for JsonConfig {
    fn default() -> Self {
        JsonConfig {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
            decode_max_depth: 1000,
        }
    }
}

type SharedConfig = Arc<Mutex<JsonConfig>>;

/// A copy of the current settings (the lock is never held across Lua calls).
fn snapshot(config: &SharedConfig) -> JsonConfig {
    *config
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Applies one change to the settings and returns the new value of the field.
fn update(
    config: &SharedConfig,
    field: fn(&mut JsonConfig) -> &mut i32,
    value: Option<i32>,
) -> i32 {
    let mut guard = config
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let slot = field(&mut guard);
    if let Some(value) = value {
        *slot = value;
    }
    *slot
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];
const INVALID_NUMBER_OPTIONS: &[&str] = &["off", "on", "null"];

/// Rejects calls with more than `max` arguments, as every setter does.
fn check_arg_count(lua: &Lua, args: &Args, max: usize) -> mlua::Result<()> {
    if args.count() > max {
        return Err(super::arg_error(
            lua,
            max as i64 + 1,
            "found too many arguments",
        ));
    }
    Ok(())
}

/// Reads an optional integer setting from argument `n`. A bad range is
/// always reported against argument #1, as the C library does.
fn integer_option(
    lua: &Lua,
    args: &Args,
    n: usize,
    min: i32,
    max: i32,
) -> mlua::Result<Option<i32>> {
    if args.is_none_or_nil(n) {
        return Ok(None);
    }
    // luaL_checkinteger, then stored into a C int (wrapping to 32 bits).
    let value = args.check_integer(lua, n)? as i32;
    if value < min || value > max {
        let msg = format!("expected integer between {min} and {max}");
        return Err(super::arg_error(lua, 1, msg));
    }
    Ok(Some(value))
}

/// Reads an optional enumerated setting from argument `n`: a boolean (for
/// off/on) or one of the option names.
fn enum_option(lua: &Lua, args: &Args, n: usize, options: &[&str]) -> mlua::Result<Option<i32>> {
    match args.get(n) {
        Value::Nil => Ok(None),
        Value::Boolean(flag) => Ok(Some(i32::from(flag))),
        _ => {
            let name = args.check_bytes(lua, n)?;
            match options
                .iter()
                .position(|option| option.as_bytes() == name.as_slice())
            {
                Some(index) => Ok(Some(index as i32)),
                None => {
                    let msg = [b"invalid option '", name.as_slice(), b"'"].concat();
                    Err(super::arg_error(lua, n as i64, msg))
                }
            }
        }
    }
}

/// How an enumerated setting is reported: booleans for off/on, names beyond.
fn enum_value(lua: &Lua, setting: i32, options: &[&str]) -> mlua::Result<Value> {
    if setting == 0 || setting == 1 {
        return Ok(Value::Boolean(setting == 1));
    }
    let name = options.get(setting as usize).copied().unwrap_or("");
    Ok(Value::String(lua.create_string(name)?))
}

/// Adds a setter/getter for an integer setting limited to `min..=max`.
fn register_integer_option(
    lua: &Lua,
    module: &Table,
    config: &SharedConfig,
    name: &str,
    (min, max): (i32, i32),
    field: fn(&mut JsonConfig) -> &mut i32,
) -> mlua::Result<()> {
    let config = Arc::clone(config);
    let function = lib_function(lua, move |lua, args| {
        check_arg_count(lua, &args, 1)?;
        let value = integer_option(lua, &args, 1, min, max)?;
        results([Value::Integer(i64::from(update(&config, field, value)))])
    })?;
    module.set(name, function)
}

/// Adds a setter/getter for an enumerated (off/on[/...]) setting.
fn register_enum_option(
    lua: &Lua,
    module: &Table,
    config: &SharedConfig,
    name: &str,
    options: &'static [&'static str],
    field: fn(&mut JsonConfig) -> &mut i32,
) -> mlua::Result<()> {
    let config = Arc::clone(config);
    let function = lib_function(lua, move |lua, args| {
        check_arg_count(lua, &args, 1)?;
        let value = enum_option(lua, &args, 1, options)?;
        results([enum_value(lua, update(&config, field, value), options)?])
    })?;
    module.set(name, function)
}

/// `cjson.encode_sparse_array([convert [, ratio [, safe]]])`. Each setting
/// is stored as soon as it is read, so an error in a later argument keeps
/// the earlier changes, like the C version.
fn encode_sparse_array_fn(lua: &Lua, args: &Args, config: &SharedConfig) -> LibResult {
    check_arg_count(lua, args, 3)?;
    let convert = enum_option(lua, args, 1, BOOL_OPTIONS)?;
    let convert = update(config, |c| &mut c.encode_sparse_convert, convert);
    let ratio = integer_option(lua, args, 2, 0, i32::MAX)?;
    let ratio = update(config, |c| &mut c.encode_sparse_ratio, ratio);
    let safe = integer_option(lua, args, 3, 0, i32::MAX)?;
    let safe = update(config, |c| &mut c.encode_sparse_safe, safe);
    results([
        enum_value(lua, convert, BOOL_OPTIONS)?,
        Value::Integer(i64::from(ratio)),
        Value::Integer(i64::from(safe)),
    ])
}

// ===== Encoding =====

fn encode_fn(lua: &Lua, args: &Args, config: &SharedConfig, next: &Function) -> LibResult {
    if args.count() != 1 {
        return Err(super::arg_error(lua, 1, "expected 1 argument"));
    }
    let cfg = snapshot(config);
    let json = Encoder::new(lua, &cfg, next)?.encode(args.get(1))?;
    results([Value::String(lua.create_string(&json)?)])
}

/// Progress through a table being written out.
enum EncodeFrame {
    Array { length: i64, next: i64 },
    Object { first: bool },
}

impl EncodeFrame {
    /// Lua stack slots the C encoder holds while inside this table: the
    /// current element for arrays, the key and value for objects.
    fn stack_slots(&self) -> usize {
        match self {
            EncodeFrame::Array { .. } => 1,
            EncodeFrame::Object { .. } => 2,
        }
    }
}

/// Serialises Lua values to JSON without recursion.
///
/// Only the innermost open table and its iteration key are held as mlua
/// handles; enclosing ones are parked in a scratch Lua table. mlua keeps
/// handles on a Lua stack limited to about 8000 slots, so holding one per
/// nesting level (or one per object entry) would fail on large input.
struct Encoder<'a> {
    cfg: &'a JsonConfig,
    /// Lua's `next`, for resuming object traversal from a saved key.
    next: &'a Function,
    parked: Table,
    out: Vec<u8>,
}

impl<'a> Encoder<'a> {
    fn new(lua: &Lua, cfg: &'a JsonConfig, next: &'a Function) -> mlua::Result<Self> {
        Ok(Encoder {
            cfg,
            next,
            parked: lua.create_table()?,
            out: Vec::new(),
        })
    }

    fn encode(mut self, value: Value) -> mlua::Result<Vec<u8>> {
        let mut frames: Vec<EncodeFrame> = Vec::new();
        // The innermost open table and, for objects, the last key written.
        let mut current: Option<(Table, Value)> = None;
        let mut slots_in_use = 1; // the argument itself
        let mut pending = Some(value);
        loop {
            if let Some(value) = pending.take() {
                match value {
                    Value::Table(table) => {
                        let depth = frames.len() + 1;
                        if depth > self.cfg.encode_max_depth as usize
                            || slots_in_use + 3 > LUA_MAX_C_STACK
                        {
                            return Err(lua_error(format!(
                                "Cannot serialise, excessive nesting ({depth})"
                            )));
                        }
                        let frame = self.open_table(&table)?;
                        if let Some((parent, key)) = current.take() {
                            self.park(frames.len(), parent, key)?;
                        }
                        current = Some((table, Value::Nil));
                        slots_in_use += frame.stack_slots();
                        frames.push(frame);
                    }
                    other => append_scalar(self.cfg, &other, &mut self.out)?,
                }
            }
            let (Some(frame), Some((table, key))) = (frames.last_mut(), current.as_mut()) else {
                return Ok(self.out);
            };
            match frame {
                EncodeFrame::Array { length, next } => {
                    if *next <= *length {
                        if *next > 1 {
                            self.out.push(b',');
                        }
                        pending = Some(table.raw_get(*next)?);
                        *next += 1;
                        continue;
                    }
                    self.out.push(b']');
                }
                EncodeFrame::Object { first } => {
                    let (next_key, value): (Value, Value) =
                        self.next.call((table.clone(), key.clone()))?;
                    if !next_key.is_nil() {
                        if !*first {
                            self.out.push(b',');
                        }
                        *first = false;
                        append_key(self.cfg, &next_key, &mut self.out)?;
                        *key = next_key;
                        pending = Some(value);
                        continue;
                    }
                    self.out.push(b'}');
                }
            }
            if let Some(done) = frames.pop() {
                slots_in_use -= done.stack_slots();
            }
            current = if frames.is_empty() {
                None
            } else {
                Some(self.unpark(frames.len())?)
            };
        }
    }

    /// Saves an enclosing table (and its iteration key) at `depth`.
    fn park(&self, depth: usize, table: Table, key: Value) -> mlua::Result<()> {
        self.parked.raw_set(2 * depth - 1, table)?;
        self.parked.raw_set(2 * depth, key)
    }

    /// Takes back the table saved at `depth`.
    fn unpark(&self, depth: usize) -> mlua::Result<(Table, Value)> {
        let table: Table = self.parked.raw_get(2 * depth - 1)?;
        let key: Value = self.parked.raw_get(2 * depth)?;
        self.parked.raw_set(2 * depth - 1, Value::Nil)?;
        self.parked.raw_set(2 * depth, Value::Nil)?;
        Ok((table, key))
    }

    /// Starts writing a table, choosing array or object form.
    fn open_table(&mut self, table: &Table) -> mlua::Result<EncodeFrame> {
        match array_length(self.cfg, table)? {
            Some(length) if length > 0 => {
                self.out.push(b'[');
                Ok(EncodeFrame::Array {
                    length: i64::from(length),
                    next: 1,
                })
            }
            _ => {
                self.out.push(b'{');
                Ok(EncodeFrame::Object { first: true })
            }
        }
    }
}

/// The array length to encode a table with, or `None` when it must be an
/// object: every key has to be an integer >= 1, and the table must not be
/// excessively sparse (which is an error unless conversion is enabled).
fn array_length(cfg: &JsonConfig, table: &Table) -> mlua::Result<Option<i32>> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        match number_value(&key) {
            Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                if k > f64::from(max) {
                    max = c_double_to_i32(k);
                }
                items = items.wrapping_add(1);
            }
            _ => return Ok(None),
        }
    }
    if cfg.encode_sparse_ratio > 0
        && max > items.wrapping_mul(cfg.encode_sparse_ratio)
        && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(lua_error(
                "Cannot serialise table: excessively sparse array",
            ));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

/// Writes an object key: strings as JSON strings, numbers quoted.
fn append_key(cfg: &JsonConfig, key: &Value, out: &mut Vec<u8>) -> mlua::Result<()> {
    match key {
        Value::String(s) => {
            append_string(&s.as_bytes(), out);
            out.push(b':');
        }
        Value::Integer(_) | Value::Number(_) => {
            out.push(b'"');
            append_number(cfg, number_value(key).unwrap_or_default(), out)?;
            out.extend_from_slice(b"\":");
        }
        other => {
            return Err(lua_error(format!(
                "Cannot serialise {}: table key must be a number or string",
                lua_type_name(other)
            )));
        }
    }
    Ok(())
}

/// Writes any non-table value.
fn append_scalar(cfg: &JsonConfig, value: &Value, out: &mut Vec<u8>) -> mlua::Result<()> {
    match value {
        Value::String(s) => append_string(&s.as_bytes(), out),
        Value::Integer(_) | Value::Number(_) => {
            append_number(cfg, number_value(value).unwrap_or_default(), out)?
        }
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(ud) if ud.0.is_null() => out.extend_from_slice(b"null"),
        other => {
            return Err(lua_error(format!(
                "Cannot serialise {}: type not supported",
                lua_type_name(other)
            )));
        }
    }
    Ok(())
}

/// Writes a JSON string using CJSON's escape table: control characters,
/// `"`, `\`, `/` and DEL are escaped; all other bytes pass through as-is.
fn append_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    for &byte in bytes {
        match byte {
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x00..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// Writes a number with the configured `%.<precision>g`, handling NaN and
/// infinity according to `encode_invalid_numbers`.
fn append_number(cfg: &JsonConfig, number: f64, out: &mut Vec<u8>) -> mlua::Result<()> {
    let invalid = number.is_nan() || number.is_infinite();
    match cfg.encode_invalid_numbers {
        0 if invalid => return Err(lua_error("Cannot serialise number: must not be NaN or Inf")),
        1 if number.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if invalid => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    let precision = cfg.encode_number_precision.clamp(1, 14) as usize;
    out.extend_from_slice(format_g(number, precision).as_bytes());
    Ok(())
}

/// C's `printf("%.<precision>g", value)`: the shorter of fixed and
/// exponential notation per the C rules, trailing zeros removed.
pub fn format_g(value: f64, precision: usize) -> String {
    let negative = value.is_sign_negative();
    if value.is_nan() {
        return if negative { "-nan" } else { "nan" }.to_string();
    }
    if value.is_infinite() {
        return if negative { "-inf" } else { "inf" }.to_string();
    }
    if value == 0.0 {
        return if negative { "-0" } else { "0" }.to_string();
    }
    let precision = precision.max(1);
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i64 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{}e{sign}{:02}",
            strip_fraction_zeros(mantissa),
            exponent.abs()
        )
    } else {
        let decimals = (precision as i64 - 1 - exponent).max(0) as usize;
        strip_fraction_zeros(&format!("{value:.decimals$}")).to_string()
    }
}

/// Drops trailing zeros after a decimal point, and the point if bare.
fn strip_fraction_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

// ===== Decoding =====

fn decode_fn(lua: &Lua, args: &Args, config: &SharedConfig) -> LibResult {
    if args.count() != 1 {
        return Err(super::arg_error(lua, 1, "expected 1 argument"));
    }
    let cfg = snapshot(config);
    let text = args.check_bytes(lua, 1)?;
    // Only UTF-8 is supported; a NUL among the first two bytes betrays UTF-16/32.
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return Err(lua_error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let value = Decoder::new(lua, &cfg, &text)?.decode()?;
    results([value])
}

/// A lexical token of the input.
#[derive(Debug)]
enum TokenKind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String(Vec<u8>),
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    /// A malformed token, with CJSON's description of the problem.
    Error(&'static str),
}

impl TokenKind {
    /// How error messages name the token that was found.
    fn describe(&self) -> &'static str {
        match self {
            TokenKind::ObjBegin => "T_OBJ_BEGIN",
            TokenKind::ObjEnd => "T_OBJ_END",
            TokenKind::ArrBegin => "T_ARR_BEGIN",
            TokenKind::ArrEnd => "T_ARR_END",
            TokenKind::String(_) => "T_STRING",
            TokenKind::Number(_) => "T_NUMBER",
            TokenKind::Boolean(_) => "T_BOOLEAN",
            TokenKind::Null => "T_NULL",
            TokenKind::Colon => "T_COLON",
            TokenKind::Comma => "T_COMMA",
            TokenKind::End => "T_END",
            TokenKind::Error(what) => what,
        }
    }
}

struct Token {
    kind: TokenKind,
    /// 0-based byte offset reported (plus one) in error messages.
    index: usize,
}

/// Progress through a container being filled while decoding.
enum DecodeFrame {
    Array { next_index: i64 },
    Object { key: Vec<u8> },
}

/// Parses JSON text into Lua values without recursion. As in the encoder,
/// only the innermost open table is held as an mlua handle; enclosing ones
/// are parked in a scratch Lua table.
struct Decoder<'a> {
    lua: &'a Lua,
    cfg: &'a JsonConfig,
    data: &'a [u8],
    pos: usize,
    depth: i32,
    /// Lua stack slots the C decoder would hold (the argument, plus one per
    /// open array, two per open object: table and key).
    slots_in_use: usize,
    parked: Table,
}

impl<'a> Decoder<'a> {
    fn new(lua: &'a Lua, cfg: &'a JsonConfig, data: &'a [u8]) -> mlua::Result<Self> {
        Ok(Decoder {
            lua,
            cfg,
            data,
            pos: 0,
            depth: 0,
            slots_in_use: 1,
            parked: lua.create_table()?,
        })
    }

    /// The byte at `index`, reading past the end (and a NUL) as a terminator
    /// the way the C parser reads its NUL-terminated buffer.
    fn byte_at(&self, index: usize) -> u8 {
        self.data.get(index).copied().unwrap_or(0)
    }

    fn decode(mut self) -> mlua::Result<Value> {
        let mut frames: Vec<DecodeFrame> = Vec::new();
        let mut current: Option<Table> = None;
        let mut token = self.next_token();
        'values: loop {
            // `token` starts a value.
            let mut value = match token.kind {
                TokenKind::String(bytes) => Value::String(self.lua.create_string(&bytes)?),
                TokenKind::Number(n) => Value::Number(n),
                TokenKind::Boolean(b) => Value::Boolean(b),
                TokenKind::Null => json_null(),
                TokenKind::ArrBegin => {
                    self.descend(2)?;
                    let table = self.lua.create_table()?;
                    token = self.next_token();
                    if matches!(token.kind, TokenKind::ArrEnd) {
                        self.ascend(1);
                        Value::Table(table)
                    } else {
                        self.open(
                            &mut frames,
                            &mut current,
                            table,
                            DecodeFrame::Array { next_index: 1 },
                        )?;
                        continue 'values;
                    }
                }
                TokenKind::ObjBegin => {
                    self.descend(3)?;
                    let table = self.lua.create_table()?;
                    token = self.next_token();
                    if matches!(token.kind, TokenKind::ObjEnd) {
                        self.ascend(1);
                        Value::Table(table)
                    } else {
                        let key = self.object_key(token)?;
                        self.slots_in_use += 1;
                        self.open(
                            &mut frames,
                            &mut current,
                            table,
                            DecodeFrame::Object { key },
                        )?;
                        token = self.next_token();
                        continue 'values;
                    }
                }
                _ => return Err(parse_error("value", &token)),
            };
            // Store the finished value into its container, closing every
            // container that ends here.
            loop {
                let (Some(frame), Some(table)) = (frames.last_mut(), current.as_ref()) else {
                    let end = self.next_token();
                    if !matches!(end.kind, TokenKind::End) {
                        return Err(parse_error("the end", &end));
                    }
                    return Ok(value);
                };
                let (closed, slots) = match frame {
                    DecodeFrame::Array { next_index } => {
                        table.raw_set(*next_index, value)?;
                        *next_index += 1;
                        let after = self.next_token();
                        match after.kind {
                            TokenKind::ArrEnd => (table.clone(), 1),
                            TokenKind::Comma => {
                                token = self.next_token();
                                continue 'values;
                            }
                            _ => return Err(parse_error("comma or array end", &after)),
                        }
                    }
                    DecodeFrame::Object { key } => {
                        table.raw_set(self.lua.create_string(&*key)?, value)?;
                        let after = self.next_token();
                        match after.kind {
                            TokenKind::ObjEnd => (table.clone(), 2),
                            TokenKind::Comma => {
                                let key_token = self.next_token();
                                *key = self.object_key(key_token)?;
                                token = self.next_token();
                                continue 'values;
                            }
                            _ => return Err(parse_error("comma or object end", &after)),
                        }
                    }
                };
                self.ascend(slots);
                frames.pop();
                current = self.unpark(frames.len())?;
                value = Value::Table(closed);
            }
        }
    }

    /// Makes `table` the innermost open container, parking the previous one.
    fn open(
        &self,
        frames: &mut Vec<DecodeFrame>,
        current: &mut Option<Table>,
        table: Table,
        frame: DecodeFrame,
    ) -> mlua::Result<()> {
        if let Some(parent) = current.take() {
            self.parked.raw_set(frames.len(), parent)?;
        }
        *current = Some(table);
        frames.push(frame);
        Ok(())
    }

    /// Takes back the container parked at `depth` (none at depth 0).
    fn unpark(&self, depth: usize) -> mlua::Result<Option<Table>> {
        if depth == 0 {
            return Ok(None);
        }
        let table: Table = self.parked.raw_get(depth)?;
        self.parked.raw_set(depth, Value::Nil)?;
        Ok(Some(table))
    }

    /// Reads `"key" :` given the token that should be the key.
    fn object_key(&mut self, token: Token) -> mlua::Result<Vec<u8>> {
        let TokenKind::String(key) = token.kind else {
            return Err(parse_error("object key string", &token));
        };
        let colon = self.next_token();
        if !matches!(colon.kind, TokenKind::Colon) {
            return Err(parse_error("colon", &colon));
        }
        Ok(key)
    }

    /// Enters a container that needs `slots` free Lua stack slots.
    fn descend(&mut self, slots: usize) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && self.slots_in_use + slots <= LUA_MAX_C_STACK {
            self.slots_in_use += 1;
            return Ok(());
        }
        Err(lua_error(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    /// Leaves a container whose table (and key, for objects) used `slots`.
    fn ascend(&mut self, slots: usize) {
        self.depth -= 1;
        self.slots_in_use -= slots;
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.byte_at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let simple = match self.byte_at(index) {
            b'{' => Some(TokenKind::ObjBegin),
            b'}' => Some(TokenKind::ObjEnd),
            b'[' => Some(TokenKind::ArrBegin),
            b']' => Some(TokenKind::ArrEnd),
            b',' => Some(TokenKind::Comma),
            b':' => Some(TokenKind::Colon),
            _ => None,
        };
        if let Some(kind) = simple {
            self.pos += 1;
            return Token { kind, index };
        }
        match self.byte_at(index) {
            0 => Token {
                kind: TokenKind::End,
                index,
            },
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return self.token_error("invalid number");
                }
                self.number_token()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => self.word_token(),
            _ => self.token_error("invalid token"),
        }
    }

    /// A malformed token reported at the current position.
    fn token_error(&self, what: &'static str) -> Token {
        Token {
            kind: TokenKind::Error(what),
            index: self.pos,
        }
    }

    /// `true`, `false`, `null`, or (when enabled) `inf`/`nan`/`+1` numbers.
    fn word_token(&mut self) -> Token {
        let rest = &self.data[self.pos..];
        let words: [(&[u8], TokenKind); 3] = [
            (b"true", TokenKind::Boolean(true)),
            (b"false", TokenKind::Boolean(false)),
            (b"null", TokenKind::Null),
        ];
        for (word, kind) in words {
            if rest.starts_with(word) {
                let index = self.pos;
                self.pos += word.len();
                return Token { kind, index };
            }
        }
        if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
            return self.number_token();
        }
        self.token_error("invalid token")
    }

    /// Whether the number at the cursor is one `strtod` accepts but strict
    /// JSON does not: a leading `+`, hex, leading zeros, `inf` or `nan`.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.byte_at(p) == b'+' {
            return true;
        }
        if self.byte_at(p) == b'-' {
            p += 1;
        }
        let first = self.byte_at(p);
        if first == b'0' {
            let second = self.byte_at(p + 1);
            return second | 0x20 == b'x' || second.is_ascii_digit();
        }
        if first <= b'9' {
            return false;
        }
        let word = [self.byte_at(p), self.byte_at(p + 1), self.byte_at(p + 2)];
        word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        let end = self.data[index..]
            .iter()
            .position(|&b| b == 0)
            .map_or(self.data.len(), |nul| index + nul);
        match c_strtod(&self.data[index..end]) {
            Some((number, consumed)) => {
                self.pos += consumed;
                Token {
                    kind: TokenKind::Number(number),
                    index,
                }
            }
            None => self.token_error("invalid number"),
        }
    }

    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1; // opening quote
        let mut bytes = Vec::new();
        loop {
            let byte = self.byte_at(self.pos);
            match byte {
                b'"' => break,
                0 => return self.token_error("unexpected end of string"),
                b'\\' => {
                    let translated = match self.byte_at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => b'\x08',
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => b'\x0c',
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape(&mut bytes) {
                                return self.token_error("invalid unicode escape code");
                            }
                            continue;
                        }
                        _ => return self.token_error("invalid escape code"),
                    };
                    bytes.push(translated);
                    self.pos += 2;
                }
                _ => {
                    bytes.push(byte);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1; // closing quote
        Token {
            kind: TokenKind::String(bytes),
            index,
        }
    }

    /// Decodes `\uXXXX` (or a `\uD8xx\uDCxx` surrogate pair) at the cursor
    /// into UTF-8; false leaves the cursor on the backslash.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut codepoint) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if codepoint & 0xF800 == 0xD800 {
            // Must be a high surrogate followed by an escaped low surrogate.
            if codepoint & 0x400 != 0 {
                return false;
            }
            if self.byte_at(self.pos + 6) != b'\\' || self.byte_at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        push_utf8(codepoint, out);
        self.pos += escape_len;
        true
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| {
            let digit = (self.byte_at(at + i) as char).to_digit(16)?;
            Some((acc << 4) | digit)
        })
    }
}

/// Appends a code point (at most 0x10FFFF here) as UTF-8.
fn push_utf8(codepoint: u32, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4];
    match char::from_u32(codepoint) {
        Some(c) => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        // Unreachable for valid input (surrogates are rejected earlier);
        // encode generically like the C code would.
        None => {
            out.push(0xE0 | (codepoint >> 12) as u8);
            out.push(0x80 | ((codepoint >> 6) & 0x3F) as u8);
            out.push(0x80 | (codepoint & 0x3F) as u8);
        }
    }
}

/// "Expected <what> but found <token> at character <n>".
fn parse_error(expected: &str, found: &Token) -> mlua::Error {
    lua_error(format!(
        "Expected {expected} but found {} at character {}",
        found.kind.describe(),
        found.index + 1
    ))
}

// ===== strtod =====

/// C `strtod` on the start of `text`: returns the value and the number of
/// bytes consumed, or `None` when no number starts there. Accepts what glibc
/// accepts: leading spaces, a sign, decimal and hex floats, `inf`,
/// `infinity` and `nan(...)`, case-insensitively.
pub fn c_strtod(text: &[u8]) -> Option<(f64, usize)> {
    let mut pos = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(text.len());
    let negative = text.get(pos) == Some(&b'-');
    if matches!(text.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    let rest = &text[pos..];
    let (magnitude, consumed) = if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        (f64::INFINITY, len)
    } else if starts_with_ignore_case(rest, b"nan") {
        (f64::NAN, 3 + nan_payload_len(&rest[3..]))
    } else if rest.len() > 1 && rest[0] == b'0' && rest[1] | 0x20 == b'x' {
        parse_hex_float(&rest[2..]).map_or((0.0, 1), |(value, used)| (value, 2 + used))
    } else {
        parse_decimal(rest)?
    };
    let value = if negative { -magnitude } else { magnitude };
    Some((value, pos + consumed))
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Length of an optional `(chars)` suffix after `nan`.
fn nan_payload_len(text: &[u8]) -> usize {
    if text.first() != Some(&b'(') {
        return 0;
    }
    let inner = text[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if text.get(1 + inner) == Some(&b')') {
        inner + 2
    } else {
        0
    }
}

/// Decimal digits, optional fraction and optional exponent.
fn parse_decimal(text: &[u8]) -> Option<(f64, usize)> {
    let digits = |from: usize| {
        text[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_digits = digits(0);
    let mut end = int_digits;
    let mut frac_digits = 0;
    if text.get(end) == Some(&b'.') {
        frac_digits = digits(end + 1);
        if int_digits + frac_digits > 0 {
            end += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(text.get(end), Some(b'e' | b'E')) {
        let mut exp_start = end + 1;
        if matches!(text.get(exp_start), Some(b'+' | b'-')) {
            exp_start += 1;
        }
        let exp_digits = digits(exp_start);
        if exp_digits > 0 {
            end = exp_start + exp_digits;
        }
    }
    let literal = std::str::from_utf8(&text[..end]).ok()?;
    let value = literal.parse::<f64>().ok()?;
    Some((value, end))
}

/// Hex float after the `0x` prefix: hex digits, optional fraction and an
/// optional binary exponent `p[+-]digits`. `None` when no digit follows.
fn parse_hex_float(text: &[u8]) -> Option<(f64, usize)> {
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut dropped_nonzero = false;
    let mut any_digit = false;
    let mut pos = 0;
    let mut in_fraction = false;
    loop {
        let byte = text.get(pos).copied().unwrap_or(0);
        if byte == b'.' && !in_fraction {
            in_fraction = true;
            pos += 1;
            continue;
        }
        let Some(digit) = (byte as char).to_digit(16) else {
            break;
        };
        any_digit = true;
        if mantissa >> 60 == 0 {
            mantissa = (mantissa << 4) | u64::from(digit);
            if in_fraction {
                exponent -= 4;
            }
        } else {
            dropped_nonzero |= digit != 0;
            if !in_fraction {
                exponent += 4;
            }
        }
        pos += 1;
    }
    if !any_digit {
        return None;
    }
    if matches!(text.get(pos), Some(b'p' | b'P')) {
        let mut exp_pos = pos + 1;
        let exp_negative = text.get(exp_pos) == Some(&b'-');
        if matches!(text.get(exp_pos), Some(b'+' | b'-')) {
            exp_pos += 1;
        }
        let exp_digits = text[exp_pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            let written = text[exp_pos..exp_pos + exp_digits]
                .iter()
                .fold(0i64, |acc, b| (acc * 10 + i64::from(b - b'0')).min(1 << 40));
            exponent += if exp_negative { -written } else { written };
            pos = exp_pos + exp_digits;
        }
    }
    if dropped_nonzero {
        mantissa |= 1; // sticky bit so rounding sees the dropped digits
    }
    Some((scale_by_power_of_two(mantissa as f64, exponent), pos))
}

/// `value * 2^exponent` without intermediate overflow.
fn scale_by_power_of_two(mut value: f64, mut exponent: i64) -> f64 {
    let step = 2f64.powi(1000);
    let inverse_step = 2f64.powi(-1000);
    while exponent > 1000 && value.is_finite() && value != 0.0 {
        value *= step;
        exponent -= 1000;
    }
    while exponent < -1000 && value != 0.0 {
        value *= inverse_step;
        exponent += 1000;
    }
    value * 2f64.powi(exponent.clamp(-1100, 1100) as i32)
}

#[cfg(test)]
mod tests {
    use super::{c_strtod, format_g};
    use crate::scripting::libs::tests::{assert_cases, eval_str, lua};
    use mlua::Lua;

    #[test]
    fn redis_json_numeric_decoding() {
        assert_cases(&[(
            "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')",
            "0 -5000 -1 0.0003 1023.2 0",
        )]);
    }

    #[test]
    fn redis_json_string_decoding() {
        assert_cases(&[(
            "local d = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}') return d.keya .. d.keyb",
            "ab",
        )]);
    }

    #[test]
    fn redis_json_smoke_test() {
        let lua = lua();
        lua.load(
            r#"
            local some_map = {s1="Some string", n1=100, a1={"Some","String","Array"},
                nil1=nil, b1=true, b2=false}
            local encoded = cjson.encode(some_map)
            local decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))
            cjson.encode_keep_buffer(false)
            encoded = cjson.encode(some_map)
            decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))
            local table1 = {one="one", [1]="one"}
            encoded = cjson.encode(table1)
            decoded = cjson.decode(encoded)
            assert(decoded["one"] == table1["one"])
            assert(decoded["1"] == table1[1])
            local array1 = {[1]="one", [2]="two"}
            encoded = cjson.encode(array1)
            decoded = cjson.decode(encoded)
            assert(table.concat(array1) == table.concat(decoded))
            local invalid_map = {}
            invalid_map[false] = "false"
            local ok, encoded = pcall(cjson.encode, invalid_map)
            assert(ok == false)
            cjson.encode_max_depth(1)
            ok, encoded = pcall(cjson.encode, some_map)
            assert(ok == false)
            cjson.decode_max_depth(1)
            ok, decoded = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')
            assert(ok == false)
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == false)
            cjson.encode_invalid_numbers(true)
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == true)
            cjson.decode_max_depth(1000)
            cjson.encode_max_depth(1000)
            cjson.encode_invalid_numbers(false)
            "#,
        )
        .exec()
        .expect("redis smoke test");
    }

    #[test]
    fn encoding_matches_redis() {
        assert_cases(&[
            ("return cjson.encode({1,2,{a=1}})", "[1,2,{\"a\":1}]"),
            (
                "return cjson.encode({a={1,2,'x'},b=true,[3]=5})",
                "{\"a\":[1,2,\"x\"],\"3\":5,\"b\":true}",
            ),
            ("return cjson.encode({[1]=1,[2]=2,[4]=4})", "[1,2,null,4]"),
            ("return cjson.encode({1,nil,3})", "[1,null,3]"),
            (
                "return cjson.encode({1.5, 0.1, 1e100, -0.0, 123456789012345678, 1/3, 2^53})",
                "[1.5,0.1,1e+100,-0,1.2345678901235e+17,0.33333333333333,9.007199254741e+15]",
            ),
            (
                "return cjson.encode({0.1, 100, 1e15, 1e16, 123456.789e3, 5e-5, 1e-4,-1e21})",
                "[0.1,100,1e+15,1e+16,123456789,5e-05,0.0001,-1e+21]",
            ),
            (
                "return (cjson.encode('\"\\\\/\\b\\f\\n\\r\\t\\0\\1\\127\\128'):gsub('\\128', '<80>'))",
                "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u007f<80>\"",
            ),
            (
                "local t = {} for i=1,10000 do t['k'..i] = i end return #cjson.encode(t)",
                "127789",
            ),
            (
                "return cjson.encode({[1.5]=1, [2]=3})",
                "{\"1.5\":1,\"2\":3}",
            ),
            ("return cjson.encode({[-1]=1})", "{\"-1\":1}"),
            ("return cjson.encode(cjson.null)", "null"),
            ("return cjson.encode({})", "{}"),
            ("return cjson.encode('x')", "\"x\""),
            (
                "cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0})",
                "[inf,-inf,nan]",
            ),
            (
                "cjson.encode_invalid_numbers('null') return cjson.encode({1/0, 0/0})",
                "[null,null]",
            ),
            (
                "cjson.encode_number_precision(3) return cjson.encode({3.14159, 1234567})",
                "[3.14,1.23e+06]",
            ),
            (
                "cjson.encode_sparse_array(true) return cjson.encode({[1]=1,[20]=2})",
                "{\"1\":1,\"20\":2}",
            ),
            (
                "cjson.encode_sparse_array(false, 0) return cjson.encode({[1]=1,[13]=2})",
                "[1,null,null,null,null,null,null,null,null,null,null,null,2]",
            ),
        ]);
    }

    #[test]
    fn encoding_errors_match_redis() {
        assert_cases(&[
            (
                "return select(2, pcall(cjson.encode, {[1]=1,[20]=2}))",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "return select(2, pcall(cjson.encode, {[1]=1,[2]=2,[3]=3,[12]=12}))",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "return select(2, pcall(cjson.encode, {1/0}))",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "local t = {} t[1]=t return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (1001)",
            ),
            (
                "return select(2, pcall(cjson.encode, {[true]=1}))",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "return select(2, pcall(cjson.encode, {f=print}))",
                "Cannot serialise function: type not supported",
            ),
            (
                "local c = cjson.new() c.encode_max_depth(1) return select(2, pcall(c.encode, {{}}))",
                "Cannot serialise, excessive nesting (2)",
            ),
            (
                "return select(2, pcall(cjson.encode))",
                "bad argument #1 to '?' (expected 1 argument)",
            ),
            (
                "return select(2, pcall(function() return cjson.encode(1, 2) end))",
                "user_script:1: bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "return select(2, pcall(function() local x = cjson.encode({1/0}) end))",
                "user_script:1: Cannot serialise number: must not be NaN or Inf",
            ),
        ]);
    }

    #[test]
    fn configuration_matches_redis() {
        assert_cases(&[
            (
                "return table.concat({tostring(cjson.encode_sparse_array())}, ',')",
                "false",
            ),
            (
                "local a, b, c = cjson.encode_sparse_array() return tostring(a)..b..c",
                "false210",
            ),
            (
                "local a, b, c = cjson.encode_sparse_array(true, 3) return tostring(a)..b..c",
                "true310",
            ),
            ("return tostring(cjson.encode_keep_buffer())", "true"),
            ("return cjson.encode_number_precision(3)", "3"),
            ("return cjson.encode_invalid_numbers('null')", "null"),
            (
                "return tostring(cjson.encode_invalid_numbers('on'))",
                "true",
            ),
            (
                "cjson.encode_max_depth(2^32+5) return cjson.encode_max_depth()",
                "5",
            ),
            ("return cjson._NAME .. ' ' .. cjson._VERSION", "cjson 2.1.0"),
            (
                "return type(cjson.null) .. tostring(cjson.decode('null') == cjson.null)",
                "userdatatrue",
            ),
            (
                "return select(2, pcall(cjson.encode_invalid_numbers, 'xx'))",
                "bad argument #1 to '?' (invalid option 'xx')",
            ),
            (
                "return select(2, pcall(cjson.encode_max_depth, 0))",
                "bad argument #1 to '?' (expected integer between 1 and 2147483647)",
            ),
            (
                "return select(2, pcall(cjson.encode_sparse_array, true, 1, 2, 3))",
                "bad argument #4 to '?' (found too many arguments)",
            ),
            (
                "return select(2, pcall(cjson.encode_sparse_array, true, -1))",
                "bad argument #1 to '?' (expected integer between 0 and 2147483647)",
            ),
            (
                "return select(2, pcall(cjson.encode_max_depth, 'x'))",
                "bad argument #1 to '?' (number expected, got string)",
            ),
            (
                "return select(2, pcall(cjson.encode_number_precision, 15))",
                "bad argument #1 to '?' (expected integer between 1 and 14)",
            ),
            (
                "local c = cjson.new() c.encode_max_depth(5) return cjson.encode_max_depth() .. c.encode_max_depth()",
                "10005",
            ),
        ]);
    }

    #[test]
    fn decoding_matches_redis() {
        assert_cases(&[
            (
                "return cjson.encode(cjson.decode('[\"\\\\u00e9\\\\ud83d\\\\ude00\", 0x10, 1e300, +1, 01, 0x1p4, -0x.8]'))",
                "[\"\u{e9}\u{1f600}\",16,1e+300,1,1,16,-0.5]",
            ),
            (
                "return select(2, pcall(cjson.encode, cjson.decode('[1e400]')))",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "return tostring(cjson.decode('nan')) .. tostring(cjson.decode('-inf')) .. tostring(cjson.decode('Infinity'))",
                "nan-infinf",
            ),
            (
                "local d = cjson.decode('{\"a\":{\"b\":[1,{\"c\":null}]}}') return cjson.encode(d)",
                "{\"a\":{\"b\":[1,{\"c\":null}]}}",
            ),
            ("return cjson.decode(123)", "123"),
            ("return cjson.decode(' \"a\\\\/\\\\\\\\\\\\n\" ')", "a/\\\n"),
            ("return #cjson.decode('[1,2,3]\\0garbage')", "3"),
            ("return cjson.decode('{\"a\":1,\"a\":2}').a", "2"),
        ]);
    }

    #[test]
    fn decoding_errors_match_redis() {
        assert_cases(&[
            (
                "return select(2, pcall(cjson.decode, 'x'))",
                "Expected value but found invalid token at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, '[1,]'))",
                "Expected value but found T_ARR_END at character 4",
            ),
            (
                "return select(2, pcall(cjson.decode, ''))",
                "Expected value but found T_END at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, '{\"a\":1,}'))",
                "Expected object key string but found T_OBJ_END at character 8",
            ),
            (
                "return select(2, pcall(cjson.decode, '{\"a\" 1}'))",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "return select(2, pcall(cjson.decode, '[1 2]'))",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"abc'))",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"a\\\\qb\"'))",
                "Expected value but found invalid escape code at character 3",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"a\\\\u12\"'))",
                "Expected value but found invalid unicode escape code at character 3",
            ),
            (
                "return select(2, pcall(cjson.decode, '[1] x'))",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "return select(2, pcall(cjson.decode, 'nul'))",
                "Expected value but found invalid token at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, '-'))",
                "Expected value but found invalid number at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, nil))",
                "bad argument #1 to '?' (string expected, got nil)",
            ),
            (
                "return select(2, pcall(cjson.decode, 'a\\0'))",
                "JSON parser does not support UTF-16 or UTF-32",
            ),
            (
                "cjson.decode_invalid_numbers(false) return select(2, pcall(cjson.decode, '0x10'))",
                "Expected value but found invalid number at character 1",
            ),
            (
                "cjson.decode_invalid_numbers(false) return select(2, pcall(cjson.decode, 'nan'))",
                "Expected value but found invalid token at character 1",
            ),
            (
                "cjson.decode_max_depth(1) return select(2, pcall(cjson.decode, '{\"obj\": {\"array\": [1,2,3,4]}}'))",
                "Found too many nested data structures (2) at character 9",
            ),
            (
                "return select(2, pcall(function() return cjson.decode('{') end))",
                "user_script:1: Expected object key string but found T_END at character 2",
            ),
        ]);
    }

    #[test]
    fn deep_nesting_is_limited_without_recursion() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "cjson.decode_max_depth(100000)
             local ok, e = pcall(cjson.decode, string.rep('[', 9000))
             cjson.encode_max_depth(100000)
             local t = {} t[1] = t
             local ok2, e2 = pcall(cjson.encode, t)
             return e .. '|' .. e2",
        );
        // C Lua runs out of C-function stack slots (LUAI_MAXCSTACK) first.
        assert_eq!(
            out,
            "Found too many nested data structures (7999) at character 7999|\
             Cannot serialise, excessive nesting (7998)"
        );
    }

    #[test]
    fn format_g_matches_c_printf() {
        let lua = Lua::new();
        let values = [
            0.1,
            1.0 / 3.0,
            2.5,
            0.5,
            1.5,
            1e-5,
            1e-4,
            123456789012345.0,
            1e14,
            1e15,
            99999999999999.5,
            0.000123456789012345,
            5e-324,
            1.7976931348623157e308,
            -2.5e-7,
            1234.5,
            0.125,
            9.5,
            10.5,
            1e21,
            4.35,
            2.675,
            1e100,
            6.02214076e23,
        ];
        for value in values {
            for precision in [1usize, 2, 3, 6, 14] {
                let expected: String = lua
                    .load(format!("return string.format('%.{precision}g', ...)"))
                    .call(value)
                    .expect("string.format");
                assert_eq!(
                    format_g(value, precision),
                    expected,
                    "{value} %.{precision}g"
                );
            }
        }
    }

    #[test]
    fn strtod_prefixes() {
        assert_eq!(c_strtod(b"1.5e3x"), Some((1500.0, 5)));
        assert_eq!(c_strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(c_strtod(b"-.5"), Some((-0.5, 3)));
        assert_eq!(c_strtod(b"0x1p4"), Some((16.0, 5)));
        assert_eq!(c_strtod(b"0x.8"), Some((0.5, 4)));
        assert_eq!(c_strtod(b"0xg"), Some((0.0, 1)));
        assert_eq!(c_strtod(b"infinityx"), Some((f64::INFINITY, 8)));
        assert_eq!(c_strtod(b"-"), None);
        assert_eq!(c_strtod(b"."), None);
        let (nan, used) = c_strtod(b"nan(123)").expect("nan");
        assert!(nan.is_nan());
        assert_eq!(used, 8);
    }
}
