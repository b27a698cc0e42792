//! What the debugger shows of the running script: its local variables (`print`), its
//! frames (`trace`) and Lua values in Redis's notation (`ldbCatStackValue`).

use mlua::{Lua, MultiValue, Value};

use crate::resp::parser::repr;
use crate::resp::writer::format_g;

/// Nesting shown of a table inside a table (Redis's `LUA_MINSTACK / 2`).
const MAX_VALUE_DEPTH: usize = 10;

/// A frame's local variables, from the script's innermost frame outwards: `(level,
/// name, value)`; `only_first` stops after the first frame of Lua code.
fn locals(lua: &Lua, only_first: bool) -> Vec<(usize, String, Value)> {
    use mlua::ffi;
    let mut names: Vec<(usize, String)> = Vec::new();
    // SAFETY: the closure reads the debug interface of the running thread and leaves one
    // value per local on the stack, which `exec_raw` returns; it raises nothing.
    let values = unsafe {
        lua.exec_raw::<MultiValue>((), |state| {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            let mut level = 0;
            let mut seen_lua = false;
            while ffi::lua_getstack(state, level, &mut ar) != 0 {
                level += 1;
                ffi::lua_getinfo(state, c"S".as_ptr(), &mut ar);
                // The first frame is this call's own C function; frames of C code have
                // only temporaries.
                let is_c =
                    !ar.what.is_null() && std::ffi::CStr::from_ptr(ar.what).to_bytes() == b"C";
                if is_c && !seen_lua {
                    continue;
                }
                if seen_lua && only_first {
                    break;
                }
                seen_lua = true;
                let mut i = 1;
                loop {
                    if ffi::lua_checkstack(state, 2) == 0 {
                        return;
                    }
                    let name = ffi::lua_getlocal(state, &ar, i);
                    if name.is_null() {
                        break;
                    }
                    i += 1;
                    let name = std::ffi::CStr::from_ptr(name)
                        .to_string_lossy()
                        .into_owned();
                    names.push((level as usize, name));
                }
            }
        })
    };
    match values {
        Ok(values) => names
            .into_iter()
            .zip(values)
            .map(|((level, name), value)| (level, name, value))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `print`: the current frame's locals (`(entry, cut at maxlen)`).
pub(super) fn print_locals(lua: &Lua) -> Vec<(Vec<u8>, bool)> {
    let entries: Vec<(Vec<u8>, bool)> = locals(lua, true)
        .into_iter()
        .filter(|(_, name, _)| !name.contains("(*temporary)"))
        .map(|(_, name, value)| {
            let mut entry = format!("<value> {name} = ").into_bytes();
            cat_value(&value, 0, &mut entry);
            (entry, true)
        })
        .collect();
    if entries.is_empty() {
        return vec![(
            b"No local variables in the current context.".to_vec(),
            false,
        )];
    }
    entries
}

/// `print <var>`: the innermost variable of that name, or KEYS and ARGV.
pub(super) fn print_variable(lua: &Lua, var: &[u8]) -> (Vec<u8>, bool) {
    let found = locals(lua, false)
        .into_iter()
        .find(|(_, name, _)| name.as_bytes() == var)
        .map(|(_, _, value)| value);
    let value = match found {
        Some(value) => value,
        None if var == b"KEYS" || var == b"ARGV" => {
            let name = String::from_utf8_lossy(var);
            lua.globals().get::<Value>(&*name).unwrap_or(Value::Nil)
        }
        None => return (b"No such variable.".to_vec(), false),
    };
    let mut entry = b"<value> ".to_vec();
    cat_value(&value, 0, &mut entry);
    (entry, true)
}

/// `trace`: the script's frames, innermost first: ("In name:" / "From name:", line).
pub(super) fn trace(lua: &Lua) -> Vec<(String, i64)> {
    let mut frames = Vec::new();
    let mut level = 0;
    while let Some(frame) = lua.inspect_stack(level, |d| {
        let in_script = d
            .source()
            .short_src
            .as_deref()
            .is_some_and(|s| s.contains("user_script"));
        let name = d.names().name.map(|n| n.into_owned());
        (in_script, name, d.current_line().map_or(-1, |l| l as i64))
    }) {
        let (in_script, name, line) = frame;
        if in_script {
            let label = format!(
                "{} {}:",
                if frames.is_empty() && level == 0 {
                    "In"
                } else {
                    "From"
                },
                name.as_deref().unwrap_or("top level")
            );
            frames.push((label, line));
        }
        level += 1;
    }
    frames
}

/// Redis's `ldbCatStackValue`: a Lua value as the debugger shows it.
pub(super) fn cat_value(value: &Value, level: usize, out: &mut Vec<u8>) {
    if level == MAX_VALUE_DEPTH {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    match value {
        Value::String(s) => out.extend_from_slice(repr(&s.as_bytes()).as_bytes()),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(format_g(*n as f64, 6).as_bytes()),
        Value::Number(n) => out.extend_from_slice(format_g(*n, 6).as_bytes()),
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Table(t) => {
            // Shown as an array when its keys are 1, 2, 3... in iteration order.
            let mut expected = 1.0;
            let mut is_array = true;
            let mut as_array = Vec::new();
            let mut as_map = Vec::new();
            for (k, v) in t.clone().pairs::<Value, Value>().flatten() {
                let index = match k {
                    Value::Integer(i) => Some(i as f64),
                    Value::Number(n) => Some(n),
                    _ => None,
                };
                if index != Some(expected) {
                    is_array = false;
                }
                cat_value(&v, level + 1, &mut as_array);
                as_array.extend_from_slice(b"; ");
                as_map.push(b'[');
                cat_value(&k, level + 1, &mut as_map);
                as_map.extend_from_slice(b"]=");
                cat_value(&v, level + 1, &mut as_map);
                as_map.extend_from_slice(b"; ");
                expected += 1.0;
            }
            let mut chosen = if is_array { as_array } else { as_map };
            chosen.truncate(chosen.len().saturating_sub(2));
            out.push(b'{');
            out.extend_from_slice(&chosen);
            out.push(b'}');
        }
        other => {
            let kind = match other {
                Value::Function(_) => "function",
                Value::UserData(_) => "userdata",
                Value::Thread(_) => "thread",
                Value::LightUserData(_) => "light-userdata",
                _ => {
                    out.extend_from_slice(b"\"<unknown-lua-type>\"");
                    return;
                }
            };
            out.extend_from_slice(format!("\"{kind}@{:p}\"", other.to_pointer()).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_as_redis_shows_them() {
        let lua = Lua::new();
        let show = |code: &str| {
            let value: Value = lua.load(code).eval().unwrap();
            let mut out = Vec::new();
            cat_value(&value, 0, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(show("return {1, 'a', true}"), "{1; \"a\"; true}");
        assert_eq!(show("return {x = 1.5}"), "{[\"x\"]=1.5}");
        assert_eq!(show("return nil"), "nil");
        assert_eq!(show("return 1e20"), "1e+20");
        assert!(show("return function() end").starts_with("\"function@0x"));
        assert_eq!(
            show("local t = {} t[1] = t return t"),
            "{{{{{{{{{{<max recursion level reached! Nested table?>}}}}}}}}}}"
        );
    }
}
