//! Directives that replikv accepts, validates and shows exactly as Redis 7.0 does, but whose
//! value changes nothing here, because the feature they tune behaves the same without them
//! (AOF tuning while `appendonly no`, incremental rehashing our tables do not need...). Each
//! row's `doc` says why it is inert. They live in one map of [`Settings`](super::Settings)
//! rather than a field each, and are declared with `stored!`.

use super::directives::{parse_bool, parse_int, yes_no};
use super::Settings;

/// How a stored directive's value is checked (Redis's config types, with its error texts).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// One of these names.
    Enum(&'static [&'static str]),
    /// Any string.
    Str,
}

/// The value of stored directive `name` (empty when unset).
pub fn get(s: &Settings, name: &str) -> String {
    s.stored.get(name).cloned().unwrap_or_default()
}

/// Checks and stores `args` for stored directive `name`.
pub fn set(
    s: &mut Settings,
    name: &'static str,
    kind: Kind,
    args: &[String],
) -> Result<(), String> {
    let [v] = args else {
        return Err("wrong number of arguments".into());
    };
    let value = match kind {
        Kind::Bool => yes_no(parse_bool(args)?),
        Kind::Int(min, max) => parse_int(args, min, max)?.to_string(),
        Kind::Enum(names) => match names.iter().find(|n| n.eq_ignore_ascii_case(v)) {
            Some(n) => n.to_string(),
            None => {
                return Err(format!(
                    "argument(s) must be one of the following: {}",
                    names.join(", ")
                ))
            }
        },
        Kind::Str => v.clone(),
    };
    s.stored.insert(name, value);
    Ok(())
}

/// A directive row for a stored directive: `stored!(name, default, mutable, kind, doc)`.
macro_rules! stored {
    ($name:literal, $default:literal, $mutable:expr, $kind:expr, $doc:literal) => {
        $crate::config::Directive {
            name: $name,
            alias: None,
            default: $default,
            mutable: $mutable,
            multi_arg: false,
            get: |s| $crate::config::stored::get(s, $name),
            set: |s, a| $crate::config::stored::set(s, $name, $kind, a),
            doc: $doc,
        }
    };
}
pub(crate) use stored;
