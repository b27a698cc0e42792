//! Differential tests: every command goes to a real redis-server 7.0 and to replikv, and the
//! replies must be equal byte for byte (or, for commands whose reply order Redis leaves
//! unspecified, equal once sorted).

use crate::harness::resp::{parse, Value};
use crate::harness::{Conn, Node};
use rand::{Rng, SeedableRng};

/// How two replies are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Byte for byte.
    Exact,
    /// Arrays compared as multisets (KEYS, SMEMBERS...).
    Sorted,
    /// Same reply kinds and lengths, values free (ids, timestamps).
    Shape,
    /// Integers within a small tolerance (TTL rounding across a second boundary).
    Approx,
}

/// A redis-server and a replikv side by side, one connection to each.
pub struct Pair {
    /// Reference server.
    pub redis: Node,
    /// Server under test.
    pub ours: Node,
    /// Connection to the reference.
    pub rc: Conn,
    /// Connection to ours.
    pub oc: Conn,
    /// Every command sent so far, for failure reports.
    pub history: Vec<String>,
}

impl Pair {
    /// Starts both servers with the same extra arguments.
    pub fn start(args: &[&str]) -> Pair {
        let redis = Node::redis(args);
        let ours = Node::replikv(args);
        let (rc, oc) = (redis.conn(), ours.conn());
        Pair {
            redis,
            ours,
            rc,
            oc,
            history: Vec::new(),
        }
    }

    /// Sends `args` to both and compares the replies with `mode`.
    pub fn check_mode(&mut self, args: &[&[u8]], mode: Mode) {
        let shown: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        self.history.push(shown.join(" "));
        let (rv, rraw) = self.rc.cmd_raw(args);
        let (ov, oraw) = self.oc.cmd_raw(args);
        if !equal(&rv, &rraw, &ov, &oraw, mode) {
            let recent: Vec<&String> = self
                .history
                .iter()
                .rev()
                .take(80)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!(
                "reply differs for {:?} ({mode:?})\n redis:   {:?}\n replikv: {:?}\n recent commands: {recent:#?}",
                shown,
                String::from_utf8_lossy(&rraw),
                String::from_utf8_lossy(&oraw)
            );
        }
    }

    /// Sends a whitespace-separated command (quotes allowed) and compares exactly.
    pub fn check(&mut self, line: &str) {
        let args = split(line);
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.check_mode(&refs, Mode::Exact);
    }

    /// Runs a script: one command per line; a leading `~` compares sorted, `?` shape only,
    /// `#` approximately; blank lines and `//` comments are skipped.
    pub fn script(&mut self, text: &str) {
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (mode, rest) = match line.as_bytes()[0] {
                b'~' => (Mode::Sorted, &line[1..]),
                b'?' => (Mode::Shape, &line[1..]),
                b'#' => (Mode::Approx, &line[1..]),
                _ => (Mode::Exact, line),
            };
            let args = split(rest.trim());
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            self.check_mode(&refs, mode);
        }
    }
}

/// Splits a command line like redis-cli does (double quotes with escapes, single quotes).
pub fn split(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_arg = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_arg = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('n') => cur.push(b'\n'),
                            Some('r') => cur.push(b'\r'),
                            Some('t') => cur.push(b'\t'),
                            Some('x') => {
                                let h: String =
                                    [chars.next().unwrap_or('0'), chars.next().unwrap_or('0')]
                                        .iter()
                                        .collect();
                                cur.push(u8::from_str_radix(&h, 16).unwrap_or(0));
                            }
                            Some(o) => cur.extend(o.to_string().as_bytes()),
                            None => {}
                        },
                        o => cur.extend(o.to_string().as_bytes()),
                    }
                }
            }
            '\'' => {
                in_arg = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.extend(c.to_string().as_bytes());
                }
            }
            ' ' | '\t' => {
                if in_arg {
                    out.push(std::mem::take(&mut cur));
                    in_arg = false;
                }
            }
            o => {
                in_arg = true;
                cur.extend(o.to_string().as_bytes());
            }
        }
    }
    if in_arg {
        out.push(cur);
    }
    out
}

