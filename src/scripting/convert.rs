//! Conversions between Redis replies and Lua values, with Redis 7.0's rules (the
//! "Conversion between Lua and Redis data types" of its scripting documentation).
//!
//! A command run by a script replies in RESP (RESP2 unless the script called
//! `redis.setresp(3)`); [`reply_to_lua`] turns those bytes into Lua values. A script's return
//! value goes to the caller through [`lua_to_reply`], in the caller's protocol.

use mlua::{Lua, Table, Value};

use crate::resp::ReplyBuf;

/// Deepest reply nesting converted; deeper values are answered with Redis's stack-limit
/// error instead of exhausting the native stack.
const MAX_DEPTH: usize = 1000;

/// The Lua form of an error reply: `{err = "CODE message"}`, built from `-CODE message` or
/// from a bare message (which gets the `ERR` code), as Redis's `luaPushErrorBuff` does.
pub fn error_table(lua: &Lua, error: &[u8]) -> mlua::Result<Table> {
    let text = String::from_utf8_lossy(error);
    let (code, msg) = match text.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code.to_string(), msg.to_string()),
            None => ("ERR".to_string(), rest.to_string()),
        },
        None => ("ERR".to_string(), text.to_string()),
    };
    let msg = msg.trim_matches(|c| c == '\r' || c == '\n');
    let t = lua.create_table()?;
    t.raw_set("err", format!("{code} {msg}"))?;
    Ok(t)
}

/// Converts one reply in RESP to a Lua value.
pub fn reply_to_lua(lua: &Lua, reply: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, reply, &mut pos, 0)
}

fn bad_reply() -> mlua::Error {
    mlua::Error::RuntimeError("malformed reply".into())
}

/// The line at `pos` (without CRLF); moves `pos` past it.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> mlua::Result<&'a [u8]> {
    let rest = buf.get(*pos..).ok_or_else(bad_reply)?;
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(bad_reply)?;
    *pos += end + 2;
    Ok(&rest[..end])
}

fn number(text: &[u8]) -> mlua::Result<i64> {
    crate::resp::parser::parse_i64(text).ok_or_else(bad_reply)
}

/// `len` bytes at `pos` and the CRLF after them.
fn payload<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> mlua::Result<&'a [u8]> {
    let data = buf.get(*pos..*pos + len).ok_or_else(bad_reply)?;
    *pos += len + 2;
    Ok(data)
}

fn single_field(lua: &Lua, field: &str, value: impl mlua::IntoLua) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, value)?;
    Ok(Value::Table(t))
}

fn parse(lua: &Lua, buf: &[u8], pos: &mut usize, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::RuntimeError("reached lua stack limit".into()));
    }
    let kind = *buf.get(*pos).ok_or_else(bad_reply)?;
    *pos += 1;
    let head = line(buf, pos)?;
    Ok(match kind {
        b'+' => single_field(lua, "ok", lua.create_string(head)?)?,
        b'-' => {
            let mut err = Vec::with_capacity(head.len() + 1);
            err.push(b'-');
            err.extend_from_slice(head);
            let t = error_table(lua, &err)?;
            // The command already counted this error; the script's reply must not again.
            t.raw_set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b':' => Value::Number(number(head)? as f64),
        b'$' => match number(head)? {
            n if n < 0 => Value::Boolean(false),
            n => Value::String(lua.create_string(payload(buf, pos, n as usize)?)?),
        },
        b'*' => match number(head)? {
            n if n < 0 => Value::Boolean(false),
            n => {
                let t = lua.create_table_with_capacity(n as usize, 0)?;
                for i in 1..=n {
                    let v = parse(lua, buf, pos, depth + 1)?;
                    t.raw_set(i, v)?;
                }
                Value::Table(t)
            }
        },
        b'%' => {
            let n = number(head)?;
            let map = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos, depth + 1)?;
                let v = parse(lua, buf, pos, depth + 1)?;
                map.raw_set(k, v)?;
            }
            single_field(lua, "map", map)?
        }
        b'~' => {
            let n = number(head)?;
            let set = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos, depth + 1)?;
                set.raw_set(k, true)?;
            }
            single_field(lua, "set", set)?
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let d = parse_double(head).ok_or_else(bad_reply)?;
            single_field(lua, "double", d)?
        }
        b'(' => single_field(lua, "big_number", lua.create_string(head)?)?,
        b'=' => {
            let n = number(head)?.max(0) as usize;
            let data = payload(buf, pos, n)?;
            let (format, text) = if data.len() >= 4 {
                (&data[..3], &data[4..])
            } else {
                (&b"txt"[..], data)
            };
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(text)?)?;
            inner.raw_set("format", lua.create_string(format)?)?;
            single_field(lua, "verbatim_string", inner)?
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, convert what follows.
            let n = number(head)?;
            for _ in 0..n * 2 {
                parse(lua, buf, pos, depth + 1)?;
            }
            parse(lua, buf, pos, depth)?
        }
        _ => return Err(bad_reply()),
    })
}

