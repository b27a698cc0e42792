//! The `#!lua` first line of a script or function library: the engine name, the script
//! flags (`flags=no-writes,allow-oom`) and, for libraries, the library name. Parsed as
//! Redis 7.0 parses it (arguments split as `redis-cli` splits a line), with its error texts.

use crate::resp::parser::split_args;

/// Flags a script declares in its shebang, as Redis 7.0 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFlags {
    /// No shebang: EVAL's compatibility mode (flags come from the commands the script runs).
    pub compat: bool,
    /// `no-writes`.
    pub no_writes: bool,
    /// `allow-oom`.
    pub allow_oom: bool,
    /// `allow-stale`.
    pub allow_stale: bool,
    /// `no-cluster`.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`.
    pub allow_cross_slot: bool,
}

/// Sets one flag.
type FlagSetter = fn(&mut ScriptFlags);

/// A flag's name and the field it sets.
const FLAG_NAMES: &[(&str, FlagSetter)] = &[
    ("no-writes", |f| f.no_writes = true),
    ("allow-oom", |f| f.allow_oom = true),
    ("allow-stale", |f| f.allow_stale = true),
    ("no-cluster", |f| f.no_cluster = true),
    ("allow-cross-slot-keys", |f| f.allow_cross_slot = true),
];

impl ScriptFlags {
    /// Parses one flag name; `None` when Redis does not know it.
    pub fn set(&mut self, name: &[u8]) -> Option<()> {
        let (_, apply) = FLAG_NAMES.iter().find(|(n, _)| n.as_bytes() == name)?;
        apply(self);
        Some(())
    }

    /// The flag names set, in Redis's order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        let set = [
            self.no_writes,
            self.allow_oom,
            self.allow_stale,
            self.no_cluster,
            self.allow_cross_slot,
        ];
        FLAG_NAMES
            .iter()
            .zip(set)
            .filter(|(_, on)| *on)
            .map(|((n, _), _)| *n)
            .collect()
    }
}

/// An EVAL script's header: its flags and how many bytes the shebang line takes (the line
/// feed stays in the code so that line numbers in errors match the user's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalHeader {
    /// Declared flags (or compatibility mode).
    pub flags: ScriptFlags,
    /// Bytes to skip before compiling.
    pub shebang_len: usize,
}

/// Reads the shebang of an EVAL script (Redis's `evalExtractShebangFlags`).
pub fn parse_eval_header(body: &[u8]) -> Result<EvalHeader, String> {
    if !body.starts_with(b"#!") {
        return Ok(EvalHeader {
            flags: ScriptFlags {
                compat: true,
                ..ScriptFlags::default()
            },
            shebang_len: 0,
        });
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = split_args(&body[..end]).unwrap_or_default();
    let Some(engine) = parts.first() else {
        return Err("Invalid script shebang".into());
    };
    if engine.as_slice() != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        // `flags=` alone declares no flag (Redis splits an empty list into no names); an
        // empty name between commas is refused.
        for name in list.split(|&b| b == b',').filter(|_| !list.is_empty()) {
            if flags.set(name).is_none() {
                return Err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(name)
                ));
            }
        }
    }
    Ok(EvalHeader {
        flags,
        shebang_len: end,
    })
}

/// A function library's header: `#!<engine> name=<name>` (Redis's
/// `functionExtractLibMetaData`). Returns the engine, the library name and the header's
/// length (the code starts at the line feed, keeping line numbers).
pub fn parse_library_header(code: &[u8]) -> Result<(String, String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let name = name.ok_or("Library name was not given")?;
    Ok((engine, name, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_without_shebang_is_compat_mode() {
        let h = parse_eval_header(b"return 1").unwrap();
        assert!(h.flags.compat);
        assert_eq!(h.shebang_len, 0);
    }

    #[test]
    fn eval_flags_and_errors() {
        let h = parse_eval_header(b"#!lua flags=no-writes,allow-stale\nreturn 1").unwrap();
        assert!(h.flags.no_writes && h.flags.allow_stale && !h.flags.compat);
        assert_eq!(h.shebang_len, 33);
        assert_eq!(
            parse_eval_header(b"#!lua flags=bad\n").unwrap_err(),
            "Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            parse_eval_header(b"#!lua").unwrap_err(),
            "Invalid script shebang"
        );
        assert_eq!(
            parse_eval_header(b"#!python\n").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            parse_eval_header(b"#!lua x=1\n").unwrap_err(),
            "Unknown lua shebang option: x=1"
        );
        let none = parse_eval_header(b"#!lua flags=\nreturn 1").unwrap();
        assert_eq!(
            none.flags,
            ScriptFlags::default(),
            "an empty list declares no flag and leaves compatibility mode"
        );
        assert_eq!(
            parse_eval_header(b"#!lua flags=no-writes,,allow-oom\n").unwrap_err(),
            "Unexpected flag in script shebang: "
        );
    }

    #[test]
    fn library_header() {
        assert_eq!(
            parse_library_header(b"#!lua name=lib\nreturn").unwrap(),
            ("lua".to_string(), "lib".to_string(), 14)
        );
        assert_eq!(
            parse_library_header(b"return").unwrap_err(),
            "Missing library metadata"
        );
        assert_eq!(
            parse_library_header(b"#!lua\n").unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(parse_library_header(b"#!js name=x\n").unwrap().0, "js");
        assert_eq!(
            parse_library_header(b"#!lua name=a name=b\n").unwrap_err(),
            "Invalid metadata value, name argument was given multiple times"
        );
    }
}