fn equal(rv: &Value, rraw: &[u8], ov: &Value, oraw: &[u8], mode: Mode) -> bool {
    match mode {
        Mode::Exact => rraw == oraw,
        Mode::Sorted => sorted(rv) == sorted(ov),
        Mode::Shape => same_shape(rv, ov),
        Mode::Approx => approx(rv, ov),
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(sorted).collect();
            items.sort_by_key(|a| format!("{a:?}"));
            Value::Array(items)
        }
        Value::Map(pairs) => {
            let mut pairs = pairs.clone();
            pairs.sort_by_key(|(k, _)| format!("{k:?}"));
            Value::Map(pairs)
        }
        other => other.clone(),
    }
}

fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Map(x), Value::Map(y)) => x.len() == y.len(),
        (Value::Error(x), Value::Error(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn approx(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // TTLs in seconds may straddle a second; PTTLs lose the milliseconds between the
        // two requests, which on a loaded 2-CPU machine can be tens of them: allow 0.5%.
        (Value::Int(x), Value::Int(y)) => (x - y).abs() <= 2.max(x.abs() / 200),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| approx(p, q))
        }
        _ => a == b,
    }
}

/// Checks the test's own reply parser on a sample, so a parser bug cannot hide differences.
#[test]
fn reply_parser_sanity() {
    let (v, used) = parse(b"*2\r\n$1\r\na\r\n:5\r\nextra").expect("complete");
    assert_eq!(used, 15);
    assert_eq!(
        v,
        Value::Array(vec![Value::Bulk(b"a".to_vec()), Value::Int(5)])
    );
    assert!(parse(b"$5\r\nab").is_none());
}

#[test]
fn connection_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        PING
        PING hello
        PING a b
        ECHO
        ECHO "hello world"
        ECHO a b
        SELECT 1
        SELECT 16
        SELECT -1
        SELECT abc
        SELECT 0
        AUTH foo
        AUTH default foo
        AUTH someone foo
        AUTH a b c
        NOSUCHCOMMAND
        nosuchcommand a b "c d"
        CLIENT SETNAME myname
        CLIENT GETNAME
        CLIENT SETNAME "bad name"
        CLIENT SETNAME ""
        CLIENT GETNAME
        CLIENT NOSUCH
        CLIENT
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL ID 999999
        CLIENT KILL ID abc
        CLIENT KILL TYPE foo
        CLIENT KILL TYPE pubsub
        CLIENT KILL FOO bar
        CLIENT KILL ID
        HELLO 4
        HELLO abc
        HELLO 2 SETNAME
        ?HELLO 2
        ?HELLO 3
        PING
        GET nosuchkey
        ECHO x
        RESET
        ?HELLO
        "#,
    );
}