fn parse_double(text: &[u8]) -> Option<f64> {
    match text {
        b"inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" => Some(f64::NAN),
        _ => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}

/// How the script's value turns into the caller's reply.
#[derive(Debug, Clone, Copy)]
pub struct ReplyRules {
    /// The script selected RESP3 with `redis.setresp(3)` (booleans become RESP3 booleans).
    pub script_resp3: bool,
}

/// Writes a script's return value as a reply (Redis's `luaReplyToRedisReply`). Error
/// replies written are returned, those to be counted in the error statistics first.
pub fn lua_to_reply(value: &Value, out: &mut ReplyBuf, rules: ReplyRules) -> Vec<(Vec<u8>, bool)> {
    let mut errors = Vec::new();
    write_value(value, out, rules, 0, &mut errors);
    errors
}

fn status_text(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

fn write_value(
    value: &Value,
    out: &mut ReplyBuf,
    rules: ReplyRules,
    depth: usize,
    errors: &mut Vec<(Vec<u8>, bool)>,
) {
    if depth > MAX_DEPTH {
        out.error("ERR reached lua stack limit");
        errors.push((b"ERR reached lua stack limit".to_vec(), true));
        return;
    }
    match value {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if rules.script_resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(lua_number_to_i64(*n)),
        Value::Table(t) => write_table(t, out, rules, depth, errors),
        _ => out.null(),
    }
}

/// C's `(long long)` of a Lua number, saturating where C's cast is undefined.
fn lua_number_to_i64(n: f64) -> i64 {
    n as i64
}

fn write_table(
    t: &Table,
    out: &mut ReplyBuf,
    rules: ReplyRules,
    depth: usize,
    errors: &mut Vec<(Vec<u8>, bool)>,
) {
    if let Ok(Value::String(err)) = t.raw_get::<Value>("err") {
        let ignore = matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        );
        let text = err.as_bytes().to_vec();
        out.error_bytes(&text);
        errors.push((text, !ignore));
        return;
    }
    if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
        out.simple(&String::from_utf8_lossy(&status_text(&ok.as_bytes())));
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return out.double(d),
        Ok(Value::Integer(d)) => return out.double(d as f64),
        _ => {}
    }
    if let Ok(Value::String(big)) = t.raw_get::<Value>("big_number") {
        let text = status_text(&big.as_bytes());
        if out.resp3() {
            out.raw(b"(");
            out.raw(&text);
            out.raw(b"\r\n");
        } else {
            out.bulk(&text);
        }
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            write_verbatim(out, &format.as_bytes(), &text.as_bytes());
            return;
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = map.pairs::<Value, Value>().flatten().collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_value(k, out, rules, depth + 1, errors);
            write_value(v, out, rules, depth + 1, errors);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let members: Vec<Value> = set
            .pairs::<Value, Value>()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        out.set(members.len());
        for k in &members {
            write_value(k, out, rules, depth + 1, errors);
        }
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        write_value(v, out, rules, depth + 1, errors);
    }
}

