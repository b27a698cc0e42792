//! Replicas whose master went away: their attempts to reach it again back off and spread
//! out, so replicas cut off together (a master restart, a flap) do not come back in
//! lockstep, and none waits longer than Redis's once a second.
//!
//! The "master" is a listener that records when each connection arrives and closes it at
//! once: every attempt fails right after connecting, as against a master that restarts
//! and is not ready yet.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::repl::{start, start_replica, wait_link_up};
use crate::harness::{wait_until, Kind, Node, Value};

/// A listener standing for one replica's master, recording when each attempt arrives (a
/// listener of its own per replica: a bare listener cannot tell replicas apart).
struct FakeMaster {
    port: u16,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeMaster {
    fn start() -> FakeMaster {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, done) = (arrivals.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    // Dropped at once: the replica's attempt fails after connecting.
                    Ok((conn, _)) => {
                        seen.lock().expect("lock").push(Instant::now());
                        drop(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        FakeMaster {
            port,
            arrivals,
            stop,
            thread: Some(thread),
        }
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().expect("lock").clone()
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Gaps between consecutive arrivals, in ms.
fn gaps(arrivals: &[Instant]) -> Vec<u64> {
    arrivals
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis() as u64)
        .collect()
}

#[test]
fn attempts_against_a_master_that_is_not_back_back_off_with_jitter() {
    let fakes: Vec<FakeMaster> = (0..3).map(|_| FakeMaster::start()).collect();
    let replicas: Vec<Node> = fakes
        .iter()
        .map(|f| {
            let port = f.port.to_string();
            start(Kind::Replikv, &["--replicaof", "127.0.0.1", &port])
        })
        .collect();
    // 100 ms, then doubling to 1 s: eight attempts take about four seconds.
    wait_until(Duration::from_secs(20), "eight attempts each", || {
        fakes.iter().all(|f| f.arrivals().len() >= 8)
    });
    let mut late_gaps = Vec::new();
    for f in &fakes {
        let g = gaps(&f.arrivals());
        // Each pause is drawn from the upper half of its ceiling: 50-100 ms, 100-200 ms,
        // 200-400 ms, 400-800 ms, then 500-1000 ms. Connecting and failing add a little.
        assert!(g[0] < 250, "the first retry comes soon: {g:?}");
        assert!(
            g.iter().all(|ms| *ms <= 1_300),
            "never slower than Redis's once a second: {g:?}"
        );
        assert!(
            g[..3].iter().sum::<u64>() < g[4..7].iter().sum::<u64>(),
            "the pauses grow: {g:?}"
        );
        late_gaps.extend_from_slice(&g[4..7]);
    }
    // Jitter: nine late pauses drawn from 500-1000 ms are not all the same.
    let (lo, hi) = (
        late_gaps.iter().min().copied().unwrap_or(0),
        late_gaps.iter().max().copied().unwrap_or(0),
    );
    assert!(hi - lo >= 50, "late pauses spread out: {late_gaps:?}");
    assert!(lo >= 400, "late pauses keep their floor: {late_gaps:?}");
    drop(replicas);
}

/// A replica whose link was streaming reconnects at once when it is cut (Redis reconnects
/// within its next cron tick), and streams again.
#[test]
fn a_streaming_link_that_is_cut_reconnects_at_once() {
    let master = start(Kind::Replikv, &[]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(30));
    let mut m = master.conn();
    let cut = Instant::now();
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), Value::Int(1));
    wait_until(
        Duration::from_secs(10),
        "the replica to stream again",
        || {
            crate::harness::repl::info_field(&master, "replication", "connected_slaves") == "1"
                && crate::harness::repl::info_field(&replica, "replication", "master_link_status")
                    == "up"
        },
    );
    assert!(
        cut.elapsed() < Duration::from_millis(900),
        "relinked in {:?}",
        cut.elapsed()
    );
}