#[test]
fn string_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        SET k v
        GET k
        SET k v NX
        SET k v2 XX
        GET k
        SET k v3 GET
        SET newkey v GET
        SET k v NX XX
        SET k v EX
        SET k v EX 0
        SET k v EX -5
        SET k v EX abc
        SET k v PX 100 EX 100
        SET k v KEEPTTL EX 10
        SET k v EX 100 KEEPTTL
        SET k v FOO
        SET k v EX 100
        #TTL k
        SET k v2 KEEPTTL
        #TTL k
        SET k v3
        TTL k
        SET k v EXAT 1
        GET k
        SET k v PXAT 99999999999999
        SET k v EX 9223372036854775807
        SET k v PX 9223372036854775807
        SETNX k v
        SETNX k2 v
        SETEX k3 100 v
        SETEX k3 0 v
        SETEX k3 abc v
        PSETEX k3 100000 v
        #PTTL k3
        GETSET k3 new
        GETSET nokey new
        GETDEL k3
        GETDEL k3
        SET n 10
        GETEX n
        GETEX n EX 100
        #TTL n
        GETEX n PERSIST
        TTL n
        GETEX n EX 10 PX 10
        GETEX n FOO
        GETEX nokey EX 10
        GETEX n EXAT 1
        EXISTS n
        MSET a 1 b 2 c 3
        MSET a 1 b
        MGET a b c nokey
        MSETNX a 1 z 2
        MSETNX y 1 z 2
        MGET y z
        SET i 10
        INCR i
        DECR i
        INCRBY i 5
        INCRBY i -5
        DECRBY i 3
        INCRBY i abc
        INCRBY i 9223372036854775807
        DECRBY i -9223372036854775808
        SET i 9223372036854775807
        INCR i
        SET i -9223372036854775808
        DECR i
        SET s hello
        INCR s
        SET s " 1"
        INCR s
        SET s 01
        INCR s
        INCR newcounter
        OBJECT ENCODING newcounter
        SET f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5
        INCRBYFLOAT f 1e3
        INCRBYFLOAT f abc
        INCRBYFLOAT f inf
        SET f 0.1
        INCRBYFLOAT f 0.2
        INCRBYFLOAT f 5.0e3
        INCRBYFLOAT f 0x10
        INCRBYFLOAT s 1
        OBJECT ENCODING f
        INCRBYFLOAT newf 3
        SET a hello
        APPEND a " world"
        GET a
        APPEND newa abc
        OBJECT ENCODING newa
        APPEND newn 123
        OBJECT ENCODING newn
        OBJECT ENCODING a
        STRLEN a
        STRLEN nokey
        SET num 12345
        STRLEN num
        APPEND num 6
        GET num
        GETRANGE a 0 4
        GETRANGE a -5 -1
        GETRANGE a 5 3
        GETRANGE a -1 -5
        GETRANGE a 0 -100
        GETRANGE a 100 200
        GETRANGE num 1 2
        GETRANGE nokey 0 1
        GETRANGE a x 1
        SUBSTR a 0 3
        SETRANGE a 6 REDIS
        GET a
        SETRANGE a 20 x
        GET a
        SETRANGE a -1 x
        SETRANGE a 0 ""
        SETRANGE nokey 0 ""
        EXISTS nokey
        SETRANGE nokey2 3 abc
        GET nokey2
        OBJECT ENCODING nokey2
        SETRANGE num 0 9
        GET num
        SET big 12345678901234567890
        OBJECT ENCODING big
        SET longstr aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING longstr
        SET embstr aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING embstr
        OBJECT REFCOUNT i
        SET small 123
        OBJECT REFCOUNT small
        OBJECT REFCOUNT a
        OBJECT REFCOUNT nokey
        OBJECT ENCODING nokey
        OBJECT FOO k
        OBJECT IDLETIME a
        OBJECT FREQ a
        SET
        GET
        GET a b
        MGET
        "#,
    );
}

/// LCS: the subsequence, its length, the ranges (with lengths and a minimum), errors, in
/// RESP2 and RESP3, on hand-written and random strings.
#[test]
fn lcs_matches_redis() {
    let mut pair = Pair::start(&[]);
    let cases = "
        SET a ohmytext
        SET b mynewtext
        LCS a b
        LCS a b LEN
        LCS a b IDX
        LCS a b IDX MINMATCHLEN 4
        LCS a b IDX WITHMATCHLEN MINMATCHLEN -3
        LCS a b IDX LEN
        LCS a b LEN IDX
        LCS a b BOGUS
        LCS a b MINMATCHLEN
        LCS a b MINMATCHLEN x
        LCS a missing
        LCS missing1 missing2 IDX
        SET n 12345
        SET m 2345
        LCS n m IDX WITHMATCHLEN
        RPUSH l x
        LCS a l
        LCS l a LEN
        SET x \"\"
        LCS x a IDX
        LCS a a IDX WITHMATCHLEN
        COMMAND GETKEYS LCS a b IDX
    ";
    pair.script(cases);
    let mut state: u64 = 0x2545f4914f6cdd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..40 {
        let (la, lb) = (next() % 30, next() % 30);
        let x: String = (0..la)
            .map(|_| (b'a' + (next() % 4) as u8) as char)
            .collect();
        let y: String = (0..lb)
            .map(|_| (b'a' + (next() % 4) as u8) as char)
            .collect();
        pair.check(&format!("SET ra \"{x}\""));
        pair.check(&format!("SET rb \"{y}\""));
        pair.script("LCS ra rb\nLCS ra rb IDX WITHMATCHLEN\nLCS ra rb IDX MINMATCHLEN 2");
    }
    pair.check_mode(&[b"HELLO", b"3"], crate::differential::Mode::Shape);
    pair.script(cases);
}

