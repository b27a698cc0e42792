//! The append-only file against Redis 7.0: a replikv AOF directory loads into redis-server
//! and passes `redis-check-aof`, a Redis AOF directory loads into replikv (both with an RDB
//! base and with a base of commands), `appendfsync always` loses no acknowledged write to a
//! kill -9 (rewrites running meanwhile included), a file cut mid-command, turning the AOF on
//! and off at run time, automatic rewrites, a pre-7.0 single-file AOF, and a replica's AOF.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::{redis_tool, run_to_exit, wait_until, Conn, Node, Value};

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()), "expected OK");
}

fn info_field(c: &mut Conn, name: &str) -> String {
    let text = c.cmd(&["INFO", "persistence"]).text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("INFO persistence has no {name}:\n{text}"))
}

fn digest(c: &mut Conn) -> String {
    c.cmd(&["DEBUG", "DIGEST"]).text()
}

/// Every type, several databases, TTLs, a transaction, a function, a stream with a
/// consumer group and a pending entry, deletions: what an AOF must bring back.
fn fill(c: &mut Conn) {
    let script = [
        vec!["SET", "str", "hello"],
        vec!["SET", "num", "12345"],
        vec!["INCRBY", "num", "5"],
        vec!["APPEND", "str", " world"],
        vec!["SET", "ttl", "v", "EX", "1000"],
        vec!["SETEX", "ttl2", "2000", "v"],
        vec!["SET", "gone", "x"],
        vec!["DEL", "gone"],
        vec!["RPUSH", "list", "a", "b", "c", "d"],
        vec!["LPOP", "list"],
        vec!["HSET", "hash", "f1", "v1", "f2", "v2"],
        vec!["HINCRBY", "hash", "n", "3"],
        vec!["SADD", "set", "x", "y", "z", "1"],
        vec!["SREM", "set", "y"],
        vec!["SADD", "iset", "1", "2", "3"],
        vec!["ZADD", "zset", "1.5", "a", "-2", "b", "inf", "c"],
        vec!["ZINCRBY", "zset", "0.1", "a"],
        vec!["PFADD", "hll", "a", "b", "c"],
        vec!["SETBIT", "bits", "100", "1"],
        vec!["XADD", "stream", "1-1", "f", "v"],
        vec!["XADD", "stream", "2-1", "f", "w"],
        vec!["XADD", "stream", "3-1", "f", "x"],
        vec!["XDEL", "stream", "2-1"],
        vec!["XGROUP", "CREATE", "stream", "grp", "0"],
        vec!["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "stream", ">"],
        vec!["XGROUP", "CREATECONSUMER", "stream", "grp", "bob"],
        vec!["PEXPIRE", "list", "5000000"],
        vec![
            "FUNCTION",
            "LOAD",
            "#!lua name=aoflib\nredis.register_function('aofecho', function(keys, args) return args[1] end)",
        ],
        vec!["MULTI"],
        vec!["INCR", "counter"],
        vec!["RPUSH", "list2", "q"],
        vec!["EXEC"],
        vec!["SELECT", "3"],
        vec!["SET", "in3", "three"],
        vec!["SADD", "set3", "m"],
        vec!["SELECT", "0"],
    ];
    for cmd in script {
        if let Value::Error(e) = c.cmd(&cmd) {
            panic!("{cmd:?} failed: {e}");
        }
    }
}

fn manifest_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest"))
        .expect("the AOF manifest exists")
}

