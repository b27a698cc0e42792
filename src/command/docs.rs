//! COMMAND DOCS: the documentation redis-cli reads at start-up to build its `help` and its
//! as-you-type hints.
//!
//! redis-cli 7.0 is strict about this reply: it asserts on the type of every field it reads
//! (a wrong type aborts the client), and an argument without a `type` or a command without a
//! `summary`/`group` leaves it with uninitialised help entries. So the reply has exactly the
//! shape Redis 7.0 gives it: per command a map of `summary`, `since`, `group`, `complexity`,
//! `doc_flags` (a set of simple strings), `deprecated_since`, `replaced_by`, `history` (a set
//! of `[version, text]` pairs), `arguments` (an array of argument maps) and `subcommands` (a
//! map by full name), each present only when it has a value, in that order; maps and sets
//! become flat arrays in RESP2. An argument map holds `name`, `type`, `key_spec_index`,
//! `token`, `since`, `deprecated_since`, `flags` (a set of simple strings) and, for choices
//! and blocks, the nested `arguments`.
//!
//! The words live in [`catalog`], one row per command, with the arguments in the compact
//! syntax of [`syntax`]; rows are parsed once, on first use.

mod catalog;
mod syntax;

use std::sync::OnceLock;

use super::Spec;
use crate::keyspace::types::HMap;
use crate::resp::ReplyBuf;
pub use catalog::{Deprecation, Doc, CATALOG};
pub use syntax::{synopsis, Arg, Kind, SyntaxError};

/// A catalog row with its arguments parsed.
#[derive(Debug)]
pub struct Entry {
    /// The row.
    pub doc: &'static Doc,
    /// Its argument tree (empty when the row does not parse; the unit tests forbid that).
    pub args: Vec<Arg>,
}

/// The parsed catalog entry for a full command name (`get`, `config|get`).
pub fn entry(fullname: &str) -> Option<&'static Entry> {
    static ENTRIES: OnceLock<HMap<&'static str, Entry>> = OnceLock::new();
    ENTRIES
        .get_or_init(|| {
            let mut map = HMap::default();
            for doc in CATALOG {
                let args = syntax::parse(doc.args).unwrap_or_else(|e| {
                    tracing::warn!(command = doc.name, error = %e, "unparsable command docs");
                    Vec::new()
                });
                map.insert(doc.name, Entry { doc, args });
            }
            map
        })
        .get(fullname)
}

/// Writes the docs map of one command (and of its subcommands).
pub fn write_docs(out: &mut ReplyBuf, spec: &Spec) {
    match entry(spec.fullname) {
        Some(entry) => write_entry(out, spec, entry),
        None => write_undocumented(out, spec),
    }
}

