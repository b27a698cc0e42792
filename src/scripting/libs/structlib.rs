//! `struct`: Roberto Ierusalimschy's struct library (struct.c 1.7) as Redis
//! 7.0 ships it, for packing numbers and strings into binary strings.
//!
//! Format letters: `>`/`<` big/little endian (default little, the native
//! order of the machines Redis runs on), `![n]` maximum alignment (default
//! 8), `x` padding byte, `b`/`B` signed/unsigned char, `h`/`H` short,
//! `l`/`L` long (8 bytes), `T` size_t (8 bytes), `i[n]`/`I[n]` integers of
//! n bytes (default 4, at most 32), `f` float, `d` double, `c[n]` n chars
//! (`c0`: whole string when packing, length taken from the previous result
//! when unpacking), `s` zero-terminated string, and spaces (ignored).
//!
//! Integers go through C's `long`/`unsigned long` (64 bits), so sizes above
//! 8 bytes keep only 64 bits of value; alignment uses the C code's formula
//! even for sizes that are not powers of two. Both quirks are reproduced
//! because scripts may depend on the exact bytes.

use mlua::{Lua, Table, Value};

use super::{
    arg_error, c_double_to_i64, lib_function, lua_error, results, to_number, Args, LibResult,
    Returns, LUA_MAX_C_STACK,
};

/// Largest `i`/`I` size in bytes.
const MAX_INT_SIZE: i32 = 32;
/// Default for `!` without a number: the platform's maximum alignment.
const MAX_ALIGN: i32 = 8;

/// Creates the global `struct` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.globals().set("struct", create_table(lua)?)
}

/// Builds the `struct` module table.
pub fn create_table(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.set("pack", lib_function(lua, pack)?)?;
    table.set("unpack", lib_function(lua, unpack)?)?;
    table.set("size", lib_function(lua, size)?)?;
    Ok(table)
}

/// Byte order and alignment in force while walking a format.
struct Header {
    little_endian: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little_endian: true,
            align: 1,
        }
    }
}

/// A format string being read option by option. Like the C code, it ends
/// at the first NUL byte.
struct Format {
    bytes: Vec<u8>,
    pos: usize,
}

impl Format {
    fn new(mut bytes: Vec<u8>) -> Self {
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        Format { bytes, pos: 0 }
    }

    fn next_option(&mut self) -> Option<u8> {
        let opt = self.bytes.get(self.pos).copied()?;
        self.pos += 1;
        Some(opt)
    }

    /// An optional decimal count after an option, or `default`.
    fn number(&mut self, default: i32) -> mlua::Result<i32> {
        let mut value: i32 = 0;
        let mut any = false;
        while let Some(digit) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            let digit = i32::from(digit - b'0');
            if value > i32::MAX / 10 || value * 10 > i32::MAX - digit {
                return Err(lua_error("integral size overflow"));
            }
            value = value * 10 + digit;
            self.pos += 1;
            any = true;
        }
        Ok(if any { value } else { default })
    }

    /// Size in bytes of option `opt` (reading its count, if it takes one);
    /// 0 for options that occupy no fixed space.
    fn option_size(&mut self, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)? as usize,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(lua_error(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size as usize
            }
            _ => 0,
        })
    }

    /// Applies an endianness/alignment option, or rejects an unknown one.
    fn control_option(&mut self, lua: &Lua, opt: u8, header: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => header.little_endian = false,
            b'<' => header.little_endian = true,
            b'!' => {
                let align = self.number(MAX_ALIGN)?;
                if align <= 0 || align & (align - 1) != 0 {
                    return Err(lua_error(format!("alignment {align} is not a power of 2")));
                }
                header.align = align as usize;
            }
            _ => {
                let msg = [b"invalid format option '", &[opt][..], b"'"].concat();
                return Err(arg_error(lua, 1, msg));
            }
        }
        Ok(())
    }
}