fn check_aof(dir: &Path) {
    let out = Command::new(redis_tool("redis-check-aof"))
        .arg(dir.join("appendonlydir/appendonly.aof.manifest"))
        .output()
        .expect("run redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains("All AOF files and manifest are valid"),
        "redis-check-aof refused replikv's AOF:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dir_arg(dir: &Path) -> String {
    dir.to_str().expect("utf8 path").to_string()
}

fn replikv_on(dir: &Path, extra: &[&str]) -> Node {
    let d = dir_arg(dir);
    let mut args = vec!["--dir", d.as_str(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    Node::replikv(&args)
}

fn redis_on(dir: &Path, extra: &[&str]) -> Node {
    let d = dir_arg(dir);
    let mut args = vec!["--dir", d.as_str(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    Node::redis(&args)
}

fn shutdown(node: &mut Node) {
    node.conn().send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(
        node.wait_exit(Duration::from_secs(10)).is_some(),
        "the server stops"
    );
}

fn wait_rewrite_done(c: &mut Conn) {
    wait_until(Duration::from_secs(20), "the AOF rewrite to finish", || {
        info_field(c, "aof_rewrite_in_progress") == "0"
            && info_field(c, "aof_rewrite_scheduled") == "0"
    });
}

#[test]
fn replikv_aof_loads_into_redis_in_both_base_formats() {
    for preamble in ["yes", "no"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut node = replikv_on(dir.path(), &["--aof-use-rdb-preamble", preamble]);
        let mut c = node.conn();
        fill(&mut c);
        // A base written by a rewrite, then increments after it.
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]),
            Value::Simple("Background append only file rewriting started".into())
        );
        wait_rewrite_done(&mut c);
        ok(c.cmd(&["SET", "after-rewrite", "1"]));
        assert_eq!(c.cmd(&["HSET", "hash", "f3", "v3"]), Value::Int(1));
        let want = digest(&mut c);
        let format = if preamble == "yes" { "rdb" } else { "aof" };
        let manifest = manifest_of(dir.path());
        assert!(
            manifest.contains(&format!("appendonly.aof.2.base.{format} seq 2 type b")),
            "the rewrite's base is named by the manifest:\n{manifest}"
        );
        shutdown(&mut node);
        check_aof(dir.path());

        let redis = redis_on(dir.path(), &[]);
        let mut r = redis.conn();
        assert_eq!(
            digest(&mut r),
            want,
            "Redis loads replikv's AOF (base {format})"
        );
        assert_eq!(
            r.cmd(&["FCALL", "aofecho", "0", "hi"]),
            Value::Bulk(b"hi".to_vec())
        );
        let pending = r.cmd(&["XPENDING", "stream", "grp"]).array();
        assert_eq!(pending[0], Value::Int(1), "the pending entry survives");
    }
}

#[test]
fn redis_aof_loads_into_replikv_in_both_base_formats() {
    for preamble in ["yes", "no"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut redis = redis_on(dir.path(), &["--aof-use-rdb-preamble", preamble]);
        let mut r = redis.conn();
        fill(&mut r);
        assert_eq!(
            r.cmd(&["BGREWRITEAOF"]),
            Value::Simple("Background append only file rewriting started".into())
        );
        wait_rewrite_done(&mut r);
        ok(r.cmd(&["SET", "after-rewrite", "1"]));
        ok(r.cmd(&["SELECT", "5"]));
        ok(r.cmd(&["SET", "in5", "five"]));
        let want = digest(&mut r);
        shutdown(&mut redis);

        let node = replikv_on(dir.path(), &["--aof-use-rdb-preamble", preamble]);
        let mut c = node.conn();
        assert_eq!(
            digest(&mut c),
            want,
            "replikv loads Redis's AOF (preamble {preamble})"
        );
        assert_eq!(info_field(&mut c, "aof_enabled"), "1");
        let ttl = c.cmd(&["TTL", "ttl"]);
        assert!(
            matches!(ttl, Value::Int(t) if t > 900 && t <= 1000),
            "TTL kept: {ttl:?}"
        );
        // Appends continue in Redis's last increment.
        ok(c.cmd(&["SET", "from-replikv", "1"]));
        let incr = std::fs::read_dir(dir.path().join("appendonlydir"))
            .expect("aof dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
            .map(|e| std::fs::read(e.path()).expect("read"))
            .any(|bytes| bytes.windows(12).any(|w| w == b"from-replikv"));
        assert!(incr, "the new write is in an increment file");
    }
}

#[test]
fn appendfsync_always_loses_no_acknowledged_write_to_kill_9_across_rewrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = replikv_on(
        dir.path(),
        &["--appendfsync", "always", "--aof-use-rdb-preamble", "yes"],
    );
    let port = node.port;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            let mut c = Conn::connect(port);
            while !stop.load(Ordering::Relaxed) {
                match c.cmd(&["INCR", "counter"]) {
                    Value::Int(n) => {
                        // A second key per write, so the base and increments both hold lists.
                        c.cmd(&["RPUSH", "log", &n.to_string()]);
                        acked.store(n as u64, Ordering::Relaxed);
                    }
                    other => panic!("INCR answered {other:?}"),
                }
            }
        })
    };
    let mut c = node.conn();
    for _ in 0..3 {
        let before = acked.load(Ordering::Relaxed);
        wait_until(Duration::from_secs(10), "writes between rewrites", || {
            acked.load(Ordering::Relaxed) > before + 200
        });
        c.cmd(&["BGREWRITEAOF"]);
        wait_rewrite_done(&mut c);
    }
    let before = acked.load(Ordering::Relaxed);
    wait_until(
        Duration::from_secs(10),
        "writes after the last rewrite",
        || acked.load(Ordering::Relaxed) > before + 100,
    );
    node.signal("KILL");
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let last_acked = acked.load(Ordering::Relaxed);
    drop(node);

    let manifest = manifest_of(dir.path());
    assert!(
        manifest.contains("appendonly.aof.4.base.rdb seq 4 type b"),
        "three rewrites after the first base:\n{manifest}"
    );
    let files: Vec<String> = std::fs::read_dir(dir.path().join("appendonlydir"))
        .expect("aof dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files
            .iter()
            .any(|f| f.contains(".1.") || f.contains(".2.base")),
        "history files are deleted: {files:?}"
    );
    let node = replikv_on(dir.path(), &[]);
    let mut c = node.conn();
    let counter: u64 = c.cmd(&["GET", "counter"]).text().parse().expect("a number");
    assert!(
        counter >= last_acked,
        "acknowledged INCR {last_acked} survives kill -9 (found {counter})"
    );
    let len = match c.cmd(&["LLEN", "log"]) {
        Value::Int(n) => n as u64,
        other => panic!("LLEN answered {other:?}"),
    };
    assert!(
        len + 1 >= counter && len <= counter,
        "log has {len} entries for {counter}"
    );
}

