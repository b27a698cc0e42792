//! RDB files and DUMP payloads against real Redis 7.0: a Redis-written RDB loads into
//! replikv, replikv's RDB loads into Redis and passes `redis-check-rdb`, DUMP/RESTORE in
//! both directions, SAVE/BGSAVE/save rules/SHUTDOWN/FLUSHALL, corrupt files at start-up,
//! and a BGSAVE under concurrent writes that is a point-in-time image.
//!
//! replikv's view of a collection is read both with its own commands and by moving the
//! value with DUMP into a scratch Redis database and reading it there, which checks
//! DUMP/RESTORE on the way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::differential::Pair;
use crate::harness::{redis_tool, run_to_exit, wait_until, Conn, Node, Value};

/// The database a Redis node lends for reading values moved with DUMP/RESTORE.
const SCRATCH_DB: &str = "15";

fn call(c: &mut Conn, args: &[&[u8]]) -> Value {
    c.cmd_raw(args).0
}

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()));
}

fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::Bulk(b) => b.clone(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn info_field(c: &mut Conn, section: &str, name: &str) -> String {
    let text = c.cmd(&["INFO", section]).text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("INFO {section} has no {name}:\n{text}"))
}

/// Every key of `db`, by SCAN.
fn keys(c: &mut Conn, db: u32) -> Vec<Vec<u8>> {
    ok(c.cmd(&["SELECT", &db.to_string()]));
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    loop {
        let reply = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]).array();
        cursor = reply[0].text();
        for k in reply[1].array() {
            out.push(bytes_of(&k));
        }
        if cursor == "0" {
            break;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A value read with Redis's own commands, in a comparable form.
fn read_value(c: &mut Conn, key: &[u8], kind: &str) -> Vec<Vec<u8>> {
    let flat = |v: Value| -> Vec<Vec<u8>> { v.array().iter().map(bytes_of).collect() };
    match kind {
        "string" => vec![bytes_of(&call(c, &[b"GET", key]))],
        "list" => flat(call(c, &[b"LRANGE", key, b"0", b"-1"])),
        "hash" => {
            let f = flat(call(c, &[b"HGETALL", key]));
            let mut pairs: Vec<Vec<u8>> = f
                .chunks(2)
                .map(|p| [p[0].clone(), b"=".to_vec(), p[1].clone()].concat())
                .collect();
            pairs.sort();
            pairs
        }
        "set" => {
            let mut m = flat(call(c, &[b"SMEMBERS", key]));
            m.sort();
            m
        }
        "zset" => flat(call(c, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])),
        other => panic!("unexpected type {other}"),
    }
}

/// What one key holds: type, value, TTL in ms (-1 for none) and encoding.
#[derive(Debug, Clone)]
struct Entry {
    kind: String,
    value: Vec<Vec<u8>>,
    ttl: i64,
    encoding: String,
}

type Dataset = BTreeMap<(u32, Vec<u8>), Entry>;

/// Reads every key of databases `dbs` of the node behind `c`: type, TTL and encoding from
/// the node, the value from `value_of(c, key, type)`.
fn read_dataset(
    c: &mut Conn,
    dbs: &[u32],
    mut value_of: impl FnMut(&mut Conn, &[u8], &str) -> Vec<Vec<u8>>,
) -> Dataset {
    let mut out = BTreeMap::new();
    for &db in dbs {
        for key in keys(c, db) {
            let kind = call(c, &[b"TYPE", &key]).text();
            if kind == "none" {
                continue;
            }
            let ttl = call(c, &[b"PTTL", &key]).int();
            let encoding = call(c, &[b"OBJECT", b"ENCODING", &key]).text();
            let value = value_of(c, &key, &kind);
            out.insert(
                (db, key),
                Entry {
                    kind,
                    value,
                    ttl,
                    encoding,
                },
            );
        }
    }
    out
}

/// Reads every key of databases `dbs` directly.
fn read_redis(c: &mut Conn, dbs: &[u32]) -> Dataset {
    read_dataset(c, dbs, read_value)
}

