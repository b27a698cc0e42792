//! Admission of full syncs on a master: `repl-max-concurrent-full-syncs` holds a storm of
//! replicas to its cap, every replica still links, and each wait is told with its reason in
//! the sync history, the `sync_queued` event, `/v1/replication` and `/metrics`.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::control::{open_event_stream, Http};
use crate::harness::repl::{info_field, start, start_replica, wait_link_up};
use crate::harness::{wait_until, Kind, Node, Value};

/// Keys on the master, and the save delay per key (µs): each transfer lasts about a
/// second, long enough for the replicas started after the first to find the slot taken.
const KEYS: usize = 2_000;
const KEY_DELAY_US: &str = "500";
const REPLICAS: usize = 3;

/// Starts a master capped at one transfer at a time (`diskless` or disk-based), fills it,
/// starts [`REPLICAS`] replicas together and checks what the operator sees.
fn capped_storm(diskless: &str) {
    let master = start(
        Kind::Replikv,
        &[
            "--repl-max-concurrent-full-syncs",
            "1",
            "--repl-diskless-sync",
            diskless,
            "--rdb-key-save-delay",
            KEY_DELAY_US,
        ],
    );
    let mut c = master.conn();
    for chunk in 0..(KEYS / 500) {
        let mut args: Vec<String> = vec!["MSET".into()];
        for i in 0..500 {
            args.push(format!("key:{}", chunk * 500 + i));
            args.push("v".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&args), Value::Simple("OK".into()));
    }
    let mut events = open_event_stream(&master, Duration::from_millis(500));

    // Samples the admission state while the storm runs.
    let sampling = Arc::new(AtomicBool::new(true));
    let flag = sampling.clone();
    let http_port = master.http_port;
    let sampler = std::thread::spawn(move || {
        let http = Http::on_port(http_port);
        let (mut most_transfers, mut most_capped) = (0, 0);
        while flag.load(Ordering::Relaxed) {
            let state = http.get("/v1/replication").json();
            let admission = &state["full_sync_admission"];
            assert_eq!(admission["max_concurrent"], 1, "{admission}");
            most_transfers =
                most_transfers.max(admission["transfers"].as_u64().expect("transfers"));
            most_capped = most_capped.max(
                admission["waiting"]["concurrency_cap"]
                    .as_u64()
                    .expect("waiting"),
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        (most_transfers, most_capped)
    });

    let replicas: Vec<Node> = (0..REPLICAS)
        .map(|_| start_replica(Kind::Replikv, &master, &[]))
        .collect();
    for r in &replicas {
        wait_link_up(r, Duration::from_secs(60));
    }
    sampling.store(false, Ordering::Relaxed);
    let (most_transfers, most_capped) = sampler.join().expect("sampler");
    assert_eq!(
        most_transfers, 1,
        "at most one transfer ran at a time, and one did"
    );
    assert!(most_capped >= 1, "replicas were seen waiting at the cap");
    for r in &replicas {
        assert_eq!(r.conn().cmd(&["DBSIZE"]), Value::Int(KEYS as i64));
    }
    // One transfer at a time: a diskless stream serves one replica each time; a disk
    // snapshot, once written, serves the replicas the cap held as long as the backlog
    // covers it.
    let expected_snapshots = if diskless == "yes" { REPLICAS } else { 1 };
    assert_eq!(
        info_field(&master, "stats", "replikv_full_sync_snapshots"),
        expected_snapshots.to_string(),
    );

    // The history: every full sync on the master; those that waited say why and how long.
    // The master ends a session once its replica's stream starts, a moment after the
    // replica reports its link up.
    let http = Http::new(&master);
    let master_syncs = || -> Vec<serde_json::Value> {
        let list = http.get("/v1/replication/syncs?side=master").json();
        list["syncs"].as_array().expect("syncs").clone()
    };
    wait_until(
        Duration::from_secs(20),
        "every master session to end",
        || master_syncs().iter().all(|s| s["outcome"] != "in_progress"),
    );
    let syncs = master_syncs();
    assert_eq!(syncs.len(), REPLICAS, "{syncs:?}");
    let held: Vec<&serde_json::Value> = syncs.iter().filter(|s| !s["queue"].is_null()).collect();
    assert!(
        held.len() >= REPLICAS - 1,
        "every replica but the first waited for the slot: {syncs:?}"
    );
    for s in &held {
        let q = &s["queue"];
        assert_eq!(q["reason_code"], "concurrency_cap", "{s}");
        assert_eq!(
            q["reason"],
            "repl-max-concurrent-full-syncs (1) transfers are running; waiting for one to end"
        );
        assert!(q["waited_ms"].as_u64().expect("waited_ms") > 0, "{s}");
        assert_eq!(s["outcome"], "succeeded", "{s}");
    }

    // The events: one `sync_queued` per held sync, with the same reason.
    let mut queued = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match events.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if let Some(data) = line.strip_prefix("data: ") {
                    let event: serde_json::Value = serde_json::from_str(data).expect("event");
                    if event["type"] == "sync_queued" {
                        queued.push(event);
                    }
                }
            }
        }
    }
    // Sessions queued in the same instant publish in either order: compared as sets.
    let ids = |values: Vec<&serde_json::Value>| -> Vec<u64> {
        let mut ids: Vec<u64> = values.iter().filter_map(|v| v.as_u64()).collect();
        ids.sort_unstable();
        ids
    };
    let held_ids = ids(held.iter().map(|s| &s["id"]).collect());
    let queued_ids = ids(queued.iter().map(|e| &e["sync_id"]).collect());
    assert_eq!(held_ids.len(), held.len(), "{syncs:?}");
    assert_eq!(queued_ids, held_ids, "{queued:?}");
    assert!(queued.iter().all(|e| e["reason_code"] == "concurrency_cap"));

    // The metrics: the holds counted by reason, nothing waiting or running any more.
    let metrics = http.get("/metrics").body;
    let series = |name: &str| -> String {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing"))
            .rsplit(' ')
            .next()
            .expect("value")
            .to_string()
    };
    assert_eq!(
        series("replikv_full_syncs_held_total{reason=\"concurrency_cap\"}"),
        held.len().to_string()
    );
    assert_eq!(
        series("replikv_full_syncs_waiting{reason=\"concurrency_cap\"}"),
        "0"
    );
    assert_eq!(series("replikv_full_syncs_transferring "), "0");
    assert_eq!(series("replikv_full_syncs_max_concurrent "), "1");
}