/// MEMORY: HELP, errors and missing keys byte for byte; USAGE, DOCTOR and MALLOC-STATS in
/// Redis's reply types; STATS with Redis's field names in Redis's order; USAGE figures in
/// the range a user expects from the value's size.
#[test]
fn memory_command_answers_as_redis() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        MEMORY HELP
        MEMORY
        MEMORY FOO
        MEMORY USAGE missing
        SET k v
        ?MEMORY USAGE k
        ?MEMORY USAGE k SAMPLES 0
        MEMORY USAGE k SAMPLES -1
        MEMORY USAGE k SAMPLES x
        MEMORY USAGE k BOGUS
        MEMORY USAGE k SAMPLES
        ?MEMORY DOCTOR
        ?MEMORY MALLOC-STATS
        MEMORY PURGE
        MEMORY STATS extra
        COMMAND GETKEYS MEMORY USAGE k
        ",
    );
    let names = |v: crate::harness::Value| -> Vec<String> {
        v.array().iter().step_by(2).map(|k| k.text()).collect()
    };
    assert_eq!(
        names(pair.oc.cmd(&["MEMORY", "STATS"])),
        names(pair.rc.cmd(&["MEMORY", "STATS"])),
        "MEMORY STATS fields (replikv left, Redis right)"
    );
    let usage = |c: &mut crate::harness::Conn, key: &str| c.cmd(&["MEMORY", "USAGE", key]).int();
    pair.oc.cmd(&["SET", "big", &"A".repeat(33_000)]);
    let big = usage(&mut pair.oc, "big");
    assert!(
        (33_000..42_000).contains(&big),
        "a 33000-byte string: {big}"
    );
    for i in 0..100 {
        let field = format!("f{i}");
        pair.oc.cmd(&["HSET", "h", &field, &"x".repeat(100)]);
    }
    let hash = usage(&mut pair.oc, "h");
    assert!(
        (10_000..60_000).contains(&hash),
        "100 fields of 100 bytes: {hash}"
    );
}

#[test]
fn key_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        MSET a 1 b 2 c 3
        DEL a nokey b
        DEL a
        EXISTS a b c c nokey
        UNLINK c
        SET a 1
        TYPE a
        TYPE nokey
        EXPIRE a 100
        #TTL a
        EXPIRE a 100 NX
        EXPIRE a 200 XX
        EXPIRE a 50 GT
        EXPIRE a 500 GT
        EXPIRE a 1000 LT
        EXPIRE a 50 LT
        #TTL a
        EXPIRE a 10 NX XX
        EXPIRE a 10 GT LT
        EXPIRE a 10 FOO
        EXPIRE a abc
        EXPIRE a 9223372036854775807
        PEXPIRE a 9223372036854775807
        EXPIRE nokey 10
        SET b 1
        EXPIRE b 10 XX
        EXPIRE b 10 GT
        EXPIRE b 10 LT
        #TTL b
        PERSIST b
        PERSIST b
        PERSIST nokey
        TTL b
        TTL nokey
        PTTL nokey
        PTTL b
        PEXPIRE b 100000
        #PTTL b
        EXPIREAT b 4000000000
        EXPIRETIME b
        PEXPIREAT b 4000000000000
        PEXPIRETIME b
        EXPIRETIME nokey
        EXPIRETIME a
        SET c 1
        EXPIRETIME c
        EXPIRE c -1
        EXISTS c
        SET c 1
        EXPIREAT c 1
        EXISTS c
        SET c 1
        PEXPIREAT c 0
        GET c
        FLUSHALL
        MSET k1 1 k2 2 k3 3 other 4
        ~KEYS *
        ~KEYS k*
        ~KEYS k[12]
        ~KEYS ?3
        KEYS nomatch*
        RENAME k1 k1new
        GET k1new
        RENAME nokey x
        RENAME k1new k1new
        RENAMENX k2 k3
        RENAMENX k2 k2new
        RENAMENX k2new k2new
        RENAMENX nokey x
        SET t 1 EX 100
        RENAME t t2
        #TTL t2
        COPY k3 k3copy
        GET k3copy
        COPY k3 k3copy
        COPY k3 k3copy REPLACE
        COPY k3 k3 
        COPY k3 k3 DB 1
        SELECT 1
        GET k3
        SELECT 0
        COPY k3 x DB 16
        COPY k3 x DB abc
        COPY k3 x FOO
        COPY nokey x
        COPY t2 t3
        #TTL t3
        MOVE k3 1
        MOVE k3 1
        MOVE k3copy 0
        MOVE nokey 1
        MOVE k3copy 16
        MOVE k3copy abc
        SELECT 1
        GET k3
        DBSIZE
        SELECT 0
        DBSIZE
        TOUCH k3copy nokey other
        FLUSHDB
        RANDOMKEY
        SET only 1
        RANDOMKEY
        DBSIZE
        FLUSHDB ASYNC
        FLUSHDB SYNC
        FLUSHDB FOO
        FLUSHALL FOO
        SET x 1
        SELECT 2
        SET y 2
        SWAPDB 0 2
        GET x
        SELECT 0
        GET y
        SWAPDB 0 16
        SWAPDB a 0
        SWAPDB 0 b
        SWAPDB 0 0
        FLUSHALL
        DBSIZE
        "#,
    );
}

