//! `cmsgpack`: the lua-cmsgpack 0.4.0 MessagePack library as Redis 7.0
//! ships it.
//!
//! Scripts pack values to store compactly and unpack what other clients
//! wrote, so the byte layout must match the C library exactly: Lua 5.1
//! numbers become MessagePack integers when they are exactly representable
//! as int64, 32-bit floats when that loses nothing, doubles otherwise;
//! tables whose keys are exactly 1..n become arrays, others maps; tables
//! nested 16 deep are written as nil (which is how the C library survives
//! reference cycles). Decoding mirrors the C decoder, including its
//! conversion of uint64 values through a signed integer, its error texts, and
//! the Lua stack limits it runs into, reproduced by counting the slots it
//! would use. Decoding is iterative so hostile input cannot exhaust the Rust
//! stack.

use mlua::{Lua, Table, Value};

use super::{
    arg_error, c_double_to_i32, c_double_to_i64, lib_function, lua_error, number_value,
    raw_lua_error, Args, LibResult, Returns, LUA_MAX_C_STACK,
};

/// Tables nested this deep are encoded as nil.
const MAX_NESTING: usize = 16;

/// Creates the global `cmsgpack` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.globals().set("cmsgpack", create_table(lua)?)
}

/// Builds the `cmsgpack` module table.
pub fn create_table(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.set("pack", lib_function(lua, pack)?)?;
    table.set("unpack", lib_function(lua, unpack)?)?;
    table.set("unpack_one", lib_function(lua, unpack_one)?)?;
    table.set("unpack_limit", lib_function(lua, unpack_limit)?)?;
    table.set("_NAME", "cmsgpack")?;
    table.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    table.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    table.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(table)
}

// ===== Packing =====

/// `cmsgpack.pack(v1, ...)`: the concatenated encodings of all arguments.
fn pack(lua: &Lua, args: Args) -> LibResult {
    let count = args.count();
    if count == 0 {
        return Err(arg_error(lua, 0, "MessagePack pack needs input."));
    }
    // The C version reserves one Lua stack slot per argument first.
    if count + count > LUA_MAX_C_STACK {
        return Err(arg_error(
            lua,
            0,
            "Too many arguments for MessagePack pack.",
        ));
    }
    let mut out = Vec::new();
    for n in 1..=count {
        encode_value(&mut out, &args.get(n), 0)?;
    }
    super::results([Value::String(lua.create_string(&out)?)])
}