#[test]
fn a_capped_diskless_storm_is_admitted_in_turn_and_says_why() {
    capped_storm("yes");
}

#[test]
fn a_capped_disk_based_storm_is_admitted_in_turn_and_says_why() {
    capped_storm("no");
}

/// Without a cap, disk-based: replicas arriving while the snapshot file is written join it
/// (one file serves several), only one disk job runs at a time, and every replica follows
/// the master's history exactly (the file's id and offset are those of its own job).
#[test]
fn a_disk_based_storm_without_a_cap_joins_the_running_snapshot() {
    let master = start(
        Kind::Replikv,
        &[
            "--repl-diskless-sync",
            "no",
            "--rdb-key-save-delay",
            // About two seconds to write the file: the replicas below arrive meanwhile.
            "1000",
        ],
    );
    let mut c = master.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", &KEYS.to_string(), "key", "10"]),
        Value::Simple("OK".into())
    );
    let replicas: Vec<Node> = (0..REPLICAS + 1)
        .map(|_| start_replica(Kind::Replikv, &master, &[]))
        .collect();
    for r in &replicas {
        wait_link_up(r, Duration::from_secs(60));
    }
    let snapshots: usize = info_field(&master, "stats", "replikv_full_sync_snapshots")
        .parse()
        .expect("a count");
    assert!(
        (1..=REPLICAS).contains(&snapshots),
        "replicas joined the file being written: {snapshots} snapshots for {} replicas",
        REPLICAS + 1
    );
    c.cmd(&["SET", "after", "the storm"]);
    for r in &replicas {
        crate::harness::repl::wait_converged(&master, r, Duration::from_secs(30));
        assert_eq!(r.conn().cmd(&["DBSIZE"]), Value::Int(KEYS as i64 + 1));
        assert_eq!(
            info_field(r, "replication", "master_replid"),
            info_field(&master, "replication", "master_replid")
        );
    }
}

