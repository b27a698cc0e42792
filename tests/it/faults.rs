//! Faults on the replication link made by a proxy between master and replica
//! (`harness::proxy`), as a bad network or a bad disk would make them: a corrupted or cut
//! RDB transfer, a replica behind a slow link, and the master killed under load. Each ends
//! with what an operator must be able to count on: the replica's data intact until a good
//! dataset replaces it, the master's memory bounded, every write `WAIT` acknowledged kept.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use crate::control::Http;
use crate::harness::proxy::{Fault, Proxy};
use crate::harness::repl::{assert_same_keyspace, info_field, wait_converged, wait_link_up};
use crate::harness::{wait_until, Node, Value};

const LINK: Duration = Duration::from_secs(30);

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()));
}

/// A replikv replica of whatever listens on `port` (the proxy), with `args`.
fn replica_of(port: u16, args: &[&str]) -> Node {
    let port = port.to_string();
    let mut all = vec!["--replicaof", "127.0.0.1", port.as_str()];
    all.extend_from_slice(args);
    Node::replikv(&all)
}

/// The replica-side sessions of `node`'s sync history, oldest first.
fn replica_sessions(node: &Node) -> Vec<Json> {
    let body = Http::new(node).get("/v1/replication/syncs").json();
    let mut all: Vec<Json> = body["syncs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s["side"] == "replica")
        .collect();
    all.sort_by_key(|s| s["id"].as_u64());
    all
}

/// INFO `used_memory` in MiB: what the allocator hands out, without the pages it keeps
/// after frees (the test overwrites 32 MiB of values, which RSS would count).
fn used_mib(node: &Node) -> u64 {
    info_field(node, "memory", "used_memory")
        .parse::<u64>()
        .expect("used_memory")
        / (1024 * 1024)
}

/// A corrupted byte and a transfer cut short, each in the RDB of a full sync, under a
/// disk-based load and a streamed one (`swapdb`): the load is refused (checksum / short
/// read), the replica keeps serving the dataset it had, and the next attempt, clean,
/// installs the master's.
#[test]
fn a_damaged_rdb_transfer_is_refused_and_the_replica_keeps_its_data() {
    for load in ["disabled", "swapdb"] {
        for fault in [Fault::CorruptAt(20_000), Fault::TruncateAt(20_000)] {
            let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
            let mut m = master.conn();
            ok(m.cmd(&["DEBUG", "POPULATE", "2000", "old", "100"]));
            let proxy = Proxy::start(master.port);
            let replica = replica_of(proxy.port, &["--repl-diskless-load", load]);
            wait_converged(&master, &replica, LINK);
            let before = replica_sessions(&replica).len();
            let old_value = replica.conn().cmd(&["GET", "old:1999"]);
            assert_ne!(old_value, Value::Nil);

            // The master's dataset and history change, so the next link needs a full
            // sync, and that sync's transfer is damaged.
            ok(m.cmd(&["DEBUG", "POPULATE", "3000", "new", "100"]));
            ok(m.cmd(&["DEBUG", "CHANGE-REPL-ID"]));
            proxy.set(fault);
            proxy.cut();
            let mut failure = None;
            wait_until(LINK, "the damaged sync to fail", || {
                failure = replica_sessions(&replica)
                    .into_iter()
                    .skip(before)
                    .find(|s| s["outcome"] == "failed" && s["kind"] == "full");
                failure.is_some()
            });
            let failure = failure.expect("failed session");
            // The history names the cause: the RDB refused (by its checksum, or its
            // structure where the flipped byte lands on one) or the cut link.
            let expected = match fault {
                Fault::CorruptAt(_) => "Internal error in RDB reading offset",
                _ => "the master closed the connection",
            };
            assert!(
                failure["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(expected)),
                "{load} {fault:?}: {failure}"
            );
            // Meanwhile the old dataset is whole; nothing of the damaged one shows.
            let mut r = replica.conn();
            assert_eq!(
                r.cmd(&["GET", "old:1999"]),
                old_value,
                "{load} {fault:?}: {failure}"
            );
            assert_eq!(r.cmd(&["DBSIZE"]), Value::Int(2000), "{load} {fault:?}");
            assert_eq!(
                r.cmd(&["EXISTS", "new:0"]),
                Value::Int(0),
                "{load} {fault:?}"
            );
            // The fault was one-shot: the next attempt installs the master's dataset.
            wait_converged(&master, &replica, LINK);
            assert_same_keyspace(&master, &replica);
        }
    }
}

/// A replica behind a slow link (64 KB/s) while the master writes 32 MiB: the master drops
/// it at its output limit instead of buffering the difference, a replica on a good link
/// keeps up meanwhile, and once the link is healthy again the slow one syncs and ends equal.
#[test]
fn a_replica_on_a_slow_link_is_dropped_at_its_limit_and_recovers() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    ok(m.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "replica 4mb 2mb 10",
    ]));
    let proxy = Proxy::start(master.port);
    let slow = replica_of(proxy.port, &[]);
    let fast = replica_of(master.port, &[]);
    wait_link_up(&slow, LINK);
    wait_link_up(&fast, LINK);
    let used_before = used_mib(&master);
    proxy.set(Fault::Rate(64 * 1024));
    let value = "x".repeat(64 * 1024);
    for i in 0..512 {
        ok(m.cmd(&["SET", &format!("big:{}", i % 64), &value]));
    }
    assert!(
        master.wait_for_log("scheduled to be closed ASAP for overcoming of output buffer limits"),
        "the slow replica is dropped at its limit"
    );
    wait_converged(&master, &fast, LINK);
    let grown = used_mib(&master).saturating_sub(used_before);
    assert!(
        grown < 16,
        "master memory grew {grown} MiB (4 MiB of data) while 32 MiB went to a replica reading 64 KB/s"
    );
    proxy.set(Fault::None);
    wait_converged(&master, &slow, LINK);
    assert_same_keyspace(&master, &slow);
}

