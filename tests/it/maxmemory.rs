//! maxmemory: the limit holds under writes, each policy evicts what it names, -OOM when
//! nothing may go (the same bytes as redis-server 7.0), evictions reach replicas, LFU
//! counters as OBJECT FREQ shows them.

use std::time::Duration;

use crate::differential::{Mode, Pair};
use crate::harness::repl::{
    assert_same_keyspace, info_field, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::resp::{encode, Conn, Value};
use crate::harness::{Kind, Node};

fn used_memory(node: &Node) -> u64 {
    info_field(node, "memory", "used_memory")
        .parse()
        .expect("used_memory")
}

/// CONFIG SET of each pair, each answered OK.
fn config_set(c: &mut Conn, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", name, value]),
            Value::Simple("OK".into()),
            "CONFIG SET {name} {value}"
        );
    }
}

fn evicted(node: &Node) -> u64 {
    info_field(node, "stats", "evicted_keys")
        .parse()
        .expect("evicted_keys")
}

/// Writes `count` keys `{prefix}{i}` of `size` bytes, with a TTL when `ttl_secs` is set;
/// returns how many writes were refused with -OOM.
fn fill(c: &mut Conn, prefix: &str, count: usize, size: usize, ttl_secs: Option<u64>) -> usize {
    let value = vec![b'x'; size];
    let ttl = ttl_secs.map(|t| t.to_string());
    let mut refused = 0;
    for i in 0..count {
        let key = format!("{prefix}{i}");
        let mut args: Vec<&[u8]> = vec![b"SET", key.as_bytes(), &value];
        if let Some(t) = &ttl {
            args.push(b"EX");
            args.push(t.as_bytes());
        }
        let (reply, _) = c.cmd_raw(&args);
        match reply {
            Value::Simple(ref s) if s == "OK" => {}
            Value::Error(ref e) if e.starts_with("OOM ") => refused += 1,
            other => panic!("SET {key}: {other:?}"),
        }
    }
    refused
}

/// How many of `{prefix}0` .. `{prefix}{n-1}` still exist.
fn existing(c: &mut Conn, prefix: &str, n: usize) -> usize {
    (0..n)
        .filter(|i| c.cmd(&["EXISTS", &format!("{prefix}{i}")]) == Value::Int(1))
        .count()
}

#[test]
fn noeviction_refuses_what_adds_data_with_redis_words_and_serves_the_rest() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        SET before 1
        RPUSH list a b
        CONFIG SET maxmemory 1
        SET k v
        GET before
        LRANGE list 0 -1
        DEL before
        LPOP list
        APPEND list2 x
        INCR counter
        // Inside MULTI everything but EXEC/DISCARD is refused; EXEC then aborts.
        MULTI
        GET list
        SET k v
        EXEC
        CONFIG SET maxmemory 0
        SET k v
        ",
    );
    assert_eq!(evicted(&pair.ours), 0, "noeviction never evicts");
}