fn write_verbatim(out: &mut ReplyBuf, format: &[u8], text: &[u8]) {
    if !out.resp3() {
        out.bulk(text);
        return;
    }
    let mut fmt = [b' '; 3];
    for (d, s) in fmt.iter_mut().zip(format) {
        *d = *s;
    }
    out.raw(b"=");
    out.raw(itoa::Buffer::new().format(text.len() + 4).as_bytes());
    out.raw(b"\r\n");
    out.raw(&fmt);
    out.raw(b":");
    out.raw(text);
    out.raw(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Proto;

    fn roundtrip(reply: &[u8], proto: Proto, script_resp3: bool) -> Vec<u8> {
        let lua = Lua::new();
        let v = reply_to_lua(&lua, reply).unwrap();
        let mut out = ReplyBuf::new(proto);
        lua_to_reply(&v, &mut out, ReplyRules { script_resp3 });
        out.buf
    }

    #[test]
    fn resp2_replies_come_back_as_redis_returns_them() {
        assert_eq!(roundtrip(b":5\r\n", Proto::Resp2, false), b":5\r\n");
        assert_eq!(
            roundtrip(b"$3\r\nabc\r\n", Proto::Resp2, false),
            b"$3\r\nabc\r\n"
        );
        assert_eq!(roundtrip(b"+OK\r\n", Proto::Resp2, false), b"+OK\r\n");
        // A null bulk becomes false, which RESP2 scripts return as a null.
        assert_eq!(roundtrip(b"$-1\r\n", Proto::Resp2, false), b"$-1\r\n");
        assert_eq!(
            roundtrip(b"*2\r\n:1\r\n$1\r\nx\r\n", Proto::Resp2, false),
            b"*2\r\n:1\r\n$1\r\nx\r\n"
        );
        assert_eq!(
            roundtrip(b"-WRONGTYPE bad\r\n", Proto::Resp2, false),
            b"-WRONGTYPE bad\r\n"
        );
    }

    #[test]
    fn resp3_types() {
        assert_eq!(
            roundtrip(b"%1\r\n$1\r\na\r\n:1\r\n", Proto::Resp3, true),
            b"%1\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(
            roundtrip(b"%1\r\n$1\r\na\r\n:1\r\n", Proto::Resp2, true),
            b"*2\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(roundtrip(b",1.5\r\n", Proto::Resp3, true), b",1.5\r\n");
        assert_eq!(roundtrip(b"#t\r\n", Proto::Resp3, true), b"#t\r\n");
        assert_eq!(roundtrip(b"#f\r\n", Proto::Resp2, true), b":0\r\n");
        assert_eq!(roundtrip(b"_\r\n", Proto::Resp3, true), b"_\r\n");
        assert_eq!(roundtrip(b"(123\r\n", Proto::Resp3, true), b"(123\r\n");
        assert_eq!(
            roundtrip(b"=7\r\ntxt:abc\r\n", Proto::Resp3, true),
            b"=7\r\ntxt:abc\r\n"
        );
        assert_eq!(
            roundtrip(b"~1\r\n$1\r\na\r\n", Proto::Resp2, true),
            b"*1\r\n$1\r\na\r\n"
        );
    }

    #[test]
    fn error_tables_follow_redis() {
        let lua = Lua::new();
        let t = error_table(&lua, b"-My Error").unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "My Error");
        let t = error_table(&lua, b"just text\r\n").unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "ERR just text");
        let t = error_table(&lua, b"-NOCODE").unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "ERR NOCODE");
    }

    #[test]
    fn numbers_truncate_like_c() {
        let mut out = ReplyBuf::new(Proto::Resp2);
        lua_to_reply(
            &Value::Number(3.99),
            &mut out,
            ReplyRules {
                script_resp3: false,
            },
        );
        assert_eq!(out.buf, b":3\r\n");
    }
}
