//! The control plane driving live master/replica pairs: following a master and promotion
//! over HTTP, forced resyncs on both sides, the sync history with its phases, and the
//! Server-Sent Events stream watching a full sync from start to finish.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use super::Http;
use crate::harness::repl::{info_field, start, wait_converged, wait_link_up};
use crate::harness::{wait_until, Kind, Node};

const LINK: Duration = Duration::from_secs(30);

fn counter(node: &Node, field: &str) -> u64 {
    info_field(node, "stats", field).parse().unwrap_or(0)
}

#[test]
fn follow_a_master_and_promote_over_http() {
    let master = start(Kind::Replikv, &[]);
    master.conn().cmd(&["SET", "k", "v"]);
    let node = start(Kind::Replikv, &[]);
    let http = Http::new(&node);
    let body = format!(r#"{{"host":"127.0.0.1","port":{}}}"#, master.port);
    let r = http.json("PUT", "/v1/replication/master", &body);
    assert!(
        r.status == 200 || r.status == 202,
        "{} {}",
        r.status,
        r.body
    );
    wait_link_up(&node, LINK);
    let state = http.get("/v1/replication").json();
    assert_eq!(state["role"], "replica", "{state}");
    assert_eq!(state["master_link"]["link_status"], "up", "{state}");
    assert_eq!(state["master_link"]["port"], master.port, "{state}");
    let replicas = Http::new(&master).get("/v1/replication/replicas").json();
    assert_eq!(
        replicas["replicas"].as_array().map(|a| a.len()),
        Some(1),
        "{replicas}"
    );
    assert_eq!(node.conn().cmd(&["GET", "k"]).text(), "v");
    // The readiness signal: a replica with its link up and no full sync running.
    assert_eq!(http.get("/readyz").status, 200);
    let old_id = info_field(&node, "replication", "master_replid");
    let r = http.send("DELETE", "/v1/replication/master", None);
    assert!(
        r.status == 200 || r.status == 202,
        "{} {}",
        r.status,
        r.body
    );
    let state = http.get("/v1/replication").json();
    assert_eq!(state["role"], "master", "{state}");
    assert_eq!(
        state["replid2"],
        old_id.as_str(),
        "promotion keeps the history: {state}"
    );
    assert_eq!(node.conn().cmd(&["SET", "now", "writable"]).text(), "OK");
}

#[test]
fn forced_resyncs_from_either_side() {
    let master = start(Kind::Replikv, &[]);
    let replica = crate::harness::repl::start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, LINK);
    master.conn().cmd(&["SET", "k", "v"]);
    wait_converged(&master, &replica, LINK);
    let full = counter(&master, "sync_full");
    // The replica drops its link and asks for a full sync.
    let r = Http::new(&replica).send("POST", "/v1/replication/resync", None);
    assert_eq!(r.status, 202, "{}", r.body);
    wait_until(LINK, "a full sync after the replica's resync", || {
        counter(&master, "sync_full") == full + 1
    });
    wait_link_up(&replica, LINK);
    // The master forces one of its replicas into a full sync.
    let http = Http::new(&master);
    let replicas = http.get("/v1/replication/replicas").json();
    let id = replicas["replicas"][0]["id"].as_u64().expect("replica id");
    let r = http.send(
        "POST",
        &format!("/v1/replication/replicas/{id}/resync"),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_until(LINK, "a full sync after the master's resync", || {
        counter(&master, "sync_full") == full + 2
    });
    wait_link_up(&replica, LINK);
    wait_converged(&master, &replica, LINK);
    let syncs = http.get("/v1/replication/syncs").json();
    let forced = syncs["syncs"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| {
            s["full_sync_reason"]
                .as_str()
                .is_some_and(|r| r.contains("operator"))
        })
        .count();
    assert!(forced >= 1, "the history says why: {syncs}");
}

#[test]
fn the_event_stream_follows_a_full_sync_and_the_history_keeps_its_phases() {
    let master = start(Kind::Replikv, &[]);
    for i in 0..1000 {
        master.conn().cmd(&["SET", &format!("k{i}"), "v"]);
    }
    let node = start(Kind::Replikv, &[]);
    let mut reader = super::open_event_stream(&node, Duration::from_secs(20));
    // Wait for the opening status event before changing anything.
    let mut events: Vec<String> = Vec::new();
    let mut line = String::new();
    while !events.iter().any(|e| e == "status") {
        line.clear();
        assert!(
            reader.read_line(&mut line).expect("read") > 0,
            "stream closed"
        );
        if let Some(e) = line.trim_end().strip_prefix("event: ") {
            events.push(e.to_string());
        }
    }
    let body = format!(r#"{{"host":"127.0.0.1","port":{}}}"#, master.port);
    let r = Http::new(&node).json("PUT", "/v1/replication/master", &body);
    assert!(r.status == 200 || r.status == 202, "{}", r.body);
    let mut phases = Vec::new();
    let deadline = Instant::now() + LINK;
    while Instant::now() < deadline && !events.iter().any(|e| e == "sync_finished") {
        line.clear();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        let l = line.trim_end();
        if let Some(e) = l.strip_prefix("event: ") {
            events.push(e.to_string());
        }
        if let Some(d) = l.strip_prefix("data: ") {
            let v: serde_json::Value = serde_json::from_str(d).expect("json");
            if let Some(p) = v["phase"].as_str() {
                phases.push(p.to_string());
            }
        }
    }
    for expected in [
        "role_changed",
        "sync_started",
        "phase_changed",
        "sync_kind_decided",
        "link_up",
        "sync_finished",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "no {expected} event in {events:?}"
        );
    }
    for expected in [
        "connect",
        "handshake",
        "psync",
        "receive",
        "load",
        "catchup",
    ] {
        assert!(
            phases.iter().any(|p| p == expected),
            "no {expected} phase in {phases:?}"
        );
    }
    let syncs = Http::new(&node).get("/v1/replication/syncs").json();
    let last = syncs["syncs"]
        .as_array()
        .and_then(|a| a.iter().rev().find(|s| s["side"] == "replica"))
        .expect("a sync")
        .clone();
    assert_eq!(last["kind"], "full", "{last}");
    assert_eq!(last["side"], "replica", "{last}");
    assert_eq!(last["keys"], 1000, "{last}");
    let recorded: Vec<&str> = last["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p["phase"].as_str())
        .collect();
    assert_eq!(
        recorded,
        [
            "connect",
            "handshake",
            "psync",
            "receive",
            "load",
            "catchup",
            "stream"
        ],
        "{last}"
    );
    assert!(
        last["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .all(|p| p["started_at"].is_string()),
        "{last}"
    );
}

/// Reads SSE messages as (event type, data) until `done` says so or `LINK` passes.
fn read_events(
    reader: &mut BufReader<std::net::TcpStream>,
    seen: &mut Vec<(String, serde_json::Value)>,
    done: impl Fn(&[(String, serde_json::Value)]) -> bool,
) {
    let deadline = Instant::now() + LINK;
    let mut kind = String::new();
    let mut line = String::new();
    while Instant::now() < deadline && !done(seen) {
        line.clear();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        let l = line.trim_end();
        if let Some(e) = l.strip_prefix("event: ") {
            kind = e.to_string();
        } else if let Some(d) = l.strip_prefix("data: ") {
            seen.push((kind.clone(), serde_json::from_str(d).expect("json")));
        }
    }
}

#[test]
fn each_sync_finishes_once_and_its_events_carry_its_trace_id() {
    let master = start(Kind::Replikv, &[]);
    master.conn().cmd(&["SET", "k", "v"]);
    let node = start(Kind::Replikv, &[]);
    let mut reader = super::open_event_stream(&node, Duration::from_secs(20));
    let mut seen = Vec::new();
    read_events(&mut reader, &mut seen, |s| {
        s.iter().any(|(k, _)| k == "status")
    });
    let body = format!(r#"{{"host":"127.0.0.1","port":{}}}"#, master.port);
    let r = Http::new(&node).json("PUT", "/v1/replication/master", &body);
    assert!(r.status == 200 || r.status == 202, "{}", r.body);
    let finished =
        |s: &[(String, serde_json::Value)]| s.iter().filter(|(k, _)| k == "sync_finished").count();
    read_events(&mut reader, &mut seen, |s| finished(s) >= 1);
    assert_eq!(finished(&seen), 1, "{seen:?}");
    // The master cuts the link: the replica resumes with a partial resync, a second
    // session. The first one, which succeeded, does not end again.
    master.conn().cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    read_events(&mut reader, &mut seen, |s| finished(s) >= 2);
    let ends: Vec<(u64, bool)> = seen
        .iter()
        .filter(|(k, _)| k == "sync_finished")
        .map(|(_, d)| (d["sync_id"].as_u64().expect("id"), d["ok"] == true))
        .collect();
    assert_eq!(ends.len(), 2, "{seen:?}");
    assert_ne!(ends[0].0, ends[1].0, "each session ends once: {ends:?}");
    assert!(ends[0].1 && ends[1].1, "{ends:?}");
    assert!(
        seen.iter()
            .any(|(k, d)| k == "link_down" && d["reason"].is_string()),
        "the cut is the link's event: {seen:?}"
    );
    // Every event of a session names its trace; one trace per session.
    for (id, _) in &ends {
        let traces: std::collections::BTreeSet<String> = seen
            .iter()
            .filter(|(k, d)| d["sync_id"] == *id && k != "sync_started")
            .map(|(_, d)| d["trace_id"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(traces.len(), 1, "session {id}: {traces:?}");
        assert_eq!(
            traces.iter().next().map(String::len),
            Some(32),
            "{traces:?}"
        );
    }
}