/// Reads every key with its value moved by DUMP into `scratch` (a Redis connection) and
/// read there: checks replikv's DUMP payloads as much as its data.
fn read_via_dump(src: &mut Conn, scratch: &mut Conn, dbs: &[u32]) -> Dataset {
    ok(scratch.cmd(&["SELECT", SCRATCH_DB]));
    let out = read_dataset(src, dbs, |src, key, kind| {
        let payload = bytes_of(&call(src, &[b"DUMP", key]));
        ok(call(
            scratch,
            &[b"RESTORE", b"__probe__", b"0", &payload, b"REPLACE"],
        ));
        assert_eq!(call(scratch, &[b"TYPE", b"__probe__"]).text(), kind);
        read_value(scratch, b"__probe__", kind)
    });
    call(scratch, &[b"DEL", b"__probe__"]);
    out
}

/// Asserts two datasets hold the same keys, types, values and TTLs (within `ttl_slack`
/// ms), and the same encodings when `encodings` is set; reports every difference.
fn assert_same(want: &Dataset, got: &Dataset, encodings: bool, ctx: &str) {
    let mut diffs = Vec::new();
    for (k, w) in want {
        let name = format!("db{} {:?}", k.0, String::from_utf8_lossy(&k.1));
        match got.get(k) {
            None => diffs.push(format!("{name}: missing")),
            Some(g) => {
                if g.kind != w.kind {
                    diffs.push(format!("{name}: type {} vs {}", g.kind, w.kind));
                }
                if g.value != w.value {
                    diffs.push(format!(
                        "{name}: value differs ({} vs {} elements)",
                        g.value.len(),
                        w.value.len()
                    ));
                }
                let ttl_ok = (w.ttl < 0 && g.ttl == w.ttl)
                    || (w.ttl >= 0 && g.ttl >= 0 && (g.ttl - w.ttl).abs() < 10_000);
                if !ttl_ok {
                    diffs.push(format!("{name}: ttl {} vs {}", g.ttl, w.ttl));
                }
                if encodings && g.encoding != w.encoding {
                    diffs.push(format!("{name}: encoding {} vs {}", g.encoding, w.encoding));
                }
            }
        }
    }
    for k in got.keys() {
        if !want.contains_key(k) {
            diffs.push(format!(
                "db{} {:?}: unexpected",
                k.0,
                String::from_utf8_lossy(&k.1)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{ctx}: {} differences\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

const DBS: &[u32] = &[0, 1, 7];

fn noise(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// Fills a Redis node with every type in every encoding Redis 7.0 writes: int, embstr and
/// raw strings (binary, empty, 2 MB, compressible), quicklists built from both ends and
/// with a large element, listpack and hashtable hashes, intset and hashtable sets, listpack
/// and skiplist sorted sets, TTLs, several databases.
fn populate(c: &mut Conn) {
    ok(c.cmd(&["SELECT", "0"]));
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut add = |parts: Vec<Vec<u8>>| cmds.push(parts);
    let b = |s: &str| s.as_bytes().to_vec();
    add(vec![b("SET"), b("str:int"), b("12345")]);
    add(vec![b("SET"), b("str:bigint"), b("9223372036854775807")]);
    add(vec![b("SET"), b("str:emb"), b("hello")]);
    add(vec![b("SET"), b("str:raw"), vec![b'r'; 60]]);
    add(vec![b("SET"), b(""), b("")]);
    add(vec![
        b("SET"),
        vec![0, 255, b'\r', b'\n', 7],
        vec![0, 1, 0, 2, 255, b'\n'],
    ]);
    add(vec![b("SET"), b("str:huge"), noise(2 << 20, 1)]);
    add(vec![
        b("SET"),
        b("str:compressible"),
        b("abc").repeat(20000),
    ]);
    add(vec![
        b("RPUSH"),
        b("list:small"),
        b("a"),
        b("b"),
        b("c"),
        b("1"),
        b("-2"),
        b("300000"),
    ]);
    let mut big = vec![b("RPUSH"), b("list:big")];
    big.extend((0..3000).map(|i| format!("item-{i}").into_bytes()));
    add(big);
    let mut lp = vec![b("LPUSH"), b("list:lpush")];
    lp.extend((0..500).map(|i| format!("{i}").into_bytes()));
    add(lp);
    add(vec![
        b("RPUSH"),
        b("list:bigelem"),
        b("x"),
        noise(20000, 2),
        b("y"),
    ]);
    add(vec![
        b("HSET"),
        b("hash:small"),
        b("f1"),
        b("v1"),
        b("f2"),
        b("2"),
        b("f3"),
        b(""),
    ]);
    add(vec![
        b("HSET"),
        b("hash:longvalue"),
        b("f"),
        vec![b'v'; 100],
    ]);
    let mut many = vec![b("HSET"), b("hash:many")];
    for i in 0..600 {
        many.push(format!("field:{i}").into_bytes());
        many.push(format!("{}", i * 7).into_bytes());
    }
    add(many);
    add(vec![
        b("SADD"),
        b("set:ints"),
        b("1"),
        b("2"),
        b("3"),
        b("-5"),
        b("100000"),
        b("-4000000000"),
    ]);
    let mut bigints = vec![b("SADD"), b("set:bigints")];
    bigints.extend((0..600).map(|i| format!("{}", i * 3).into_bytes()));
    add(bigints);
    add(vec![
        b("SADD"),
        b("set:strs"),
        b("a"),
        b("b"),
        b("c"),
        b("42"),
    ]);
    add(vec![
        b("ZADD"),
        b("zset:small"),
        b("1"),
        b("a"),
        b("2.5"),
        b("b"),
        b("-inf"),
        b("c"),
        b("0.1"),
        b("d"),
    ]);
    let mut bigz = vec![b("ZADD"), b("zset:big")];
    for i in 0..200 {
        bigz.push(format!("{}", (i % 17) as f64 / 4.0).into_bytes());
        bigz.push(format!("member:{i}").into_bytes());
    }
    add(bigz);
    add(vec![
        b("ZADD"),
        b("zset:longmember"),
        b("3"),
        vec![b'm'; 100],
        b("1e300"),
        b("x"),
    ]);
    add(vec![b("PEXPIRE"), b("str:emb"), b("100000000")]);
    add(vec![b("EXPIRE"), b("list:small"), b("50000")]);
    add(vec![b("PEXPIRE"), b("hash:many"), b("7777777")]);
    add(vec![b("SELECT"), b("1")]);
    add(vec![b("SET"), b("a"), b("1")]);
    add(vec![b("HSET"), b("h"), b("x"), b("y")]);
    add(vec![b("SELECT"), b("7")]);
    add(vec![b("SADD"), b("s"), b("z")]);
    add(vec![b("EXPIRE"), b("s"), b("10000")]);
    add(vec![b("SELECT"), b("0")]);
    for cmd in &cmds {
        let refs: Vec<&[u8]> = cmd.iter().map(|p| p.as_slice()).collect();
        let v = call(c, &refs);
        assert!(
            !v.is_error(),
            "{:?} failed: {v:?}",
            String::from_utf8_lossy(&cmd[0])
        );
    }
}

/// A Redis node with the sample dataset, saved; returns the node and its RDB file.
fn redis_with_sample() -> (Node, PathBuf) {
    let node = Node::redis(&[]);
    let mut c = node.conn();
    populate(&mut c);
    ok(c.cmd(&["SAVE"]));
    let path = node.dir.path().join("dump.rdb");
    assert!(path.exists());
    (node, path)
}

/// Copies `rdb` into a fresh directory as `dump.rdb`.
fn dir_with(rdb: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(rdb, dir.path().join("dump.rdb")).expect("copy rdb");
    dir
}

/// Starts replikv on a copy of `rdb`.
fn replikv_on(rdb: &Path, extra: &[&str]) -> (Node, tempfile::TempDir) {
    let dir = dir_with(rdb);
    let d = dir.path().to_str().expect("utf8").to_string();
    let mut args = vec!["--dir", d.as_str()];
    args.extend_from_slice(extra);
    (Node::replikv(&args), dir)
}

/// Starts Redis on a copy of `rdb`.
fn redis_on(rdb: &Path) -> (Node, tempfile::TempDir) {
    let dir = dir_with(rdb);
    let d = dir.path().to_str().expect("utf8").to_string();
    (Node::redis(&["--dir", d.as_str()]), dir)
}

/// `redis-check-rdb` must accept the file.
fn check_rdb(path: &Path) {
    let out = Command::new(redis_tool("redis-check-rdb"))
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb refused {}:\n{text}",
        path.display()
    );
}

fn wait_bgsave_done(c: &mut Conn) {
    wait_until(
        Duration::from_secs(60),
        "the background save to finish",
        || info_field(c, "persistence", "rdb_bgsave_in_progress") == "0",
    );
}

#[test]
fn redis_rdb_loads_into_replikv_and_replikv_rdb_loads_into_redis() {
    let (redis, rdb) = redis_with_sample();
    let mut rc = redis.conn();
    let want = read_redis(&mut rc, DBS);
    assert!(want.len() > 20, "{}", want.len());

    // Redis → replikv: the same keys, values, TTLs and encodings.
    let (ours, ours_dir) = replikv_on(&rdb, &[]);
    let ours_file = ours_dir.path().join("dump.rdb");
    let mut oc = ours.conn();
    assert_eq!(
        info_field(&mut oc, "persistence", "rdb_last_load_keys_loaded"),
        want.len().to_string()
    );
    let got = read_via_dump(&mut oc, &mut rc, DBS);
    assert_same(&want, &got, true, "replikv started on Redis's RDB");
    // Read directly with replikv's own collection commands too.
    let direct = read_redis(&mut oc, DBS);
    assert_same(
        &want,
        &direct,
        true,
        "replikv started on Redis's RDB, read directly",
    );

    // replikv → Redis, with and without compression: redis-check-rdb accepts the file and a
    // Redis started on it holds the same data, in the same encodings.
    for compression in ["yes", "no"] {
        ok(oc.cmd(&["CONFIG", "SET", "rdbcompression", compression]));
        ok(oc.cmd(&["SAVE"]));
        check_rdb(&ours_file);
        let (redis2, _d2) = redis_on(&ours_file);
        let back = read_redis(&mut redis2.conn(), DBS);
        assert_same(
            &want,
            &back,
            true,
            &format!("Redis started on replikv's RDB (rdbcompression {compression})"),
        );
    }

    // A BGSAVE file is just as good.
    assert_eq!(
        oc.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    wait_bgsave_done(&mut oc);
    assert_eq!(
        info_field(&mut oc, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    check_rdb(&ours_file);
    let (redis3, _d3) = redis_on(&ours_file);
    assert_same(
        &want,
        &read_redis(&mut redis3.conn(), DBS),
        true,
        "Redis on replikv's BGSAVE file",
    );
}

#[test]
fn keys_expired_before_the_load_are_dropped_and_counted() {
    let redis = Node::redis(&[]);
    let mut rc = redis.conn();
    ok(rc.cmd(&["SET", "stays", "1"]));
    ok(rc.cmd(&["SET", "goes", "1", "PX", "300"]));
    ok(rc.cmd(&["SAVE"]));
    std::thread::sleep(Duration::from_millis(400));
    let (ours, _dir) = replikv_on(&redis.dir.path().join("dump.rdb"), &[]);
    let mut oc = ours.conn();
    assert_eq!(
        info_field(&mut oc, "persistence", "rdb_last_load_keys_loaded"),
        "1"
    );
    assert_eq!(
        info_field(&mut oc, "persistence", "rdb_last_load_keys_expired"),
        "1"
    );
    assert_eq!(oc.cmd(&["DBSIZE"]), Value::Int(1));
}

#[test]
fn dump_restore_both_ways() {
    let redis = Node::redis(&[]);
    let mut rc = redis.conn();
    populate(&mut rc);
    let want = read_redis(&mut rc, &[0]);
    let ours = Node::replikv(&[]);
    let mut oc = ours.conn();
    // Redis → replikv by DUMP/RESTORE, then replikv → Redis (scratch database) the same way.
    for ((_, key), entry) in &want {
        let payload = bytes_of(&call(&mut rc, &[b"DUMP", key]));
        let ttl = entry.ttl.max(0).to_string();
        ok(call(&mut oc, &[b"RESTORE", key, ttl.as_bytes(), &payload]));
        let ours_payload = bytes_of(&call(&mut oc, &[b"DUMP", key]));
        // Small values encode exactly as Redis encodes them.
        let small = [
            "str:int",
            "str:emb",
            "hash:small",
            "set:ints",
            "zset:small",
            "list:small",
            "",
        ];
        if small.iter().any(|s| s.as_bytes() == key.as_slice()) {
            assert_eq!(
                ours_payload,
                payload,
                "DUMP of {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }
    let got = read_via_dump(&mut oc, &mut rc, &[0]);
    assert_same(
        &want,
        &got,
        true,
        "DUMP from Redis, RESTORE into replikv, DUMP back",
    );
    let direct = read_redis(&mut oc, &[0]);
    assert_same(&want, &direct, true, "RESTOREd into replikv, read directly");
    assert_eq!(
        oc.cmd(&["OBJECT", "ENCODING", "hash:many"]).text(),
        "hashtable"
    );
    assert_eq!(
        oc.cmd(&["OBJECT", "ENCODING", "zset:big"]).text(),
        "skiplist"
    );
}

#[test]
fn restore_replies_and_errors_match_redis() {
    let mut p = Pair::start(&[]);
    let (_, payload) = p.rc.cmd_raw(&[b"DUMP", b"nothing"]);
    assert_eq!(payload, b"$-1\r\n");
    p.check("SET src hello");
    let good = bytes_of(&call(&mut p.rc, &[b"DUMP", b"src"]));
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 1;
    let mut v11 = good[..n - 10].to_vec();
    v11.extend_from_slice(&[11, 0]);
    // A correct footer around a body that is not a value.
    let garbage_body = {
        let ours = bytes_of(&call(&mut p.oc, &[b"DUMP", b"src"]));
        assert_eq!(ours, good);
        let mut b = vec![2u8, 5, 1, b'a'];
        b.extend_from_slice(&good[n - 10..n - 8]);
        let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    };
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![b"RESTORE", b"k", b"0", &good],
        vec![b"GET", b"k"],
        vec![b"RESTORE", b"k", b"0", &good],
        vec![b"RESTORE", b"k", b"0", &good, b"REPLACE"],
        vec![b"RESTORE", b"k2", b"-1", &good],
        vec![b"RESTORE", b"k2", b"abc", &good],
        vec![b"RESTORE", b"k2", b"0", &bad_crc],
        vec![b"RESTORE", b"k2", b"0", &v11],
        vec![b"RESTORE", b"k2", b"0", b"short"],
        vec![b"RESTORE", b"k2", b"0", &garbage_body],
        vec![b"RESTORE", b"k2", b"0", &good, b"IDLETIME"],
        vec![b"RESTORE", b"k2", b"0", &good, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"k2", b"0", &good, b"IDLETIME", b"x"],
        vec![b"RESTORE", b"k2", b"0", &good, b"FREQ", b"256"],
        vec![
            b"RESTORE",
            b"k2",
            b"0",
            &good,
            b"FREQ",
            b"1",
            b"IDLETIME",
            b"1",
        ],
        vec![b"RESTORE", b"k2", b"0", &good, b"BOGUS"],
        vec![
            b"RESTORE",
            b"k2",
            b"0",
            &good,
            b"IDLETIME",
            b"100",
            b"REPLACE",
        ],
        vec![b"OBJECT", b"IDLETIME", b"k2"],
        vec![b"RESTORE", b"k3", b"100000", &good],
        vec![b"RESTORE", b"k4", b"1", &good, b"ABSTTL"],
        vec![b"EXISTS", b"k4"],
        vec![b"RESTORE", b"k", b"1", &good, b"ABSTTL", b"REPLACE"],
        vec![b"EXISTS", b"k"],
        vec![b"RESTORE"],
    ];
    for c in &cases {
        p.check_mode(c, crate::differential::Mode::Exact);
    }
    p.script("#TTL k3\nTTL k2");
}

#[test]
fn corrupt_rdb_files_stop_start_up_with_a_clear_error() {
    let redis = Node::redis(&[]);
    let mut rc = redis.conn();
    ok(rc.cmd(&["SET", "k", "v"]));
    assert_eq!(rc.cmd(&["HSET", "h", "f", "v"]), Value::Int(1));
    ok(rc.cmd(&["SELECT", "3"]));
    ok(rc.cmd(&["SET", "other", "x"]));
    ok(rc.cmd(&["SAVE"]));
    let good = std::fs::read(redis.dir.path().join("dump.rdb")).expect("read rdb");
    let n = good.len();
    let selectdb = good.iter().position(|&b| b == 0xFE).expect("a SELECTDB");
    let mut cases: Vec<(String, Vec<u8>, &str)> = Vec::new();
    for cut in [
        0,
        4,
        9,
        12,
        selectdb,
        selectdb + 1,
        selectdb + 4,
        n / 2,
        n - 9,
        n - 8,
        n - 3,
    ] {
        cases.push((
            format!("truncated at {cut}"),
            good[..cut].to_vec(),
            // A cut inside a string is seen at once: its length passes the end of the file.
            "unexpected end|bytes are left",
        ));
    }
    let mut flipped = good.clone();
    flipped[selectdb + 6] ^= 0x01;
    cases.push(("a flipped bit".into(), flipped, "byte"));
    let mut crc = good.clone();
    crc[n - 1] ^= 0xFF;
    // Worded as Redis logs it: tools grep for "CRC error".
    cases.push(("a wrong checksum".into(), crc, "rdb crc error"));
    let mut version = good.clone();
    version[5..9].copy_from_slice(b"0011");
    cases.push(("version 11".into(), version, "version 11"));
    let mut magic = good.clone();
    magic[0] = b'X';
    cases.push(("a wrong signature".into(), magic, "signature"));
    for (what, bytes, needle) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dump.rdb");
        std::fs::write(&path, &bytes).expect("write");
        let (code, text) = run_to_exit(dir.path(), &[]);
        assert_eq!(code, Some(1), "{what}: {text}");
        assert!(
            text.contains(path.to_str().expect("utf8")),
            "{what}: the file is not named:\n{text}"
        );
        assert!(
            needle.split('|').any(|n| text.to_lowercase().contains(n)),
            "{what}: expected '{needle}' in:\n{text}"
        );
        if needle != "signature" && !what.starts_with("version") {
            assert!(text.contains("byte"), "{what}: no offset in:\n{text}");
        }
        assert_eq!(
            std::fs::read(&path).expect("read back"),
            bytes,
            "{what}: the file was changed"
        );
    }
    // More databases in the file than configured.
    let dir = dir_with(&redis.dir.path().join("dump.rdb"));
    let (code, text) = run_to_exit(dir.path(), &["--databases", "2"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("database 3"), "{text}");
}

#[test]
fn save_bgsave_and_schedule_replies_match_redis() {
    let mut p = Pair::start(&[]);
    p.script(
        "SET a 1
         SAVE
         BGSAVE foo
         BGSAVE SCHEDULE extra
         MULTI
         SAVE
         DISCARD",
    );
    for c in [&mut p.rc, &mut p.oc] {
        assert_eq!(
            info_field(c, "persistence", "rdb_changes_since_last_save"),
            "0"
        );
        assert_eq!(info_field(c, "persistence", "rdb_saves"), "1");
    }
    p.check("BGSAVE");
    wait_bgsave_done(&mut p.rc);
    wait_bgsave_done(&mut p.oc);
    p.script(
        "MULTI
         SET b 2
         BGSAVE
         EXEC",
    );
    for c in [&mut p.rc, &mut p.oc] {
        wait_until(Duration::from_secs(10), "the scheduled BGSAVE", || {
            info_field(c, "persistence", "rdb_saves") == "3"
                && info_field(c, "persistence", "rdb_bgsave_in_progress") == "0"
        });
        assert_eq!(info_field(c, "persistence", "rdb_last_bgsave_status"), "ok");
        assert_eq!(
            info_field(c, "persistence", "rdb_changes_since_last_save"),
            "0"
        );
        assert_ne!(
            info_field(c, "persistence", "rdb_last_bgsave_time_sec"),
            "-1"
        );
    }
    p.check("BGSAVE SCHEDULE");
    wait_bgsave_done(&mut p.oc);
    let last = p.oc.cmd(&["LASTSAVE"]).int();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((now - last).abs() <= 5, "LASTSAVE {last}, now {now}");
    assert_eq!(
        info_field(&mut p.oc, "persistence", "rdb_last_save_time"),
        last.to_string()
    );
}

#[test]
fn save_rules_start_a_background_save() {
    let node = Node::replikv(&["--save", "1 2"]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "a", "1"]));
    std::thread::sleep(Duration::from_millis(1500));
    // One change is below the rule's two: nothing saved.
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves"), "0");
    ok(c.cmd(&["SET", "b", "2"]));
    wait_until(Duration::from_secs(10), "the save rule to fire", || {
        info_field(&mut c, "persistence", "rdb_saves") == "1"
            && info_field(&mut c, "persistence", "rdb_changes_since_last_save") == "0"
    });
    let file = node.dir.path().join("dump.rdb");
    check_rdb(&file);
}

fn restart_on(dir: &Path, extra: &[&str]) -> Node {
    let d = dir.to_str().expect("utf8").to_string();
    let mut args = vec!["--dir", d.as_str()];
    args.extend_from_slice(extra);
    Node::replikv(&args)
}

#[test]
fn shutdown_and_sigterm_save_when_save_rules_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    // SHUTDOWN with save rules saves; NOSAVE does not; SAVE forces one without rules.
    let mut node = restart_on(dir.path(), &["--save", "3600 1"]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "k1", "v1"]));
    c.send(&[b"SHUTDOWN"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    let mut node = restart_on(dir.path(), &["--save", "3600 1"]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["GET", "k1"]), Value::Bulk(b"v1".to_vec()));
    ok(c.cmd(&["SET", "k2", "v2"]));
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    let mut node = restart_on(dir.path(), &[]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["EXISTS", "k2"]), Value::Int(0));
    ok(c.cmd(&["SET", "k3", "v3"]));
    c.send(&[b"SHUTDOWN", b"SAVE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    // SIGTERM saves too.
    let mut node = restart_on(dir.path(), &["--save", "3600 1"]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["GET", "k3"]), Value::Bulk(b"v3".to_vec()));
    ok(c.cmd(&["SET", "k4", "v4"]));
    let pid = node.pid().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    let node = restart_on(dir.path(), &[]);
    assert_eq!(node.conn().cmd(&["GET", "k4"]), Value::Bulk(b"v4".to_vec()));
    check_rdb(&dir.path().join("dump.rdb"));
}

#[test]
fn failed_saves_refuse_shutdown_and_writes_until_forced() {
    let mut node = Node::replikv(&["--save", "3600 1", "--enable-protected-configs", "yes"]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "k", "v"]));
    let gone = tempfile::tempdir().expect("tempdir");
    ok(c.cmd(&["CONFIG", "SET", "dir", gone.path().to_str().expect("utf8")]));
    drop(gone);
    assert_eq!(c.cmd(&["SAVE"]), Value::Error("ERR".into()));
    assert_eq!(
        c.cmd(&["SHUTDOWN"]),
        Value::Error("ERR Errors trying to SHUTDOWN. Check logs.".into())
    );
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    wait_bgsave_done(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "err"
    );
    let misconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    assert_eq!(c.cmd(&["SET", "x", "1"]), Value::Error(misconf.into()));
    assert_eq!(c.cmd(&["PING"]), Value::Error(misconf.into()));
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
    ok(c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]));
    ok(c.cmd(&["SET", "x", "1"]));
    c.send(&[b"SHUTDOWN", b"FORCE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn flushall_with_save_rules_writes_an_empty_rdb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = restart_on(dir.path(), &["--save", "3600 1"]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "k", "v"]));
    ok(c.cmd(&["SAVE"]));
    ok(c.cmd(&["SET", "k2", "v"]));
    ok(c.cmd(&["FLUSHALL"]));
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    let node = restart_on(dir.path(), &[]);
    assert_eq!(node.conn().cmd(&["DBSIZE"]), Value::Int(0));
    assert!(
        node.wait_for_log("DB loaded from disk"),
        "{:?}",
        node.log_lines()
    );
}

#[test]
fn debug_reload_keeps_the_data() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "k", "v"]));
    ok(c.cmd(&["SET", "t", "v", "EX", "1000"]));
    ok(c.cmd(&["DEBUG", "RELOAD"]));
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
    assert!(c.cmd(&["TTL", "t"]).int() > 900);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_load_keys_loaded"),
        "2"
    );
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "BOGUS"]),
        Value::Error(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into()
        )
    );
    ok(c.cmd(&["SET", "k", "changed"]));
    ok(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]));
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
}