#[test]
fn a_file_cut_mid_command_loads_up_to_the_cut_only_when_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = replikv_on(dir.path(), &[]);
    let mut c = node.conn();
    ok(c.cmd(&["SET", "kept", "1"]));
    shutdown(&mut node);
    let manifest = manifest_of(dir.path());
    let incr = manifest
        .lines()
        .find(|l| l.ends_with("type i"))
        .and_then(|l| l.split(' ').nth(1))
        .expect("an increment")
        .to_string();
    let path = dir.path().join("appendonlydir").join(&incr);
    let whole = std::fs::read(&path).expect("read incr");
    let mut cut = whole.clone();
    cut.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r");
    std::fs::write(&path, &cut).expect("write incr");

    let d = dir_arg(dir.path());
    let (code, output) = run_to_exit(
        dir.path(),
        &[
            "--dir",
            &d,
            "--appendonly",
            "yes",
            "--aof-load-truncated",
            "no",
        ],
    );
    assert_ne!(code, Some(0), "refused with aof-load-truncated no");
    assert!(output.contains("Unexpected end of file"), "{output}");

    let node = replikv_on(dir.path(), &[]);
    assert!(node.wait_for_log("loaded anyway because aof-load-truncated is enabled"));
    let mut c = node.conn();
    assert_eq!(c.cmd(&["GET", "kept"]), Value::Bulk(b"1".to_vec()));
    assert_eq!(c.cmd(&["EXISTS", "lost"]), Value::Int(0));
    ok(c.cmd(&["SET", "next", "2"]));
    drop(c);
    drop(node);
    let now = std::fs::read(&path).expect("read incr");
    assert!(
        now.starts_with(&whole),
        "the cut command is gone, the rest kept"
    );
    assert!(!now.windows(4).any(|w| w == b"lost"));
    check_aof(dir.path());
}

#[test]
fn appendonly_turned_on_and_off_at_run_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir_arg(dir.path());
    let mut node = Node::replikv(&["--dir", &d]);
    let mut c = node.conn();
    fill(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    ok(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]));
    // Writes while the first rewrite runs are kept too.
    ok(c.cmd(&["SET", "during", "1"]));
    wait_rewrite_done(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    ok(c.cmd(&["SET", "after", "1"]));
    let want = digest(&mut c);
    check_aof(dir.path());

    ok(c.cmd(&["CONFIG", "SET", "appendonly", "no"]));
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    ok(c.cmd(&["SET", "not-in-aof", "1"]));
    shutdown(&mut node);

    let node = replikv_on(dir.path(), &[]);
    let mut c = node.conn();
    assert_eq!(
        digest(&mut c),
        want,
        "the AOF holds what was written while it was on"
    );
    assert_eq!(c.cmd(&["EXISTS", "not-in-aof"]), Value::Int(0));
}

