//! The control plane while a command holds the engine (`DEBUG SLEEP`, as a slow `KEYS` or
//! a big pipeline would): health probes answer at once, reads answer from the figures the
//! engine last published (with an `Age` header), and a change waits for the engine without
//! holding up the rest.

use std::thread;
use std::time::{Duration, Instant};

use super::Http;
use crate::harness::{wait_until, Node, Value};

/// What `/healthz` may take while the engine is held.
const PROBE_BOUND: Duration = Duration::from_millis(100);

#[test]
fn probes_reads_and_changes_are_served_while_a_command_holds_the_engine() {
    let node = Node::replikv(&["--enable-debug-command", "yes"]);
    let http = Http::new(&node);
    assert_eq!(
        http.get("/v1/replication").age,
        "",
        "figures of a free engine are read fresh"
    );

    let mut sleeper = node.conn();
    let sent = Instant::now();
    sleeper.send(&[b"DEBUG", b"SLEEP", b"2"]);
    // Clients queue behind it: the server's workers try the engine lock in turn.
    let mut queued: Vec<_> = (0..4)
        .map(|_| {
            let mut c = node.conn();
            c.send(&[b"GET", b"k"]);
            c
        })
        .collect();
    // The engine is held from here until the sleep ends: reads carry an Age.
    wait_until(
        Duration::from_millis(1500),
        "reads answer from published figures",
        || !http.get("/v1/server").age.is_empty(),
    );

    // A change waits for the engine, without holding up the requests below.
    let patch = {
        let http = Http::new(&node);
        thread::spawn(move || {
            http.json("PATCH", "/v1/config", r#"{"maxmemory-samples": "7"}"#)
                .status
        })
    };
    let mut probes = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(http.get("/healthz").status, 200);
        probes.push(started.elapsed());
    }
    let ready = http.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_ne!(
        ready.age, "",
        "/readyz read fresh figures from a held engine"
    );
    let replication = http.get("/v1/replication");
    assert_eq!(replication.status, 200);
    assert_ne!(replication.age, "");
    assert_eq!(replication.json()["role"], "master");
    let metrics = http.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("redis_connected_clients"));
    let served_by = sent.elapsed();
    assert!(
        served_by < Duration::from_millis(1900),
        "the control plane's answers took until {served_by:?} after DEBUG SLEEP 2 began"
    );
    probes.sort();
    assert!(
        probes[2] < PROBE_BOUND,
        "median /healthz took {:?} while the engine was held (all: {probes:?})",
        probes[2]
    );

    // The sleep ends: the queue drains and the change is applied.
    assert_eq!(sleeper.read_raw().0, Value::Simple("OK".into()));
    assert!(sent.elapsed() >= Duration::from_secs(2));
    for c in &mut queued {
        assert_eq!(c.read_raw().0, Value::Nil);
    }
    assert_eq!(patch.join().expect("PATCH thread"), 200);
    assert_eq!(
        node.conn().cmd(&["CONFIG", "GET", "maxmemory-samples"]),
        Value::Array(vec![
            Value::Bulk(b"maxmemory-samples".to_vec()),
            Value::Bulk(b"7".to_vec())
        ])
    );
    assert_eq!(http.get("/v1/replication").age, "", "fresh again");
}