/// A BGSAVE under a concurrent writer is the keyspace of one instant: the writer sets
/// `c:<i mod 1000>` to `i` for i = 0, 1, 2, ...; a point-in-time image holds, for its
/// largest value M, exactly the last write at or before M of every key.
#[test]
fn bgsave_under_concurrent_writes_is_a_point_in_time_image() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    // Filler so the save takes a while.
    let value = vec![b'f'; 100];
    for chunk in (0..200_000u32).collect::<Vec<_>>().chunks(1000) {
        for i in chunk {
            c.send(&[b"SET", format!("filler:{i}").as_bytes(), &value]);
        }
        for _ in chunk {
            c.read_raw();
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let port = node.port;
    let writer = {
        let (stop, written) = (stop.clone(), written.clone());
        std::thread::spawn(move || {
            let mut w = Conn::connect(port);
            let mut i: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                for j in i..i + 50 {
                    w.send(&[
                        b"SET",
                        format!("c:{}", j % 1000).as_bytes(),
                        j.to_string().as_bytes(),
                    ]);
                }
                for _ in 0..50 {
                    w.read_raw();
                }
                i += 50;
                written.store(i, Ordering::Relaxed);
            }
        })
    };
    wait_until(Duration::from_secs(10), "the writer to start", || {
        written.load(Ordering::Relaxed) > 2000
    });
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let at_start = written.load(Ordering::Relaxed);
    wait_bgsave_done(&mut c);
    let at_end = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    assert!(
        at_end > at_start,
        "the writer made no progress during the save"
    );
    let file = node.dir.path().join("dump.rdb");
    check_rdb(&file);
    let (redis, _d) = redis_on(&file);
    let mut rc = redis.conn();
    assert_eq!(rc.cmd(&["DBSIZE"]), Value::Int(201_000));
    let mut args: Vec<Vec<u8>> = vec![b"MGET".to_vec()];
    args.extend((0..1000).map(|j| format!("c:{j}").into_bytes()));
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let values: Vec<u64> = call(&mut rc, &refs)
        .array()
        .iter()
        .map(|v| {
            String::from_utf8_lossy(&bytes_of(v))
                .parse()
                .expect("a number")
        })
        .collect();
    let m = *values.iter().max().expect("values");
    assert!(
        m >= 2000 && m < at_end + 50,
        "snapshot at {m}, writes acknowledged by the end: {at_end}"
    );
    for (j, v) in values.iter().enumerate() {
        let expected = m - ((m + 1000 - j as u64) % 1000);
        assert_eq!(
            *v, expected,
            "c:{j} holds {v}, the image at {m} has {expected}"
        );
    }
}