fn write_entry(out: &mut ReplyBuf, spec: &Spec, entry: &Entry) {
    let doc = entry.doc;
    let flags: Vec<&str> = doc.doc_flags().collect();
    let fields = 3
        + usize::from(!doc.complexity.is_empty())
        + usize::from(!flags.is_empty())
        + 2 * usize::from(doc.deprecated.is_some())
        + usize::from(!doc.history.is_empty())
        + usize::from(!entry.args.is_empty())
        + usize::from(!spec.subcommands.is_empty());
    out.map(fields);
    out.bulk(b"summary");
    out.bulk(doc.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(doc.since.as_bytes());
    out.bulk(b"group");
    out.bulk(doc.group.as_bytes());
    if !doc.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(doc.complexity.as_bytes());
    }
    if !flags.is_empty() {
        out.bulk(b"doc_flags");
        out.set(flags.len());
        for flag in flags {
            out.simple(flag);
        }
    }
    if let Some(dep) = doc.deprecated {
        out.bulk(b"deprecated_since");
        out.bulk(dep.since.as_bytes());
        out.bulk(b"replaced_by");
        out.bulk(dep.replaced_by.as_bytes());
    }
    if !doc.history.is_empty() {
        out.bulk(b"history");
        out.set(doc.history.len());
        for (version, change) in doc.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !entry.args.is_empty() {
        out.bulk(b"arguments");
        write_args(out, &entry.args);
    }
    write_subcommands(out, spec);
}

/// A command in the table without a catalog row (the unit tests forbid it, but a reply must
/// never break redis-cli): the three fields redis-cli needs.
fn write_undocumented(out: &mut ReplyBuf, spec: &Spec) {
    out.map(3 + usize::from(!spec.subcommands.is_empty()));
    out.bulk(b"summary");
    out.bulk(b"");
    out.bulk(b"since");
    out.bulk(b"");
    out.bulk(b"group");
    out.bulk(docs_group(spec.group).as_bytes());
    write_subcommands(out, spec);
}

fn write_subcommands(out: &mut ReplyBuf, spec: &Spec) {
    if spec.subcommands.is_empty() {
        return;
    }
    out.bulk(b"subcommands");
    out.map(spec.subcommands.len());
    for sub in spec.subcommands {
        out.bulk(sub.fullname.as_bytes());
        write_docs(out, sub);
    }
}

fn write_args(out: &mut ReplyBuf, args: &[Arg]) {
    out.array(args.len());
    for arg in args {
        write_arg(out, arg);
    }
}

fn write_arg(out: &mut ReplyBuf, arg: &Arg) {
    let flags: Vec<&str> = arg.flags().collect();
    let children = arg.kind.children();
    let fields = 2
        + usize::from(arg.key_spec_index.is_some())
        + usize::from(arg.token.is_some())
        + usize::from(arg.since.is_some())
        + usize::from(arg.deprecated_since.is_some())
        + usize::from(!flags.is_empty())
        + usize::from(children.is_some());
    out.map(fields);
    out.bulk(b"name");
    out.bulk(arg.name.as_bytes());
    out.bulk(b"type");
    out.bulk(arg.kind.type_name().as_bytes());
    if let Some(index) = arg.key_spec_index {
        out.bulk(b"key_spec_index");
        out.int(index as i64);
    }
    if let Some(token) = arg.token {
        out.bulk(b"token");
        out.bulk(token.as_bytes());
    }
    if let Some(since) = arg.since {
        out.bulk(b"since");
        out.bulk(since.as_bytes());
    }
    if let Some(since) = arg.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(since.as_bytes());
    }
    if !flags.is_empty() {
        out.bulk(b"flags");
        out.set(flags.len());
        for flag in flags {
            out.simple(flag);
        }
    }
    if let Some(children) = children {
        out.bulk(b"arguments");
        write_args(out, children);
    }
}