fn encode_value(out: &mut Vec<u8>, value: &Value, level: usize) -> mlua::Result<()> {
    match value {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(_) | Value::Number(_) => {
            encode_number(out, number_value(value).unwrap_or_default())
        }
        Value::Table(table) if level < MAX_NESTING => encode_table(out, table, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

/// Integers when exactly representable as int64, else float or double.
fn encode_number(out: &mut Vec<u8>, number: f64) {
    if !number.is_infinite() && c_double_to_i64(number) as f64 == number {
        encode_integer(out, c_double_to_i64(number));
    } else if f64::from(number as f32) == number {
        out.push(0xca);
        out.extend_from_slice(&(number as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&number.to_be_bytes());
    }
}

/// The smallest MessagePack integer form for `n`.
fn encode_integer(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        match n {
            0..=127 => out.push(n as u8),
            128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
    } else {
        match n {
            -32..=-1 => out.push(n as i8 as u8),
            -128..=-33 => out.extend_from_slice(&[0xd0, n as i8 as u8]),
            -32768..=-129 => {
                out.push(0xd1);
                out.extend_from_slice(&(n as i16).to_be_bytes());
            }
            -2_147_483_648..=-32769 => {
                out.push(0xd2);
                out.extend_from_slice(&(n as i32).to_be_bytes());
            }
            _ => {
                out.push(0xd3);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
    }
}

fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

/// Writes a container header: the fix form, then 16- and 32-bit forms.
fn encode_header(out: &mut Vec<u8>, len: usize, fix_tag: u8, tag16: u8, tag32: u8) {
    if len <= 15 {
        out.push(fix_tag | len as u8);
    } else if len <= 0xffff {
        out.push(tag16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(tag32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_table(out: &mut Vec<u8>, table: &Table, level: usize) -> mlua::Result<()> {
    if is_array(table)? {
        let len = table.raw_len();
        encode_header(out, len, 0x90, 0xdc, 0xdd);
        for index in 1..=len {
            let item: Value = table.get(index)?;
            encode_value(out, &item, level + 1)?;
        }
    } else {
        let mut len = 0usize;
        for pair in table.pairs::<Value, Value>() {
            pair?;
            len += 1;
        }
        encode_header(out, len, 0x80, 0xde, 0xdf);
        for pair in table.pairs::<Value, Value>() {
            let (key, value) = pair?;
            encode_value(out, &key, level + 1)?;
            encode_value(out, &value, level + 1)?;
        }
    }
    Ok(())
}

/// True when the keys are exactly the integers 1..n (an empty table too).
fn is_array(table: &Table) -> mlua::Result<bool> {
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let Some(n) = number_value(&key) else {
            return Ok(false);
        };
        if n <= 0.0 || n.is_infinite() || f64::from(c_double_to_i32(n)) != n {
            return Ok(false);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(max == count)
}

// ===== Unpacking =====

/// `cmsgpack.unpack(data)`: every value in the stream.
fn unpack(lua: &Lua, args: Args) -> LibResult {
    let stack_base = args.count();
    unpack_stream(lua, &args, 0, 0, stack_base)
}

/// `cmsgpack.unpack_one(data [, offset])`: next offset and one value.
fn unpack_one(lua: &Lua, args: Args) -> LibResult {
    let offset = args.opt_integer(lua, 2, 0)?;
    unpack_stream(lua, &args, 1, offset, 1)
}

/// `cmsgpack.unpack_limit(data, limit [, offset])`: next offset and up to
/// `limit` values.
fn unpack_limit(lua: &Lua, args: Args) -> LibResult {
    let limit = args.check_integer(lua, 2)?;
    let offset = args.opt_integer(lua, 3, 0)?;
    unpack_stream(lua, &args, limit, offset, 1)
}

/// Decodes up to `limit` values starting at byte `offset`. With both zero
/// everything is decoded and no offset is returned; otherwise the first
/// result is the offset to continue from, or -1 at the end of the input.
/// `stack_base` is how many Lua stack slots the arguments occupy in C.
fn unpack_stream(lua: &Lua, args: &Args, limit: i64, offset: i64, stack_base: usize) -> LibResult {
    let data = args.check_bytes(lua, 1)?;
    let len = data.len();
    if offset < 0 || limit < 0 {
        // The C message prints the input length where it says "limit".
        return Err(lua_error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(lua_error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut decoder = Decoder::new(lua, &data, offset as usize, stack_base)?;
    // Results go straight into a Lua table: there can be thousands.
    let results = lua.create_table()?;
    let first_value_index = if decode_all { 1 } else { 2 };
    let mut decoded: i64 = 0;
    while decoder.pos < len && decoded < limit {
        let value = decoder.decode_one()?;
        results.raw_set(first_value_index + decoded, value)?;
        decoded += 1;
    }
    if !decode_all {
        let next = if decoder.pos == len {
            -1
        } else {
            decoder.pos as i64
        };
        results.raw_set(1, next)?;
    }
    Ok(Returns::Packed {
        table: results,
        count: (first_value_index - 1 + decoded) as usize,
    })
}

/// Why decoding stopped, as the C cursor reports it.
enum DecodeFailure {
    MissingBytes,
    BadFormat,
    /// Any other error, already in its final form.
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeFailure {
    fn from(err: mlua::Error) -> Self {
        DecodeFailure::Lua(err)
    }
}

impl From<DecodeFailure> for mlua::Error {
    fn from(failure: DecodeFailure) -> Self {
        match failure {
            DecodeFailure::MissingBytes => lua_error("Missing bytes in input."),
            DecodeFailure::BadFormat => lua_error("Bad data format in input."),
            DecodeFailure::Lua(err) => err,
        }
    }
}

/// One MessagePack item header: a complete value, or the start of a
/// container with its element count.
enum Item {
    Scalar(Value),
    Array(usize),
    Map(usize),
}

/// Progress through a container being filled.
enum Frame {
    Array { remaining: usize, next_index: i64 },
    Map { remaining: usize, have_key: bool },
}

/// Decodes values from a byte stream without recursion. Only the innermost
/// open table (and pending map key) is held as an mlua handle; enclosing
/// ones are parked in a scratch Lua table, because mlua can hold only about
/// 8000 handles at once.
struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    /// Lua stack slots the C decoder would be using.
    slots_in_use: usize,
    parked: Table,
}

impl<'a> Decoder<'a> {
    fn new(lua: &'a Lua, data: &'a [u8], pos: usize, stack_base: usize) -> mlua::Result<Self> {
        Ok(Decoder {
            lua,
            data,
            pos,
            slots_in_use: stack_base,
            parked: lua.create_table()?,
        })
    }

    /// Decodes one top-level value (which stays on the C stack as a result).
    fn decode_one(&mut self) -> mlua::Result<Value> {
        let mut frames: Vec<Frame> = Vec::new();
        // The innermost open table and the key waiting for its value.
        let mut current: Option<(Table, Value)> = None;
        'values: loop {
            let mut value = match self.read_item()? {
                Item::Scalar(value) => {
                    self.slots_in_use += 1;
                    value
                }
                Item::Array(len) => {
                    let table = self.new_table()?;
                    if self.slots_in_use + 1 > LUA_MAX_C_STACK {
                        return Err(lua_error(
                            "stack overflow (in function mp_decode_to_lua_array)",
                        ));
                    }
                    if len == 0 {
                        Value::Table(table)
                    } else {
                        self.open(&frames, &mut current, table)?;
                        frames.push(Frame::Array {
                            remaining: len,
                            next_index: 1,
                        });
                        self.slots_in_use += 1; // the index of the first element
                        continue 'values;
                    }
                }
                Item::Map(len) => {
                    let table = self.new_table()?;
                    if len == 0 {
                        Value::Table(table)
                    } else {
                        self.open(&frames, &mut current, table)?;
                        frames.push(Frame::Map {
                            remaining: len,
                            have_key: false,
                        });
                        continue 'values;
                    }
                }
            };
            // Store the finished value, closing every container it completes.
            loop {
                let (Some(frame), Some((table, key))) = (frames.last_mut(), current.as_mut())
                else {
                    return Ok(value);
                };
                match frame {
                    Frame::Array {
                        remaining,
                        next_index,
                    } => {
                        table.raw_set(*next_index, value)?;
                        self.slots_in_use -= 2; // index and value
                        *next_index += 1;
                        *remaining -= 1;
                        if *remaining > 0 {
                            self.slots_in_use += 1;
                            continue 'values;
                        }
                    }
                    Frame::Map {
                        remaining,
                        have_key,
                    } => {
                        if !*have_key {
                            *key = value;
                            *have_key = true;
                            continue 'values;
                        }
                        store_map_entry(table, std::mem::replace(key, Value::Nil), value)?;
                        self.slots_in_use -= 2; // key and value
                        *have_key = false;
                        *remaining -= 1;
                        if *remaining > 0 {
                            continue 'values;
                        }
                    }
                }
                // The container is complete and becomes the value.
                let finished = current.take().map(|(table, _)| table);
                frames.pop();
                current = self.unpark(frames.len())?;
                value = finished.map_or(Value::Nil, Value::Table);
            }
        }
    }

    /// Creates a table for a container (the C decoder pushes it right away).
    /// No size hints, like `lua_newtable`: preallocation would change what
    /// the length operator reports for arrays with holes.
    fn new_table(&mut self) -> mlua::Result<Table> {
        self.slots_in_use += 1;
        self.lua.create_table()
    }

    /// Makes `table` the innermost open container, parking the previous one.
    fn open(
        &self,
        frames: &[Frame],
        current: &mut Option<(Table, Value)>,
        table: Table,
    ) -> mlua::Result<()> {
        if let Some((parent, key)) = current.take() {
            let depth = frames.len();
            self.parked.raw_set(2 * depth - 1, parent)?;
            self.parked.raw_set(2 * depth, key)?;
        }
        *current = Some((table, Value::Nil));
        Ok(())
    }

    /// Takes back the container parked at `depth` (none at depth 0).
    fn unpark(&self, depth: usize) -> mlua::Result<Option<(Table, Value)>> {
        if depth == 0 {
            return Ok(None);
        }
        let table: Table = self.parked.raw_get(2 * depth - 1)?;
        let key: Value = self.parked.raw_get(2 * depth)?;
        self.parked.raw_set(2 * depth - 1, Value::Nil)?;
        self.parked.raw_set(2 * depth, Value::Nil)?;
        Ok(Some((table, key)))
    }

    /// Fails with "Missing bytes" unless `n` more bytes are available.
    fn need(&self, n: usize) -> Result<(), DecodeFailure> {
        if self.data.len() - self.pos < n {
            return Err(DecodeFailure::MissingBytes);
        }
        Ok(())
    }

    /// `n` bytes after the current one (the type byte).
    fn payload(&self, n: usize) -> Result<&'a [u8], DecodeFailure> {
        self.need(1 + n)?;
        Ok(&self.data[self.pos + 1..self.pos + 1 + n])
    }

    /// Reads one item header (and, for scalars, the whole value).
    fn read_item(&mut self) -> Result<Item, DecodeFailure> {
        self.need(1)?;
        if self.slots_in_use + 1 > LUA_MAX_C_STACK {
            return Err(DecodeFailure::Lua(lua_error(
                "stack overflow (too many return values at once; \
                 use unpack_one or unpack_limit instead.)",
            )));
        }
        let tag = self.data[self.pos];
        let (item, size) = match tag {
            0x00..=0x7f => (number(f64::from(tag)), 1),
            0x80..=0x8f => (Item::Map(usize::from(tag & 0x0f)), 1),
            0x90..=0x9f => (Item::Array(usize::from(tag & 0x0f)), 1),
            0xa0..=0xbf => return self.read_string(1, usize::from(tag & 0x1f)),
            0xc0 => (Item::Scalar(Value::Nil), 1),
            0xc2 => (Item::Scalar(Value::Boolean(false)), 1),
            0xc3 => (Item::Scalar(Value::Boolean(true)), 1),
            0xca => (number(f64::from(f32::from_be_bytes(self.fixed::<4>()?))), 5),
            0xcb => (number(f64::from_be_bytes(self.fixed::<8>()?)), 9),
            0xcc => (number(f64::from(self.fixed::<1>()?[0])), 2),
            0xcd => (number(f64::from(u16::from_be_bytes(self.fixed::<2>()?))), 3),
            0xce => (number(f64::from(u32::from_be_bytes(self.fixed::<4>()?))), 5),
            // Pushed through a signed lua_Integer, so values >= 2^63 wrap.
            0xcf => (
                number(u64::from_be_bytes(self.fixed::<8>()?) as i64 as f64),
                9,
            ),
            0xd0 => (number(f64::from(self.fixed::<1>()?[0] as i8)), 2),
            0xd1 => (number(f64::from(i16::from_be_bytes(self.fixed::<2>()?))), 3),
            0xd2 => (number(f64::from(i32::from_be_bytes(self.fixed::<4>()?))), 5),
            0xd3 => (number(i64::from_be_bytes(self.fixed::<8>()?) as f64), 9),
            0xd9 => {
                let len = usize::from(self.fixed::<1>()?[0]);
                return self.read_string(2, len);
            }
            0xda => {
                let len = usize::from(u16::from_be_bytes(self.fixed::<2>()?));
                return self.read_string(3, len);
            }
            0xdb => {
                let len = u32::from_be_bytes(self.fixed::<4>()?) as usize;
                return self.read_string(5, len);
            }
            0xdc => (
                Item::Array(usize::from(u16::from_be_bytes(self.fixed::<2>()?))),
                3,
            ),
            0xdd => (
                Item::Array(u32::from_be_bytes(self.fixed::<4>()?) as usize),
                5,
            ),
            0xde => (
                Item::Map(usize::from(u16::from_be_bytes(self.fixed::<2>()?))),
                3,
            ),
            0xdf => (
                Item::Map(u32::from_be_bytes(self.fixed::<4>()?) as usize),
                5,
            ),
            0xe0..=0xff => (number(f64::from(tag as i8)), 1),
            _ => return Err(DecodeFailure::BadFormat),
        };
        self.pos += size;
        Ok(item)
    }

    /// The `N` bytes after the type byte as an array.
    fn fixed<const N: usize>(&self) -> Result<[u8; N], DecodeFailure> {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(self.payload(N)?);
        Ok(bytes)
    }

    /// A string of `len` bytes after a header of `header` bytes.
    fn read_string(&mut self, header: usize, len: usize) -> Result<Item, DecodeFailure> {
        self.need(header)?;
        if self.data.len() - self.pos - header < len {
            return Err(DecodeFailure::MissingBytes);
        }
        let start = self.pos + header;
        let text = self.lua.create_string(&self.data[start..start + len])?;
        self.pos = start + len;
        Ok(Item::Scalar(Value::String(text)))
    }
}

fn number(n: f64) -> Item {
    Item::Scalar(Value::Number(n))
}

/// `t[key] = value` as `lua_settable` does it on a fresh table: nil and NaN
/// keys are errors raised by Lua itself (hence without a position).
fn store_map_entry(table: &Table, key: Value, value: Value) -> mlua::Result<()> {
    match &key {
        Value::Nil => Err(raw_lua_error("table index is nil")),
        Value::Number(n) if n.is_nan() => Err(raw_lua_error("table index is NaN")),
        _ => table.raw_set(key, value),
    }
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::{assert_cases, eval_str, lua, HEX};

    #[test]
    fn redis_can_pack_double_and_negative_int64() {
        assert_cases(&[
            ("return hex(cmsgpack.pack(0.1))", "cb3fb999999999999a"),
            (
                "return hex(cmsgpack.pack(-1099511627776))",
                "d3ffffff0000000000",
            ),
        ]);
    }

    #[test]
    fn redis_pack_unpack_smoke_test() {
        let lua = lua();
        lua.load(
            r#"
            local str_lt_32 = string.rep("x", 30)
            local str_lt_255 = string.rep("x", 250)
            local str_lt_65535 = string.rep("x", 65530)
            local str_long = string.rep("x", 100000)
            local array_lt_15 = {1, 2, 3, 4, 5}
            local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
            local array_big = {}
            for i=1, 100000 do array_big[i] = i end
            local map_lt_15 = {a=1, b=2}
            local map_big = {}
            for i=1, 100000 do map_big[tostring(i)] = i end
            local some_map = {
                s1=str_lt_32, s2=str_lt_255, s3=str_lt_65535, s4=str_long,
                d1=0.1, i1=1, i2=250, i3=65530, i4=100000, i5=2^40, i6=-1, i7=-120,
                i8=-32000, i9=-100000, i10=-3147483648, a1=array_lt_15, a2=array_lt_65535,
                a3=array_big, m1=map_lt_15, m2=map_big, b1=false, b2=true, n=nil
            }
            local encoded = cmsgpack.pack(some_map)
            local decoded = cmsgpack.unpack(encoded)
            assert(table.concat(some_map) == table.concat(decoded))
            local offset, decoded_one = cmsgpack.unpack_one(encoded, 0)
            assert(table.concat(some_map) == table.concat(decoded_one))
            assert(offset == -1)
            assert(decoded.m2["77777"] == 77777 and decoded.a3[99999] == 99999)
            assert(decoded.i10 == -3147483648 and decoded.d1 == 0.1 and decoded.s4 == str_long)

            local encoded_multiple = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long)
            local offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, 0)
            assert(obj == str_lt_32)
            offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
            assert(obj == str_lt_255)
            offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
            assert(obj == str_lt_65535)
            offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
            assert(obj == str_long)
            assert(offset == -1)
            "#,
        )
        .exec()
        .expect("redis smoke test");
    }

    #[test]
    fn redis_circular_references() {
        let lua = lua();
        let out = eval_str(
            &lua,
            &format!(
                "{HEX}
                local a = {{x=nil,y=5}}
                local b = {{x=a}}
                a['x'] = b
                local encoded = cmsgpack.pack(a)
                local h = hex(encoded)
                local re = cmsgpack.unpack(encoded)
                assert(re)
                assert(re.x)
                assert(re.x.x.y == re.y)
                assert(re.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
                return h .. ' ' .. tostring(re.x.x.x.x.x.x.x.x.y == re.y) .. ' ' .. tostring(re.y == 5)"
            ),
        );
        // Key order inside each map follows Lua's table traversal.
        assert_eq!(
            out,
            "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a1\
             7881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0 true true"
        );
    }

    #[test]
    fn packing_matches_redis() {
        assert_cases(&[
            (
                "return hex(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -1, -32, \
                 -33, -128, -129, -32768, -32769, -2^31, -2^31-1, 2^63, -2^63, 2^53))",
                "007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000ffe0d0dfd080d1ff7fd18000\
                 d2ffff7fffd280000000d3ffffffff7fffffffca5f000000d38000000000000000cf0020000000000000",
            ),
            (
                "return hex(cmsgpack.pack(0.5, 0.1, 1/0, -1/0, -0.0, 1e300, 3.4028234663852886e38))",
                "ca3f000000cb3fb999999999999aca7f800000caff80000000cb7e37e43c8800759cca7f7fffff",
            ),
            ("return hex(cmsgpack.pack(0/0)):sub(1, 2)", "cb"),
            (
                "return hex(cmsgpack.pack({}, {1,2,3}, {a=1}, {[2]=1}, {[1]=1,[2]=2,[4]=4}, {1,nil,3}, \
                 true, false, nil, function() end, {[1.5]=1}, {x={y={}}}))",
                "909301020381a16101810201830101020204048201010303c3c2c0c081ca3fc000000181a17881a17990",
            ),
            (
                "return hex(cmsgpack.pack(string.rep('x', 31), string.rep('y', 32)))",
                "bf78787878787878787878787878787878787878787878787878787878787878d920797979797979797979\
                 7979797979797979797979797979797979797979797979",
            ),
            (
                "local t = {} for i=1,16 do t[i]=i end return hex(cmsgpack.pack(t))",
                "dc00100102030405060708090a0b0c0d0e0f10",
            ),
            ("local t = {} t.x = t return #cmsgpack.pack(t)", "49"),
        ]);
    }

    #[test]
    fn unpacking_matches_redis() {
        assert_cases(&[
            (
                "return table.concat({cmsgpack.unpack_limit('\\1\\2\\3', 0, 0)}, '|')",
                "1|2|3",
            ),
            (
                "return table.concat({cmsgpack.unpack_limit('\\1\\2\\3', 2)}, '|')",
                "2|1|2",
            ),
            (
                "return table.concat({cmsgpack.unpack_one('\\1\\2\\3', 2)}, '|')",
                "-1|3",
            ),
            (
                "return table.concat({cmsgpack.unpack_one('\\1\\2\\3', 3)}, '|')",
                "-1",
            ),
            ("return select('#', cmsgpack.unpack(''))", "0"),
            ("return table.concat({cmsgpack.unpack_one('')}, '|')", "-1"),
            (
                "return table.concat({cmsgpack.unpack(123)}, '|')",
                "49|50|51",
            ),
            (
                "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')) .. ' ' .. \
                 tostring(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0')) .. ' ' .. \
                 tostring(cmsgpack.unpack('\\207\\0\\0\\0\\1\\0\\0\\0\\0'))",
                "-1 -9.2233720368548e+18 4294967296",
            ),
            (
                "local t = cmsgpack.unpack('\\147\\1\\192\\3') return tostring(#t) .. tostring(t[2]) .. t[3]",
                "1nil3",
            ),
            (
                "return tostring(cmsgpack.unpack('\\202\\64\\73\\15\\219'))",
                "3.1415927410126",
            ),
            (
                "return select('#', cmsgpack.unpack(string.rep('\\1', 7990)))",
                "7990",
            ),
            (
                "local t = {cmsgpack.unpack(string.rep('\\161a', 7990))} return #t .. t[7990]",
                "7990a",
            ),
            (
                "return cmsgpack._NAME .. '|' .. cmsgpack._VERSION .. '|' .. cmsgpack._COPYRIGHT .. '|' .. \
                 cmsgpack._DESCRIPTION",
                "cmsgpack|lua-cmsgpack 0.4.0|Copyright (C) 2012, Salvatore Sanfilippo|\
                 MessagePack C implementation for Lua",
            ),
        ]);
    }

    #[test]
    fn errors_match_redis() {
        assert_cases(&[
            (
                "return select(2, pcall(cmsgpack.pack))",
                "bad argument #0 to '?' (MessagePack pack needs input.)",
            ),
            (
                "return select(2, pcall(function() return cmsgpack.pack() end))",
                "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\205\\1'))",
                "Missing bytes in input.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\193'))",
                "Bad data format in input.",
            ),
            (
                "return select(2, pcall(function() local x = cmsgpack.unpack('\\193') end))",
                "user_script:1: Bad data format in input.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\129\\192\\1'))",
                "table index is nil",
            ),
            (
                "return select(2, pcall(function() local x = cmsgpack.unpack('\\129\\192\\1') end))",
                "table index is nil",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_one, 'abc', -1))",
                "Invalid request to unpack with offset of -1 and limit of 3.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_one, 'abc', 5))",
                "Start offset 5 greater than input length 3.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_limit, '\\1\\2', -2, 1))",
                "Invalid request to unpack with offset of 1 and limit of 2.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_limit, '\\1'))",
                "bad argument #2 to '?' (number expected, got no value)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, nil))",
                "bad argument #1 to '?' (string expected, got nil)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_one, 'a', 'x'))",
                "bad argument #2 to '?' (number expected, got string)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\218\\0\\5abc'))",
                "Missing bytes in input.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\221\\0\\0\\0\\2\\1'))",
                "Missing bytes in input.",
            ),
            (
                "local t = {} for i=1,5000 do t[i]=i end return select(2, pcall(cmsgpack.pack, unpack(t)))",
                "bad argument #0 to '?' (Too many arguments for MessagePack pack.)",
            ),
        ]);
    }

    #[test]
    fn lua_stack_limits_match_redis() {
        let too_many = "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";
        assert_cases(&[
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 5000)))",
                "stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\1', 9000)))",
                too_many,
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\129\\1', 5000)))",
                too_many,
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\1', 7998), 2, 3))",
                too_many,
            ),
        ]);
    }
}
