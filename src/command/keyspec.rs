//! Key specifications and ACL categories, as Redis 7.0 defines them per command: where a
//! command's keys are and how it uses each (read, write, insert, delete...), and which ACL
//! categories it belongs to. The data is generated from Redis's own command definitions
//! (`super::meta`); this module reads it: [`keys_with_flags`] is Redis's
//! `getKeysFromCommandWithSpecs` (key specs first, the command's own key finder where the
//! specs are not enough), [`categories`] its command categories with the implicit ones
//! (`setImplicitACLCategories`).

use bytes::Bytes;

use super::flags::*;
use super::meta::META;
use super::Spec;

// Key spec flags (Redis's CMD_KEY_*).
/// Read only.
pub const K_RO: u16 = 1 << 0;
/// Read and write.
pub const K_RW: u16 = 1 << 1;
/// Overwrite.
pub const K_OW: u16 = 1 << 2;
/// Remove.
pub const K_RM: u16 = 1 << 3;
/// The value is read (returned or used).
pub const K_ACCESS: u16 = 1 << 4;
/// The value is updated.
pub const K_UPDATE: u16 = 1 << 5;
/// Data is added.
pub const K_INSERT: u16 = 1 << 6;
/// Data is deleted.
pub const K_DELETE: u16 = 1 << 7;
/// Not a key (a shard channel in a key's position).
pub const K_NOT_KEY: u16 = 1 << 8;
/// The spec may not find every key.
pub const K_INCOMPLETE: u16 = 1 << 9;
/// The flags depend on the arguments.
pub const K_VARIABLE_FLAGS: u16 = 1 << 10;

/// Key spec flag names, in Redis's order (COMMAND INFO, GETKEYSANDFLAGS).
pub const KEY_FLAG_NAMES: [(u16, &str); 11] = [
    (K_RO, "RO"),
    (K_RW, "RW"),
    (K_OW, "OW"),
    (K_RM, "RM"),
    (K_ACCESS, "access"),
    (K_UPDATE, "update"),
    (K_INSERT, "insert"),
    (K_DELETE, "delete"),
    (K_NOT_KEY, "not_key"),
    (K_INCOMPLETE, "incomplete"),
    (K_VARIABLE_FLAGS, "variable_flags"),
];

// ACL categories, bits in Redis's order.
/// @keyspace
pub const CAT_KEYSPACE: u32 = 1 << 0;
/// @read
pub const CAT_READ: u32 = 1 << 1;
/// @write
pub const CAT_WRITE: u32 = 1 << 2;
/// @set
pub const CAT_SET: u32 = 1 << 3;
/// @sortedset
pub const CAT_SORTEDSET: u32 = 1 << 4;
/// @list
pub const CAT_LIST: u32 = 1 << 5;
/// @hash
pub const CAT_HASH: u32 = 1 << 6;
/// @string
pub const CAT_STRING: u32 = 1 << 7;
/// @bitmap
pub const CAT_BITMAP: u32 = 1 << 8;
/// @hyperloglog
pub const CAT_HYPERLOGLOG: u32 = 1 << 9;
/// @geo
pub const CAT_GEO: u32 = 1 << 10;
/// @stream
pub const CAT_STREAM: u32 = 1 << 11;
/// @pubsub
pub const CAT_PUBSUB: u32 = 1 << 12;
/// @admin
pub const CAT_ADMIN: u32 = 1 << 13;
/// @fast
pub const CAT_FAST: u32 = 1 << 14;
/// @slow
pub const CAT_SLOW: u32 = 1 << 15;
/// @blocking
pub const CAT_BLOCKING: u32 = 1 << 16;
/// @dangerous
pub const CAT_DANGEROUS: u32 = 1 << 17;
/// @connection
pub const CAT_CONNECTION: u32 = 1 << 18;
/// @transaction
pub const CAT_TRANSACTION: u32 = 1 << 19;
/// @scripting
pub const CAT_SCRIPTING: u32 = 1 << 20;

pub use crate::engine::acl::CATEGORY_NAMES;

