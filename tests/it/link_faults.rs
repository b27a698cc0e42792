//! Link loss in every sync phase, on both sides, made exact by the fault points
//! (`replication::fault`, built with the `fault-points` feature that scripts/test turns
//! on): a rule cuts or stalls the next sync at the phase it names, and each test checks
//! what an operator would see (the failed session in the history, with its phase and
//! reason), that the link comes back by itself, with a full or a partial resync as the
//! phase implies, and that the replica ends with the master's data.

use std::time::Duration;

use serde_json::Value as Json;

use crate::control::Http;
use crate::harness::repl::{assert_same_keyspace, start, start_replica, wait_converged};
use crate::harness::resp::Value;
use crate::harness::{wait_until, Kind, Node};

/// A master with keys in two databases and an expiring key.
fn master() -> Node {
    let master = start(Kind::Replikv, &[]);
    let mut m = master.conn();
    for i in 0..200 {
        m.cmd(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    m.cmd(&["SELECT", "3"]);
    m.cmd(&["HSET", "h", "f", "1"]);
    m.cmd(&["SET", "ttl", "x", "EX", "1000"]);
    master
}

/// The node's sync sessions, oldest first.
fn syncs(node: &Node) -> Vec<Json> {
    let body = Http::new(node).get("/v1/replication/syncs").json();
    let mut all = body["syncs"].as_array().cloned().unwrap_or_default();
    all.sort_by_key(|s| s["id"].as_u64());
    all
}

/// Waits for the session that the fault at `point` ended on `node`, and checks it names
/// the phase and the cause; returns its id.
fn failed_at(node: &Node, point: &str, phase: &str) -> u64 {
    let reason = format!("fault injected at {point}");
    let mut found = None;
    wait_until(
        Duration::from_secs(15),
        &format!("a sync failed at {point}"),
        || {
            found = syncs(node)
                .into_iter()
                .find(|s| s["error"].as_str() == Some(reason.as_str()));
            found.is_some()
        },
    );
    let s = found.expect("found");
    assert_eq!(s["outcome"], "failed", "{s}");
    assert_eq!(s["error_code"], "fault_injected", "{s}");
    let last = s["phases"].as_array().and_then(|p| p.last()).cloned();
    assert_eq!(
        last.as_ref().map(|p| p["phase"].clone()),
        Some(Json::from(phase)),
        "the failed session's last phase: {s}"
    );
    s["id"].as_u64().expect("id")
}

/// Waits for a replica-side session after `after` that succeeded, and returns its kind.
fn next_success(replica: &Node, after: u64) -> String {
    let mut kind = String::new();
    wait_until(
        Duration::from_secs(20),
        "a sync to succeed after the cut",
        || {
            let next = syncs(replica).into_iter().find(|s| {
                s["side"] == "replica"
                    && s["id"].as_u64() > Some(after)
                    && s["outcome"] == "succeeded"
            });
            match next {
                Some(s) => {
                    kind = s["kind"].as_str().unwrap_or_default().to_string();
                    true
                }
                None => false,
            }
        },
    );
    kind
}

/// Writes on the master after the link is back, then checks the replica has everything.
fn converges(master: &Node, replica: &Node, tag: &str) {
    let mut m = master.conn();
    assert_eq!(m.cmd(&["SET", tag, "after"]), Value::Simple("OK".into()));
    wait_converged(master, replica, Duration::from_secs(20));
    assert_same_keyspace(master, replica);
}

/// A replica-side cut in each phase of its first sync: the session fails there, the
/// driver reconnects by itself, and the resync is full until the dataset is installed
/// (catchup and stream continue partially).
#[test]
#[cfg_attr(
    not(feature = "fault-points"),
    ignore = "needs the fault-points feature"
)]
fn a_replica_losing_its_link_in_any_phase_recovers() {
    let master = master();
    let cases: &[(&str, &[&str], &str)] = &[
        ("connect", &[], "full"),
        ("handshake", &[], "full"),
        ("psync", &[], "full"),
        ("receive", &[], "full"),
        ("load", &[], "full"),
        ("load", &["--repl-diskless-load", "swapdb"], "full"),
        ("receive", &["--repl-diskless-load", "on-empty-db"], "full"),
        ("catchup", &[], "partial"),
        ("stream", &[], "partial"),
    ];
    for (i, (phase, args, kind)) in cases.iter().enumerate() {
        let point = format!("repl.replica.{phase}");
        let rule = format!("{point}=1*cut");
        let port = master.port.to_string();
        let mut all: Vec<&str> = vec!["--replicaof", "127.0.0.1", &port];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--repl-diskless-sync-delay", "0"]);
        let replica = Node::replikv_with_env(&all, &[("REPLIKV_FAULTS", &rule)]);
        let failed = failed_at(&replica, &point, phase);
        assert_eq!(
            next_success(&replica, failed),
            *kind,
            "the resync after a cut at {point} {args:?}"
        );
        assert!(
            replica.wait_for_log(&format!("fault point {point}: link cut")),
            "the cut is logged"
        );
        converges(&master, &replica, &format!("after-{i}"));
    }
}

