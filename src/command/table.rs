//! The command table: every family's `COMMANDS` slice, gathered once, looked up by name
//! without allocation.

use std::sync::OnceLock;

use super::Spec;
use crate::keyspace::types::HMap;

/// Every family's commands, one line per family.
fn families() -> &'static [&'static [Spec]] {
    static FAMILIES: &[&[Spec]] = &[
        super::connection::COMMANDS,
        super::client::COMMANDS,
        super::generic::COMMANDS,
        super::string::COMMANDS,
        super::server::COMMANDS,
        super::info::COMMANDS,
        super::transactions::COMMANDS,
        super::replication::COMMANDS,
        super::list::COMMANDS,
        super::hash::COMMANDS,
        super::set::COMMANDS,
        super::zset::COMMANDS,
        super::zset_range::COMMANDS,
        super::zset_setops::COMMANDS,
        super::pubsub::COMMANDS,
        super::persistence::COMMANDS,
    ];
    FAMILIES
}

fn index() -> &'static HMap<&'static [u8], &'static Spec> {
    static INDEX: OnceLock<HMap<&'static [u8], &'static Spec>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HMap::default();
        for family in families().iter().copied() {
            for spec in family {
                map.insert(spec.name.as_bytes(), spec);
            }
        }
        map
    })
}

/// The command called `name` (any case).
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    index().get(&buf[..name.len()]).copied()
}

/// The subcommand `name` of `parent` (any case).
pub fn lookup_sub(parent: &'static Spec, name: &[u8]) -> Option<&'static Spec> {
    parent
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Every command, sorted by name (COMMAND, COMMAND LIST, COMMAND DOCS).
pub fn all() -> Vec<&'static Spec> {
    let mut v: Vec<&'static Spec> = index().values().copied().collect();
    v.sort_by_key(|s| s.name);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_arity_sane() {
        let mut seen = std::collections::HashSet::new();
        for family in families().iter().copied() {
            for spec in family {
                assert!(seen.insert(spec.name), "duplicate {}", spec.name);
                assert_eq!(spec.name, spec.name.to_ascii_lowercase());
                assert!(spec.arity != 0, "{}", spec.name);
                for sub in spec.subcommands {
                    assert!(sub.fullname.starts_with(spec.name), "{}", sub.fullname);
                    assert!(sub.arity.abs() >= 2, "{}", sub.fullname);
                }
            }
        }
        assert!(lookup(b"GeT").is_some());
        assert!(lookup(b"nope").is_none());
    }
}
