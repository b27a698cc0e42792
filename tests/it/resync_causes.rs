//! Every cause of a full resync, produced on purpose and read back where an operator reads
//! it: `replikv_full_resyncs_total{cause}` in /metrics and `full_sync_reason` in the sync
//! history. The PSYNC requests are written by hand on a raw connection, so each cause is
//! exact; a real replica shows the start-up case (`PSYNC ? -1`, not a refused partial
//! resync) and the operator's forced resync.

use std::time::Duration;

use crate::control::Http;
use crate::harness::repl::{info_field, start_replica, wait_link_up};
use crate::harness::resp::Value;
use crate::harness::{wait_until, Kind, Node};

/// The value of `replikv_full_resyncs_total{cause="<cause>"}`.
fn cause_count(http: &Http, cause: &str) -> u64 {
    let text = http.get("/metrics").body;
    let prefix = format!("replikv_full_resyncs_total{{cause=\"{cause}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
        .trim()
        .parse()
        .expect("a count")
}

/// Sends `PSYNC replid offset` as a replica would and returns the master's first line.
fn raw_psync(master: &Node, replid: &str, offset: &str) -> String {
    let mut c = master.conn();
    assert_eq!(
        c.cmd(&["REPLCONF", "capa", "psync2"]),
        Value::Simple("OK".into())
    );
    match c.cmd(&["PSYNC", replid, offset]) {
        Value::Simple(line) => line,
        other => panic!("PSYNC answered {other:?}"),
    }
}

/// The `full_sync_reason` of the newest master-side session in the history.
fn last_reason(http: &Http) -> String {
    let syncs = http.get("/v1/replication/syncs").json();
    syncs["syncs"]
        .as_array()
        .expect("syncs")
        .iter()
        .filter(|s| s["side"] == "master")
        .max_by_key(|s| s["id"].as_u64())
        .and_then(|s| s["full_sync_reason"].as_str().map(String::from))
        .unwrap_or_default()
}

#[test]
fn every_full_resync_cause_is_counted_and_explained() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let http = Http::new(&master);
    let mut m = master.conn();
    m.cmd(&["SET", "k", "v"]);
    let replid = info_field(&master, "replication", "master_replid");

    // Each request, the cause it must be counted under, and the history's words.
    let expect = |cause: &str, words: &str, before: u64| {
        wait_until(Duration::from_secs(10), cause, || {
            cause_count(&http, cause) == before + 1
        });
        assert_eq!(last_reason(&http), words, "{cause}");
    };

    // No replica yet, so no backlog: nothing can be continued.
    let before = cause_count(&http, "no_backlog");
    let line = raw_psync(&master, &replid, "1");
    assert!(line.starts_with("FULLRESYNC"), "{line}");
    expect("no_backlog", "no backlog", before);

    let before = cause_count(&http, "no_history");
    assert!(raw_psync(&master, "?", "-1").starts_with("FULLRESYNC"));
    expect("no_history", "replica has no replication history", before);

    let before = cause_count(&http, "replid_mismatch");
    let other = "0123456789abcdef0123456789abcdef01234567";
    assert!(raw_psync(&master, other, "1").starts_with("FULLRESYNC"));
    expect("replid_mismatch", "replication id mismatch", before);

    // The first full sync created the backlog under a new replication id (as Redis does).
    let replid = info_field(&master, "replication", "master_replid");
    let before = cause_count(&http, "offset_out_of_range");
    assert!(raw_psync(&master, &replid, "1000000").starts_with("FULLRESYNC"));
    expect(
        "offset_out_of_range",
        "requested offset not in the backlog",
        before,
    );

    // A history we left: follow another master for a moment, then stop following. The
    // replication id we had becomes our previous one, valid up to the switch.
    let elsewhere = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let port = elsewhere.port.to_string();
    m.cmd(&["REPLICAOF", "127.0.0.1", &port]);
    wait_until(
        Duration::from_secs(20),
        "linked to the other master",
        || info_field(&master, "replication", "master_link_status") == "up",
    );
    m.cmd(&["REPLICAOF", "NO", "ONE"]);
    let previous = info_field(&master, "replication", "master_replid2");
    let second: i64 = info_field(&master, "replication", "second_repl_offset")
        .parse()
        .expect("second_repl_offset");
    assert_ne!(previous, "0000000000000000000000000000000000000000");
    let before = cause_count(&http, "past_previous_history");
    let past = (second + 10).to_string();
    assert!(raw_psync(&master, &previous, &past).starts_with("FULLRESYNC"));
    expect(
        "past_previous_history",
        "offset past the end of the previous replication id",
        before,
    );

    // A real replica started with --replicaof asks with PSYNC ? -1, as Redis does: a new
    // replica, not a refused partial resync.
    let no_history = cause_count(&http, "no_history");
    let refused_before = info_field(&master, "stats", "sync_partial_err");
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    expect(
        "no_history",
        "replica has no replication history",
        no_history,
    );
    assert_eq!(
        info_field(&master, "stats", "sync_partial_err"),
        refused_before
    );

    // An operator's resync of that replica.
    let before = cause_count(&http, "forced");
    let list = http.get("/v1/replication/replicas").json();
    let id = list["replicas"][0]["id"].as_u64().expect("replica id");
    let reply = http.json(
        "POST",
        &format!("/v1/replication/replicas/{id}/resync"),
        "{}",
    );
    assert!(reply.status < 300, "{reply:?}");
    expect("forced", "full sync requested by an operator", before);
    wait_link_up(&replica, Duration::from_secs(20));
}

#[test]
fn a_new_replikv_replica_is_a_new_replica_to_a_redis_master() {
    let master = Node::redis(&["--repl-diskless-sync-delay", "0"]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    assert_eq!(info_field(&master, "stats", "sync_full"), "1");
    assert_eq!(info_field(&master, "stats", "sync_partial_err"), "0");
}
