//! Reads on a replica while it loads a full sync from a new master (another history).
//!
//! A reader asks the replica for a key of its old dataset every 2 ms while the replica
//! receives and loads 200k keys. With `replica-serve-while-loading yes` every read is
//! answered from the old dataset until the new one is swapped in, in the disk-based and the
//! streamed load modes alike; without it replikv answers as Redis 7.0 does (-LOADING while a
//! load from another history runs), which is checked against a real redis-server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::io::BufRead;

use crate::control::{open_event_stream, Http};
use crate::harness::repl::{info, info_field, start, wait_link_up};
use crate::harness::{Conn, Kind, Value};

const MASTER_KEYS: i64 = 200_000;
const LINK: Duration = Duration::from_secs(60);

/// What the reader saw.
#[derive(Debug)]
struct Reads {
    /// Every reply, with when it arrived and how long it took.
    replies: Vec<(Instant, Value, Duration)>,
    /// From the first to the last moment INFO showed a load running.
    load: Option<(Instant, Instant)>,
    /// INFO persistence as polled while the load ran.
    infos: Vec<HashMap<String, String>>,
    /// `master_link.sync.load` of `GET /v1/replication` while the load ran (replikv).
    api: Vec<serde_json::Value>,
    /// The `sync_progress` events of the sync (replikv).
    progress_events: Vec<serde_json::Value>,
    /// The `load_memory_fallback` events (replikv).
    fallback_events: Vec<serde_json::Value>,
    /// The replica's log once linked.
    replica_log: Vec<String>,
}

impl Reads {
    fn during_load(&self) -> Vec<&(Instant, Value, Duration)> {
        let Some((from, to)) = self.load else {
            return Vec::new();
        };
        self.replies
            .iter()
            .filter(|(at, _, _)| *at >= from && *at <= to)
            .collect()
    }

    fn errors(&self) -> Vec<&Value> {
        self.replies
            .iter()
            .map(|(_, v, _)| v)
            .filter(|v| v.is_error())
            .collect()
    }

    fn worst(&self) -> Duration {
        self.replies
            .iter()
            .map(|(_, _, took)| *took)
            .max()
            .unwrap_or_default()
    }
}

