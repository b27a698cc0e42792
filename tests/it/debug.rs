//! DEBUG subcommands against redis-server 7.0: the dataset digest (DEBUG DIGEST,
//! DIGEST-VALUE) must equal Redis's for the same data in every type and encoding, DEBUG
//! POPULATE must build the same data, and the replication helpers (CHANGE-REPL-ID,
//! REPLICATE, LOG) must do what Redis's own replication tests rely on.

use std::time::Duration;

use crate::differential::Pair;
use crate::harness::repl::{info_field, start, start_replica, wait_converged, wait_link_up};
use crate::harness::{wait_until, Kind};

#[test]
fn digests_equal_redis_for_every_type_and_encoding() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        DEBUG DIGEST
        DEBUG DIGEST-VALUE nosuchkey
        SET s hello
        SET n 12345
        SET neg -7
        SET big 123456789012345678901234567890
        RPUSH l a b c 1 2 3
        SADD si 1 2 3 -5
        SADD ss x y z 10
        HSET h f1 v1 f2 v2 f3 3
        ZADD z 1 a 1.5 b -2.25 c 0.1 d inf e -inf f 3e20 g
        SET t v PX 100000000
        DEBUG DIGEST-VALUE s n neg big l si ss h z t nosuchkey
        DEBUG DIGEST
        // Big values: hash tables and a skiplist instead of listpacks.
        CONFIG SET hash-max-listpack-entries 2
        CONFIG SET zset-max-listpack-entries 2
        CONFIG SET set-max-intset-entries 2
        HSET hb a 1 b 2 c 3
        ZADD zb 1 a 2 b 3 c 0.3 d
        SADD sb 1 2 3 4
        DEBUG DIGEST-VALUE hb zb sb
        // Another database counts with its number.
        SELECT 3
        SET s hello
        DEBUG DIGEST
        DEBUG DIGEST-VALUE s
        SELECT 0
        // A TTL counts, its value does not.
        EXPIRE s 1000
        DEBUG DIGEST-VALUE s
        EXPIRE s 2000
        DEBUG DIGEST-VALUE s
        DEBUG DIGEST
        FLUSHALL
        DEBUG DIGEST
        ",
    );
}

#[test]
fn populate_builds_what_redis_builds() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        DEBUG POPULATE 100
        DBSIZE
        GET key:0
        GET key:99
        DEBUG DIGEST
        SET pre:3 mine
        DEBUG POPULATE 5 pre
        GET pre:3
        GET pre:4
        DEBUG POPULATE 3 long 20
        GET long:2
        DEBUG POPULATE 3 short 3
        GET short:1
        DEBUG POPULATE 2 zero 0
        GET zero:1
        DEBUG POPULATE -1
        DEBUG POPULATE abc
        DEBUG POPULATE 1 a 2 extra
        DEBUG DIGEST
        ",
    );
}

/// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements from that size on are written as plain
/// quicklist nodes, so DUMP payloads (and RDB files) equal Redis's byte for byte, mixed
/// lists included; 0 restores the default; sizes Redis refuses are refused.
#[test]
fn quicklist_packed_threshold_shapes_dumps_as_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        DEBUG QUICKLIST-PACKED-THRESHOLD 5b
        RPUSH mixed aa bbbbbbbb cc dddddddddd 12345 -7
        DUMP mixed
        RPUSH small a b c
        DUMP small
        DEBUG QUICKLIST-PACKED-THRESHOLD 0
        DUMP small
        DEBUG QUICKLIST-PACKED-THRESHOLD 4gb
        DEBUG QUICKLIST-PACKED-THRESHOLD nonsense
        DEBUG QUICKLIST-PACKED-THRESHOLD 1b
        RPUSH one x
        DUMP one
        DEBUG QUICKLIST-PACKED-THRESHOLD 0
        ",
    );
}

/// DEBUG CHANGE-REPL-ID gives a master a new history: a replica that reconnects must do a
/// full sync, as Redis's psync2 tests expect.
#[test]
fn change_repl_id_forces_a_full_sync() {
    let master = start(Kind::Replikv, &[]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(10));
    let mut m = master.conn();
    let old_id = info_field(&master, "replication", "master_replid");
    assert_eq!(m.cmd(&["DEBUG", "CHANGE-REPL-ID"]).text(), "OK");
    let new_id = info_field(&master, "replication", "master_replid");
    assert_ne!(old_id, new_id);
    assert_eq!(
        info_field(&master, "replication", "master_replid2"),
        "0000000000000000000000000000000000000000"
    );
    let full_before: u64 = info_field(&master, "stats", "sync_full").parse().unwrap();
    m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    wait_until(Duration::from_secs(10), "a new full sync", || {
        info_field(&master, "stats", "sync_full")
            .parse::<u64>()
            .unwrap()
            > full_before
    });
    m.cmd(&["SET", "after", "1"]);
    wait_converged(&master, &replica, Duration::from_secs(10));
    assert_eq!(info_field(&replica, "replication", "master_replid"), new_id);
}

/// A command the replica refuses (fed with DEBUG REPLICATE) is logged as Redis logs it and
/// counted; with `propagation-error-behavior panic` a read-only replica stops instead of
/// serving data that may have diverged.
#[test]
fn errors_on_the_master_stream_are_logged_and_can_panic() {
    let master = start(Kind::Replikv, &[]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(10));
    let mut m = master.conn();
    assert_eq!(
        m.cmd(&["DEBUG", "REPLICATE", "fake-command-1"]).text(),
        "OK"
    );
    m.cmd(&["SET", "foo", "bar"]);
    wait_converged(&master, &replica, Duration::from_secs(10));
    wait_until(Duration::from_secs(5), "the CRITICAL line", || {
        replica.log_contains(
            "== CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'fake-command-1'",
        )
    });
    assert_eq!(
        info_field(&replica, "stats", "unexpected_error_replies"),
        "1"
    );
    // Writable replica: local data differs from the master's, INCRBY fails, nothing stops.
    let mut r = replica.conn();
    r.cmd(&["CONFIG", "SET", "replica-read-only", "no"]);
    r.cmd(&["SET", "number", "foo"]);
    r.cmd(&["CONFIG", "SET", "propagation-error-behavior", "panic"]);
    m.cmd(&["INCRBY", "number", "1"]);
    m.cmd(&["SET", "bar", "1"]);
    wait_converged(&master, &replica, Duration::from_secs(10));
    wait_until(Duration::from_secs(5), "the INCRBY error logged", || {
        replica.log_contains("after processing the command 'incrby'")
    });
    assert_eq!(r.cmd(&["GET", "number"]).text(), "foo");
    // Read-only again: the next refused command stops the replica.
    r.cmd(&["CONFIG", "SET", "replica-read-only", "yes"]);
    m.cmd(&["DEBUG", "REPLICATE", "fake-command-2"]);
    let mut replica = replica;
    wait_until(Duration::from_secs(10), "the replica to stop", || {
        replica.has_exited()
    });
    wait_until(Duration::from_secs(5), "the panic logged", || {
        replica.log_contains(
            "This replica panicked sending an error to its master after processing the command '<unknown>'",
        )
    });
}