/// The bit of a category name (case-insensitive); `None` for an unknown one.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    CATEGORY_NAMES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// Where a key spec starts looking.
#[derive(Debug, Clone, Copy)]
pub enum Begin {
    /// At this argument.
    Index(i32),
    /// After this keyword, searched from this argument (from the end when negative).
    Keyword(&'static str, i32),
    /// Only the command's own key finder knows.
    Unknown,
}

/// How a key spec finds its keys from where it starts.
#[derive(Debug, Clone, Copy)]
pub enum Find {
    /// Keys up to `last` (relative to the start; from the end when negative), every `step`;
    /// with `limit`, only 1/limit of what remains.
    Range {
        /// Last key.
        last: i32,
        /// Step.
        step: i32,
        /// Limit.
        limit: i32,
    },
    /// A count at `index` (relative to the start) gives the number of keys, the first at
    /// `first` (relative to the start), every `step`.
    Keynum {
        /// Where the count is.
        index: i32,
        /// First key.
        first: i32,
        /// Step.
        step: i32,
    },
    /// Only the command's own key finder knows.
    Unknown,
}

/// One key specification.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// `K_*` bits.
    pub flags: u16,
    /// Where the search starts.
    pub begin: Begin,
    /// How keys are found.
    pub find: Find,
}

/// The definition of `fullname` (`get`, `client|kill`): its own categories and key specs.
pub fn meta(fullname: &str) -> Option<(u32, &'static [KeySpec])> {
    META.binary_search_by(|(name, _, _)| (*name).cmp(fullname))
        .ok()
        .map(|i| (META[i].1, META[i].2))
}

/// A command's ACL categories: those its definition names plus the implicit ones its flags
/// give (Redis's `setImplicitACLCategories`).
pub fn categories(spec: &Spec) -> u32 {
    let mut cats = meta(spec.fullname).map_or(0, |(c, _)| c);
    if spec.has(WRITE) {
        cats |= CAT_WRITE;
    }
    // Scripting commands are not @read even when read-only.
    if spec.has(READONLY) && cats & CAT_SCRIPTING == 0 {
        cats |= CAT_READ;
    }
    if spec.has(ADMIN) {
        cats |= CAT_ADMIN | CAT_DANGEROUS;
    }
    if spec.has(PUBSUB) {
        cats |= CAT_PUBSUB;
    }
    if spec.has(FAST) {
        cats |= CAT_FAST;
    }
    if spec.has(BLOCKING) {
        cats |= CAT_BLOCKING;
    }
    if cats & CAT_FAST == 0 {
        cats |= CAT_SLOW;
    }
    cats
}

/// The keys `argv` names for `spec`, as `(argument index, K_* flags)`, in the order Redis
/// finds them. Shard channels (`not_key`) are left out.
pub fn keys_with_flags(spec: &Spec, argv: &[Bytes]) -> Vec<(usize, u16)> {
    let specs = meta(spec.fullname).map_or(&[][..], |(_, s)| s);
    let variable = specs.iter().any(|s| s.flags & K_VARIABLE_FLAGS != 0);
    if !variable {
        if let Some(keys) = from_specs(specs, argv) {
            return keys;
        }
    }
    own_key_finder(spec, argv)
}

