//! The command table: every family's `COMMANDS` slice, one line per family. With the
//! executor, the only module that sees every family.

use super::{CommandTable, Spec};

/// Every family's commands.
static FAMILIES: &[&[Spec]] = &[
    super::connection::COMMANDS,
    super::client::COMMANDS,
    super::generic::COMMANDS,
    super::string::COMMANDS,
    super::bitops::COMMANDS,
    super::server::COMMANDS,
    super::config::COMMANDS,
    super::introspection::COMMANDS,
    super::debug::COMMANDS,
    super::info::COMMANDS,
    super::latency::COMMANDS,
    super::lolwut::COMMANDS,
    super::memory::COMMANDS,
    super::slowlog::COMMANDS,
    super::acl::COMMANDS,
    super::cluster::COMMANDS,
    super::monitor::COMMANDS,
    super::migrate::COMMANDS,
    super::sort::COMMANDS,
    super::transactions::COMMANDS,
    super::replication::COMMANDS,
    super::list::COMMANDS,
    super::hash::COMMANDS,
    super::hyperloglog::COMMANDS,
    super::set::COMMANDS,
    super::zset::COMMANDS,
    super::zset::range::COMMANDS,
    super::zset::setops::COMMANDS,
    super::zset::geo::COMMANDS,
    super::pubsub::COMMANDS,
    super::persistence::COMMANDS,
    super::scripting::COMMANDS,
    super::stream::COMMANDS,
];

/// The table.
pub static TABLE: CommandTable = CommandTable::new(FAMILIES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_arity_sane() {
        let mut seen = std::collections::HashSet::new();
        for family in TABLE.families().iter().copied() {
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
        assert!(TABLE.lookup(b"GeT").is_some());
        assert!(TABLE.lookup(b"nope").is_none());
    }
}