#[test]
fn allkeys_lru_holds_the_limit_and_keeps_what_is_used() {
    let node = Node::replikv(&["--maxmemory", "24mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut c = node.conn();
    assert_eq!(fill(&mut c, "hot:", 500, 1000, None), 0);
    // Three times the limit of cold keys, touching the hot keys now and then.
    let value = vec![b'y'; 1000];
    for round in 0..60 {
        for i in 0..1000 {
            let key = format!("cold:{round}:{i}");
            let (reply, _) = c.cmd_raw(&[b"SET", key.as_bytes(), &value]);
            assert_eq!(
                reply,
                Value::Simple("OK".into()),
                "no OOM under allkeys-lru"
            );
        }
        for i in 0..500 {
            c.cmd(&["GET", &format!("hot:{i}")]);
        }
    }
    let limit = 24u64 << 20;
    assert!(
        used_memory(&node) <= limit + limit / 20,
        "used_memory {} over maxmemory {limit}",
        used_memory(&node)
    );
    assert!(evicted(&node) > 20_000, "evicted only {}", evicted(&node));
    let hot_left = existing(&mut c, "hot:", 500);
    // Approximated LRU (5 samples, a 1 s clock: keys touched in the same second tie) loses
    // some: measured 327-358 of 500 under a parallel test load on 2026-12-04, 193-224 on
    // 2026-12-06 with the other maxmemory tests beside it (how many rounds share a clock
    // second moves with speed). Random eviction of ~60k keys from ~16k resident would keep
    // about 2% of them (10).
    assert!(
        hot_left >= 150,
        "only {hot_left} of 500 hot keys survived LRU eviction"
    );
}

#[test]
fn volatile_policies_spare_persistent_keys_and_refuse_once_none_may_go() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let node = Node::replikv(&["--maxmemory", "16mb", "--maxmemory-policy", policy]);
        let mut c = node.conn();
        assert_eq!(fill(&mut c, "keep:", 2000, 1000, None), 0);
        assert_eq!(
            fill(&mut c, "tmp:", 20_000, 1000, Some(3600)),
            0,
            "{policy}"
        );
        assert!(evicted(&node) > 0, "{policy} evicted nothing");
        let kept = existing(&mut c, "keep:", 2000);
        assert_eq!(kept, 2000, "{policy} evicted a key without a TTL");
        // Only persistent keys left to add: once the volatile ones are gone, -OOM.
        let refused = fill(&mut c, "more:", 30_000, 1000, None);
        assert!(
            refused > 0,
            "{policy}: persistent writes past the limit were never refused"
        );
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let node = Node::replikv(&["--maxmemory", "16mb", "--maxmemory-policy", "volatile-ttl"]);
    let mut c = node.conn();
    assert_eq!(fill(&mut c, "late:", 2000, 1000, Some(100_000)), 0);
    assert_eq!(fill(&mut c, "soon:", 30_000, 1000, Some(1000)), 0);
    let late_left = existing(&mut c, "late:", 2000);
    assert!(
        late_left >= 1900,
        "{late_left} of the 2000 latest-expiring keys left"
    );
}

#[test]
fn evictions_reach_replikv_and_redis_replicas_as_dels() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let master = Node::replikv(&[
            "--maxmemory",
            "16mb",
            "--maxmemory-policy",
            "allkeys-random",
            "--repl-diskless-sync-delay",
            "0",
        ]);
        let replica = start_replica(kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(20));
        let mut c = master.conn();
        assert_eq!(fill(&mut c, "k:", 30_000, 1000, None), 0);
        assert!(evicted(&master) > 0);
        // The master sits at its limit: reading its keyspace back (thousands of replies)
        // would evict keys already read, and the comparison would see a difference that
        // is not one. Eviction stops here; what it did during the fill is what is compared.
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory", "0"]),
            Value::Simple("OK".into())
        );
        let evicted_during_fill = evicted(&master);
        wait_converged(&master, &replica, Duration::from_secs(30));
        assert_same_keyspace(&master, &replica);
        assert_eq!(evicted(&master), evicted_during_fill);
        assert_eq!(
            evicted(&replica),
            0,
            "{kind:?}: the replica evicted on its own"
        );
    }
}

/// TTL, PTTL, TYPE and EXISTS look at a key without counting as an access (Redis's
/// LOOKUP_NOTOUCH): under LFU with a log factor of 0 every access adds one to OBJECT FREQ,
/// so the counter shows exactly which commands touched the key.
#[test]
fn ttl_type_and_exists_do_not_touch_the_key() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        CONFIG SET maxmemory-policy allkeys-lfu
        CONFIG SET lfu-log-factor 0
        SET k hello
        OBJECT FREQ k
        TTL k
        PTTL k
        TYPE k
        EXISTS k
        OBJECT FREQ k
        GET k
        OBJECT FREQ k
        ",
    );
}

#[test]
fn object_freq_and_idletime_follow_the_policy_as_redis() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        SET a 1
        OBJECT FREQ a
        CONFIG SET maxmemory-policy allkeys-lfu
        // Not a small integer: Redis shares those (their counter stays 0).
        SET b hello
        OBJECT FREQ b
        GET b
        OBJECT FREQ b
        OBJECT IDLETIME b
        ",
    );
    // RESTORE ... FREQ sets the counter under an LFU policy.
    let (dump, _) = pair.rc.cmd_raw(&[b"DUMP", b"b"]);
    let Value::Bulk(payload) = dump else {
        panic!("DUMP: {dump:?}");
    };
    pair.check_mode(
        &[b"RESTORE", b"c", b"0", &payload, b"FREQ", b"42"],
        Mode::Exact,
    );
    pair.script(
        "
        OBJECT FREQ c
        CONFIG SET maxmemory-policy allkeys-lru
        OBJECT FREQ b
        ",
    );
}

