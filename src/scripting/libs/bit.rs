//! `bit`: the LuaBitOp 1.0.2 library that Redis exposes to scripts.
//!
//! Lua 5.1 has no integers, so LuaBitOp defines every operation on 32-bit
//! two's-complement values taken from doubles: an argument is normalised by
//! adding 2^52 + 2^51 and keeping the low 32 bits of the sum's IEEE-754
//! representation (which rounds to nearest and wraps modulo 2^32), and every
//! result is returned as a signed 32-bit number. Reproducing that trick
//! (rather than a plain cast) keeps results identical for fractional,
//! negative and out-of-range inputs.

use mlua::{Lua, Table, Value};

use super::{lib_function, results, Args, LibResult};

/// Creates the global `bit` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.globals().set("bit", create_table(lua)?)
}

/// Builds the `bit` module table.
pub fn create_table(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.set(
        "tobit",
        lib_function(lua, |lua, args| unary(lua, &args, |b| b))?,
    )?;
    table.set(
        "bnot",
        lib_function(lua, |lua, args| unary(lua, &args, |b| !b))?,
    )?;
    table.set(
        "band",
        lib_function(lua, |lua, args| fold(lua, &args, |a, b| a & b))?,
    )?;
    table.set(
        "bor",
        lib_function(lua, |lua, args| fold(lua, &args, |a, b| a | b))?,
    )?;
    table.set(
        "bxor",
        lib_function(lua, |lua, args| fold(lua, &args, |a, b| a ^ b))?,
    )?;
    table.set(
        "lshift",
        lib_function(lua, |lua, args| shift(lua, &args, |b, n| b << n))?,
    )?;
    table.set(
        "rshift",
        lib_function(lua, |lua, args| shift(lua, &args, |b, n| b >> n))?,
    )?;
    table.set(
        "arshift",
        lib_function(lua, |lua, args| {
            shift(lua, &args, |b, n| ((b as i32) >> n) as u32)
        })?,
    )?;
    table.set(
        "rol",
        lib_function(lua, |lua, args| shift(lua, &args, u32::rotate_left))?,
    )?;
    table.set(
        "ror",
        lib_function(lua, |lua, args| shift(lua, &args, u32::rotate_right))?,
    )?;
    table.set(
        "bswap",
        lib_function(lua, |lua, args| unary(lua, &args, u32::swap_bytes))?,
    )?;
    table.set("tohex", lib_function(lua, tohex)?)?;
    Ok(table)
}

/// Converts a double to its 32-bit pattern the LuaBitOp way.
pub fn normalise(number: f64) -> u32 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 2^52 + 2^51
    (number + MAGIC).to_bits() as u32
}

/// The Lua result for a 32-bit pattern: its signed value as a number.
fn bit_result(bits: u32) -> LibResult {
    results([Value::Number(f64::from(bits as i32))])
}

/// Reads argument `n` as a bit pattern. Like LuaBitOp on Lua 5.1 it takes
/// `lua_tonumber` (so numeric strings work) and only reports a type error
/// when the result is zero and the argument was not a number at all.
fn bit_arg(lua: &Lua, args: &Args, n: usize) -> mlua::Result<u32> {
    match args.to_number(lua, n)? {
        Some(number) => Ok(normalise(number)),
        None => Err(args.type_error(lua, n, "number")),
    }
}

fn unary(lua: &Lua, args: &Args, op: impl Fn(u32) -> u32) -> LibResult {
    bit_result(op(bit_arg(lua, args, 1)?))
}

/// band/bor/bxor: the first argument, combined with the others taken from
/// the last one backwards (the order decides which bad argument is reported).
fn fold(lua: &Lua, args: &Args, op: impl Fn(u32, u32) -> u32) -> LibResult {
    let mut acc = bit_arg(lua, args, 1)?;
    for n in (2..=args.count()).rev() {
        acc = op(acc, bit_arg(lua, args, n)?);
    }
    bit_result(acc)
}

/// Shifts and rotations use only the low five bits of the count.
fn shift(lua: &Lua, args: &Args, op: impl Fn(u32, u32) -> u32) -> LibResult {
    let value = bit_arg(lua, args, 1)?;
    let count = bit_arg(lua, args, 2)? & 31;
    bit_result(op(value, count))
}

