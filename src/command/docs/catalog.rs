//! The words: one row per command and subcommand replikv implements or is about to.
//!
//! Each row gives the full name (`config|get` for a subcommand), the group COMMAND DOCS
//! reports, the Redis version the command appeared in, its cost, a one-line summary in our
//! own words, and its arguments in the syntax of [`super::syntax`]. Versions, argument order,
//! tokens and types are facts of the Redis 7.0 interface (clients and redis-cli depend on
//! them); the summaries, costs and history notes are ours.
//!
//! A row for a command that is not (yet) in the command table costs nothing: COMMAND DOCS
//! walks the table and looks rows up here. A command in the table without a row fails the
//! unit tests in `docs.rs`.

/// A deprecation notice: since when, and what to use instead.
#[derive(Debug, Clone, Copy)]
pub struct Deprecation {
    /// Version that deprecated the command.
    pub since: &'static str,
    /// What replaces it, in our words.
    pub replaced_by: &'static str,
}

/// One command's documentation.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    /// Full name, lower case (`get`, `config|get`).
    pub name: &'static str,
    /// Group as COMMAND DOCS names it (`string`, `sorted-set`...).
    pub group: &'static str,
    /// Redis version that introduced the command.
    pub since: &'static str,
    /// Time complexity; empty when Redis documents none.
    pub complexity: &'static str,
    /// One line, our words.
    pub summary: &'static str,
    /// Arguments in our syntax (see `syntax.rs`).
    pub args: &'static str,
    /// Notable changes: (version, what changed).
    pub history: &'static [(&'static str, &'static str)],
    /// Set when the command is deprecated.
    pub deprecated: Option<Deprecation>,
    /// An internal command (replication plumbing, debugging): `syscmd` doc flag.
    pub syscmd: bool,
}

impl Doc {
    /// The doc flags COMMAND DOCS lists.
    pub fn doc_flags(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.deprecated.is_some(), "deprecated"),
            (self.syscmd, "syscmd"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }

    const fn history(self, history: &'static [(&'static str, &'static str)]) -> Doc {
        Doc { history, ..self }
    }

    const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> Doc {
        Doc {
            deprecated: Some(Deprecation { since, replaced_by }),
            ..self
        }
    }

    const fn syscmd(self) -> Doc {
        Doc {
            syscmd: true,
            ..self
        }
    }
}

const fn doc(
    name: &'static str,
    group: &'static str,
    since: &'static str,
    complexity: &'static str,
    summary: &'static str,
    args: &'static str,
) -> Doc {
    Doc {
        name,
        group,
        since,
        complexity,
        summary,
        args,
        history: &[],
        deprecated: None,
        syscmd: false,
    }
}

const GENERIC: &str = "generic";
const STRING: &str = "string";
const LIST: &str = "list";
const HASH: &str = "hash";
const SET: &str = "set";
const HYPERLOGLOG: &str = "hyperloglog";
const SCRIPTING: &str = "scripting";
const ZSET: &str = "sorted-set";
const STREAM: &str = "stream";
const GEO: &str = "geo";
const BITMAP: &str = "bitmap";
const PUBSUB: &str = "pubsub";
const TRANSACTIONS: &str = "transactions";
const CONNECTION: &str = "connection";
const SERVER: &str = "server";

const TIMEOUT_AS_DOUBLE: &[(&str, &str)] = &[(
    "6.0.0",
    "The timeout may have a fractional part (it was whole seconds before).",
)];
const EXPIRY_CONDITIONS: &[(&str, &str)] = &[(
    "7.0.0",
    "NX, XX, GT and LT make the change conditional on the current TTL.",
)];
const MINUS_TWO: &[(&str, &str)] = &[(
    "2.8.0",
    "A missing key answers -2, told apart from a key without expiry (-1).",
)];