/// A master-side cut in each of its phases (set at run time with DEBUG FAULT): the master's
/// session fails in that phase, the replica comes back on its own.
#[test]
#[cfg_attr(
    not(feature = "fault-points"),
    ignore = "needs the fault-points feature"
)]
fn a_master_losing_a_replica_in_any_phase_serves_it_again() {
    let master = master();
    let mut m = master.conn();
    let cases = [
        ("snapshot", "full"),
        ("transfer", "full"),
        ("catchup", "partial"),
        ("stream", "partial"),
    ];
    for (i, (phase, kind)) in cases.iter().enumerate() {
        let point = format!("repl.master.{phase}");
        assert_eq!(
            m.cmd(&["DEBUG", "FAULT", &point, "1*cut"]),
            Value::Simple("OK".into())
        );
        let replica = start_replica(Kind::Replikv, &master, &[]);
        failed_at(&master, &point, phase);
        // The replica saw its link drop and resynced: its first session failed, a later
        // one succeeded with the kind the phase implies.
        let first = syncs(&replica)
            .into_iter()
            .find(|s| s["side"] == "replica")
            .expect("a replica-side session");
        assert_eq!(
            next_success(&replica, first["id"].as_u64().unwrap_or(0)),
            *kind,
            "the resync after the master cut at {point}"
        );
        converges(&master, &replica, &format!("master-after-{i}"));
    }
}

/// A stalled master (it stops talking before the payload) trips the replica's
/// `repl-timeout` with Redis's words; a replica that stops acknowledging once streaming is
/// dropped by the master's `repl-timeout`. Both links come back with the data.
#[test]
#[cfg_attr(
    not(feature = "fault-points"),
    ignore = "needs the fault-points feature"
)]
fn stalls_trip_repl_timeout_on_either_side() {
    let master = start(Kind::Replikv, &["--repl-timeout", "2"]);
    master.conn().cmd(&["SET", "a", "1"]);
    let mut m = master.conn();
    assert_eq!(
        m.cmd(&["DEBUG", "FAULT", "repl.master.transfer", "1*stall(4000)"]),
        Value::Simple("OK".into())
    );
    let replica = start_replica(Kind::Replikv, &master, &["--repl-timeout", "1"]);
    assert!(
        replica.wait_for_log("Timeout connecting to the MASTER..."),
        "the replica's repl-timeout fired while the master stalled"
    );
    // One second is too short for a stream the master pings every 10 s.
    replica.conn().cmd(&["CONFIG", "SET", "repl-timeout", "60"]);
    converges(&master, &replica, "after-master-stall");

    // Now the replica stalls at the start of its next stream: no ACK for 4 s.
    assert_eq!(
        replica
            .conn()
            .cmd(&["DEBUG", "FAULT", "repl.replica.stream", "1*stall(4000)"]),
        Value::Simple("OK".into())
    );
    assert_eq!(
        replica.conn().cmd(&["CLIENT", "KILL", "TYPE", "master"]),
        Value::Int(1)
    );
    assert!(
        master.wait_for_log("Disconnecting timedout replica (streaming sync)"),
        "the master's repl-timeout dropped the silent replica"
    );
    converges(&master, &replica, "after-replica-stall");
}

/// DEBUG FAULT refuses what it cannot parse, with a clear error, and changes nothing.
#[test]
#[cfg_attr(
    not(feature = "fault-points"),
    ignore = "needs the fault-points feature"
)]
fn debug_fault_refuses_bad_actions() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    match c.cmd(&["DEBUG", "FAULT", "repl.replica.load", "explode"]) {
        Value::Error(e) => assert!(e.starts_with("ERR unknown fault action 'explode'"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.cmd(&["DEBUG", "FAULT", "repl.replica.load", "off"]),
        Value::Simple("OK".into())
    );
}

/// A streaming link lost again and again comes back at once each time (Redis relinks
/// within its next cron tick, under 0.5 s): the retry pause only grows while attempts keep
/// failing. Before, every loss after the first waited a full second.
#[test]
fn a_link_lost_again_and_again_relinks_at_once() {
    let master = master();
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_converged(&master, &replica, Duration::from_secs(20));
    // Each relink is a new replica-side session in the history.
    let sessions = |node: &Node| {
        syncs(node)
            .iter()
            .filter(|s| s["side"] == "replica")
            .count()
    };
    for cut in 1..=3 {
        let before = sessions(&replica);
        let started = std::time::Instant::now();
        assert_eq!(
            master.conn().cmd(&["CLIENT", "KILL", "TYPE", "replica"]),
            Value::Int(1),
            "cut {cut}"
        );
        wait_until(Duration::from_secs(10), "the replica to relink", || {
            sessions(&replica) > before
                && crate::harness::repl::info_field(&replica, "replication", "master_link_status")
                    == "up"
        });
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(900),
            "cut {cut}: relinked after {took:?}"
        );
    }
    assert_same_keyspace(&master, &replica);
}