/// `bit.tohex(x [, n])`: the low `|n|` hex digits (at most 8, default 8),
/// upper case when `n` is negative.
fn tohex(lua: &Lua, args: Args) -> LibResult {
    let mut value = bit_arg(lua, &args, 1)?;
    let mut digits_wanted: i32 = if args.is_none(2) {
        8
    } else {
        bit_arg(lua, &args, 2)? as i32
    };
    let mut alphabet: &[u8; 16] = b"0123456789abcdef";
    if digits_wanted < 0 {
        digits_wanted = digits_wanted.wrapping_neg();
        alphabet = b"0123456789ABCDEF";
    }
    if digits_wanted < 0 {
        // -(-2^31) stays negative; C would then ask for a ~2^64-byte string.
        return Err(super::lua_error("not enough memory"));
    }
    let width = digits_wanted.min(8) as usize;
    let mut text = vec![0u8; width];
    for slot in text.iter_mut().rev() {
        *slot = alphabet[(value & 15) as usize];
        value >>= 4;
    }
    results([Value::String(lua.create_string(&text)?)])
}

#[cfg(test)]
mod tests {
    use crate::scripting::libs::tests::{eval_str, lua};

    #[test]
    fn redis_minimal_bitop_test() {
        let lua = lua();
        lua.load(
            "assert(bit.tobit(1) == 1); assert(bit.band(1) == 1);
             assert(bit.bxor(1,2) == 3); assert(bit.bor(1,2,4,8,16,32,64,128) == 255)",
        )
        .exec()
        .expect("redis bitop test");
    }

    #[test]
    fn normalisation_matches_luabitop() {
        let lua = lua();
        // Values taken from redis-server 7.0.15.
        let out = eval_str(
            &lua,
            "return table.concat({bit.tobit(0xffffffff), bit.tobit(2^32 + 5), bit.tobit(1.5),
                bit.tobit(2.5), bit.tobit(-1.5), bit.tobit('0x10'), bit.tobit(0/0),
                bit.tobit(2^52 + 7), bit.tobit(-2^31 - 1)}, ' ')",
        );
        assert_eq!(out, "-1 5 2 2 -2 16 0 4 2147483647");
    }

    #[test]
    fn operations() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "return table.concat({bit.bnot(0), bit.band(0xff, 0x0f, 0x3),
                bit.bor(0x80000000, 1), bit.bxor(5, 3, 1), bit.lshift(1, 31), bit.lshift(1, 33),
                bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x80000001, 1),
                bit.ror(1, 1), bit.bswap(0x12345678), bit.rol(7, 0), bit.ror(7, 32)}, ' ')",
        );
        assert_eq!(
            out,
            "-1 3 -2147483647 7 -2147483648 2 15 -16 3 -2147483648 2018915346 7 7"
        );
    }

    #[test]
    fn tohex_widths_and_case() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "return table.concat({bit.tohex(1), bit.tohex(-1), bit.tohex(255, 2),
                bit.tohex(255, -4), bit.tohex(0x12345678, 20), bit.tohex(5, 0), '|'}, ',')",
        );
        assert_eq!(out, "00000001,ffffffff,ff,00FF,12345678,,|");
    }

    #[test]
    fn type_errors_use_lua_texts() {
        let lua = lua();
        let out = eval_str(
            &lua,
            "local r = {}
             r[1] = select(2, pcall(function() return bit.band(1, 2, {}) end))
             r[2] = select(2, pcall(function() return bit.tobit() end))
             r[3] = select(2, pcall(function() return bit.tohex(1, nil) end))
             r[4] = select(2, pcall(function() return bit.lshift('x', 1) end))
             r[5] = select(2, pcall(function() return bit:band() end))
             r[6] = select(2, pcall(bit.bor, 1, nil))
             return table.concat(r, '|')",
        );
        // Texts taken from redis-server 7.0.15.
        assert_eq!(
            out,
            "user_script:2: bad argument #3 to 'band' (number expected, got table)|\
             user_script:3: bad argument #1 to 'tobit' (number expected, got no value)|\
             user_script:4: bad argument #2 to 'tohex' (number expected, got nil)|\
             user_script:5: bad argument #1 to 'lshift' (number expected, got string)|\
             user_script:6: calling 'band' on bad self (number expected, got table)|\
             bad argument #2 to '?' (number expected, got nil)"
        );
    }
}