/// The master killed (SIGKILL) while a client writes and waits for acknowledgements: the
/// replica holds a prefix of the master's history (no hole, nothing out of order) that
/// contains every write `WAIT` acknowledged.
#[test]
fn a_master_killed_under_load_leaves_the_replica_every_acknowledged_write() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let proxy = Proxy::start(master.port);
    // Through a link slowed enough that the replica trails the master when it dies.
    let replica = replica_of(proxy.port, &[]);
    wait_link_up(&replica, LINK);
    proxy.set(Fault::Rate(256 * 1024));
    let acked = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let port = master.port;
    let writer = {
        let (acked, written) = (acked.clone(), written.clone());
        std::thread::spawn(move || {
            let mut c = crate::harness::Conn::connect(port);
            let value = "v".repeat(200);
            for i in 0u64.. {
                c.send(&[b"SET", format!("k{i}").as_bytes(), value.as_bytes()]);
                if c.try_read().is_none() {
                    return;
                }
                written.store(i + 1, Ordering::SeqCst);
                if i % 100 == 99 {
                    c.send(&[b"WAIT", b"1", b"200"]);
                    match c.try_read() {
                        Some(Value::Int(1)) => acked.store(i + 1, Ordering::SeqCst),
                        Some(_) => {}
                        None => return,
                    }
                }
            }
        })
    };
    wait_until(LINK, "writes acknowledged by the replica", || {
        acked.load(Ordering::SeqCst) >= 1000
    });
    master.signal("KILL");
    writer.join().expect("writer");
    proxy.set(Fault::None);
    wait_until(LINK, "the replica to see its master gone", || {
        info_field(&replica, "replication", "master_link_status") != "up"
    });
    let acked = acked.load(Ordering::SeqCst);
    let mut r = replica.conn();
    let keys = r.cmd(&["KEYS", "k*"]).array();
    let mut indexes: Vec<u64> = keys
        .iter()
        .map(|k| k.text()[1..].parse().expect("index"))
        .collect();
    indexes.sort_unstable();
    let n = indexes.len() as u64;
    assert!(
        indexes.iter().enumerate().all(|(i, k)| *k == i as u64),
        "the replica's keys are not a prefix of the history: {} keys, last {:?}",
        n,
        indexes.last()
    );
    assert!(
        n >= acked,
        "{acked} writes acknowledged by WAIT, the replica has {n}"
    );
    assert!(n <= written.load(Ordering::SeqCst) + 1);
}