/// `shutdown-on-sigterm` / `shutdown-on-sigint` (Redis 7.0): a signal shuts down with the
/// SHUTDOWN options they name.
#[test]
fn shutdown_on_signal_directives_choose_the_final_save() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No save rules, but SIGTERM is told to save.
    let mut node = restart_on(dir.path(), &["--shutdown-on-sigterm", "save"]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "k1", "v1"]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "shutdown-on-sigterm"]).array()[1].text(),
        "save"
    );
    node.signal("TERM");
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(dir.path().join("dump.rdb").exists(), "SIGTERM saved");
    // Save rules, but SIGINT is told not to save.
    let mut node = restart_on(dir.path(), &["--save", "3600 1"]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["GET", "k1"]), Value::Bulk(b"v1".to_vec()));
    ok(c.cmd(&["CONFIG", "SET", "shutdown-on-sigint", "nosave now"]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "shutdown-on-sigint"]).array()[1].text(),
        "nosave now"
    );
    let refused = c.cmd(&["CONFIG", "SET", "shutdown-on-sigint", "save nosave"]);
    assert!(refused.is_error(), "{refused:?}");
    ok(c.cmd(&["SET", "k2", "v2"]));
    node.signal("INT");
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    let node = restart_on(dir.path(), &[]);
    assert_eq!(
        node.conn().cmd(&["EXISTS", "k2"]),
        Value::Int(0),
        "SIGINT did not save"
    );
}

/// SHUTDOWN NOSAVE during a BGSAVE leaves no temporary file behind (Redis's "Temp rdb will
/// be deleted if we use bg_unlink when shutdown", which finds the file by the fork child's
/// pid).
#[test]
fn shutdown_during_a_bgsave_removes_its_temp_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = restart_on(dir.path(), &[]);
    let mut c = node.conn();
    for i in 0..20 {
        ok(c.cmd(&["SET", &i.to_string(), "v"]));
    }
    // 100 ms per key: the save lasts 2 s.
    ok(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let temp_files = || {
        std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
            .count()
    };
    wait_until(Duration::from_secs(10), "the BGSAVE's temp file", || {
        temp_files() > 0
    });
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(temp_files(), 0, "a temporary RDB was left behind");
}