/// A replica that stops reading makes the master hold the stream for it; those bytes are
/// the replica's (`mem_clients_slaves`, `mem_not_counted_for_evict`), never a reason to
/// evict keys, as in Redis 7.0's shared replication buffer.
#[test]
fn a_stopped_replicas_buffer_is_counted_as_its_own_and_evicts_nothing() {
    let master = Node::replikv(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "16kb",
        "--client-output-buffer-limit",
        "replica 100mb 100mb 0",
        "--maxmemory-policy",
        "allkeys-random",
    ]);
    let mut c = master.conn();
    let value = vec![b'v'; 100_000];
    for i in 0..50 {
        let key = format!("key:{i}");
        c.cmd_raw(&[b"SET", key.as_bytes(), &value]);
    }
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    let not_counted = |n: &Node| -> u64 {
        info_field(n, "memory", "mem_not_counted_for_evict")
            .parse()
            .expect("mem_not_counted_for_evict")
    };
    // A megabyte of room beyond what the master holds now.
    let limit = used_memory(&master) - not_counted(&master) + (1 << 20);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]),
        Value::Simple("OK".into())
    );
    replica.freeze();
    // 20 MB of stream that leaves the dataset's size unchanged.
    let payload = vec![b'A'; 1000];
    for _ in 0..20_000 {
        c.cmd_raw(&[b"SETRANGE", b"key:0", b"0", &payload]);
    }
    let held = not_counted(&master);
    let replicas: u64 = info_field(&master, "memory", "mem_clients_slaves")
        .parse()
        .expect("mem_clients_slaves");
    replica.signal("CONT");
    assert!(
        held > 10 << 20,
        "the stopped replica's stream is not held apart: {held}"
    );
    assert!(replicas >= held, "mem_clients_slaves {replicas} < {held}");
    assert_eq!(evicted(&master), 0, "keys evicted for the replica's buffer");
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(50));
}

/// Writes that store nothing new evict nothing, however many run between two readings of
/// the allocator: what a write allocates only until its propagation is flushed (the queue
/// of commands to propagate) is not memory it keeps. Counted as kept, each write added some
/// 600 bytes until the next reading, tens of KiB a millisecond, and Redis 7.0's "replica
/// buffer don't induce eviction" (32 KiB of room) lost keys on a loaded machine.
#[test]
fn writes_that_store_nothing_new_evict_nothing_however_fast_they_come() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let node = start(kind, &[]);
        let mut c = node.conn();
        config_set(
            &mut c,
            &[
                ("latency-tracking", "no"),
                ("slowlog-log-slower-than", "-1"),
                ("maxmemory-policy", "allkeys-random"),
            ],
        );
        let value = vec![b'v'; 10_000];
        for i in 0..100 {
            let key = format!("key:{i}");
            c.cmd_raw(&[b"SET", key.as_bytes(), &value]);
        }
        // Room for the pipeline's query and reply buffers; a write counting a few hundred
        // bytes it does not keep fills it within a millisecond of pipelined writes.
        let limit = used_memory_on(&mut c, "memory") + 128 * 1024;
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]),
            Value::Simple("OK".into())
        );
        let payload = vec![b'A'; 100];
        let batch = encode(&[b"SETRANGE", b"key:0", b"0", &payload]).repeat(1000);
        let mut replies = Vec::new();
        for _ in 0..20 {
            c.send_raw(&batch);
            replies.extend((0..1000).map(|_| c.read_raw().0));
        }
        assert_eq!(
            evicted(&node),
            0,
            "{kind:?}: keys evicted by writes that store nothing new"
        );
        assert!(
            replies.iter().all(|r| *r == Value::Int(10_000)),
            "{kind:?}: SETRANGE replies"
        );
        assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(100), "{kind:?}");
    }
}

/// `used_memory` as `INFO` answered it on `c` (the figure taken before its own reply).
fn used_memory_on(c: &mut Conn, section: &str) -> u64 {
    let Value::Bulk(text) = c.cmd(&["INFO", section]) else {
        panic!("INFO {section}");
    };
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}

/// The command that measures memory must not raise it: the reply buffer a full INFO grew
/// goes back once written (Redis's fits its static buffer). Kept, it would count against
/// `maxmemory`, and a `CONFIG SET maxmemory` computed from INFO's figure evicted a dozen
/// keys too many (Redis 7.0's "client tracking don't cause eviction feedback loop").
#[test]
fn a_full_info_leaves_used_memory_where_it_was() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let node = start(kind, &[]);
        let mut c = node.conn();
        // The INFO command's own statistics exist from here on.
        used_memory_on(&mut c, "memory");
        let before = used_memory_on(&mut c, "memory");
        used_memory_on(&mut c, "everything");
        let after = used_memory_on(&mut c, "memory");
        assert!(
            after < before + 2048,
            "{kind:?}: used_memory {before} before a full INFO, {after} after it"
        );
    }
}