#[test]
fn scan_returns_the_same_keys() {
    let mut p = Pair::start(&[]);
    // A negative cursor wraps as in C's strtoul: accepted, not an error.
    assert!(!p.oc.cmd(&["SCAN", "-1"]).is_error());
    assert!(!p.oc.cmd(&["SCAN", ""]).is_error());
    for i in 0..300 {
        p.check(&format!("SET key:{i} {i}"));
    }
    p.check("SET notmatching v");
    for node_is_ours in [false, true] {
        let conn = if node_is_ours { &mut p.oc } else { &mut p.rc };
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let reply = conn
                .cmd(&[
                    "SCAN", &cursor, "COUNT", "7", "MATCH", "key:1*", "TYPE", "string",
                ])
                .array();
            cursor = reply[0].text();
            for k in reply[1].array() {
                seen.insert(k.text());
            }
            if cursor == "0" {
                break;
            }
        }
        let expected: std::collections::BTreeSet<String> = (0..300)
            .map(|i| format!("key:{i}"))
            .filter(|k| k.starts_with("key:1"))
            .collect();
        assert_eq!(seen, expected, "node ours={node_is_ours}");
    }
    p.script(
        r#"
        SCAN abc
        SCAN 0 COUNT 0
        SCAN 0 COUNT abc
        SCAN 0 FOO bar
        SCAN 0 MATCH
        SCAN " 1"
        SCAN 1x
        SCAN 99999999999999999999999
        "#,
    );
}

#[test]
fn server_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        CONFIG GET maxclients
        CONFIG GET databases
        ~CONFIG GET hash-max-*
        CONFIG GET nosuchparam
        CONFIG SET maxclients 500
        CONFIG GET maxclients
        CONFIG SET maxclients abc
        CONFIG SET nosuch 1
        CONFIG SET databases 5
        CONFIG SET maxclients
        CONFIG SET hz 20 hz 30
        CONFIG SET replica-read-only maybe
        CONFIG SET loglevel loud
        CONFIG SET repl-backlog-size 2mb
        CONFIG GET repl-backlog-size
        CONFIG GET slave-read-only
        CONFIG GET save
        CONFIG GET appendonly
        CONFIG RESETSTAT
        CONFIG FOO
        CONFIG
        COMMAND FOO
        ?TIME
        ?LASTSAVE
        DBSIZE
        DEBUG SLEEP 0
        DEBUG FOO
        SHUTDOWN FOO
        SHUTDOWN ABORT
        SWAPDB 0
        "#,
    );
}