/// Resident memory of process `pid`, in bytes.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The storm: ten replicas started at once against a master of 200k keys, capped
/// at three transfers, disk-based. One snapshot file serves all ten (the replicas joining
/// it while it is written, the others from the written file once the cap lets them), at
/// most three transfers ever run together, every replica links with every key, every wait
/// is recorded with its reason, and the master's memory stays within a small bound.
#[test]
fn ten_replicas_at_once_share_one_snapshot_within_the_cap() {
    const STORM_KEYS: usize = 200_000;
    const STORM_REPLICAS: usize = 10;
    const CAP: u64 = 3;
    let master = start(
        Kind::Replikv,
        &[
            "--repl-max-concurrent-full-syncs",
            &CAP.to_string(),
            "--repl-diskless-sync",
            "no",
        ],
    );
    let mut c = master.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", &STORM_KEYS.to_string(), "key", "100"]),
        Value::Simple("OK".into())
    );
    let pid = master.pid();
    let rss_before = rss_bytes(pid);

    let sampling = Arc::new(AtomicBool::new(true));
    let flag = sampling.clone();
    let http_port = master.http_port;
    let sampler = std::thread::spawn(move || {
        let http = Http::on_port(http_port);
        let (mut most_transfers, mut peak_rss) = (0, 0);
        while flag.load(Ordering::Relaxed) {
            let admission = http.get("/v1/replication").json()["full_sync_admission"].clone();
            most_transfers =
                most_transfers.max(admission["transfers"].as_u64().expect("transfers"));
            peak_rss = peak_rss.max(rss_bytes(pid));
            std::thread::sleep(Duration::from_millis(10));
        }
        (most_transfers, peak_rss)
    });
    let replicas: Vec<Node> = (0..STORM_REPLICAS)
        .map(|_| start_replica(Kind::Replikv, &master, &[]))
        .collect();
    for r in &replicas {
        wait_link_up(r, Duration::from_secs(120));
    }
    sampling.store(false, Ordering::Relaxed);
    let (most_transfers, peak_rss) = sampler.join().expect("sampler");
    assert!(
        (1..=CAP).contains(&most_transfers),
        "at most {CAP} transfers at a time: {most_transfers}"
    );
    assert_eq!(
        info_field(&master, "stats", "replikv_full_sync_snapshots"),
        "1",
        "one snapshot served the whole storm"
    );
    assert_eq!(info_field(&master, "stats", "sync_full"), "10");
    for r in &replicas {
        assert_eq!(r.conn().cmd(&["DBSIZE"]), Value::Int(STORM_KEYS as i64));
    }
    // Measured: the storm costs the master little memory beyond its dataset (the snapshot
    // is forkless and nothing writes, the file is sent in 256 KiB reads).
    let growth = peak_rss.saturating_sub(rss_before);
    eprintln!(
        "master RSS {} MiB before the storm, peak growth {} MiB",
        rss_before >> 20,
        growth >> 20
    );
    assert!(
        growth < 64 << 20,
        "the master's memory grew by {} MiB during the storm",
        growth >> 20
    );

    // Every held sync says why: the cap, or the snapshot file being written.
    let http = Http::new(&master);
    wait_until(
        Duration::from_secs(20),
        "every master session to end",
        || {
            let list = http.get("/v1/replication/syncs?side=master").json();
            list["syncs"]
                .as_array()
                .expect("syncs")
                .iter()
                .all(|s| s["outcome"] != "in_progress")
        },
    );
    let list = http.get("/v1/replication/syncs?side=master").json();
    let syncs = list["syncs"].as_array().expect("syncs");
    assert_eq!(syncs.len(), STORM_REPLICAS, "{syncs:?}");
    let held: Vec<&serde_json::Value> = syncs.iter().filter(|s| !s["queue"].is_null()).collect();
    assert!(
        held.len() >= STORM_REPLICAS - CAP as usize,
        "the replicas beyond the cap waited: {syncs:?}"
    );
    for s in &held {
        let code = s["queue"]["reason_code"].as_str().expect("reason_code");
        assert!(
            ["concurrency_cap", "disk_snapshot_busy"].contains(&code),
            "{s}"
        );
        assert_eq!(s["outcome"], "succeeded", "{s}");
    }
    assert!(held
        .iter()
        .any(|s| s["queue"]["reason_code"] == "concurrency_cap"));
}
