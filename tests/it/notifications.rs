//! Keyspace notifications against redis-server 7.0: the same commands sent to both, with
//! `notify-keyspace-events` enabled, must publish the same events in the same order on the
//! same channels (every message a `PSUBSCRIBE *` subscriber receives is compared byte for
//! byte); expiry, eviction, `new` and `keymiss` events too, and events reach subscribers of
//! a replica as it applies its master's stream.

use std::time::Duration;

use crate::differential::Pair;
use crate::harness::repl::{start, start_replica, wait_converged, wait_link_up};
use crate::harness::{wait_until, Conn, Kind, Node};

/// Every command family's writes, including the cases that report nothing (a write that
/// changes nothing) and the `del` that follows a collection emptied.
const WRITES: &str = "
    SET s 1
    SET s 2 EX 100
    SETNX s 3
    SETEX s2 100 v
    PSETEX s3 100000 v
    GETSET s 4
    MSET a 1 b 2
    MSETNX a 1 c 3
    INCR n
    DECR n
    INCRBY n 5
    DECRBY n 2
    INCRBYFLOAT f 1.5
    APPEND s x
    APPEND fresh y
    SETRANGE s 1 zz
    SETRANGE s 1 \"\"
    GETDEL s3
    GETEX s2 PERSIST
    GETEX s2 EX 50
    GETEX s2 PXAT 1
    EXPIRE a 100
    PEXPIRE a 200000 GT
    PERSIST a
    PERSIST a
    EXPIRE b 0
    RENAME c c2
    COPY c2 c3
    MOVE c3 1
    DEL c2 nope
    UNLINK fresh
    LPUSH l a b c
    RPUSH l d
    LPUSHX l e
    RPUSHX nolist e
    LPOP l
    RPOP l 2
    LSET l 0 z
    LINSERT l BEFORE z y
    LINSERT l BEFORE nothere y
    LREM l 1 y
    LTRIM l 0 -1
    LMOVE l l2 LEFT RIGHT
    RPOPLPUSH l2 l
    LMPOP 1 l LEFT COUNT 10
    LTRIM nolist 0 1
    SADD set a b c
    SADD set a
    SREM set a x
    SMOVE set set2 b
    SMOVE set set2 c
    ?SPOP set2
    SADD set3 1 2 3 4
    ?SPOP set3 2
    ?SPOP set3 5
    SADD x1 a b
    SADD x2 b c
    SINTERSTORE inter x1 x2
    SUNIONSTORE uni x1 x2
    SDIFFSTORE diff x1 x1
    HSET h f 1 g 2
    HMSET h f 2
    HSETNX h f 3
    HSETNX h z 3
    HINCRBY h f 1
    HINCRBYFLOAT h g 0.5
    HDEL h f g z
    ZADD z 1 a 2 b 3 c
    ZADD z XX 1 a
    ZADD z INCR 5 a
    ZINCRBY z 1 b
    ZREM z nothere
    ZREM z c
    ZPOPMIN z
    ZPOPMAX z 5
    ZADD z2 1 a 2 b 3 c 4 d
    ZREMRANGEBYRANK z2 0 0
    ZREMRANGEBYSCORE z2 2 2
    ZREMRANGEBYLEX z2 - +
    ZADD z3 1 a 2 b
    ZUNIONSTORE zu 1 z3
    ZINTERSTORE zi 2 z3 nozset
    ZDIFFSTORE zd 1 z3
    ZRANGESTORE zr z3 0 -1
    ZRANGESTORE zr z3 5 6
    ZMPOP 1 z3 MIN COUNT 5
    GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
    GEORADIUS g 15 37 200 km STORE gr
    GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 1 m
    PFADD hll a b c
    PFADD hll a
    PFMERGE hll2 hll
    XADD st 1-1 f v
    XADD st MAXLEN 1 2-1 f v
    XDEL st 2-1 9-9
    XADD st 3-1 f v
    XTRIM st MAXLEN 0
    XSETID st 10-1
    XGROUP CREATE st g $
    XGROUP CREATE newst g $ MKSTREAM
    XGROUP CREATECONSUMER st g alice
    XGROUP CREATECONSUMER st g alice
    XADD st 11-1 f v
    XREADGROUP GROUP g bob COUNT 1 STREAMS st >
    XCLAIM st g carol 0 11-1
    XAUTOCLAIM st g carol 0 0
    XGROUP DELCONSUMER st g nobody
    XGROUP DELCONSUMER st g bob
    XGROUP SETID st g 0
    XGROUP DESTROY st g
    FLUSHDB
";

/// Reads every message `sub` received up to the `done` marker published last.
fn messages_until_marker(sub: &mut Conn) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let (_, raw) = sub.read_raw();
        let text = String::from_utf8_lossy(&raw).into_owned();
        if text.contains("marker-channel") {
            return got;
        }
        got.push(text);
    }
}

/// A subscriber to every channel on `node`.
fn subscriber(node: &Node) -> Conn {
    subscriber_in(node, false)
}

/// A subscriber to every channel on `node`, in RESP3 (push frames) when asked.
fn subscriber_in(node: &Node, resp3: bool) -> Conn {
    let mut sub = node.conn();
    if resp3 {
        assert!(!sub.cmd(&["HELLO", "3"]).is_error());
    }
    sub.send(&[b"PSUBSCRIBE", b"*"]);
    let _confirmation = sub.read_raw();
    sub
}