/// The group as COMMAND DOCS spells it: the table says `sorted_set` (the ACL category code
/// keys on it), the docs say `sorted-set`.
fn docs_group(table_group: &str) -> String {
    table_group.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::table::TABLE;
    use crate::resp::writer::Proto;

    fn reply(spec: &Spec, proto: Proto) -> String {
        let mut out = ReplyBuf::new(proto);
        write_docs(&mut out, spec);
        String::from_utf8(out.buf).unwrap().replace("\r\n", " ")
    }

    #[test]
    fn every_command_in_the_table_has_docs_in_its_group() {
        for spec in TABLE.all() {
            for s in std::iter::once(spec).chain(spec.subcommands) {
                let e = entry(s.fullname).unwrap_or_else(|| {
                    panic!("{} has no row in src/command/docs/catalog.rs", s.fullname)
                });
                assert_eq!(e.doc.group, docs_group(s.group), "{}", s.fullname);
                assert!(!e.doc.summary.is_empty(), "{}", s.fullname);
            }
        }
    }

    #[test]
    fn every_row_parses_and_is_well_formed() {
        let mut names = std::collections::HashSet::new();
        let groups = [
            "generic",
            "cluster",
            "string",
            "list",
            "hash",
            "set",
            "sorted-set",
            "hyperloglog",
            "geo",
            "bitmap",
            "stream",
            "scripting",
            "pubsub",
            "transactions",
            "connection",
            "server",
        ];
        let version = |v: &str| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok())
        };
        for doc in CATALOG {
            assert!(names.insert(doc.name), "two rows for {}", doc.name);
            assert_eq!(doc.name, doc.name.to_ascii_lowercase());
            if let Some((parent, _)) = doc.name.split_once('|') {
                assert!(
                    CATALOG.iter().any(|d| d.name == parent),
                    "{} has no parent row",
                    doc.name
                );
            }
            assert!(
                groups.contains(&doc.group),
                "{}: group {}",
                doc.name,
                doc.group
            );
            assert!(version(doc.since), "{}: since {}", doc.name, doc.since);
            assert!(doc.summary.ends_with('.'), "{}: summary", doc.name);
            assert!(!doc.summary.contains('\n'), "{}", doc.name);
            for (v, text) in doc.history {
                assert!(version(v) && !text.is_empty(), "{}: history", doc.name);
            }
            if let Some(dep) = doc.deprecated {
                assert!(version(dep.since) && !dep.replaced_by.is_empty());
            }
            if let Err(e) = syntax::parse(doc.args) {
                panic!("{}: {e}", doc.name);
            }
            assert!(entry(doc.name).is_some());
        }
    }

    #[test]
    fn get_reply_is_byte_exact_in_both_protocols() {
        let get = TABLE.lookup(b"get").unwrap();
        let summary = entry("get").unwrap().doc.summary;
        let body3 = format!(
            "%5 $7 summary ${} {summary} $5 since $5 1.0.0 $5 group $6 string \
             $10 complexity $4 O(1) $9 arguments *1 %3 $4 name $3 key $4 type $3 key \
             $14 key_spec_index :0 ",
            summary.len()
        );
        assert_eq!(reply(get, Proto::Resp3), body3);
        let body2 = body3.replace("%5", "*10").replace("%3", "*6");
        assert_eq!(reply(get, Proto::Resp2), body2);
    }

    #[test]
    fn flags_history_and_deprecation_use_sets_of_simple_strings() {
        // SET: history, a oneof with a since and an optional flag.
        let set = TABLE.lookup(b"set").unwrap();
        let r3 = reply(set, Proto::Resp3);
        assert!(r3.contains("$7 history ~4 *2 $6 2.6.12 "), "{r3}");
        assert!(r3.contains(
            "%5 $4 name $9 condition $4 type $5 oneof $5 since $6 2.6.12 $5 flags ~1 +optional \
             $9 arguments *2 %3 $4 name $2 nx $4 type $10 pure-token $5 token $2 NX "
        ));
        let r2 = reply(set, Proto::Resp2);
        assert!(r2.contains("$7 history *4 *2 $6 2.6.12 "), "{r2}");
        assert!(r2.contains("$5 flags *1 +optional "), "{r2}");
        // GETSET: deprecated.
        let getset = TABLE.lookup(b"getset").unwrap();
        let r3 = reply(getset, Proto::Resp3);
        assert!(r3.contains(
            "$9 doc_flags ~1 +deprecated $16 deprecated_since $5 6.2.0 $11 replaced_by "
        ));
    }

    #[test]
    fn containers_nest_their_subcommands_by_full_name() {
        let config = TABLE.lookup(b"config").unwrap();
        let r3 = reply(config, Proto::Resp3);
        assert!(r3.contains(&format!("$11 subcommands %{} ", config.subcommands.len())));
        assert!(r3.contains("$10 config|get %"), "{r3}");
        assert!(!r3.contains("$9 arguments *0"), "{r3}");
    }

    #[test]
    fn synopses_read_as_redis_cli_prints_them() {
        let syn = |name: &str| synopsis(&entry(name).unwrap().args);
        assert_eq!(
            syn("set"),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds\
             |PXAT unix-time-milliseconds|KEEPTTL]"
        );
        assert_eq!(syn("mset"), "key value [key value ...]");
        assert_eq!(
            syn("zadd"),
            "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"
        );
        assert_eq!(syn("replicaof"), "host port|NO ONE");
        assert_eq!(
            syn("restore"),
            "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"
        );
        assert_eq!(syn("bgsave"), "[SCHEDULE]");
        assert_eq!(syn("config|set"), "parameter value [parameter value ...]");
        assert_eq!(syn("time"), "");
    }

    #[test]
    fn keys_are_numbered_like_redis_key_specs() {
        let keys = |name: &str| -> Vec<(String, usize)> {
            fn walk(args: &[Arg], out: &mut Vec<(String, usize)>) {
                for a in args {
                    if let Some(i) = a.key_spec_index {
                        out.push((a.name.clone(), i));
                    }
                    if let Some(c) = a.kind.children() {
                        walk(c, out);
                    }
                }
            }
            let mut out = Vec::new();
            walk(&entry(name).unwrap().args, &mut out);
            out
        };
        assert_eq!(
            keys("lmove"),
            [("source".into(), 0), ("destination".into(), 1)]
        );
        assert_eq!(
            keys("zunionstore"),
            [("destination".into(), 0), ("key".into(), 1)]
        );
        assert_eq!(keys("mset"), [("key".into(), 0)]);
        assert_eq!(keys("ping"), []);
    }
}
