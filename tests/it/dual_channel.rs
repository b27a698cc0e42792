//! Dual-channel full sync between replikv nodes: the snapshot over a channel of its own, the
//! stream buffered on the replica. A replica behind a slow link completes a full sync whose
//! writes would overflow the classic path's output-buffer limit (and the classic path is
//! shown to overflow on the same setup); a Redis peer on either side gets the classic sync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::Http;
use crate::harness::proxy::{Fault, Proxy};
use crate::harness::repl::{
    assert_same_keyspace, info_field, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::{wait_until, Conn, Kind, Node, Value};

/// Keys of [`VALUE_BYTES`] on the master: a 6 MB snapshot.
const KEYS: usize = 6_000;
const VALUE_BYTES: usize = 1_000;
/// The proxy's rate, master → replica, per connection: the snapshot takes about 6 s.
const LINK_RATE: u64 = 1_000_000;
/// Writes per second during the sync, of [`VALUE_BYTES`] each: 2.4 MB over the snapshot's
/// 6 s, past the 1 MB replica output-buffer limit, well below the link's rate.
const WRITES_PER_SEC: u64 = 400;

/// A master with a 1 MB replica output-buffer limit and the snapshot uncompressed (so its
/// size, and the transfer's length, are known), filled with [`KEYS`] distinct values.
fn master() -> Node {
    master_with_limit("replica 1mb 0 0", "60")
}

/// The same with `client-output-buffer-limit` `limit` and `repl-timeout` `timeout`.
fn master_with_limit(limit: &str, timeout: &str) -> Node {
    let master = start(
        Kind::Replikv,
        &[
            "--dual-channel-replication-enabled",
            "yes",
            "--repl-timeout",
            timeout,
            "--client-output-buffer-limit",
            limit,
            "--repl-backlog-size",
            "1mb",
            "--rdbcompression",
            "no",
        ],
    );
    let mut c = master.conn();
    for chunk in 0..KEYS / 100 {
        let mut args = vec!["MSET".to_string()];
        for i in chunk * 100..(chunk + 1) * 100 {
            args.push(format!("key:{i}"));
            args.push(value(i));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&args), Value::Simple("OK".into()));
    }
    master
}

/// A value that does not compress away.
fn value(seed: usize) -> String {
    let mut x = seed as u64 * 2_654_435_761 + 1;
    (0..VALUE_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// Writes [`WRITES_PER_SEC`] values a second to `port` until stopped; returns how many.
fn writer(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut c = Conn::connect(port);
        let started = Instant::now();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let due = Duration::from_secs_f64(n as f64 / WRITES_PER_SEC as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            let key = format!("written:{n}");
            assert_eq!(
                c.cmd(&["SET", &key, &value(KEYS + n as usize)]),
                Value::Simple("OK".into())
            );
            n += 1;
        }
        n
    })
}

/// A dual-channel replica of `master` (with `extra` arguments) behind a proxy slowed to
/// [`LINK_RATE`], with a writer on the master: the proxy, the writer's stop flag and
/// handle, and the replica.
fn slow_sync_under_writes(
    master: &Node,
    extra: &[&str],
) -> (Proxy, Arc<AtomicBool>, std::thread::JoinHandle<u64>, Node) {
    let proxy = Proxy::start(master.port);
    proxy.set(Fault::Rate(LINK_RATE));
    let stop = Arc::new(AtomicBool::new(false));
    let writes = writer(master.port, stop.clone());
    let port = proxy.port.to_string();
    let mut args = vec![
        "--replicaof",
        "127.0.0.1",
        &port,
        "--dual-channel-replication-enabled",
        "yes",
    ];
    args.extend_from_slice(extra);
    let replica = Node::replikv(&args);
    (proxy, stop, writes, replica)
}

/// The line a master logs when it drops a replica over its output-buffer limit.
const OVER_LIMIT: &str = "overcoming of output buffer limits";