#[test]
fn bgrewriteaof_inside_multi_is_scheduled_and_runs() {
    let node = Node::replikv(&["--appendonly", "yes"]);
    let mut c = node.conn();
    ok(c.cmd(&["MULTI"]));
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["BGREWRITEAOF"]);
    let res = c.cmd(&["EXEC"]).array();
    assert_eq!(
        res[1],
        Value::Simple("Background append only file rewriting scheduled".into())
    );
    wait_until(Duration::from_secs(10), "the scheduled rewrite", || {
        info_field(&mut c, "aof_rewrites") == "1"
    });
    let again = c.cmd(&["BGREWRITEAOF"]);
    assert_eq!(
        again,
        Value::Simple("Background append only file rewriting started".into())
    );
}

#[test]
fn the_aof_rewrites_itself_when_it_doubles() {
    let node = Node::replikv(&[
        "--appendonly",
        "yes",
        "--auto-aof-rewrite-min-size",
        "10kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ]);
    let mut c = node.conn();
    let value = "v".repeat(500);
    for i in 0..40 {
        ok(c.cmd(&["SET", "k", &format!("{i}{value}")]));
    }
    wait_until(Duration::from_secs(10), "an automatic rewrite", || {
        info_field(&mut c, "aof_rewrites") != "0"
    });
    assert!(node.wait_for_log("Starting automatic rewriting of AOF"));
    wait_rewrite_done(&mut c);
    let size: u64 = info_field(&mut c, "aof_current_size")
        .parse()
        .expect("size");
    assert!(
        size < 10 * 1024,
        "the rewrite compacted 40 SETs of one key: {size} bytes"
    );
}

#[test]
fn a_pre_7_single_file_aof_is_adopted_as_the_base() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nvalue\r\n\
               *3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n";
    std::fs::write(dir.path().join("appendonly.aof"), old).expect("write old aof");
    let node = replikv_on(dir.path(), &[]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["GET", "old"]), Value::Bulk(b"value".to_vec()));
    assert_eq!(c.cmd(&["LLEN", "l"]), Value::Int(1));
    assert!(
        !dir.path().join("appendonly.aof").exists(),
        "moved into the AOF directory"
    );
    let manifest = manifest_of(dir.path());
    assert!(
        manifest.starts_with("file appendonly.aof seq 1 type b\n"),
        "{manifest}"
    );
    check_aof(dir.path());
}

#[test]
fn a_replica_writes_its_masters_stream_to_its_aof() {
    let master = Node::replikv(&[]);
    let mut m = master.conn();
    ok(m.cmd(&["SET", "before-sync", "1"]));
    let rdir = tempfile::tempdir().expect("tempdir");
    let mport = master.port.to_string();
    let mut replica = replikv_on(rdir.path(), &["--replicaof", "127.0.0.1", &mport]);
    let mut r = replica.conn();
    wait_until(Duration::from_secs(20), "the replica to link", || {
        r.cmd(&["INFO", "replication"])
            .text()
            .contains("master_link_status:up")
    });
    fill(&mut m);
    ok(m.cmd(&["SET", "last", "1"]));
    wait_until(
        Duration::from_secs(20),
        "the replica to apply the stream",
        || r.cmd(&["EXISTS", "last"]) == Value::Int(1),
    );
    wait_rewrite_done(&mut r);
    let want = digest(&mut m);
    assert_eq!(digest(&mut r), want);
    shutdown(&mut replica);
    drop(master);
    check_aof(rdir.path());

    // Alone, from its AOF only: the full sync's data and the stream after it.
    let alone = replikv_on(rdir.path(), &[]);
    let mut c = alone.conn();
    assert_eq!(digest(&mut c), want);
}

/// PUBLISH reaches replicas but not the AOF, as Redis propagates it.
#[test]
fn publish_is_not_written_to_the_aof() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = replikv_on(dir.path(), &["--appendfsync", "always"]);
    let mut c = node.conn();
    c.cmd(&["PUBLISH", "news", "hello"]);
    ok(c.cmd(&["SET", "k", "v"]));
    shutdown(&mut node);
    let aof_dir = dir.path().join("appendonlydir");
    let text: Vec<u8> = std::fs::read_dir(&aof_dir)
        .expect("aof dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
        .flat_map(|e| std::fs::read(e.path()).expect("read"))
        .collect();
    let text = String::from_utf8_lossy(&text).to_ascii_lowercase();
    assert!(text.contains("\r\nset\r\n"), "{text}");
    assert!(!text.contains("publish"), "{text}");
}