/// Runs `script` on both servers with `classes` enabled and compares the events.
fn compare_events(pair: &mut Pair, classes: &str, script: &str) {
    compare_events_in(pair, classes, script, false);
}

/// [`compare_events`], the subscribers speaking RESP3 when asked.
fn compare_events_in(pair: &mut Pair, classes: &str, script: &str, resp3: bool) {
    pair.check(&format!("CONFIG SET notify-keyspace-events {classes}"));
    let mut rsub = subscriber_in(&pair.redis, resp3);
    let mut osub = subscriber_in(&pair.ours, resp3);
    pair.script(script);
    pair.rc.cmd(&["PUBLISH", "marker-channel", "done"]);
    pair.oc.cmd(&["PUBLISH", "marker-channel", "done"]);
    let theirs = messages_until_marker(&mut rsub);
    let ours = messages_until_marker(&mut osub);
    assert!(
        !theirs.is_empty() || classes.is_empty(),
        "Redis published no event for {classes}"
    );
    let first_difference = theirs
        .iter()
        .zip(&ours)
        .position(|(t, o)| t != o)
        .unwrap_or(theirs.len().min(ours.len()));
    assert_eq!(
        ours, theirs,
        "events differ with notify-keyspace-events {classes} (replikv left, Redis right); \
         first difference at message {first_difference}"
    );
}

/// Every write command's events, keyspace and keyevent channels, every class.
#[test]
fn write_commands_publish_redis_s_events() {
    let mut pair = Pair::start(&[]);
    compare_events(&mut pair, "KEA", WRITES);
    // Masks: only some classes, one kind of channel at a time.
    compare_events(&mut pair, "Kl", WRITES);
    compare_events(&mut pair, "Egz", WRITES);
    compare_events(&mut pair, "E$shxt", WRITES);
    // Off: nothing at all.
    pair.check("CONFIG SET notify-keyspace-events \"\"");
    let mut osub = subscriber(&pair.ours);
    pair.script(WRITES);
    pair.oc.cmd(&["PUBLISH", "marker-channel", "done"]);
    assert_eq!(messages_until_marker(&mut osub), Vec::<String>::new());
}

/// `new` (a key created, not an overwrite), `keymiss` (a read that finds nothing),
/// events of a key created in a MULTI, and in RESP3 the same events as push frames.
#[test]
fn new_keys_and_misses_are_reported_as_redis_reports_them() {
    let mut pair = Pair::start(&[]);
    compare_events(
        &mut pair,
        "KEnm",
        "
        SET foo bar
        SET foo baz
        GET nothing
        GET foo
        MGET a foo b
        HGET nohash f
        LPUSH l a
        RPUSH l b
        MULTI
        SET m1 1
        INCR m2
        EXEC
        ",
    );
    compare_events_in(&mut pair, "KEA", "SET foo 1\nRPUSH l c\nDEL l", true);
}

/// Expired keys are reported once, whether found by a lookup or by the active cycle;
/// evicted keys are reported when maxmemory evicts them.
#[test]
fn expired_and_evicted_keys_are_reported() {
    let node = Node::replikv(&["--enable-debug-command", "yes"]);
    let mut c = node.conn();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Exe"]);
    let mut sub = subscriber(&node);
    // Found by the active cycle.
    c.cmd(&["PSETEX", "bg", "50", "1"]);
    let (_, raw) = sub.read_raw();
    assert!(
        String::from_utf8_lossy(&raw).contains("__keyevent@0__:expired\r\n$2\r\nbg"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // Found by a lookup: the active cycle is switched off.
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.cmd(&["PSETEX", "lazy", "10", "1"]);
    wait_until(Duration::from_secs(5), "the key's TTL to pass", || {
        c.cmd(&["PTTL", "lazy"]).int() < 0
    });
    c.cmd(&["PUBLISH", "marker-channel", "done"]);
    let events = messages_until_marker(&mut sub);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].contains("expired\r\n$4\r\nlazy"), "{events:?}");
    // Evicted.
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    c.cmd(&["SET", "victim", "x"]);
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    c.cmd(&["PING"]);
    let (_, raw) = sub.read_raw();
    assert!(
        String::from_utf8_lossy(&raw).contains("__keyevent@0__:evicted\r\n$6\r\nvictim"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
}

/// A replica reports the writes its master sends, to its own subscribers, as a Redis
/// replica does: replikv replica of a Redis master, and a Redis replica of a replikv
/// master, publish the same events.
#[test]
fn replicas_report_their_master_s_writes() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    for (master_kind, replica_kind) in [(Kind::Redis, Kind::Replikv), (Kind::Replikv, Kind::Redis)]
    {
        let master = start(master_kind, &[]);
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(10));
        replica
            .conn()
            .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut sub = subscriber(&replica);
        let mut m = master.conn();
        for line in [
            "SET k v",
            "RPUSH l a b",
            "LPOP l 2",
            "HSET h f v",
            "DEL k h",
        ] {
            let args: Vec<&str> = line.split(' ').collect();
            m.cmd(&args);
        }
        wait_converged(&master, &replica, Duration::from_secs(10));
        let mut r = replica.conn();
        r.cmd(&["PUBLISH", "marker-channel", "done"]);
        let events = messages_until_marker(&mut sub);
        assert!(
            !events.is_empty(),
            "{replica_kind:?} replica reported nothing"
        );
        seen.push(events);
    }
    assert_eq!(
        seen[0], seen[1],
        "a replikv replica (left) and a Redis replica (right) report differently"
    );
}