/// Every documented command, grouped as Redis groups them.
#[rustfmt::skip]
pub static CATALOG: &[Doc] = &[
    // ---- keys (generic) ----
    doc("copy", GENERIC, "6.2.0", "O(N) for a collection of N elements, O(1) for a string",
        "Duplicates the value of a key under another name, optionally into another database.",
        "source:key destination:key [DB destination-db:integer] [REPLACE]"),
    doc("del", GENERIC, "1.0.0", "O(N) over the keys given, plus the size of each removed collection",
        "Removes the given keys and says how many existed.",
        "key..."),
    doc("dump", GENERIC, "2.6.0", "O(1) to find the key, then O(N*M) to serialize N elements of size M",
        "Serializes the value of a key in the RDB format RESTORE reads back.",
        "key"),
    doc("exists", GENERIC, "1.0.0", "O(N) over the keys given",
        "Counts how many of the given keys exist (a key named twice counts twice).",
        "key...")
        .history(&[("3.0.3", "Takes several keys.")]),
    doc("expire", GENERIC, "1.0.0", "O(1)",
        "Gives a key a time to live in seconds.",
        "key seconds:integer condition=[NX | XX | GT | LT]@7.0.0")
        .history(EXPIRY_CONDITIONS),
    doc("expireat", GENERIC, "1.2.0", "O(1)",
        "Makes a key expire at a Unix time given in seconds.",
        "key unix-time-seconds:unix-time condition=[NX | XX | GT | LT]@7.0.0")
        .history(EXPIRY_CONDITIONS),
    doc("expiretime", GENERIC, "7.0.0", "O(1)",
        "Tells the Unix time in seconds at which a key will expire.",
        "key"),
    doc("keys", GENERIC, "1.0.0", "O(N) over every key of the database",
        "Lists the keys whose names match a glob-style pattern; walks the whole database.",
        "pattern:pattern"),
    doc("move", GENERIC, "1.0.0", "O(1)",
        "Moves a key to another database of the same server.",
        "key db:integer"),
    doc("object", GENERIC, "2.2.3", "Depends on the subcommand",
        "Groups the subcommands that look inside a stored value.",
        ""),
    doc("object|encoding", GENERIC, "2.2.3", "O(1)",
        "Names the internal representation of the value stored at a key.",
        "key"),
    doc("object|freq", GENERIC, "4.0.0", "O(1)",
        "Reports the access-frequency counter of a key (LFU eviction policies only).",
        "key"),
    doc("object|help", GENERIC, "6.2.0", "O(1)",
        "Lists the OBJECT subcommands.",
        ""),
    doc("object|idletime", GENERIC, "2.2.3", "O(1)",
        "Reports how many seconds a key has gone unread and unwritten.",
        "key"),
    doc("object|refcount", GENERIC, "2.2.3", "O(1)",
        "Reports how many references hold the value of a key.",
        "key"),
    doc("persist", GENERIC, "2.2.0", "O(1)",
        "Removes the expiry of a key so it lives until deleted.",
        "key"),
    doc("pexpire", GENERIC, "2.6.0", "O(1)",
        "Gives a key a time to live in milliseconds.",
        "key milliseconds:integer condition=[NX | XX | GT | LT]@7.0.0")
        .history(EXPIRY_CONDITIONS),
    doc("pexpireat", GENERIC, "2.6.0", "O(1)",
        "Makes a key expire at a Unix time given in milliseconds.",
        "key unix-time-milliseconds:unix-time condition=[NX | XX | GT | LT]@7.0.0")
        .history(EXPIRY_CONDITIONS),
    doc("pexpiretime", GENERIC, "7.0.0", "O(1)",
        "Tells the Unix time in milliseconds at which a key will expire.",
        "key"),
    doc("pttl", GENERIC, "2.6.0", "O(1)",
        "Tells how many milliseconds a key has left to live.",
        "key")
        .history(MINUS_TWO),
    doc("randomkey", GENERIC, "1.0.0", "O(1)",
        "Picks a key of the database at random.",
        ""),
    doc("rename", GENERIC, "1.0.0", "O(1), plus the cost of deleting a value already at the new name",
        "Gives a key a new name, replacing whatever had that name.",
        "key newkey:key"),
    doc("renamenx", GENERIC, "1.0.0", "O(1)",
        "Gives a key a new name only if no key has that name yet.",
        "key newkey:key")
        .history(&[("3.2.0", "Renaming a key to its own name is no longer an error.")]),
    doc("restore", GENERIC, "2.6.0", "O(1) to create the key, then O(N*M) to rebuild N elements of size M",
        "Creates a key from a value serialized by DUMP.",
        "key ttl:integer serialized-value [REPLACE]@3.0.0 [ABSTTL]@5.0.0 \
         [IDLETIME seconds:integer]@5.0.0 [FREQ frequency:integer]@5.0.0")
        .history(&[
            ("3.0.0", "REPLACE overwrites an existing key."),
            ("5.0.0", "ABSTTL reads the TTL as an absolute Unix time in milliseconds."),
            ("5.0.0", "IDLETIME and FREQ restore the eviction metadata."),
        ]),
    doc("scan", GENERIC, "2.8.0", "O(1) per call; O(N) for a whole iteration over N keys",
        "Walks the keys of the database a few at a time with a cursor.",
        "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]@6.0.0")
        .history(&[("6.0.0", "TYPE keeps only keys holding that kind of value.")]),
    doc("touch", GENERIC, "3.2.1", "O(N) over the keys given",
        "Marks keys as just accessed and counts how many exist.",
        "key..."),
    doc("ttl", GENERIC, "1.0.0", "O(1)",
        "Tells how many seconds a key has left to live.",
        "key")
        .history(MINUS_TWO),
    doc("type", GENERIC, "1.0.0", "O(1)",
        "Names the kind of value stored at a key (string, list, set, zset, hash).",
        "key"),
    doc("unlink", GENERIC, "4.0.0", "O(1) per key; large values are freed later, off the request path",
        "Removes keys like DEL, without making the client wait for large values to be freed.",
        "key..."),
    doc("wait", GENERIC, "3.0.0", "O(1)",
        "Blocks until the writes of this connection reach a number of replicas, or a timeout passes.",
        "numreplicas:integer timeout:integer"),

    // ---- strings ----
    doc("lcs", STRING, "7.0.0", "O(N*M): N and M the lengths of the two strings",
        "Finds the longest common subsequence of two strings: the subsequence, its length, or the ranges that match.",
        "key1:key key2:key+ [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]"),
    doc("append", STRING, "2.0.0", "O(1) amortized",
        "Adds bytes at the end of a string, creating it when missing; answers the new length.",
        "key value"),
    doc("decr", STRING, "1.0.0", "O(1)",
        "Subtracts one from the integer stored at a key.",
        "key"),
    doc("decrby", STRING, "1.0.0", "O(1)",
        "Subtracts a given amount from the integer stored at a key.",
        "key decrement:integer"),
    doc("get", STRING, "1.0.0", "O(1)",
        "Reads the string stored at a key.",
        "key"),
    doc("getdel", STRING, "6.2.0", "O(1)",
        "Reads the string stored at a key and removes the key.",
        "key"),
    doc("getex", STRING, "6.2.0", "O(1)",
        "Reads the string stored at a key and changes or clears its expiry.",
        "key expiration=[EX seconds:integer | PX milliseconds:integer \
         | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | PERSIST]"),
    doc("getrange", STRING, "2.4.0", "O(N) in the length returned",
        "Reads a slice of a string between two offsets, both included.",
        "key start:integer end:integer"),
    doc("getset", STRING, "1.0.0", "O(1)",
        "Stores a new string at a key and answers the one it replaces.",
        "key value")
        .deprecated("6.2.0", "`SET` with its `GET` option"),
    doc("incr", STRING, "1.0.0", "O(1)",
        "Adds one to the integer stored at a key.",
        "key"),
    doc("incrby", STRING, "1.0.0", "O(1)",
        "Adds a given amount to the integer stored at a key.",
        "key increment:integer"),
    doc("incrbyfloat", STRING, "2.6.0", "O(1)",
        "Adds a floating point amount to the number stored at a key.",
        "key increment:double"),
    doc("mget", STRING, "1.0.0", "O(N) over the keys given",
        "Reads several strings at once; a missing key or another type reads as nil.",
        "key..."),
    doc("mset", STRING, "1.0.1", "O(N) over the pairs given",
        "Stores several strings at once, atomically.",
        "data=(key value)..."),
    doc("msetnx", STRING, "1.0.1", "O(N) over the pairs given",
        "Stores several strings at once, only if none of the keys exists yet.",
        "data=(key value)..."),
    doc("psetex", STRING, "2.6.0", "O(1)",
        "Stores a string with a time to live in milliseconds.",
        "key milliseconds:integer value"),
    doc("set", STRING, "1.0.0", "O(1)",
        "Stores a string at a key; options make it conditional, give it an expiry, or answer the old value.",
        "key value condition=[NX | XX]@2.6.12 [GET]@6.2.0 \
         expiration=[EX seconds:integer@2.6.12 | PX milliseconds:integer@2.6.12 \
         | EXAT unix-time-seconds:unix-time@6.2.0 | PXAT unix-time-milliseconds:unix-time@6.2.0 \
         | KEEPTTL@6.0.0]")
        .history(&[
            ("2.6.12", "EX and PX set an expiry, NX and XX a condition."),
            ("6.0.0", "KEEPTTL keeps the current expiry."),
            ("6.2.0", "GET answers the old value; EXAT and PXAT take an absolute time."),
            ("7.0.0", "NX and GET may be combined."),
        ]),
    doc("setex", STRING, "2.0.0", "O(1)",
        "Stores a string with a time to live in seconds.",
        "key seconds:integer value"),
    doc("setnx", STRING, "1.0.0", "O(1)",
        "Stores a string only if the key does not exist yet.",
        "key value"),
    doc("setrange", STRING, "2.2.0", "O(1), plus the copy when the string has to grow",
        "Overwrites part of a string from an offset, padding with zero bytes when needed.",
        "key offset:integer value"),
    doc("strlen", STRING, "2.2.0", "O(1)",
        "Tells the length in bytes of the string stored at a key.",
        "key"),
    doc("substr", STRING, "1.0.0", "O(N) in the length returned",
        "Reads a slice of a string; the old name of GETRANGE.",
        "key start:integer end:integer")
        .deprecated("2.0.0", "`GETRANGE`"),

    // ---- lists ----
    doc("blmove", LIST, "6.2.0", "O(1)",
        "Moves an element from one end of a list to an end of another, waiting for one if the source is empty.",
        "source:key destination:key wherefrom=(LEFT | RIGHT) whereto=(LEFT | RIGHT) timeout:double"),
    doc("blmpop", LIST, "7.0.0", "O(N+M): N keys tried, M elements popped",
        "Pops elements from the first non-empty list among several, waiting for one if all are empty.",
        "timeout:double numkeys:integer key... where=(LEFT | RIGHT) [COUNT count:integer]"),
    doc("blpop", LIST, "2.0.0", "O(N) over the keys given",
        "Pops the first element of the first non-empty list, waiting for one if all are empty.",
        "key... timeout:double")
        .history(TIMEOUT_AS_DOUBLE),
    doc("brpop", LIST, "2.0.0", "O(N) over the keys given",
        "Pops the last element of the first non-empty list, waiting for one if all are empty.",
        "key... timeout:double")
        .history(TIMEOUT_AS_DOUBLE),
    doc("brpoplpush", LIST, "2.2.0", "O(1)",
        "Moves the last element of a list to the head of another, waiting for one if the source is empty.",
        "source:key destination:key timeout:double")
        .history(TIMEOUT_AS_DOUBLE)
        .deprecated("6.2.0", "`BLMOVE source destination RIGHT LEFT timeout`"),
    doc("lindex", LIST, "1.0.0", "O(N) in the distance to the nearer end",
        "Reads the element at an index of a list (negative indexes count from the tail).",
        "key index:integer"),
    doc("linsert", LIST, "2.2.0", "O(N) in the distance to the pivot",
        "Inserts an element just before or after the first occurrence of another.",
        "key where=(BEFORE | AFTER) pivot element"),
    doc("llen", LIST, "1.0.0", "O(1)",
        "Tells how many elements a list holds.",
        "key"),
    doc("lmove", LIST, "6.2.0", "O(1)",
        "Moves an element from one end of a list to an end of another.",
        "source:key destination:key wherefrom=(LEFT | RIGHT) whereto=(LEFT | RIGHT)"),
    doc("lmpop", LIST, "7.0.0", "O(N+M): N keys tried, M elements popped",
        "Pops elements from the first non-empty list among several.",
        "numkeys:integer key... where=(LEFT | RIGHT) [COUNT count:integer]"),
    doc("lpop", LIST, "1.0.0", "O(N) in the number of elements popped",
        "Removes and answers elements from the head of a list.",
        "key [count:integer]@6.2.0")
        .history(&[("6.2.0", "An optional count pops several elements.")]),
    doc("lpos", LIST, "6.0.6", "O(N) in the elements scanned",
        "Finds the positions at which an element occurs in a list.",
        "key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]"),
    doc("lpush", LIST, "1.0.0", "O(1) per element",
        "Adds elements at the head of a list, creating it when missing.",
        "key element...")
        .history(&[("2.4.0", "Takes several elements.")]),
    doc("lpushx", LIST, "2.2.0", "O(1) per element",
        "Adds elements at the head of a list only if the list already exists.",
        "key element...")
        .history(&[("4.0.0", "Takes several elements.")]),
    doc("lrange", LIST, "1.0.0", "O(S+N): S to reach the start, N elements returned",
        "Reads the elements of a list between two indexes, both included.",
        "key start:integer stop:integer"),
    doc("lrem", LIST, "1.0.0", "O(N+M): N elements scanned, M removed",
        "Removes occurrences of an element, from the head, the tail, or all of them.",
        "key count:integer element"),
    doc("lset", LIST, "1.0.0", "O(N) in the distance to the nearer end",
        "Replaces the element at an index of a list.",
        "key index:integer element"),
    doc("ltrim", LIST, "1.0.0", "O(N) in the elements removed",
        "Keeps only the elements of a list between two indexes.",
        "key start:integer stop:integer"),
    doc("rpop", LIST, "1.0.0", "O(N) in the number of elements popped",
        "Removes and answers elements from the tail of a list.",
        "key [count:integer]@6.2.0")
        .history(&[("6.2.0", "An optional count pops several elements.")]),
    doc("rpoplpush", LIST, "1.2.0", "O(1)",
        "Moves the last element of a list to the head of another.",
        "source:key destination:key")
        .deprecated("6.2.0", "`LMOVE source destination RIGHT LEFT`"),
    doc("rpush", LIST, "1.0.0", "O(1) per element",
        "Adds elements at the tail of a list, creating it when missing.",
        "key element...")
        .history(&[("2.4.0", "Takes several elements.")]),
    doc("rpushx", LIST, "2.2.0", "O(1) per element",
        "Adds elements at the tail of a list only if the list already exists.",
        "key element...")
        .history(&[("4.0.0", "Takes several elements.")]),

    // ---- hashes ----
    doc("hdel", HASH, "2.0.0", "O(N) over the fields given",
        "Removes fields from a hash and says how many existed.",
        "key field...")
        .history(&[("2.4.0", "Takes several fields.")]),
    doc("hexists", HASH, "2.0.0", "O(1)",
        "Tells whether a hash has a field.",
        "key field"),
    doc("hget", HASH, "2.0.0", "O(1)",
        "Reads the value of one field of a hash.",
        "key field"),
    doc("hgetall", HASH, "2.0.0", "O(N) in the size of the hash",
        "Reads every field and value of a hash.",
        "key"),
    doc("hincrby", HASH, "2.0.0", "O(1)",
        "Adds an integer to the number stored in a field of a hash.",
        "key field increment:integer"),
    doc("hincrbyfloat", HASH, "2.6.0", "O(1)",
        "Adds a floating point amount to the number stored in a field of a hash.",
        "key field increment:double"),
    doc("hkeys", HASH, "2.0.0", "O(N) in the size of the hash",
        "Lists the field names of a hash.",
        "key"),
    doc("hlen", HASH, "2.0.0", "O(1)",
        "Tells how many fields a hash holds.",
        "key"),
    doc("hmget", HASH, "2.0.0", "O(N) over the fields given",
        "Reads the values of several fields of a hash.",
        "key field..."),
    doc("hmset", HASH, "2.0.0", "O(N) over the pairs given",
        "Sets several fields of a hash; the old form of HSET with many pairs.",
        "key data=(field value)...")
        .deprecated("4.0.0", "`HSET` with several field and value pairs"),
    doc("hrandfield", HASH, "6.2.0", "O(N) in the count asked for",
        "Picks random fields of a hash, with or without their values.",
        "key options=[count:integer [WITHVALUES]]"),
    doc("hscan", HASH, "2.8.0", "O(1) per call; O(N) for a whole iteration",
        "Walks the fields of a hash a few at a time with a cursor.",
        "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    doc("hset", HASH, "2.0.0", "O(1) per pair",
        "Sets fields of a hash, creating it when missing; answers how many fields are new.",
        "key data=(field value)...")
        .history(&[("4.0.0", "Takes several field and value pairs.")]),
    doc("hsetnx", HASH, "2.0.0", "O(1)",
        "Sets a field of a hash only if the field does not exist yet.",
        "key field value"),
    doc("hstrlen", HASH, "3.2.0", "O(1)",
        "Tells the length of the value stored in a field of a hash.",
        "key field"),
    doc("hvals", HASH, "2.0.0", "O(N) in the size of the hash",
        "Lists the values of a hash.",
        "key"),

    // ---- bitmap ----
    doc("bitcount", BITMAP, "2.6.0", "O(N) in the bytes counted",
        "Counts the set bits of a string, or of a range of its bytes or bits.",
        "key [index=(start:integer end:integer index_unit=[BYTE | BIT]@7.0.0)]")
        .history(&[("7.0.0", "BYTE|BIT: the range may be given in bits.")]),
    doc("bitfield", BITMAP, "3.2.0", "O(1) per field",
        "Reads, writes and increments integer fields of any width at any bit offset of a string, with a chosen overflow behaviour.",
        "key operation=[(GET encoding offset:integer) | write=([OVERFLOW (WRAP | SAT | FAIL)] \
         write_operation=((SET encoding offset:integer value:integer) | (INCRBY encoding offset:integer increment:integer)))]..."),
    doc("bitfield_ro", BITMAP, "6.0.0", "O(1) per field",
        "Reads integer fields of a string; the read-only BITFIELD, allowed on replicas.",
        "key [GET encoding offset:integer]..."),
    doc("bitop", BITMAP, "2.6.0", "O(N) in the longest source",
        "Stores the bitwise AND, OR, XOR of strings, or the NOT of one, in a key; answers its length.",
        "operation destkey:key key..."),
    doc("bitpos", BITMAP, "2.8.7", "O(N) in the bytes searched",
        "Finds the first set or clear bit of a string, optionally within a range of bytes or bits.",
        "key bit:integer [index=(start:integer [end_index=(end:integer index_unit=[BYTE | BIT]@7.0.0)])]")
        .history(&[("7.0.0", "BYTE|BIT: the range may be given in bits.")]),
    doc("getbit", BITMAP, "2.2.0", "O(1)",
        "Reads one bit of a string (0 past its end or for a missing key).",
        "key offset:integer"),
    doc("setbit", BITMAP, "2.2.0", "O(1)",
        "Sets or clears one bit of a string, growing it with zeros as needed; answers the bit's old value.",
        "key offset:integer value:integer"),

    // ---- geo ----
    doc("geoadd", GEO, "3.2.0", "O(log(N)) per member added",
        "Adds or moves members of a sorted set to positions given as longitude and latitude.",
        "key condition=[NX | XX]@6.2.0 change=[CH]@6.2.0 data=(longitude:double latitude:double member)...")
        .history(&[("6.2.0", "CH, NX and XX.")]),
    doc("geodist", GEO, "3.2.0", "O(1) after finding the two members",
        "Tells the distance between two members, in metres or the unit given.",
        "key member1 member2 unit=[M | KM | FT | MI]"),
    doc("geohash", GEO, "3.2.0", "O(log(N)) per member",
        "Answers each member's position as an 11-character standard geohash string.",
        "key member..."),
    doc("geopos", GEO, "3.2.0", "O(log(N)) per member",
        "Answers each member's longitude and latitude.",
        "key member..."),
    doc("georadius", GEO, "3.2.0", "O(N+log(M)): N members in the cells around the circle, M in the set",
        "Finds the members within a radius of a position; can store them instead.",
        "key longitude:double latitude:double radius:double unit=(M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] \
         count=[(COUNT count:integer) [ANY]@6.2.0] order=[ASC | DESC] [STORE key] [STOREDIST key]")
        .history(&[("6.2.0", "ANY stops at the first COUNT members found."), ("7.0.0", "Units may be written in capitals.")])
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with BYRADIUS"),
    doc("georadius_ro", GEO, "3.2.10", "O(N+log(M)): N members in the cells around the circle, M in the set",
        "Finds the members within a radius of a position, without writing anything.",
        "key longitude:double latitude:double radius:double unit=(M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] \
         count=[(COUNT count:integer) [ANY]@6.2.0] order=[ASC | DESC]")
        .history(&[("6.2.0", "ANY stops at the first COUNT members found.")])
        .deprecated("6.2.0", "`GEOSEARCH` with BYRADIUS"),
    doc("georadiusbymember", GEO, "3.2.0", "O(N+log(M)): N members in the cells around the circle, M in the set",
        "Finds the members within a radius of another member; can store them instead.",
        "key member radius:double unit=(M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] \
         count=[(COUNT count:integer) [ANY]] order=[ASC | DESC] [STORE key] [STOREDIST key]")
        .history(&[("7.0.0", "Units may be written in capitals.")])
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with BYRADIUS and FROMMEMBER"),
    doc("georadiusbymember_ro", GEO, "3.2.10", "O(N+log(M)): N members in the cells around the circle, M in the set",
        "Finds the members within a radius of another member, without writing anything.",
        "key member radius:double unit=(M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] \
         count=[(COUNT count:integer) [ANY]] order=[ASC | DESC]")
        .deprecated("6.2.0", "`GEOSEARCH` with BYRADIUS and FROMMEMBER"),
    doc("geosearch", GEO, "6.2.0", "O(N+log(M)): N members in the cells around the shape, M in the set",
        "Finds the members within a circle or a box around a member or a position.",
        "key from=(FROMMEMBER member | fromlonlat=(FROMLONLAT longitude:double latitude:double)) \
         by=(circle=((BYRADIUS radius:double) unit=(M | KM | FT | MI)) | box=((BYBOX width:double) height:double unit=(M | KM | FT | MI))) \
         order=[ASC | DESC] count=[(COUNT count:integer) [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]")
        .history(&[("7.0.0", "Units may be written in capitals.")]),
    doc("geosearchstore", GEO, "6.2.0", "O(N+log(M)): N members in the cells around the shape, M in the set",
        "Stores the members within a circle or a box around a member or a position in a sorted set, with their positions or distances as scores.",
        "destination:key source:key from=(FROMMEMBER member | fromlonlat=(FROMLONLAT longitude:double latitude:double)) \
         by=(circle=((BYRADIUS radius:double) unit=(M | KM | FT | MI)) | box=((BYBOX width:double) height:double unit=(M | KM | FT | MI))) \
         order=[ASC | DESC] count=[(COUNT count:integer) [ANY]] [STOREDIST]")
        .history(&[("7.0.0", "Units may be written in capitals.")]),

    // ---- hyperloglog ----
    doc("pfadd", HYPERLOGLOG, "2.8.9", "O(1) per element",
        "Adds elements to a HyperLogLog, creating it when missing; answers 1 when it changed.",
        "key [element...]"),
    doc("pfcount", HYPERLOGLOG, "2.8.9",
        "O(1) for one key (a cached count), O(N) for the union of N keys",
        "Estimates how many distinct elements one HyperLogLog, or the union of several, has seen.",
        "key..."),
    doc("pfdebug", HYPERLOGLOG, "2.8.9", "N/A",
        "Looks inside the encoding of a HyperLogLog (for tests).",
        "subcommand key")
        .syscmd(),
    doc("pfselftest", HYPERLOGLOG, "2.8.9", "N/A",
        "Runs the HyperLogLog implementation's self test (for tests).",
        "")
        .syscmd(),
    doc("pfmerge", HYPERLOGLOG, "2.8.9", "O(N) in the HyperLogLogs merged",
        "Stores the union of HyperLogLogs in the destination.",
        "destkey:key sourcekey:key..."),

    // ---- scripting ----
    doc("eval", SCRIPTING, "2.6.0", "Depends on the script",
        "Runs a Lua script on the server, atomically, and answers what it returns.",
        "script numkeys:integer [key...] [arg...]"),
    doc("eval_ro", SCRIPTING, "7.0.0", "Depends on the script",
        "Runs a Lua script that may only read.",
        "script numkeys:integer [key...] [arg...]"),
    doc("evalsha", SCRIPTING, "2.6.0", "Depends on the script",
        "Runs a cached Lua script, named by the SHA-1 of its source.",
        "sha1 numkeys:integer [key...] [arg...]"),
    doc("evalsha_ro", SCRIPTING, "7.0.0", "Depends on the script",
        "Runs a cached Lua script that may only read.",
        "sha1 numkeys:integer [key...] [arg...]"),
    doc("fcall", SCRIPTING, "7.0.0", "Depends on the function",
        "Calls a function of a loaded library.",
        "function numkeys:integer [key...] [arg...]"),
    doc("fcall_ro", SCRIPTING, "7.0.0", "Depends on the function",
        "Calls a function declared no-writes.",
        "function numkeys:integer [key...] [arg...]"),
    doc("script", SCRIPTING, "2.6.0", "Depends on the subcommand",
        "Groups the subcommands that manage the script cache.",
        ""),
    doc("script|debug", SCRIPTING, "3.2.0", "O(1)",
        "Would start the Lua debugger for the next script; replikv has none and says so.",
        "mode=(YES | SYNC | NO)"),
    doc("script|exists", SCRIPTING, "2.6.0", "O(N) over the SHA-1s given",
        "Tells, for each SHA-1, whether the script is cached.",
        "sha1..."),
    doc("script|flush", SCRIPTING, "2.6.0", "O(N) over the cached scripts",
        "Forgets every cached script.",
        "async=[ASYNC | SYNC]@6.2.0")
        .history(&[("6.2.0", "The ASYNC and SYNC modes.")]),
    doc("script|help", SCRIPTING, "5.0.0", "O(1)",
        "Lists the SCRIPT subcommands.",
        ""),
    doc("script|kill", SCRIPTING, "2.6.0", "O(1)",
        "Stops the running script, if it has not written.",
        ""),
    doc("script|load", SCRIPTING, "2.6.0", "O(N) in the script's length",
        "Compiles and caches a script without running it; answers its SHA-1.",
        "script"),
    doc("function", SCRIPTING, "7.0.0", "Depends on the subcommand",
        "Groups the subcommands that manage function libraries.",
        ""),
    doc("function|delete", SCRIPTING, "7.0.0", "O(1)",
        "Deletes a library and its functions.",
        "library-name"),
    doc("function|dump", SCRIPTING, "7.0.0", "O(N) over the libraries",
        "Serialises every library, for FUNCTION RESTORE.",
        ""),
    doc("function|flush", SCRIPTING, "7.0.0", "O(N) over the functions",
        "Deletes every library.",
        "[flush-type=(ASYNC | SYNC)]"),
    doc("function|help", SCRIPTING, "7.0.0", "O(1)",
        "Lists the FUNCTION subcommands.",
        ""),
    doc("function|kill", SCRIPTING, "7.0.0", "O(1)",
        "Stops the running function, if it has not written.",
        ""),
    doc("function|list", SCRIPTING, "7.0.0", "O(N) over the functions",
        "Describes the loaded libraries and their functions.",
        "[LIBRARYNAME library-name-pattern] [WITHCODE]"),
    doc("function|load", SCRIPTING, "7.0.0", "O(1) plus the library's own code",
        "Loads a library from its source; its code registers the functions.",
        "[REPLACE] function-code"),
    doc("function|restore", SCRIPTING, "7.0.0", "O(N) over the libraries",
        "Loads the libraries of a FUNCTION DUMP payload.",
        "serialized-value [policy=(FLUSH | APPEND | REPLACE)]"),
    doc("function|stats", SCRIPTING, "7.0.0", "O(1)",
        "Shows the running function, if any, and how many libraries and functions exist.",
        ""),

    // ---- sets ----
    doc("sadd", SET, "1.0.0", "O(1) per member",
        "Adds members to a set, creating it when missing; answers how many were new.",
        "key member...")
        .history(&[("2.4.0", "Takes several members.")]),
    doc("scard", SET, "1.0.0", "O(1)",
        "Tells how many members a set holds.",
        "key"),
    doc("sdiff", SET, "1.0.0", "O(N) over the members of all sets given",
        "Answers the members of the first set that none of the others hold.",
        "key..."),
    doc("sdiffstore", SET, "1.0.0", "O(N) over the members of all sets given",
        "Stores the difference of sets in a key.",
        "destination:key key..."),
    doc("sinter", SET, "1.0.0", "O(N*M): N the smallest set, M the number of sets",
        "Answers the members every given set holds.",
        "key..."),
    doc("sintercard", SET, "7.0.0", "O(N*M): N the smallest set, M the number of sets",
        "Counts the members every given set holds, optionally stopping at a limit.",
        "numkeys:integer key... [LIMIT limit:integer]"),
    doc("sinterstore", SET, "1.0.0", "O(N*M): N the smallest set, M the number of sets",
        "Stores the intersection of sets in a key.",
        "destination:key key..."),
    doc("sismember", SET, "1.0.0", "O(1)",
        "Tells whether a value is a member of a set.",
        "key member"),
    doc("smembers", SET, "1.0.0", "O(N) in the size of the set",
        "Answers every member of a set.",
        "key"),
    doc("smismember", SET, "6.2.0", "O(N) over the values given",
        "Tells, for each value given, whether it is a member of a set.",
        "key member..."),
    doc("smove", SET, "1.0.0", "O(1)",
        "Moves a member from one set to another.",
        "source:key destination:key member"),
    doc("spop", SET, "1.0.0", "O(N) in the count asked for",
        "Removes and answers random members of a set.",
        "key [count:integer]@3.2.0")
        .history(&[("3.2.0", "An optional count pops several members.")]),
    doc("srandmember", SET, "1.0.0", "O(N) in the count asked for",
        "Picks random members of a set without removing them; a negative count allows repeats.",
        "key [count:integer]@2.6.0")
        .history(&[("2.6.0", "An optional count picks several members.")]),
    doc("srem", SET, "1.0.0", "O(N) over the members given",
        "Removes members from a set and says how many were there.",
        "key member...")
        .history(&[("2.4.0", "Takes several members.")]),
    doc("sscan", SET, "2.8.0", "O(1) per call; O(N) for a whole iteration",
        "Walks the members of a set a few at a time with a cursor.",
        "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    doc("sunion", SET, "1.0.0", "O(N) over the members of all sets given",
        "Answers the members any of the given sets holds.",
        "key..."),
    doc("sunionstore", SET, "1.0.0", "O(N) over the members of all sets given",
        "Stores the union of sets in a key.",
        "destination:key key..."),

    // ---- sorted sets ----
    doc("bzmpop", ZSET, "7.0.0", "O(K) + O(M*log(N)): K keys tried, M members popped from N",
        "Pops the lowest or highest members from the first non-empty sorted set, waiting for one if all are empty.",
        "timeout:double numkeys:integer key... where=(MIN | MAX) [COUNT count:integer]"),
    doc("bzpopmax", ZSET, "5.0.0", "O(log(N)) in the size of the sorted set",
        "Pops the highest member of the first non-empty sorted set, waiting for one if all are empty.",
        "key... timeout:double")
        .history(TIMEOUT_AS_DOUBLE),
    doc("bzpopmin", ZSET, "5.0.0", "O(log(N)) in the size of the sorted set",
        "Pops the lowest member of the first non-empty sorted set, waiting for one if all are empty.",
        "key... timeout:double")
        .history(TIMEOUT_AS_DOUBLE),
    doc("zadd", ZSET, "1.2.0", "O(log(N)) per member added or updated",
        "Adds members with scores to a sorted set or updates their scores, under optional conditions.",
        "key condition=[NX | XX]@3.0.2 comparison=[GT | LT]@6.2.0 change=[CH]@3.0.2 increment=[INCR]@3.0.2 \
         data=(score:double member)...")
        .history(&[
            ("2.4.0", "Takes several members."),
            ("3.0.2", "XX, NX, CH and INCR."),
            ("6.2.0", "GT and LT."),
        ]),
    doc("zcard", ZSET, "1.2.0", "O(1)",
        "Tells how many members a sorted set holds.",
        "key"),
    doc("zcount", ZSET, "2.0.0", "O(log(N))",
        "Counts the members whose score lies in a range.",
        "key min:double max:double"),
    doc("zdiff", ZSET, "6.2.0", "O(L + (N-K)log(N)): L members overall, N in the first set, K in the result",
        "Answers the members of the first sorted set that none of the others hold.",
        "numkeys:integer key... [WITHSCORES]"),
    doc("zdiffstore", ZSET, "6.2.0", "O(L + (N-K)log(N)): L members overall, N in the first set, K in the result",
        "Stores the difference of sorted sets in a key.",
        "destination:key numkeys:integer key..."),
    doc("zincrby", ZSET, "1.2.0", "O(log(N))",
        "Adds an amount to the score of a member, adding the member when missing.",
        "key increment:integer member"),
    doc("zinter", ZSET, "6.2.0", "O(N*K) + O(M*log(M)): N the smallest set, K sets, M members in the result",
        "Answers the members every given sorted set holds, with their scores combined.",
        "numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]"),
    doc("zintercard", ZSET, "7.0.0", "O(N*K): N the smallest set, K sets",
        "Counts the members every given sorted set holds, optionally stopping at a limit.",
        "numkeys:integer key... [LIMIT limit:integer]"),
    doc("zinterstore", ZSET, "2.0.0", "O(N*K) + O(M*log(M)): N the smallest set, K sets, M members in the result",
        "Stores the intersection of sorted sets in a key.",
        "destination:key numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)]"),
    doc("zlexcount", ZSET, "2.8.9", "O(log(N))",
        "Counts the members between two names, when all scores are equal.",
        "key min max"),
    doc("zmpop", ZSET, "7.0.0", "O(K) + O(M*log(N)): K keys tried, M members popped from N",
        "Pops the lowest or highest members from the first non-empty sorted set among several.",
        "numkeys:integer key... where=(MIN | MAX) [COUNT count:integer]"),
    doc("zmscore", ZSET, "6.2.0", "O(N) over the members given",
        "Reads the scores of several members.",
        "key member..."),
    doc("zpopmax", ZSET, "5.0.0", "O(log(N)*M): M members popped",
        "Removes and answers the members with the highest scores.",
        "key [count:integer]"),
    doc("zpopmin", ZSET, "5.0.0", "O(log(N)*M): M members popped",
        "Removes and answers the members with the lowest scores.",
        "key [count:integer]"),
    doc("zrandmember", ZSET, "6.2.0", "O(N) in the count asked for",
        "Picks random members of a sorted set, with or without their scores.",
        "key options=[count:integer [WITHSCORES]]"),
    doc("zrange", ZSET, "1.2.0", "O(log(N)+M): M members returned",
        "Reads members by rank, score or name, in either order, optionally a page at a time.",
        "key start stop sortby=[BYSCORE | BYLEX]@6.2.0 [REV]@6.2.0 \
         [LIMIT offset:integer count:integer]@6.2.0 [WITHSCORES]")
        .history(&[("6.2.0", "BYSCORE, BYLEX, REV and LIMIT.")]),
    doc("zrangebylex", ZSET, "2.8.9", "O(log(N)+M): M members returned",
        "Reads the members between two names, when all scores are equal.",
        "key min max [LIMIT offset:integer count:integer]")
        .deprecated("6.2.0", "`ZRANGE` with `BYLEX`"),
    doc("zrangebyscore", ZSET, "1.0.5", "O(log(N)+M): M members returned",
        "Reads the members whose score lies in a range, lowest first.",
        "key min:double max:double [WITHSCORES]@2.0.0 [LIMIT offset:integer count:integer]")
        .history(&[("2.0.0", "WITHSCORES.")])
        .deprecated("6.2.0", "`ZRANGE` with `BYSCORE`"),
    doc("zrangestore", ZSET, "6.2.0", "O(log(N)+M): M members stored",
        "Stores a range of a sorted set, by rank, score or name, in a key.",
        "dst:key src:key min max sortby=[BYSCORE | BYLEX] [REV] [LIMIT offset:integer count:integer]"),
    doc("zrank", ZSET, "2.0.0", "O(log(N))",
        "Tells the rank of a member, lowest score first.",
        "key member"),
    doc("zrem", ZSET, "1.2.0", "O(M*log(N)): M members removed",
        "Removes members from a sorted set and says how many were there.",
        "key member...")
        .history(&[("2.4.0", "Takes several members.")]),
    doc("zremrangebylex", ZSET, "2.8.9", "O(log(N)+M): M members removed",
        "Removes the members between two names, when all scores are equal.",
        "key min max"),
    doc("zremrangebyrank", ZSET, "2.0.0", "O(log(N)+M): M members removed",
        "Removes the members between two ranks.",
        "key start:integer stop:integer"),
    doc("zremrangebyscore", ZSET, "1.2.0", "O(log(N)+M): M members removed",
        "Removes the members whose score lies in a range.",
        "key min:double max:double"),
    doc("zrevrange", ZSET, "1.2.0", "O(log(N)+M): M members returned",
        "Reads members by rank, highest score first.",
        "key start:integer stop:integer [WITHSCORES]")
        .deprecated("6.2.0", "`ZRANGE` with `REV`"),
    doc("zrevrangebylex", ZSET, "2.8.9", "O(log(N)+M): M members returned",
        "Reads the members between two names in reverse order, when all scores are equal.",
        "key max min [LIMIT offset:integer count:integer]")
        .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYLEX`"),
    doc("zrevrangebyscore", ZSET, "2.2.0", "O(log(N)+M): M members returned",
        "Reads the members whose score lies in a range, highest first.",
        "key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]")
        .history(&[("2.1.6", "The bounds may be exclusive.")])
        .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYSCORE`"),
    doc("zrevrank", ZSET, "2.0.0", "O(log(N))",
        "Tells the rank of a member, highest score first.",
        "key member"),
    doc("zscan", ZSET, "2.8.0", "O(1) per call; O(N) for a whole iteration",
        "Walks the members and scores of a sorted set a few at a time with a cursor.",
        "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    doc("zscore", ZSET, "1.2.0", "O(1)",
        "Reads the score of a member.",
        "key member"),
    doc("zunion", ZSET, "6.2.0", "O(N) + O(M*log(M)): N members overall, M in the result",
        "Answers the members any of the given sorted sets holds, with their scores combined.",
        "numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]"),
    doc("zunionstore", ZSET, "2.0.0", "O(N) + O(M*log(M)): N members overall, M in the result",
        "Stores the union of sorted sets in a key.",
        "destination:key numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)]"),

    // ---- stream ----
    doc("xack", STREAM, "5.0.0", "O(1) per id given",
        "Acknowledges messages of a consumer group, taking them off its pending list; answers how many were pending.",
        "key group id:string..."),
    doc("xadd", STREAM, "5.0.0", "O(1) to append, plus O(N) in the entries trimmed",
        "Appends an entry to a stream, creating the stream unless told not to and optionally trimming it; answers the entry's id.",
        "key [NOMKSTREAM]@6.2.0 trim=[strategy=(MAXLEN | MINID@6.2.0) operator=[equal='=' | approximately='~'] \
         threshold [LIMIT count:integer]@6.2.0] id_or_auto=(auto_id='*' | id:string) data=(field value)...")
        .history(&[
            ("6.2.0", "NOMKSTREAM, the MINID strategy and LIMIT."),
            ("7.0.0", "An id may fix the milliseconds and leave the sequence number to the server (`<ms>-*`)."),
        ]),
    doc("xautoclaim", STREAM, "6.2.0", "O(1) per call with a small COUNT",
        "Walks a group's pending list from an id and hands the messages idle long enough to a consumer; answers a cursor to go on from.",
        "key group consumer min-idle-time start [COUNT count:integer] [JUSTID]")
        .history(&[("7.0.0", "The reply also lists the ids of deleted entries it dropped from the pending list.")]),
    doc("xclaim", STREAM, "5.0.0", "O(log(N)) per id, N the size of the group's pending list",
        "Hands pending messages of a group over to a consumer, if they have been idle long enough.",
        "key group consumer min-idle-time id:string... [IDLE ms:integer] \
         [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID id]"),
    doc("xdel", STREAM, "5.0.0", "O(1) per id given",
        "Removes entries from a stream by id; answers how many existed.",
        "key id:string..."),
    doc("xgroup", STREAM, "5.0.0", "Depends on the subcommand",
        "Groups the subcommands that manage the consumer groups of a stream.",
        ""),
    doc("xgroup|create", STREAM, "5.0.0", "O(1)",
        "Creates a consumer group that starts after an id or at the end ($), optionally creating the stream.",
        "key groupname id=(id:string | new_id='$') [MKSTREAM] [ENTRIESREAD entries_read:integer]")
        .history(&[("7.0.0", "ENTRIESREAD tells how many entries the group has already read.")]),
    doc("xgroup|createconsumer", STREAM, "6.2.0", "O(1)",
        "Adds a consumer to a group; answers 1 if it is new, 0 if it existed.",
        "key groupname consumername"),
    doc("xgroup|delconsumer", STREAM, "5.0.0", "O(N) in the consumer's pending messages",
        "Removes a consumer from a group, dropping its pending messages; answers how many it had.",
        "key groupname consumername"),
    doc("xgroup|destroy", STREAM, "5.0.0", "O(N) in the group's pending messages",
        "Deletes a consumer group with its consumers and pending list.",
        "key groupname"),
    doc("xgroup|help", STREAM, "5.0.0", "O(1)",
        "Lists the XGROUP subcommands.",
        ""),
    doc("xgroup|setid", STREAM, "5.0.0", "O(1)",
        "Moves a group's last delivered id to a given id or to the end of the stream ($).",
        "key groupname id=(id:string | new_id='$') [ENTRIESREAD entries_read:integer]")
        .history(&[("7.0.0", "ENTRIESREAD tells how many entries the group has already read.")]),
    doc("xinfo", STREAM, "5.0.0", "Depends on the subcommand",
        "Groups the subcommands that describe a stream, its consumer groups and their consumers.",
        ""),
    doc("xinfo|consumers", STREAM, "5.0.0", "O(N) over the group's consumers",
        "Describes the consumers of a group: their pending messages and idle times.",
        "key groupname"),
    doc("xinfo|groups", STREAM, "5.0.0", "O(N) over the stream's groups",
        "Describes the consumer groups of a stream.",
        "key")
        .history(&[("7.0.0", "Each group also reports entries-read and lag.")]),
    doc("xinfo|help", STREAM, "5.0.0", "O(1)",
        "Lists the XINFO subcommands.",
        ""),
    doc("xinfo|stream", STREAM, "5.0.0", "O(1); with FULL, O(N) in the entries, groups and pending messages listed",
        "Describes a stream; FULL adds its entries, groups, consumers and pending lists, COUNT of each at most.",
        "key [FULL [COUNT count:integer]]")
        .history(&[
            ("6.0.0", "FULL."),
            ("7.0.0", "The entries-added, max-deleted-entry-id and recorded-first-entry-id fields, and entries-read and lag per group."),
        ]),
    doc("xlen", STREAM, "5.0.0", "O(1)",
        "Tells how many entries a stream holds.",
        "key"),
    doc("xpending", STREAM, "5.0.0",
        "O(N) in the entries listed, or scanned with IDLE; the summary form O(1) plus the consumers",
        "Summarises a group's pending messages, or lists those in an id range, optionally of one consumer or idle long enough.",
        "key group filters=[[IDLE min-idle-time:integer]@6.2.0 start end count:integer [consumer]]")
        .history(&[("6.2.0", "IDLE, and bounds prefixed with ( are exclusive.")]),
    doc("xrange", STREAM, "5.0.0", "O(N) in the entries returned (O(1) with a small COUNT)",
        "Reads the entries of a stream whose ids lie between two bounds, oldest first.",
        "key start end [COUNT count:integer]")
        .history(&[("6.2.0", "A bound prefixed with ( is exclusive.")]),
    doc("xread", STREAM, "5.0.0", "O(N) per stream in the entries returned (O(1) with a small COUNT)",
        "Reads the entries added after given ids on one or more streams, optionally waiting for new ones.",
        "[COUNT count:integer] [BLOCK milliseconds:integer] streams=(STREAMS key... id:string...)"),
    doc("xreadgroup", STREAM, "5.0.0", "O(N) per stream in the entries returned (O(1) with a small COUNT)",
        "Reads entries for a consumer of a group: new ones (>) or its own pending ones, optionally waiting for new ones.",
        "group_consumer=(GROUP group consumer) [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] \
         streams=(STREAMS key... id:string...)"),
    doc("xrevrange", STREAM, "5.0.0", "O(N) in the entries returned (O(1) with a small COUNT)",
        "Reads the entries of a stream whose ids lie between two bounds, newest first.",
        "key end start [COUNT count:integer]")
        .history(&[("6.2.0", "A bound prefixed with ( is exclusive.")]),
    doc("xsetid", STREAM, "5.0.0", "O(1)",
        "Sets the last id of a stream and its counters (how streams replicate).",
        "key last-id [ENTRIESADDED entries_added:integer]@7.0.0 [MAXDELETEDID max_deleted_entry_id]@7.0.0")
        .history(&[("7.0.0", "ENTRIESADDED and MAXDELETEDID.")]),
    doc("xtrim", STREAM, "5.0.0", "O(N) in the entries removed",
        "Removes the oldest entries of a stream beyond a length or below an id, exactly or roughly (~).",
        "key trim=(strategy=(MAXLEN | MINID@6.2.0) operator=[equal='=' | approximately='~'] threshold \
         [LIMIT count:integer]@6.2.0)")
        .history(&[("6.2.0", "The MINID strategy and LIMIT.")]),

    // ---- Pub/Sub ----
    doc("psubscribe", PUBSUB, "2.0.0", "O(N) over the patterns given",
        "Listens for messages on every channel whose name matches the patterns.",
        "(pattern:pattern)..."),
    doc("publish", PUBSUB, "2.0.0", "O(N+M): N subscribers of the channel, M pattern subscriptions",
        "Sends a message to the subscribers of a channel; answers how many got it.",
        "channel message"),
    doc("pubsub", PUBSUB, "2.8.0", "Depends on the subcommand",
        "Groups the subcommands that describe the Pub/Sub state.",
        ""),
    doc("pubsub|channels", PUBSUB, "2.8.0", "O(N) over the active channels",
        "Lists the channels that have subscribers, optionally those matching a pattern.",
        "[pattern:pattern]"),
    doc("pubsub|help", PUBSUB, "6.2.0", "O(1)",
        "Lists the PUBSUB subcommands.",
        ""),
    doc("pubsub|numpat", PUBSUB, "2.8.0", "O(1)",
        "Counts the patterns clients are subscribed to.",
        ""),
    doc("pubsub|numsub", PUBSUB, "2.8.0", "O(N) over the channels given",
        "Counts the subscribers of each given channel.",
        "[channel...]"),
    doc("pubsub|shardchannels", PUBSUB, "7.0.0", "O(N) over the active shard channels",
        "Lists the shard channels that have subscribers, optionally those matching a pattern.",
        "[pattern:pattern]"),
    doc("pubsub|shardnumsub", PUBSUB, "7.0.0", "O(N) over the shard channels given",
        "Counts the subscribers of each given shard channel.",
        "[shardchannel...]"),
    doc("punsubscribe", PUBSUB, "2.0.0", "O(N+M): N patterns given, M patterns of the client",
        "Stops listening on the given patterns, or on all of them.",
        "[pattern:pattern...]"),
    doc("spublish", PUBSUB, "7.0.0", "O(N) in the shard channel's subscribers",
        "Sends a message to the subscribers of a shard channel; answers how many got it.",
        "shardchannel message"),
    doc("ssubscribe", PUBSUB, "7.0.0", "O(N) over the shard channels given",
        "Listens for messages published on the given shard channels.",
        "shardchannel..."),
    doc("subscribe", PUBSUB, "2.0.0", "O(N) over the channels given",
        "Listens for messages published on the given channels.",
        "channel..."),
    doc("sunsubscribe", PUBSUB, "7.0.0", "O(N) over the shard channels given",
        "Stops listening on the given shard channels, or on all of them.",
        "[shardchannel...]"),
    doc("unsubscribe", PUBSUB, "2.0.0", "O(N) over the channels given",
        "Stops listening on the given channels, or on all of them.",
        "[channel...]"),

    // ---- transactions ----
    doc("discard", TRANSACTIONS, "2.0.0", "O(N) in the commands queued",
        "Drops the commands queued since MULTI and leaves the transaction.",
        ""),
    doc("exec", TRANSACTIONS, "1.2.0", "The sum of the queued commands' costs",
        "Runs the commands queued since MULTI as one atomic unit, unless a watched key changed.",
        ""),
    doc("multi", TRANSACTIONS, "1.2.0", "O(1)",
        "Starts a transaction: the following commands are queued until EXEC.",
        ""),
    doc("unwatch", TRANSACTIONS, "2.2.0", "O(1)",
        "Forgets every key this connection watches.",
        ""),
    doc("watch", TRANSACTIONS, "2.2.0", "O(1) per key",
        "Makes the next EXEC fail if any of these keys changes first.",
        "key..."),

    // ---- connection ----
    doc("auth", CONNECTION, "1.0.0", "O(N) in the number of passwords of the user",
        "Authenticates the connection with a password, or a user name and password.",
        "[username]@6.0.0 password")
        .history(&[("6.0.0", "A user name may come before the password.")]),
    doc("client", CONNECTION, "2.4.0", "Depends on the subcommand",
        "Groups the subcommands that inspect and manage client connections.",
        ""),
    doc("client|getname", CONNECTION, "2.6.9", "O(1)",
        "Answers the name this connection gave itself.",
        ""),
    doc("client|help", CONNECTION, "5.0.0", "O(1)",
        "Lists the CLIENT subcommands.",
        ""),
    doc("client|id", CONNECTION, "5.0.0", "O(1)",
        "Answers the unique id of this connection.",
        ""),
    doc("client|info", CONNECTION, "6.2.0", "O(1)",
        "Describes this connection in the format of CLIENT LIST.",
        ""),
    doc("client|kill", CONNECTION, "2.4.0", "O(N) over the connections",
        "Closes the connections that match an address or a set of filters.",
        "filter=(ip:port!2.8.12 | new-format=([ID client-id:integer]@2.8.12 \
         | [TYPE (NORMAL | MASTER@3.2.0 | SLAVE | REPLICA@5.0.0 | PUBSUB)]@2.8.12 \
         | [USER username] | [ADDR ip:port] | [LADDR ip:port]@6.2.0 | [SKIPME yes/no])...)")
        .history(&[
            ("2.8.12", "Filters given as FILTER value pairs."),
            ("2.8.12", "The ID filter."),
            ("3.2.0", "TYPE master."),
            ("5.0.0", "TYPE replica, with slave kept as a synonym."),
            ("6.2.0", "The LADDR filter."),
        ]),
    doc("client|list", CONNECTION, "2.4.0", "O(N) over the connections",
        "Describes the connections, one line each, optionally only some types or ids.",
        "[TYPE (NORMAL | MASTER | REPLICA | PUBSUB)]@5.0.0 [ID (client-id:integer...)]@6.2.0")
        .history(&[
            ("2.8.12", "An id field."),
            ("5.0.0", "The TYPE filter."),
            ("6.0.0", "A user field."),
            ("6.2.0", "The ID filter and the argv-mem, tot-mem, laddr and redir fields."),
            ("7.0.0", "The resp, multi-mem, rbs and rbp fields."),
            ("7.0.3", "An ssub field."),
        ]),
    doc("client|pause", CONNECTION, "2.9.50", "O(1)",
        "Holds every client, or only their writes, for some milliseconds.",
        "timeout:integer mode=[WRITE | ALL]@6.2.0")
        .history(&[("6.2.0", "The WRITE mode, and the mode argument.")]),
    doc("client|reply", CONNECTION, "3.2.0", "O(1)",
        "Turns this client's command replies off, on, or off for the next command only.",
        "action=(ON | OFF | SKIP)"),
    doc("client|setname", CONNECTION, "2.6.9", "O(1)",
        "Gives this connection a name, shown by CLIENT LIST.",
        "connection-name"),
    doc("client|unblock", CONNECTION, "5.0.0", "O(log N) over the connections",
        "Ends another connection's wait in a blocking command, as a timeout or with an error.",
        "client-id:integer timeout_error=[TIMEOUT | ERROR]"),
    doc("client|unpause", CONNECTION, "6.2.0", "O(N) over the paused clients",
        "Releases the clients CLIENT PAUSE holds.",
        ""),
    doc("echo", CONNECTION, "1.0.0", "O(1)",
        "Answers its argument.",
        "message"),
    doc("hello", CONNECTION, "6.0.0", "O(1)",
        "Chooses the protocol version, optionally authenticates and names the connection, and describes the server.",
        "arguments=[protover:integer [AUTH username password] [SETNAME clientname]]")
        .history(&[("6.2.0", "The protocol version may be left out to just describe the connection.")]),
    doc("ping", CONNECTION, "1.0.0", "O(1)",
        "Checks the connection: answers PONG, or the message given.",
        "[message]"),
    doc("quit", CONNECTION, "1.0.0", "O(1)",
        "Closes the connection once the replies before it are sent.",
        ""),
    doc("reset", CONNECTION, "6.2.0", "O(1)",
        "Returns the connection to its initial state: no transaction, no subscriptions, database 0.",
        ""),
    doc("select", CONNECTION, "1.0.0", "O(1)",
        "Switches this connection to another database.",
        "index:integer"),

    // ---- server ----
    doc("bgsave", SERVER, "1.0.0", "O(1)",
        "Writes a snapshot of the dataset to disk in the background.",
        "[SCHEDULE]@3.2.2")
        .history(&[("3.2.2", "SCHEDULE waits for a running rewrite instead of failing.")]),
    doc("command", SERVER, "2.8.13", "O(N) over the commands",
        "Describes every command the server knows.",
        ""),
    doc("command|count", SERVER, "2.8.13", "O(1)",
        "Tells how many commands the server knows.",
        ""),
    doc("command|docs", SERVER, "7.0.0", "O(N) over the commands described",
        "Answers the documentation of the given commands, or of all of them.",
        "[command-name...]"),
    doc("command|getkeys", SERVER, "2.8.13", "O(N) in the number of arguments",
        "Finds the key names in a full command line.",
        ""),
    doc("command|help", SERVER, "5.0.0", "O(1)",
        "Lists the COMMAND subcommands.",
        ""),
    doc("command|info", SERVER, "2.8.13", "O(N) over the commands described",
        "Describes the given commands, or all of them.",
        "[command-name...]")
        .history(&[("7.0.0", "Without names it describes every command.")]),
    doc("command|list", SERVER, "7.0.0", "O(N) over the commands",
        "Lists command names, optionally filtered by ACL category or pattern.",
        "[FILTERBY (MODULE module-name | ACLCAT category | PATTERN pattern:pattern)]"),
    doc("config", SERVER, "2.0.0", "Depends on the subcommand",
        "Groups the subcommands that read and change the configuration.",
        ""),
    doc("config|get", SERVER, "2.0.0", "O(N) over the parameters matched",
        "Reads the configuration parameters matching glob-style patterns.",
        "(parameter)...")
        .history(&[("7.0.0", "Several patterns in one call.")]),
    doc("config|help", SERVER, "5.0.0", "O(1)",
        "Lists the CONFIG subcommands.",
        ""),
    doc("config|resetstat", SERVER, "2.0.0", "O(1)",
        "Zeroes the counters INFO reports.",
        ""),
    doc("config|rewrite", SERVER, "2.8.0", "O(1)",
        "Writes the running configuration back to the configuration file.",
        ""),
    doc("config|set", SERVER, "2.0.0", "O(N) over the parameters given",
        "Changes configuration parameters while the server runs, all or none.",
        "(parameter value)...")
        .history(&[("7.0.0", "Several parameters in one call.")]),
    doc("dbsize", SERVER, "1.0.0", "O(1)",
        "Tells how many keys the selected database holds.",
        ""),
    doc("debug", SERVER, "1.0.0", "Depends on the subcommand",
        "Offers tools for testing and troubleshooting the server.",
        "")
        .syscmd(),
    doc("failover", SERVER, "6.2.0", "O(1)",
        "Hands the master role over to a replica once it has caught up, writes held meanwhile.",
        "target=[TO host port:integer [FORCE]] [ABORT] [TIMEOUT milliseconds:integer]"),
    doc("flushall", SERVER, "1.0.0", "O(N) over all keys",
        "Removes every key of every database.",
        "[ASYNC@4.0.0 | SYNC@6.2.0]")
        .history(&[("4.0.0", "ASYNC frees the memory in the background."), ("6.2.0", "SYNC.")]),
    doc("flushdb", SERVER, "1.0.0", "O(N) over the keys of the database",
        "Removes every key of the selected database.",
        "[ASYNC@4.0.0 | SYNC@6.2.0]")
        .history(&[("4.0.0", "ASYNC frees the memory in the background."), ("6.2.0", "SYNC.")]),
    doc("info", SERVER, "1.0.0", "O(1)",
        "Reports statistics and state, by section.",
        "[section...]")
        .history(&[("7.0.0", "Several sections in one call.")]),
    doc("latency", SERVER, "2.8.13", "Depends on the subcommand",
        "Groups the subcommands that report command latencies and latency events.",
        ""),
    doc("latency|help", SERVER, "2.8.13", "O(1)",
        "Lists the LATENCY subcommands.",
        ""),
    doc("latency|histogram", SERVER, "7.0.0", "O(N) over the commands named",
        "Reports, per command, how many calls took at most each power-of-two duration.",
        "[command...]"),
    doc("latency|history", SERVER, "2.8.13", "O(1)",
        "Lists the samples of one latency event, oldest first.",
        "event"),
    doc("latency|latest", SERVER, "2.8.13", "O(1)",
        "Reports the latest and the worst sample of every latency event.",
        ""),
    doc("latency|reset", SERVER, "2.8.13", "O(1)",
        "Forgets the samples of the events named, or of every event.",
        "[event...]"),
    doc("lastsave", SERVER, "1.0.0", "O(1)",
        "Tells the Unix time of the last snapshot written to disk.",
        ""),
    doc("psync", SERVER, "2.8.0", "",
        "Asks a master for the replication stream from an offset of a history (used by replicas).",
        "replicationid offset:integer"),
    doc("replconf", SERVER, "3.0.0", "O(1)",
        "Exchanges replication settings and acknowledgements between master and replica.",
        "")
        .syscmd(),
    doc("replicaof", SERVER, "5.0.0", "O(1)",
        "Makes the server a replica of another, or a master again with NO ONE.",
        "args=(host port:integer | NO ONE)"),
    doc("role", SERVER, "2.8.12", "O(1)",
        "Tells whether the server is a master or a replica, with its replication state.",
        ""),
    doc("save", SERVER, "1.0.0", "O(N) over all keys",
        "Writes a snapshot of the dataset to disk, blocking the server meanwhile.",
        ""),
    doc("shutdown", SERVER, "1.0.0", "O(N) over the keys when saving",
        "Stops the server, saving the dataset first unless told otherwise.",
        "save-selector=[NOSAVE | SAVE] [NOW]@7.0.0 [FORCE]@7.0.0 [ABORT]@7.0.0")
        .history(&[("7.0.0", "NOW, FORCE and ABORT.")]),
    doc("slaveof", SERVER, "1.0.0", "O(1)",
        "Makes the server a replica of another; the old name of REPLICAOF.",
        "args=(host port:integer | NO ONE)")
        .deprecated("5.0.0", "`REPLICAOF`"),
    doc("swapdb", SERVER, "4.0.0", "O(N) over the clients watching or blocked on keys",
        "Exchanges the contents of two databases.",
        "index1:integer index2:integer"),
    doc("sync", SERVER, "1.0.0", "",
        "Asks a master for a full copy of the dataset followed by the stream (the pre-PSYNC protocol).",
        ""),
    doc("time", SERVER, "2.6.0", "O(1)",
        "Answers the server clock: Unix seconds and microseconds.",
        ""),
];
