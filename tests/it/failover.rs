//! Coordinated failover (FAILOVER, and `/v1/replication/failover`) with real processes:
//! under a running writer no write acknowledged by WAIT is lost and every node continues
//! with a partial sync; ABORT, TIMEOUT and FORCE; Redis's error texts byte for byte; the
//! HTTP plan (`dry_run`, `max_lag_bytes`) and steps; and failovers between replikv and
//! Debian's redis-server 7.0 in both directions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::Http;
use crate::harness::repl::{
    assert_same_keyspace, info, info_field, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::{wait_until, Conn, Kind, Node, Value};

const LINK: Duration = Duration::from_secs(30);

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()));
}

fn role(node: &Node) -> String {
    info_field(node, "replication", "role")
}

fn failover_state(node: &Node) -> String {
    info_field(node, "replication", "master_failover_state")
}

/// `host port` of a node, as a replica announces it.
fn addr(node: &Node) -> (String, String) {
    ("127.0.0.1".to_string(), node.port.to_string())
}

/// Writes `k<i>` continuously and, every few writes, WAITs for one replica; returns the
/// writes a WAIT acknowledged, once the master stops taking writes (it became a replica).
fn writer(master: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<BTreeMap<String, String>> {
    std::thread::spawn(move || {
        let mut c = Conn::connect(master);
        let mut acked = BTreeMap::new();
        let mut unacked = Vec::new();
        let mut i = 0u64;
        while !stop.load(Ordering::Acquire) {
            let (k, v) = (format!("k{i}"), format!("v{i}"));
            match c.cmd(&["SET", &k, &v]) {
                Value::Simple(s) if s == "OK" => unacked.push((k, v)),
                Value::Error(e) if e.starts_with("READONLY") => break,
                other => panic!("SET during the failover: {other:?}"),
            }
            i += 1;
            if i.is_multiple_of(20) {
                match c.cmd(&["WAIT", "1", "2000"]) {
                    Value::Int(n) if n >= 1 => acked.extend(unacked.drain(..)),
                    Value::Int(_) => {}
                    Value::Error(e) if e.starts_with("ERR WAIT cannot be used with replica") => {
                        break
                    }
                    other => panic!("WAIT: {other:?}"),
                }
            }
        }
        acked
    })
}

/// FAILOVER under a writer, replikv everywhere: the target becomes the master, the old
/// master its replica, the other replica follows (through the old master, as Redis chains
/// it); writes WAIT acknowledged are all on the new master; nobody does a full sync.
#[test]
fn failover_under_a_writer_keeps_every_acknowledged_write_and_syncs_partially() {
    let m = start(Kind::Replikv, &[]);
    let r1 = start_replica(Kind::Replikv, &m, &[]);
    let r2 = start_replica(Kind::Replikv, &m, &[]);
    wait_link_up(&r1, LINK);
    wait_link_up(&r2, LINK);
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(m.port, stop.clone());
    wait_until(LINK, "the writer to get going", || {
        m.conn().cmd(&["DBSIZE"]).int() > 200
    });
    let full_before = info_field(&r1, "stats", "sync_full");
    let (h, p) = addr(&r1);
    ok(m.conn().cmd(&["FAILOVER", "TO", &h, &p]));
    wait_until(
        LINK,
        "the old master to become the target's replica",
        || role(&m) == "slave" && info_field(&m, "replication", "master_link_status") == "up",
    );
    stop.store(true, Ordering::Release);
    let acked = w.join().expect("writer");
    assert!(
        acked.len() > 100,
        "too few acknowledged writes: {}",
        acked.len()
    );
    assert_eq!(role(&r1), "master");
    assert_eq!(failover_state(&m), "no-failover");
    assert_eq!(failover_state(&r1), "no-failover");
    let mut c = r1.conn();
    for (k, v) in &acked {
        assert_eq!(
            c.cmd(&["GET", k]),
            Value::Bulk(v.clone().into_bytes()),
            "{k}"
        );
    }
    // Partial syncs only: the old master continued on the new master's history.
    let stats = info(&mut c, "stats");
    assert_eq!(stats["sync_full"], full_before, "a full sync happened");
    assert!(
        stats["sync_partial_ok"].parse::<u64>().unwrap_or(0) >= 1,
        "{stats:?}"
    );
    // Writes go to the new master and reach both others.
    ok(c.cmd(&["SET", "after", "failover"]));
    wait_link_up(&r2, LINK);
    wait_converged(&r1, &m, LINK);
    wait_until(LINK, "the other replica to catch up", || {
        r2.conn().cmd(&["GET", "after"]) == Value::Bulk(b"failover".to_vec())
    });
    assert_same_keyspace(&r1, &m);
    assert_same_keyspace(&r1, &r2);
    assert_eq!(info_field(&r2, "stats", "sync_full"), "0");
}

/// A replica that never catches up (stopped with SIGSTOP): writes are held while the
/// failover waits, FAILOVER ABORT releases them, and the roles are as before. With a
/// TIMEOUT the failover aborts by itself; with FORCE it hands over at the deadline anyway.
#[test]
fn abort_timeout_and_force() {
    let m = start(Kind::Replikv, &[]);
    let r1 = start_replica(Kind::Replikv, &m, &[]);
    wait_link_up(&r1, LINK);
    ok(m.conn().cmd(&["SET", "before", "1"]));
    wait_converged(&m, &r1, LINK);
    r1.freeze();
    ok(m.conn().cmd(&["SET", "lagging", "1"]));
    let (h, p) = addr(&r1);

    // ABORT while waiting: a held write completes after it.
    ok(m.conn().cmd(&["FAILOVER", "TO", &h, &p]));
    assert_eq!(failover_state(&m), "waiting-for-sync");
    let mut held = m.conn();
    held.set_timeout(Duration::from_millis(300));
    held.send(&[b"SET", b"held", b"1"]);
    assert_eq!(
        held.try_read(),
        None,
        "a write went through during the failover wait"
    );
    // Reads are served meanwhile.
    assert_eq!(m.conn().cmd(&["GET", "before"]), Value::Bulk(b"1".to_vec()));
    ok(m.conn().cmd(&["FAILOVER", "ABORT"]));
    held.set_timeout(Duration::from_secs(10));
    assert_eq!(held.try_read(), Some(Value::Simple("OK".into())));
    assert_eq!(failover_state(&m), "no-failover");
    assert_eq!(role(&m), "master");

    // TIMEOUT without FORCE: gives up by itself.
    let started = Instant::now();
    ok(m.conn().cmd(&["FAILOVER", "TO", &h, &p, "TIMEOUT", "500"]));
    wait_until(Duration::from_secs(10), "the failover to time out", || {
        failover_state(&m) == "no-failover"
    });
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert!(m.wait_for_log("Replica never caught up before timeout"));
    assert_eq!(role(&m), "master");
    ok(m.conn().cmd(&["SET", "writable", "again"]));

    // FORCE: hands over at the deadline; the stopped target is promoted once it runs.
    ok(m.conn()
        .cmd(&["FAILOVER", "TO", &h, &p, "TIMEOUT", "300", "FORCE"]));
    wait_until(Duration::from_secs(10), "the forced hand-over", || {
        failover_state(&m) == "failover-in-progress"
    });
    r1.signal("CONT");
    wait_until(LINK, "the target to be promoted", || role(&r1) == "master");
    wait_until(LINK, "the old master to follow it", || {
        role(&m) == "slave" && info_field(&m, "replication", "master_link_status") == "up"
    });
    assert_eq!(failover_state(&m), "no-failover");
    wait_converged(&r1, &m, LINK);
    assert_same_keyspace(&r1, &m);
}

/// FAILOVER's refusals, byte for byte as Redis 7.0 words them.
#[test]
fn failover_errors_match_redis() {
    let cases: [&[&str]; 6] = [
        &["FAILOVER", "ABORT"],
        &["FAILOVER", "TIMEOUT", "0"],
        &["FAILOVER", "BOGUS"],
        &["FAILOVER"],
        &["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
        &["FAILOVER", "TIMEOUT", "x"],
    ];
    let with_replica: [&[&str]; 3] = [
        &["FAILOVER", "TO", "127.0.0.1", "1"],
        &["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
        &["FAILOVER", "FORCE", "TIMEOUT", "10"],
    ];
    let mut replies: Vec<Vec<String>> = Vec::new();
    for kind in [Kind::Redis, Kind::Replikv] {
        let mut got = Vec::new();
        let m = start(kind, &[]);
        for c in cases {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            got.push(String::from_utf8_lossy(&m.conn().cmd_raw(&args).1).into_owned());
        }
        let r = start_replica(kind, &m, &[]);
        wait_link_up(&r, LINK);
        for c in with_replica {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            got.push(String::from_utf8_lossy(&m.conn().cmd_raw(&args).1).into_owned());
        }
        got.push(String::from_utf8_lossy(&r.conn().cmd_raw(&[b"FAILOVER"]).1).into_owned());
        got.push(
            String::from_utf8_lossy(&r.conn().cmd_raw(&[b"PSYNC", b"x", b"1", b"FAILOVER"]).1)
                .into_owned(),
        );
        got.push(
            String::from_utf8_lossy(&m.conn().cmd_raw(&[b"PSYNC", b"x", b"1", b"FAILOVER"]).1)
                .into_owned(),
        );
        replies.push(got);
    }
    assert_eq!(replies[0], replies[1], "Redis first, replikv second");
    assert!(
        replies[1].iter().all(|r| r.starts_with('-')),
        "{:?}",
        replies[1]
    );
}

/// Over HTTP: a dry run names the replica and changes nothing; `max_lag_bytes` refuses a
/// replica that lags; a real run hands over and GET shows every step and a new epoch.
#[test]
fn failover_over_http() {
    let m = start(Kind::Replikv, &[]);
    let r1 = start_replica(Kind::Replikv, &m, &[]);
    wait_link_up(&r1, LINK);
    ok(m.conn().cmd(&["SET", "a", "1"]));
    wait_converged(&m, &r1, LINK);
    let http = Http::new(&m);
    http.send("DELETE", "/v1/replication/failover", None)
        .problem(409, "conflict");
    let dry = http.json(
        "POST",
        "/v1/replication/failover",
        r#"{"dry_run": true, "max_lag_bytes": 100000}"#,
    );
    assert_eq!(dry.status, 200, "{}", dry.body);
    let plan = dry.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["target"]["port"], r1.port);
    assert_eq!(plan["candidates"][0]["eligible"], true, "{plan}");
    assert_eq!(role(&m), "master", "a dry run changed the roles");
    assert_eq!(failover_state(&m), "no-failover");

    // A replica 20 kB behind is refused under a 1 kB budget.
    r1.freeze();
    ok(m.conn().cmd(&["SET", "b", &"x".repeat(20_000)]));
    let p = http
        .json(
            "POST",
            "/v1/replication/failover",
            r#"{"max_lag_bytes": 1000}"#,
        )
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "max_lag_bytes");
    assert_eq!(failover_state(&m), "no-failover");
    r1.signal("CONT");
    wait_converged(&m, &r1, LINK);

    // The real thing, with no body at all (every field is optional).
    let epoch_before = Http::new(&r1).get("/v1/replication/failover").json()["epoch"].clone();
    let r = http.send("POST", "/v1/replication/failover", None);
    assert_eq!(r.status, 202, "{}", r.body);
    wait_until(LINK, "the hand-over", || {
        role(&m) == "slave" && info_field(&m, "replication", "master_link_status") == "up"
    });
    let status = http.get("/v1/replication/failover").json();
    let steps: Vec<String> = status["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        steps,
        ["waiting-for-sync", "failover-in-progress", "completed"],
        "{status}"
    );
    assert_eq!(status["state"], "no-failover");
    assert_eq!(status["target"]["port"], r1.port);
    let metrics = http.get("/metrics").body;
    assert!(
        metrics.contains("replikv_failovers_total{outcome=\"completed\"} 1"),
        "{metrics}"
    );
    let epoch_after = Http::new(&r1).get("/v1/replication/failover").json()["epoch"].clone();
    assert_eq!(
        epoch_after.as_u64(),
        epoch_before.as_u64().map(|e| e + 1),
        "the promoted node's epoch"
    );
}

/// Failover across implementations: a Redis master hands over to a replikv replica (which
/// receives Redis's PSYNC FAILOVER), and a replikv master to a Redis replica (which
/// receives ours). Both end with partial syncs and equal data.
#[test]
fn failover_between_replikv_and_redis_both_ways() {
    for (mk, rk) in [(Kind::Redis, Kind::Replikv), (Kind::Replikv, Kind::Redis)] {
        let m = start(mk, &[]);
        let r = start_replica(rk, &m, &[]);
        wait_link_up(&r, LINK);
        let mut c = m.conn();
        for i in 0..50 {
            ok(c.cmd(&["SET", &format!("k{i}"), "v"]));
        }
        wait_converged(&m, &r, LINK);
        let full_before = info_field(&r, "stats", "sync_full");
        let (h, p) = addr(&r);
        ok(c.cmd(&["FAILOVER", "TO", &h, &p, "TIMEOUT", "10000"]));
        wait_until(LINK, &format!("{mk:?} → {rk:?} hand-over"), || {
            role(&r) == "master"
                && role(&m) == "slave"
                && info_field(&m, "replication", "master_link_status") == "up"
        });
        assert_eq!(
            info_field(&r, "stats", "sync_full"),
            full_before,
            "{mk:?} → {rk:?}"
        );
        ok(r.conn().cmd(&["SET", "after", "x"]));
        wait_converged(&r, &m, LINK);
        assert_same_keyspace(&r, &m);
    }
}