/// Random command sequences over a small key space, mixing types so WRONGTYPE paths run.
#[test]
fn random_sequences_of_string_and_key_commands() {
    let seed: u64 = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("random differential seed: {seed} (set DIFF_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut p = Pair::start(&[]);
    let keys = ["k0", "k1", "k2", "k3"];
    let values = [
        "0",
        "1",
        "-5",
        "10.5",
        "abc",
        "",
        "9223372036854775807",
        "x y",
        "1e3",
        "007",
    ];
    for _ in 0..1500 {
        let k = keys[rng.random_range(0..keys.len())];
        let k2 = keys[rng.random_range(0..keys.len())];
        let v = values[rng.random_range(0..values.len())];
        let n = rng.random_range(-3i64..20).to_string();
        let cmd: Vec<String> = match rng.random_range(0..34) {
            0 => vec!["SET".into(), k.into(), v.into()],
            1 => vec!["GET".into(), k.into()],
            2 => vec!["INCR".into(), k.into()],
            3 => vec!["INCRBY".into(), k.into(), n.clone()],
            4 => vec!["DECRBY".into(), k.into(), v.into()],
            5 => vec!["INCRBYFLOAT".into(), k.into(), v.into()],
            6 => vec!["APPEND".into(), k.into(), v.into()],
            7 => vec!["STRLEN".into(), k.into()],
            8 => vec![
                "GETRANGE".into(),
                k.into(),
                n.clone(),
                rng.random_range(-5i64..10).to_string(),
            ],
            9 => vec![
                "SETRANGE".into(),
                k.into(),
                rng.random_range(0i64..8).to_string(),
                v.into(),
            ],
            10 => vec!["DEL".into(), k.into(), k2.into()],
            11 => vec!["EXISTS".into(), k.into(), k2.into()],
            12 => vec!["TYPE".into(), k.into()],
            13 => vec!["RENAME".into(), k.into(), k2.into()],
            14 => vec!["RENAMENX".into(), k.into(), k2.into()],
            15 => vec!["COPY".into(), k.into(), k2.into(), "REPLACE".into()],
            16 => vec!["MSET".into(), k.into(), v.into(), k2.into(), n.clone()],
            17 => vec!["MGET".into(), k.into(), k2.into()],
            18 => vec!["GETSET".into(), k.into(), v.into()],
            19 => vec!["GETDEL".into(), k.into()],
            20 => vec!["SETNX".into(), k.into(), v.into()],
            21 => vec!["MSETNX".into(), k.into(), v.into(), k2.into(), v.into()],
            22 => vec!["EXPIRE".into(), k.into(), "1000".into()],
            23 => vec!["PERSIST".into(), k.into()],
            24 => vec!["TTL".into(), k.into()],
            25 => vec!["OBJECT".into(), "ENCODING".into(), k.into()],
            26 => vec![
                "SET".into(),
                k.into(),
                v.into(),
                ["NX", "XX", "GET", "KEEPTTL"][rng.random_range(0..4)].into(),
            ],
            27 => vec!["SETEX".into(), k.into(), "100".into(), v.into()],
            28 => vec!["DECR".into(), k.into()],
            // Keys of the other types, so the string commands meet WRONGTYPE.
            30 => vec!["RPUSH".into(), k.into(), v.into()],
            31 => vec!["HSET".into(), k.into(), v.into(), n.clone()],
            32 => vec!["SADD".into(), k.into(), v.into()],
            33 => vec!["ZADD".into(), k.into(), n.clone(), v.into()],
            _ => vec!["GETEX".into(), k.into(), "PERSIST".into()],
        };
        let refs: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        p.check_mode(&refs, Mode::Exact);
    }
}

/// INFO prints Redis 7.0's field names, section by section, in Redis's order (replikv may
/// add its own `replikv_*` fields).
#[test]
fn info_sections_have_redis_field_names_in_order() {
    let p = Pair::start(&[]);
    for section in [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "keyspace",
    ] {
        let names = |node: &crate::harness::Node| -> Vec<String> {
            node.conn()
                .cmd(&["INFO", section])
                .text()
                .lines()
                .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
                .collect()
        };
        let (theirs, ours) = (names(&p.redis), names(&p.ours));
        // Fields Redis prints only on some builds or configurations (none on this one).
        let optional: [&str; 0] = [];
        let mut last = 0;
        for name in &theirs {
            match ours.iter().position(|o| o == name) {
                Some(i) => {
                    assert!(i >= last, "INFO {section}: {name} out of Redis's order");
                    last = i;
                }
                None => assert!(
                    optional.iter().any(|o| name.starts_with(o)),
                    "INFO {section} lacks {name}"
                ),
            }
        }
    }
}

/// CLIENT LIST and CLIENT INFO lines carry Redis's fields in Redis's order.
#[test]
fn client_list_fields_match_redis() {
    let p = Pair::start(&[]);
    let fields = |node: &crate::harness::Node, cmd: &str| -> Vec<String> {
        node.conn()
            .cmd(&["CLIENT", cmd])
            .text()
            .lines()
            .next()
            .unwrap_or("")
            .split(' ')
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
            .collect()
    };
    for cmd in ["LIST", "INFO"] {
        assert_eq!(fields(&p.ours, cmd), fields(&p.redis, cmd), "CLIENT {cmd}");
    }
}