/// Redis's `getKeysUsingKeySpecs`: `None` when a spec cannot say (unknown, incomplete, or
/// arguments that do not fit it).
fn from_specs(specs: &[KeySpec], argv: &[Bytes]) -> Option<Vec<(usize, u16)>> {
    let argc = argv.len() as i32;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags & K_NOT_KEY != 0 {
            continue;
        }
        let first = match spec.begin {
            Begin::Index(i) => i,
            Begin::Keyword(word, from) => {
                let (start, end) = if from > 0 {
                    (from, argc - 1)
                } else {
                    (argc + from, 1)
                };
                // As Redis: the end itself is not searched (a key must follow).
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(word.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (first, last, step) = match spec.find {
            Find::Range { last, step, limit } => {
                let end = if last >= 0 {
                    first + last
                } else if limit == 0 {
                    argc + last
                } else {
                    first + ((argc - first) / limit + last)
                };
                (first, end, step)
            }
            Find::Keynum {
                index,
                first: f,
                step,
            } => {
                let at = first + index;
                if at >= argc {
                    return None;
                }
                let n = crate::resp::parser::parse_i64(&argv[at as usize]).filter(|n| *n >= 0)?;
                let start = first + f;
                (start, start + n as i32 - 1, step)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, spec.flags));
            i += step.max(1);
        }
        if spec.flags & K_INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// The command's own key finder, for what its specs cannot say (Redis's getkeys procs).
fn own_key_finder(spec: &Spec, argv: &[Bytes]) -> Vec<(usize, u16)> {
    match spec.name {
        "set" => {
            let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
            let flags = if get {
                K_RW | K_ACCESS | K_UPDATE
            } else {
                K_OW | K_UPDATE
            };
            vec![(1, flags)]
        }
        "bitfield" => vec![(1, bitfield_flags(argv))],
        "sort" | "sort_ro" => {
            let mut keys = vec![(1, K_RO | K_ACCESS)];
            if spec.name == "sort" {
                let mut store = None;
                let mut i = 2;
                while i < argv.len() {
                    let a = &argv[i][..];
                    if a.eq_ignore_ascii_case(b"LIMIT") {
                        i += 2;
                    } else if a.eq_ignore_ascii_case(b"GET") || a.eq_ignore_ascii_case(b"BY") {
                        i += 1;
                    } else if a.eq_ignore_ascii_case(b"STORE") && i + 1 < argv.len() {
                        store = Some(i + 1);
                    }
                    i += 1;
                }
                keys.extend(store.map(|i| (i, K_OW | K_UPDATE)));
            }
            keys
        }
        "migrate" => {
            // The key argument, or what follows KEYS when it is empty; the passwords of
            // AUTH and AUTH2 are skipped on the way (Redis's `migrateGetKeys`).
            let flags = K_RW | K_ACCESS | K_DELETE;
            let (mut first, mut num) = (3, 1);
            let mut i = 6;
            while i < argv.len() {
                let a = &argv[i][..];
                if a.eq_ignore_ascii_case(b"KEYS") {
                    if argv[3].is_empty() {
                        first = i + 1;
                        num = argv.len() - first;
                    } else {
                        num = 0;
                    }
                    break;
                }
                if a.eq_ignore_ascii_case(b"AUTH") {
                    i += 1;
                } else if a.eq_ignore_ascii_case(b"AUTH2") {
                    i += 2;
                }
                i += 1;
            }
            (first..first + num).map(|k| (k, flags)).collect()
        }
        _ => Vec::new(),
    }
}

/// BITFIELD reads only when every operation is a GET (Redis's `bitfieldGetKeys`).
fn bitfield_flags(argv: &[Bytes]) -> u16 {
    let mut i = 2;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        let a = &argv[i][..];
        if a.eq_ignore_ascii_case(b"GET") && left >= 2 {
            i += 3;
        } else if a.eq_ignore_ascii_case(b"OVERFLOW") && left >= 1 {
            i += 2;
        } else {
            return K_RW | K_ACCESS | K_UPDATE;
        }
    }
    K_RO | K_ACCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_table_is_sorted_for_binary_search() {
        assert!(META.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(meta("client|kill").is_some());
        assert!(meta("nonsense").is_none());
    }

    #[test]
    fn category_names_resolve_case_insensitively() {
        assert_eq!(category_bit(b"DANGEROUS"), Some(CAT_DANGEROUS));
        assert_eq!(category_bit(b"scripting"), Some(CAT_SCRIPTING));
        assert_eq!(category_bit(b"all"), None);
    }

    #[test]
    fn bitfield_is_read_only_with_gets_alone() {
        let argv = |s: &str| {
            s.split(' ')
                .map(|a| Bytes::from(a.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bitfield_flags(&argv("BITFIELD k GET u8 0")),
            K_RO | K_ACCESS
        );
        assert_eq!(
            bitfield_flags(&argv("BITFIELD k GET u8 0 SET u8 0 1")),
            K_RW | K_ACCESS | K_UPDATE
        );
    }
}