/// Padding needed before an item of `size` bytes at offset `len`, using the
/// C formula (which assumes power-of-two sizes).
fn padding(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(header.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// A C `(unsigned long)double` conversion as x86-64 compilers emit it.
fn c_double_to_u64(value: f64) -> u64 {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if value >= TWO_POW_63 {
        (c_double_to_i64(value - TWO_POW_63) as u64) ^ (1 << 63)
    } else {
        c_double_to_i64(value) as u64
    }
}

// ===== pack =====

/// `struct.pack(fmt, ...)`.
fn pack(lua: &Lua, args: Args) -> LibResult {
    let mut format = Format::new(args.check_bytes(lua, 1)?);
    // The C version then pushes a nil marker before reading the values.
    let args = args.with_trailing_nil();
    let mut header = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = format.next_option() {
        let mut size = format.option_size(opt)?;
        let pad = padding(out.len(), &header, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_integer_option(opt) => {
                let number = args.check_number(lua, arg)?;
                arg += 1;
                push_integer(&mut out, number, header.little_endian, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let value = args.check_number(lua, arg)? as f32;
                arg += 1;
                push_ordered(&mut out, &value.to_le_bytes(), header.little_endian);
            }
            b'd' => {
                let value = args.check_number(lua, arg)?;
                arg += 1;
                push_ordered(&mut out, &value.to_le_bytes(), header.little_endian);
            }
            b'c' | b's' => {
                let text = args.check_bytes(lua, arg)?;
                arg += 1;
                if size == 0 {
                    size = text.len();
                }
                if text.len() < size {
                    // Reported against the argument after the string, as in C.
                    return Err(arg_error(lua, arg as i64, "string too short"));
                }
                out.extend_from_slice(&text[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => format.control_option(lua, opt, &mut header)?,
        }
    }
    results([Value::String(lua.create_string(&out)?)])
}

/// Writes the low `size` bytes of the number's 64-bit two's-complement
/// value (zero bytes beyond 8).
fn push_integer(out: &mut Vec<u8>, number: f64, little_endian: bool, size: usize) {
    let value = if number < 0.0 {
        c_double_to_i64(number) as u64
    } else {
        c_double_to_u64(number)
    };
    let le: Vec<u8> = (0..size)
        .map(|i| if i < 8 { (value >> (8 * i)) as u8 } else { 0 })
        .collect();
    push_ordered(out, &le, little_endian);
}

/// Appends little-endian bytes in the requested byte order.
fn push_ordered(out: &mut Vec<u8>, le_bytes: &[u8], little_endian: bool) {
    if little_endian {
        out.extend_from_slice(le_bytes);
    } else {
        out.extend(le_bytes.iter().rev());
    }
}

// ===== unpack =====

/// `struct.unpack(fmt, data [, pos])`: the values, then the position after
/// the last byte read.
fn unpack(lua: &Lua, args: Args) -> LibResult {
    let mut format = Format::new(args.check_bytes(lua, 1)?);
    let data = args.check_bytes(lua, 2)?;
    // A negative offset becomes a huge size_t, as in C.
    let start = args.opt_integer(lua, 3, 1)? as usize;
    if start == 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    let mut pos = start - 1;
    let len = data.len();
    let mut header = Header::default();
    let values = lua.create_table()?;
    let mut count = 0usize;
    let stack_base = args.count();
    while let Some(opt) = format.next_option() {
        let mut size = format.option_size(opt)?;
        pos = pos.wrapping_add(padding(pos, &header, opt, size));
        check_fits(lua, size, pos, len)?;
        if stack_base + count + 2 > LUA_MAX_C_STACK {
            return Err(lua_error("stack overflow (too many results)"));
        }
        let value = match opt {
            _ if is_integer_option(opt) => {
                let bytes = &data[pos..pos + size];
                let signed = opt.is_ascii_lowercase();
                Some(Value::Number(read_integer(
                    bytes,
                    header.little_endian,
                    signed,
                )))
            }
            b'x' => None,
            b'f' => {
                let bytes = ordered::<4>(&data[pos..pos + 4], header.little_endian);
                Some(Value::Number(f64::from(f32::from_le_bytes(bytes))))
            }
            b'd' => {
                let bytes = ordered::<8>(&data[pos..pos + 8], header.little_endian);
                Some(Value::Number(f64::from_le_bytes(bytes)))
            }
            b'c' => {
                if size == 0 {
                    size = previous_size(lua, &values, count)?;
                    values.raw_set(count, Value::Nil)?;
                    count -= 1;
                    check_fits(lua, size, pos, len)?;
                }
                Some(Value::String(lua.create_string(&data[pos..pos + size])?))
            }
            b's' => {
                let Some(nul) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(lua_error("unfinished string in data"));
                };
                size = nul + 1;
                Some(Value::String(lua.create_string(&data[pos..pos + nul])?))
            }
            _ => {
                format.control_option(lua, opt, &mut header)?;
                None
            }
        };
        if let Some(value) = value {
            count += 1;
            values.raw_set(count, value)?;
        }
        pos = pos.wrapping_add(size);
    }
    count += 1;
    values.raw_set(count, Value::Integer(pos.wrapping_add(1) as i64))?;
    Ok(Returns::Packed {
        table: values,
        count,
    })
}

/// Fails unless `size` bytes are available at `pos`.
fn check_fits(lua: &Lua, size: usize, pos: usize, len: usize) -> mlua::Result<()> {
    if size <= len && pos <= len - size {
        Ok(())
    } else {
        Err(arg_error(lua, 2, "data string too short"))
    }
}

/// For `c0`: the previous result, which must be a number (or numeric string).
fn previous_size(lua: &Lua, values: &Table, count: usize) -> mlua::Result<usize> {
    let previous = if count == 0 {
        None
    } else {
        to_number(lua, values.raw_get(count)?)?
    };
    match previous {
        Some(n) => Ok(c_double_to_u64(n) as usize),
        None => Err(lua_error("format 'c0' needs a previous size")),
    }
}

/// Copies `N` bytes into little-endian order.
fn ordered<const N: usize>(bytes: &[u8], little_endian: bool) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    if !little_endian {
        out.reverse();
    }
    out
}

/// Reads an integer the way the C code does: accumulating into 64 bits
/// (older bytes of longer fields fall off) and sign-extending from the
/// field's top bit (the shift count wraps at 64 as on x86-64).
fn read_integer(bytes: &[u8], little_endian: bool, signed: bool) -> f64 {
    let accumulate = |acc: u64, byte: &u8| (acc << 8) | u64::from(*byte);
    let value = if little_endian {
        bytes.iter().rev().fold(0, accumulate)
    } else {
        bytes.iter().fold(0, accumulate)
    };
    if !signed {
        return value as f64;
    }
    let sign_shift = (bytes.len() * 8).wrapping_sub(1) & 63;
    let mask = u64::MAX << sign_shift;
    let extended = if value & mask != 0 {
        value | mask
    } else {
        value
    };
    extended as i64 as f64
}

// ===== size =====

/// `struct.size(fmt)`: bytes a format packs to; fails for `s` and `c0`.
fn size(lua: &Lua, args: Args) -> LibResult {
    let mut format = Format::new(args.check_bytes(lua, 1)?);
    let mut header = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = format.next_option() {
        let size = format.option_size(opt)?;
        pos = pos.wrapping_add(padding(pos, &header, opt, size));
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            format.control_option(lua, opt, &mut header)?;
        }
        pos = pos.wrapping_add(size);
    }
    results([Value::Integer(pos as i64)])
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::assert_cases;

    #[test]
    fn pack_matches_redis() {
        assert_cases(&[
            (
                "return hex(struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 2^40, 7, -4, 4000000000))",
                "fffffffefffffffffffffffffffd00000100000000000000000000000007fffffffcee6b2800",
            ),
            (
                "return hex(struct.pack('<i3I5i16', -2, 2^33+1, -1))",
                "feffff0100000002ffffffffffffffff0000000000000000",
            ),
            (
                "return hex(struct.pack('>fd<fd', 1.5, 0.1, -2.25, 1/0))",
                "3fc000003fb999999999999a000010c0000000000000f07f",
            ),
            (
                "return hex(struct.pack('c5c0sxc', 'abcdefg', 'hi', 'zz', 'qrs'))",
                "616263646568697a7a000071",
            ),
            (
                "return hex(struct.pack('!4bi!2bh!bd', 1, 2, 3, 4, 5, 6))",
                "010000000200000003000400050000000000000000001840",
            ),
            (
                "return hex(struct.pack('! bd', 1, 2))",
                "01000000000000000000000000000040",
            ),
            (
                "return hex(struct.pack('>I8I8I8i8', 0/0, 2^64, -1, -2^63-4096))",
                "80000000000000000000000000000000ffffffffffffffff8000000000000000",
            ),
            ("return hex(struct.pack('>i3', 2^23 + 0.7))", "800000"),
            (
                "return hex(struct.pack('<!8i3i3', 1, 2))",
                "00000100000000020000",
            ),
            ("return type(struct.pack('i', '12'))", "string"),
        ]);
    }

    #[test]
    fn unpack_matches_redis() {
        assert_cases(&[
            (
                "return table.concat({struct.unpack('>bBhHi3I3', '\\255\\255\\255\\254\\255\\255\\128\\0\\0\\128\\0\\0')}, ' ')",
                "-1 255 -2 65535 -8388608 8388608 13",
            ),
            (
                "return table.concat({struct.unpack('<i16I16', string.rep('\\255', 32))}, ' ')",
                "-1 1.844674407371e+19 33",
            ),
            (
                "return table.concat({struct.unpack('<i9', '\\0\\0\\0\\0\\0\\0\\0\\128\\1')}, ' ')",
                "-128 10",
            ),
            (
                "return table.concat({struct.unpack('>fd', struct.pack('>fd', 0.1, 0.1))}, ' ')",
                "0.10000000149012 0.1 13",
            ),
            (
                "return table.concat({struct.unpack('bc0s', '\\3abcxyz\\0tail')}, ' ')",
                "abc xyz 9",
            ),
            (
                "return table.concat({struct.unpack('b', 'ab', 2)}, ' ')",
                "98 3",
            ),
            (
                "return table.concat({struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0')}, ' ')",
                "1 2 9",
            ),
            (
                "return table.concat({struct.unpack('>I2', struct.pack('>I2', -1))}, ' ')",
                "65535 3",
            ),
            (
                "return table.concat({struct.unpack('c', 'xyz', 3)}, ' ')",
                "z 4",
            ),
            (
                "return select('#', struct.unpack(string.rep('b', 7990), string.rep('a', 7990)))",
                "7991",
            ),
        ]);
    }

    #[test]
    fn size_matches_redis() {
        assert_cases(&[(
            "return table.concat({struct.size('bhilTfdxc3i7'), struct.size('!bd'), struct.size('!4bd'), \
             struct.size('z'), struct.size('')}, ' ')",
            "46 16 12 0 0",
        )]);
    }

    #[test]
    fn errors_match_redis() {
        assert_cases(&[
            (
                "return select(2, pcall(struct.unpack, 'b', 'ab', 0))",
                "bad argument #3 to '?' (offset must be 1 or greater)",
            ),
            (
                "return select(2, pcall(struct.unpack, 'b', 'ab', -1))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.unpack, 'i', 'abc'))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.unpack, 'c0', 'abc'))",
                "format 'c0' needs a previous size",
            ),
            (
                "return select(2, pcall(struct.unpack, 'bc0', '\\9abc'))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.unpack, 'c2c0', '\\51\\50abcdef'))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.unpack, 's', 'abc'))",
                "unfinished string in data",
            ),
            (
                "return select(2, pcall(struct.unpack, 'x', 'xyz', 4))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.pack, 'c5', 'ab'))",
                "bad argument #3 to '?' (string too short)",
            ),
            (
                "return select(2, pcall(function() return struct.pack('c5', 'ab') end))",
                "user_script:1: bad argument #3 to 'pack' (string too short)",
            ),
            (
                "return select(2, pcall(struct.pack, 'i33', 1))",
                "integral size 33 is larger than limit of 32",
            ),
            (
                "return select(2, pcall(struct.pack, '!3', 1))",
                "alignment 3 is not a power of 2",
            ),
            (
                "return select(2, pcall(struct.pack, 'z', 1))",
                "bad argument #1 to '?' (invalid format option 'z')",
            ),
            (
                "return select(2, pcall(struct.pack, 'i99999999999', 1))",
                "integral size overflow",
            ),
            (
                "return select(2, pcall(struct.pack, 'i', 'x'))",
                "bad argument #2 to '?' (number expected, got string)",
            ),
            (
                "return select(2, pcall(struct.pack, 'i'))",
                "bad argument #2 to '?' (number expected, got nil)",
            ),
            (
                "return select(2, pcall(struct.pack, 's', {}))",
                "bad argument #2 to '?' (string expected, got table)",
            ),
            (
                "return select(2, pcall(struct.pack))",
                "bad argument #1 to '?' (string expected, got no value)",
            ),
            (
                "return select(2, pcall(struct.size, 's'))",
                "bad argument #1 to '?' (option 's' has no fixed size)",
            ),
            (
                "return select(2, pcall(struct.size, 'c0'))",
                "bad argument #1 to '?' (option 'c0' has no fixed size)",
            ),
            (
                "return select(2, pcall(struct.size, '\\1'))",
                "bad argument #1 to '?' (invalid format option '\u{1}')",
            ),
            (
                "return select(2, pcall(struct.size, 'b!3'))",
                "alignment 3 is not a power of 2",
            ),
            (
                "return select(2, pcall(struct.unpack, string.rep('b', 7999), string.rep('a', 7999)))",
                "stack overflow (too many results)",
            ),
        ]);
    }
}
