//! A bounded soak: 50 clients writing to a master with two replicas whose links are cut
//! every few seconds (through the fault proxy), for `REPLIKV_SOAK_SECS` seconds (60 by
//! default; scripts/test runs 120 on its own, after the other tests, since the load would
//! skew their timings; docs/reliability.md gives the figures). Afterwards every
//! write a client saw acknowledged is on the master, both replicas equal it, and the
//! master's memory stayed flat over the run (the key space is bounded, so it must).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness::proxy::Proxy;
use crate::harness::repl::{assert_same_keyspace, info_field, wait_converged};
use crate::harness::{Conn, Node, Value};

const CLIENTS: u64 = 50;
/// Keys per client: writes cycle over them, so the dataset stops growing early.
const KEYS_PER_CLIENT: u64 = 200;

fn duration() -> Duration {
    let secs = std::env::var("REPLIKV_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

fn rss_mib(node: &Node) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid())).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("VmRSS")
        / 1024
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
#[ignore = "CPU-heavy: scripts/test runs it on its own after the other tests (cargo test --test it -- --ignored soak::)"]
fn fifty_clients_two_replicas_and_cut_links_end_equal() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let proxies = [Proxy::start(master.port), Proxy::start(master.port)];
    let replicas: Vec<Node> = proxies
        .iter()
        .map(|p| {
            let port = p.port.to_string();
            Node::replikv(&["--replicaof", "127.0.0.1", &port])
        })
        .collect();
    for r in &replicas {
        wait_converged(&master, r, Duration::from_secs(30));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let port = master.port;
    let writers: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let mut c = Conn::connect(port);
                let mut incrs = 0u64;
                let value = format!("{id:0>64}");
                for n in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("c{id}:{}", n % KEYS_PER_CLIENT);
                    assert_eq!(
                        c.cmd(&["SET", &key, &format!("{value}{n}")]),
                        Value::Simple("OK".into())
                    );
                    let counter = format!("counter:{id}");
                    assert_eq!(c.cmd(&["INCR", &counter]), Value::Int(incrs as i64 + 1));
                    incrs += 1;
                    if n % 50 == 49 {
                        // Acknowledged by at least one replica (one may be cut right now).
                        if let Value::Int(k) = c.cmd(&["WAIT", "1", "100"]) {
                            if k >= 1 {
                                acknowledged.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                incrs
            })
        })
        .collect();

    // Cuts every 3 s, alternating replicas; memory sampled every second.
    let started = Instant::now();
    let mut rss = Vec::new();
    let mut cuts = 0u64;
    let mut last_cut = Instant::now();
    while started.elapsed() < duration() {
        std::thread::sleep(Duration::from_secs(1));
        rss.push(rss_mib(&master));
        if last_cut.elapsed() >= Duration::from_secs(3) {
            proxies[(cuts % 2) as usize].cut();
            cuts += 1;
            last_cut = Instant::now();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let incrs: Vec<u64> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();

    // Nothing a client was told is lost on the master...
    let mut m = master.conn();
    for (id, n) in incrs.iter().enumerate() {
        assert_eq!(
            m.cmd(&["GET", &format!("counter:{id}")]),
            Value::Bulk(n.to_string().into_bytes()),
            "client {id}"
        );
    }
    // ...and both replicas end with exactly the master's data.
    for r in &replicas {
        wait_converged(&master, r, Duration::from_secs(60));
        assert_same_keyspace(&master, r);
        assert_eq!(info_field(r, "replication", "master_link_status"), "up");
    }
    assert!(cuts >= 3, "the links were cut {cuts} times");
    assert!(
        acknowledged.load(Ordering::Relaxed) > 0,
        "no write was ever acknowledged by a replica"
    );
    // Memory flat: the last third of the run against the second (after warm-up).
    let third = rss.len() / 3;
    let middle = median(rss[third..2 * third].to_vec());
    let last = median(rss[2 * third..].to_vec());
    eprintln!(
        "soak: {:?}, {} writes by {CLIENTS} clients, {cuts} cuts, {} acknowledged WAITs, master RSS median {middle} MiB then {last} MiB",
        duration(),
        incrs.iter().sum::<u64>(),
        acknowledged.load(Ordering::Relaxed)
    );
    assert!(
        last <= middle + middle / 4 + 16,
        "master RSS grew from {middle} MiB to {last} MiB over the run: {rss:?}"
    );
}