#[test]
fn a_slow_full_sync_under_writes_completes_with_the_stream_buffered_on_the_replica() {
    // The classic path first, on the same setup: the writes made during the slow transfer
    // overflow the replica's output buffer on the master, which drops it.
    {
        let master = master();
        let proxy = Proxy::start(master.port);
        proxy.set(Fault::Rate(LINK_RATE));
        let stop = Arc::new(AtomicBool::new(false));
        let writes = writer(master.port, stop.clone());
        let port = proxy.port.to_string();
        let _replica = Node::replikv(&["--replicaof", "127.0.0.1", &port]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !master.log_contains(OVER_LIMIT) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            master.log_contains(OVER_LIMIT),
            "the master dropped the classic replica at its output limit: {:#?}\n{:#?}",
            master.log_lines(),
            _replica.log_lines()
        );
        stop.store(true, Ordering::Relaxed);
        writes.join().expect("writer");
    }

    // Dual channel: the same transfer and writes, no overflow, one full sync.
    let master = master();
    let (proxy, stop, writes, replica) = slow_sync_under_writes(&master, &[]);
    wait_until(
        Duration::from_secs(30),
        "the replica to buffer the stream while its snapshot loads",
        || replica.log_contains("buffering the stream from the snapshot's offset"),
    );
    // The stream flows while the snapshot is still in transit, held on the replica.
    wait_until(
        Duration::from_secs(10),
        "the replica to report stream bytes buffered during its load",
        || {
            info_field(
                &replica,
                "replication",
                "replikv_master_sync_buffered_bytes",
            )
            .parse::<u64>()
            .is_ok_and(|n| n > 0)
        },
    );
    wait_link_up(&replica, Duration::from_secs(60));
    // Writes went on through the whole transfer: well over the limit's worth.
    stop.store(true, Ordering::Relaxed);
    let written = writes.join().expect("writer");
    assert!(
        written * VALUE_BYTES as u64 > 1_100_000,
        "the writes during the sync exceed the 1 MB output limit ({written} writes)"
    );
    wait_converged(&master, &replica, Duration::from_secs(30));
    assert_same_keyspace(&master, &replica);
    assert!(!master.log_contains(OVER_LIMIT), "no replica was dropped");
    assert_eq!(info_field(&master, "replication", "connected_slaves"), "1");
    assert_eq!(info_field(&master, "stats", "sync_full"), "1");
    assert_eq!(
        info_field(&master, "stats", "sync_partial_ok"),
        "0",
        "the stream half is not a partial resync"
    );
    // Two connections went through the proxy: the main one and the snapshot channel.
    assert_eq!(proxy.connections(), 2);

    // The histories say what happened on each side.
    let syncs = |node: &Node, side: &str| -> Vec<serde_json::Value> {
        let body = Http::new(node)
            .get(&format!("/v1/replication/syncs?side={side}"))
            .json();
        body["syncs"].as_array().expect("syncs").clone()
    };
    let mine = syncs(&replica, "replica");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["kind"], "full", "{mine:?}");
    assert_eq!(mine[0]["outcome"], "succeeded", "{mine:?}");
    assert!(
        mine[0]["full_sync_reason"]
            .as_str()
            .is_some_and(|r| r.ends_with("(dual-channel)")),
        "{mine:?}"
    );
    let theirs = syncs(&master, "master");
    let kinds: Vec<(&str, &str)> = theirs
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or(""),
                s["full_sync_reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("partial", "stream channel of a dual-channel full sync")),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|(k, _)| *k == "full").count(),
        1,
        "{kinds:?}"
    );
}

/// A replica whose buffer fills during the load stops reading (TCP holds the master back)
/// and, once loaded, applies what it holds and reads the rest: nothing is lost.
#[test]
fn a_full_buffer_pauses_reading_until_the_load_is_done() {
    let master = master_with_limit("replica 0 0 0", "60");
    let (_proxy, stop, writes, replica) =
        slow_sync_under_writes(&master, &["--replica-full-sync-buffer-limit", "100kb"]);
    wait_until(
        Duration::from_secs(30),
        "the replica's buffer to reach its limit",
        || replica.log_contains("reached replica-full-sync-buffer-limit"),
    );
    wait_link_up(&replica, Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    writes.join().expect("writer");
    wait_converged(&master, &replica, Duration::from_secs(30));
    assert_same_keyspace(&master, &replica);
    assert_eq!(info_field(&master, "stats", "sync_full"), "1");
}

#[test]
fn a_redis_peer_on_either_side_gets_the_classic_sync() {
    // A Redis replica of a replikv master that offers dual channel.
    let master = start(
        Kind::Replikv,
        &["--dual-channel-replication-enabled", "yes"],
    );
    let mut m = master.conn();
    assert_eq!(
        m.cmd(&["DEBUG", "POPULATE", "1000", "k", "10"]),
        Value::Simple("OK".into())
    );
    let redis_replica = start_replica(Kind::Redis, &master, &[]);
    wait_link_up(&redis_replica, Duration::from_secs(30));
    assert_eq!(m.cmd(&["SET", "after", "1"]), Value::Simple("OK".into()));
    wait_converged(&master, &redis_replica, Duration::from_secs(30));
    assert_same_keyspace(&master, &redis_replica);
    assert_eq!(info_field(&master, "stats", "sync_full"), "1");

    // A replikv replica that asks for dual channel, of a Redis master.
    let redis_master = start(Kind::Redis, &[]);
    let mut rm = redis_master.conn();
    assert_eq!(
        rm.cmd(&["DEBUG", "POPULATE", "1000", "k", "10"]),
        Value::Simple("OK".into())
    );
    let replica = start_replica(
        Kind::Replikv,
        &redis_master,
        &["--dual-channel-replication-enabled", "yes"],
    );
    wait_link_up(&replica, Duration::from_secs(30));
    assert_eq!(rm.cmd(&["SET", "after", "1"]), Value::Simple("OK".into()));
    wait_converged(&redis_master, &replica, Duration::from_secs(30));
    assert_same_keyspace(&redis_master, &replica);
    assert!(!replica.log_contains("dual-channel full sync"));
}

#[test]
fn a_snapshot_channel_must_name_a_connection_offered_a_dual_channel_sync() {
    let master = start(
        Kind::Replikv,
        &["--dual-channel-replication-enabled", "yes"],
    );
    let mut c = master.conn();
    let own_id = match c.cmd(&["CLIENT", "ID"]) {
        Value::Int(id) => id.to_string(),
        other => panic!("CLIENT ID: {other:?}"),
    };
    for id in [own_id.as_str(), "123456"] {
        assert_eq!(
            c.cmd(&["REPLCONF", "rdb-channel", id]),
            Value::Error(
                "ERR REPLCONF rdb-channel names no connection waiting for a dual-channel sync"
                    .into()
            )
        );
    }
}