/// Redis 7.0's "client tracking don't cause eviction feedback loop", on both servers: ten
/// RESP3 clients track 300 keys with 1 KB names; a `maxmemory` 40 000 bytes under what
/// INFO showed evicts a few dozen keys, and the invalidations those evictions send (10 KB
/// per key, queued for clients that write them at once) must not count as memory that
/// evicts more keys.
#[test]
fn invalidations_sent_by_an_eviction_do_not_evict_more_keys() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let node = start(kind, &[]);
        let mut c = node.conn();
        config_set(
            &mut c,
            &[
                ("latency-tracking", "no"),
                ("maxmemory", "0"),
                ("maxmemory-policy", "allkeys-lru"),
                ("maxmemory-eviction-tenacity", "100"),
            ],
        );
        let mut trackers: Vec<Conn> = (0..10).map(|_| node.conn()).collect();
        for t in &mut trackers {
            t.cmd(&["HELLO", "3"]);
            assert_eq!(
                t.cmd(&["CLIENT", "TRACKING", "on"]),
                Value::Simple("OK".into())
            );
        }
        let filler = "x".repeat(1000);
        for j in 0..300 {
            let key = format!("{j}{filler}");
            c.cmd(&["SET", &key, "x"]);
            for t in &mut trackers {
                t.cmd(&["GET", &key]);
            }
        }
        let used = used_memory_on(&mut c, "memory");
        let limit = (used - 40_000).to_string();
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory", &limit]),
            Value::Simple("OK".into())
        );
        let evicted = evicted(&node);
        let Value::Int(dbsize) = c.cmd(&["DBSIZE"]) else {
            panic!("DBSIZE");
        };
        assert!(
            (200..=300).contains(&dbsize),
            "{kind:?}: {dbsize} keys left"
        );
        assert!(
            (10..=50).contains(&evicted),
            "{kind:?}: {evicted} keys evicted to free 40 000 bytes"
        );
    }
}

/// A FLUSHDB (without ASYNC) frees the keyspace before it replies, as Redis's does: writes
/// that refill the database right after it find that memory free and evict nothing. Handed
/// to a thread of its own, the old keyspace was freed whenever that thread got to run (on a
/// loaded machine, up to 130 ms after the reply) and counted against `maxmemory` until
/// then: Redis 7.0's client-eviction tests in unit/maxmemory, which refill 50 keys of
/// 100 KB right after FLUSHDB, lost keys to eviction. Here the old keyspace is 300 000
/// small keys, whose freeing takes a while, and the refill comes in the same write.
#[test]
fn a_flushed_keyspace_is_free_when_flushdb_replies() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let node = start(kind, &[]);
        let mut c = node.conn();
        config_set(
            &mut c,
            &[
                ("latency-tracking", "no"),
                ("maxmemory-policy", "allkeys-lru"),
            ],
        );
        let empty = used_memory_on(&mut c, "memory");
        assert_eq!(
            c.cmd(&["DEBUG", "POPULATE", "300000", "old", "100"]),
            Value::Simple("OK".into())
        );
        let full = used_memory_on(&mut c, "memory");
        assert!(
            full - empty > 12 << 20,
            "{kind:?}: 300 000 keys take {} bytes",
            full - empty
        );
        // Room for the refill (8 MB) once the old keys are gone, not for it on top of them.
        let limit = full + (1 << 20);
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]),
            Value::Simple("OK".into())
        );
        let value = vec![b'x'; 128 * 1024];
        let mut batch = encode(&[b"FLUSHDB"]);
        for i in 0..64 {
            batch.extend(encode(&[b"SET", format!("new:{i}").as_bytes(), &value]));
        }
        c.send_raw(&batch);
        for i in 0..65 {
            assert_eq!(
                c.read_raw().0,
                Value::Simple("OK".into()),
                "{kind:?}: reply {i}"
            );
        }
        assert_eq!(
            evicted(&node),
            0,
            "{kind:?}: keys evicted right after FLUSHDB"
        );
        assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(64), "{kind:?}");
    }
}