/// A replica of `kind` holding its own data (`mykey` among them) is pointed at a new master
/// of 200k keys, its load slowed a little (`key-load-delay -5`: 1 µs on one key in five) so
/// that it is seen; a reader GETs `mykey` every 2 ms throughout.
fn reads_while_loading(kind: Kind, load: &str, extra: &[&str]) -> Reads {
    let master = start(kind, &["--save", ""]);
    let mut m = master.conn();
    let populated = m.cmd(&[
        "DEBUG",
        "POPULATE",
        &MASTER_KEYS.to_string(),
        "master",
        "10",
    ]);
    assert_eq!(populated, Value::Simple("OK".into()));
    let mut args = vec![
        "--save",
        "",
        "--repl-diskless-load",
        load,
        "--key-load-delay",
        "-5",
    ];
    args.extend_from_slice(extra);
    let replica = start(kind, &args);
    let mut r = replica.conn();
    r.cmd(&["DEBUG", "POPULATE", "1000", "replica", "10"]);
    assert_eq!(
        r.cmd(&["SET", "mykey", "myvalue"]),
        Value::Simple("OK".into())
    );

    let reading = Arc::new(AtomicBool::new(true));
    let flag = reading.clone();
    let port = replica.port;
    let reader = std::thread::spawn(move || {
        let mut c = Conn::connect(port);
        let mut replies = Vec::new();
        while flag.load(Ordering::Relaxed) {
            let t = Instant::now();
            let v = c.cmd(&["GET", "mykey"]);
            replies.push((Instant::now(), v, t.elapsed()));
            std::thread::sleep(Duration::from_millis(2));
        }
        replies
    });

    let mut events =
        (kind == Kind::Replikv).then(|| open_event_stream(&replica, Duration::from_millis(300)));
    let port = master.port.to_string();
    r.cmd(&["REPLICAOF", "127.0.0.1", &port]);
    let mut watcher = replica.conn();
    let http = (kind == Kind::Replikv).then(|| Http::new(&replica));
    let mut window: Option<(Instant, Instant)> = None;
    let mut infos = Vec::new();
    let mut api = Vec::new();
    let deadline = Instant::now() + LINK;
    loop {
        let persistence = info(&mut watcher, "persistence");
        if persistence["loading"] == "1" || persistence["async_loading"] == "1" {
            let now = Instant::now();
            window = Some((window.map_or(now, |(from, _)| from), now));
            infos.push(persistence);
            if let Some(http) = &http {
                let state = http.get("/v1/replication").json();
                api.push(state["master_link"]["sync"]["load"].clone());
            }
        }
        if info_field(&replica, "replication", "master_link_status") == "up" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{kind:?}: the replica never linked"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    wait_link_up(&replica, LINK);
    reading.store(false, Ordering::Relaxed);
    let replies = reader.join().expect("reader");
    assert_eq!(r.cmd(&["DBSIZE"]), Value::Int(MASTER_KEYS), "{kind:?}");
    let mut progress_events = Vec::new();
    let mut fallback_events = Vec::new();
    if let Some(events) = events.as_mut() {
        let mut line = String::new();
        while matches!(events.read_line(&mut line), Ok(n) if n > 0) {
            if let Some(data) = line.strip_prefix("data: ") {
                let event: serde_json::Value = serde_json::from_str(data).expect("event");
                if event["type"] == "sync_progress" {
                    progress_events.push(event);
                } else if event["type"] == "load_memory_fallback" {
                    fallback_events.push(event);
                }
            }
            line.clear();
        }
    }
    Reads {
        replies,
        load: window,
        infos,
        api,
        progress_events,
        fallback_events,
        replica_log: replica.log_lines(),
    }
}

/// Every read is answered: the old value until the swap, then the new dataset's (no
/// `mykey`: nil); never an error; and reads were seen while the load ran.
fn assert_served_throughout(load: &str) {
    let reads = reads_while_loading(
        Kind::Replikv,
        load,
        &["--replica-serve-while-loading", "yes"],
    );
    assert!(reads.errors().is_empty(), "{load}: {:?}", reads.errors());
    assert_progress(&reads, load);
    let during = reads.during_load();
    assert!(
        during.len() >= 5,
        "{load}: the load was seen and read through ({} reads during it)",
        during.len()
    );
    assert!(
        during
            .iter()
            .all(|(_, v, _)| *v == Value::Bulk(b"myvalue".to_vec())),
        "{load}: reads during the load see the old dataset"
    );
    let values: Vec<&Value> = reads.replies.iter().map(|(_, v, _)| v).collect();
    let swapped = values
        .iter()
        .position(|v| **v == Value::Nil)
        .unwrap_or(values.len());
    assert!(
        values[swapped..].iter().all(|v| **v == Value::Nil),
        "{load}: once swapped, the old key never comes back"
    );
    // A stall as long as the load would show here; the bound leaves room for this shared
    // machine's scheduling (the measured figures are in docs/benchmarks.md).
    assert!(
        reads.worst() < Duration::from_millis(500),
        "{load}: worst read {:?}",
        reads.worst()
    );
}

#[test]
fn a_replica_serving_while_loading_answers_every_read_through_a_disk_based_load() {
    assert_served_throughout("disabled");
}

#[test]
fn a_replica_serving_while_loading_answers_every_read_through_a_streamed_load() {
    assert_served_throughout("swapdb");
}

/// Without the directive, a load from another history refuses reads with Redis's -LOADING,
/// as redis-server 7.0 does in the same story; INFO shows the load's progress in Redis's
/// `loading_*` fields.
#[test]
fn by_default_a_load_from_another_history_answers_loading_as_redis() {
    let loading = Value::Error("LOADING Redis is loading the dataset in memory".into());
    let mut fields = Vec::new();
    for kind in [Kind::Replikv, Kind::Redis] {
        let reads = reads_while_loading(kind, "disabled", &[]);
        let errors = reads.errors();
        assert!(
            !errors.is_empty(),
            "{kind:?}: reads refused during the load"
        );
        assert!(
            errors.iter().all(|e| **e == loading),
            "{kind:?}: {errors:?}"
        );
        let names: Vec<String> = reads
            .infos
            .iter()
            .flat_map(|i| i.keys())
            .filter(|k| k.starts_with("loading_"))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        fields.push(names);
        if kind == Kind::Replikv {
            assert_progress(&reads, "disabled");
        }
    }
    assert!(
        !fields[1].is_empty(),
        "Redis shows loading_* while it loads"
    );
    assert_eq!(fields[0], fields[1], "the same loading_* fields as Redis");
}

/// The load's progress as INFO and the control plane show it: bytes and keys only grow,
/// there is a size to measure against (the payload's, or the snapshot's used-mem), the
/// percent stays within 0-100, and some sample was taken mid-way.
fn assert_progress(reads: &Reads, load: &str) {
    let num = |i: &HashMap<String, String>, k: &str| -> f64 {
        i.get(k)
            .unwrap_or_else(|| panic!("{load}: {k} missing: {i:?}"))
            .parse()
            .expect("a number")
    };
    assert!(!reads.infos.is_empty(), "{load}: the load was seen");
    let mut last = (0.0, 0.0);
    let mut midway = false;
    for i in &reads.infos {
        let (bytes, keys) = (
            num(i, "loading_loaded_bytes"),
            num(i, "replikv_loading_keys_loaded"),
        );
        assert!(
            bytes >= last.0 && keys >= last.1,
            "{load}: progress only grows"
        );
        last = (bytes, keys);
        let perc = num(i, "loading_loaded_perc");
        assert!((0.0..=100.0).contains(&perc), "{load}: {perc}");
        // A streamed payload without a length (the master's diskless sync) has no size:
        // Redis then measures against the snapshot's used-mem, once its header is read.
        assert!(
            num(i, "loading_total_bytes") > 0.0
                || num(i, "loading_rdb_used_mem") > 0.0
                || keys == 0.0,
            "{load}: a size to measure against: {i:?}"
        );
        num(i, "loading_eta_seconds");
        num(i, "loading_start_time");
        midway |= perc > 0.0 && perc < 100.0 && keys > 0.0;
    }
    assert!(midway, "{load}: a sample mid-way: {:?}", reads.infos);
    let api: Vec<&serde_json::Value> = reads.api.iter().filter(|v| !v.is_null()).collect();
    assert!(!api.is_empty(), "{load}: the control plane showed the load");
    for v in api {
        assert!(
            v["loaded_bytes"].is_u64() && v["keys_loaded"].is_u64(),
            "{v}"
        );
        assert!(v["eta_seconds"].is_u64() && v["percent"].is_number(), "{v}");
    }
    // The load lasts about two seconds: at least one event a second came with it.
    let loads: Vec<&serde_json::Value> = reads
        .progress_events
        .iter()
        .filter(|e| !e["load"].is_null())
        .collect();
    assert!(
        !loads.is_empty(),
        "{load}: sync_progress events: {:?}",
        reads.progress_events
    );
    for e in &reads.progress_events {
        assert!(e["received_bytes"].is_u64() && e["sync_id"].is_u64(), "{e}");
    }
    for e in loads {
        assert!(e["load"]["keys_loaded"].is_u64(), "{e}");
    }
}

/// `replica-serve-stale-data no` keeps Redis's answer whatever the load does: reads get
/// -MASTERDOWN until the link is up, from replikv serving while loading as from Redis.
#[test]
fn with_serve_stale_data_no_reads_get_masterdown_as_redis() {
    let masterdown = Value::Error(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
    );
    for (kind, extra) in [
        (
            Kind::Replikv,
            &[
                "--replica-serve-stale-data",
                "no",
                "--replica-serve-while-loading",
                "yes",
            ][..],
        ),
        (Kind::Redis, &["--replica-serve-stale-data", "no"][..]),
    ] {
        let reads = reads_while_loading(kind, "disabled", extra);
        let errors = reads.errors();
        assert!(
            !errors.is_empty(),
            "{kind:?}: reads refused during the sync"
        );
        assert!(
            errors.iter().all(|e| **e == masterdown),
            "{kind:?}: {errors:?}"
        );
        // Redis blocks while it loads (a reply or none in that window); replikv answers.
        if kind == Kind::Replikv {
            let during = reads.during_load();
            assert!(!during.is_empty(), "reads during the load");
            assert!(
                during.iter().all(|(_, v, _)| *v == masterdown),
                "every read during the load"
            );
        }
    }
}

/// When the two datasets of a load that serves reads do not fit under
/// `replica-load-memory-limit`, the old one is freed mid-load: reads get the old value, then
/// -LOADING as Redis gives it, then the new dataset; the fallback is logged and published.
/// Without the limit the same load serves every read (the tests above).
#[test]
fn a_load_over_the_memory_limit_frees_the_old_dataset_and_answers_loading() {
    let reads = reads_while_loading(
        Kind::Replikv,
        "swapdb",
        &[
            "--replica-serve-while-loading",
            "yes",
            "--replica-load-memory-limit",
            "12mb",
        ],
    );
    let loading = Value::Error("LOADING Redis is loading the dataset in memory".into());
    let values: Vec<&Value> = reads.replies.iter().map(|(_, v, _)| v).collect();
    let first_error = values
        .iter()
        .position(|v| v.is_error())
        .expect("reads were refused once the old dataset was freed");
    assert!(
        values[..first_error]
            .iter()
            .all(|v| **v == Value::Bulk(b"myvalue".to_vec())),
        "before the fallback, the old dataset serves"
    );
    assert!(
        reads.errors().iter().all(|e| **e == loading),
        "{:?}",
        reads.errors()
    );
    assert_eq!(
        reads.fallback_events.len(),
        1,
        "{:?}",
        reads.fallback_events
    );
    let event = &reads.fallback_events[0];
    assert_eq!(
        event["reason"]
            .as_str()
            .map(|r| r.ends_with("the old dataset was freed")),
        Some(true),
        "{event}"
    );
    assert!(
        reads
            .replica_log
            .iter()
            .any(|l| l.contains("passed replica-load-memory-limit")),
        "the fallback is logged"
    );
}
