//! Real Redis Sentinel 7.0 (three of them) managing replication groups: discovery of the
//! replicas and of each other, failover when the master is killed with every write
//! acknowledged by WAIT kept, the restarted old master turned into a replica of the new
//! one, and a planned `SENTINEL FAILOVER` — for a replikv group and for mixed groups
//! (a Redis master with replikv replicas, a replikv master with Redis replicas).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::repl::info_field;
use crate::harness::{collect_stdout, free_port, redis_tool, wait_until, Conn, Kind, Node, Value};

const GROUP: &str = "mymaster";
const SETTLE: Duration = Duration::from_secs(90);

/// A redis-sentinel process, stopped on drop.
struct Sentinel {
    port: u16,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Sentinel {
    /// A sentinel monitoring the group whose master listens on `master_port`. Down after 3 s
    /// of silence: shorter, a node just promoted on a loaded 2-core machine can be declared
    /// down before it answers its first PING, and the group fails over twice.
    ///
    /// The port is free when chosen, but another test's server may bind it first; the
    /// sentinel then exits, and a new port is tried. Ready means this sentinel answers
    /// `SENTINEL MYID`, not merely that something accepts connections on the port.
    fn start(master_port: u16) -> Sentinel {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("sentinel.conf");
        for _ in 0..5 {
            let port = free_port();
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndaemonize no\ndir {dir}\n\
                     sentinel monitor {GROUP} 127.0.0.1 {master_port} 2\n\
                     sentinel down-after-milliseconds {GROUP} 3000\n\
                     sentinel failover-timeout {GROUP} 10000\n\
                     sentinel parallel-syncs {GROUP} 2\n",
                    dir = dir.path().display()
                ),
            )
            .expect("write sentinel.conf");
            let mut child = Command::new(redis_tool("redis-sentinel"))
                .arg(&conf)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-sentinel");
            let log = collect_stdout(&mut child);
            let mut exited = false;
            wait_until(Duration::from_secs(20), "redis-sentinel to answer", || {
                exited = !matches!(child.try_wait(), Ok(None));
                exited
                    || (std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                        && matches!(
                            Conn::connect(port).cmd(&["SENTINEL", "MYID"]),
                            Value::Bulk(_)
                        ))
            });
            if !exited {
                return Sentinel {
                    port,
                    child,
                    log,
                    _dir: dir,
                };
            }
        }
        panic!("redis-sentinel exited at start five times (its port taken each time?)");
    }

    fn cmd(&self, args: &[&str]) -> Value {
        Conn::connect(self.port).cmd(args)
    }

    /// The master this sentinel names for the group.
    fn master_port(&self) -> u16 {
        match self.cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP]) {
            Value::Array(a) if a.len() == 2 => a[1].text().parse().unwrap_or(0),
            _ => 0,
        }
    }

    fn count(&self, what: &str) -> usize {
        match self.cmd(&["SENTINEL", what, GROUP]) {
            Value::Array(a) => a.len(),
            _ => 0,
        }
    }

    /// This sentinel's view of the replica on `port`: `(role-reported, master-link-status,
    /// master-port)`.
    fn replica_view(&self, port: u16) -> Option<(String, String, String)> {
        let Value::Array(replicas) = self.cmd(&["SENTINEL", "REPLICAS", GROUP]) else {
            return None;
        };
        replicas.into_iter().find_map(|r| {
            let fields: Vec<String> = r.array().iter().map(Value::text).collect();
            let get = |k: &str| {
                fields
                    .chunks(2)
                    .find(|kv| kv[0] == k)
                    .map(|kv| kv[1].clone())
                    .unwrap_or_default()
            };
            (get("port") == port.to_string()).then(|| {
                (
                    get("role-reported"),
                    get("master-link-status"),
                    get("master-port"),
                )
            })
        })
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A data node on a fixed port, from a config file in `dir` (CONFIG REWRITE, which Sentinel
/// sends at every reconfiguration, has a file to write, and a restart comes back the same).
fn data_node(kind: Kind, dir: &Path, port: u16, replicaof: Option<u16>) -> Node {
    let conf = dir.join("node.conf");
    if !conf.exists() {
        let mut text = format!(
            "port {port}\nbind 127.0.0.1\nsave \"\"\ndir {}\nrepl-diskless-sync-delay 0\n",
            dir.display()
        );
        if let Some(m) = replicaof {
            text.push_str(&format!("replicaof 127.0.0.1 {m}\n"));
        }
        if kind == Kind::Replikv {
            text.push_str("http-port 0\n");
        } else {
            text.push_str("appendonly no\n");
        }
        std::fs::write(&conf, text).expect("write node.conf");
    }
    let conf = conf.to_str().expect("utf8").to_string();
    match kind {
        Kind::Replikv => Node::replikv_raw(&[&conf], tempfile::tempdir().expect("tempdir")),
        Kind::Redis => Node::redis_with_config(&conf, port),
    }
}

/// Waits for `f`, failing with the sentinels' logs (what they decided, and why not).
fn settle(sentinels: &[Sentinel], what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + SETTLE;
    while !f() {
        if std::time::Instant::now() >= deadline {
            let logs: Vec<String> = sentinels.iter().map(Sentinel::log).collect();
            panic!(
                "timed out waiting for {what}; sentinel logs:\n{}",
                logs.join("\n----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The master every sentinel names, when they agree.
fn agreed_master(sentinels: &[Sentinel]) -> Option<u16> {
    let first = sentinels[0].master_port();
    (first != 0 && sentinels.iter().all(|s| s.master_port() == first)).then_some(first)
}

/// One INFO field of `node`, empty when the poll's connection was closed under it: Sentinel
/// kills every normal client of a node it repoints, and a poll caught by that is "not yet".
fn polled_field(node: &Node, section: &str, field: &str) -> String {
    match Conn::try_cmd(node.port, &["INFO", section]) {
        Some(Value::Bulk(text)) => String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| {
                l.strip_prefix(field)?
                    .strip_prefix(':')
                    .map(|v| v.trim_end_matches('\r').to_string())
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Waits until `replica` processed everything `master` wrote, polling as `polled_field`.
fn wait_converged(master: &Node, replica: &Node) {
    wait_until(SETTLE, "replica offset to reach the master's", || {
        let m = polled_field(master, "replication", "master_repl_offset");
        let r = polled_field(replica, "replication", "slave_repl_offset");
        !m.is_empty() && m == r
    });
}

/// True when the sentinels agree on a master, it is a master, and every other running node
/// streams from it.
fn settled(sentinels: &[Sentinel], nodes: &[&Node]) -> Option<u16> {
    let m = agreed_master(sentinels)?;
    let master = nodes.iter().find(|n| n.port == m)?;
    let ok = polled_field(master, "replication", "role") == "master"
        && nodes.iter().filter(|n| n.port != m).all(|n| {
            polled_field(n, "replication", "master_port") == m.to_string()
                && polled_field(n, "replication", "master_link_status") == "up"
        });
    ok.then_some(m)
}

/// Runs the whole story for one group: `kinds[0]` is the master, the others its replicas.
/// The checks follow whatever master the sentinels agree on (they may fail over again if a
/// new master is slow to answer on a loaded machine), and hold on the data: every write
/// WAIT acknowledged before the kill, and every write made since, is on every node.
fn sentinels_fail_over(kinds: [Kind; 3]) {
    let dirs: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let master = data_node(kinds[0], dirs[0].path(), ports[0], None);
    let r1 = data_node(kinds[1], dirs[1].path(), ports[1], Some(ports[0]));
    let r2 = data_node(kinds[2], dirs[2].path(), ports[2], Some(ports[0]));
    for r in [&r1, &r2] {
        wait_until(SETTLE, "the replicas to link", || {
            info_field(r, "replication", "master_link_status") == "up"
        });
    }
    let sentinels: Vec<Sentinel> = (0..3).map(|_| Sentinel::start(ports[0])).collect();
    settle(
        &sentinels,
        "the sentinels to discover the replicas and each other",
        || {
            sentinels
                .iter()
                .all(|s| s.count("REPLICAS") == 2 && s.count("SENTINELS") == 2)
        },
    );

    // Writes acknowledged by both replicas, then the master dies.
    let mut m = master.conn();
    for i in 0..200 {
        assert_eq!(
            m.cmd(&["SET", &format!("k{i}"), &format!("v{i}")]),
            Value::Simple("OK".into())
        );
    }
    assert_eq!(m.cmd(&["WAIT", "2", "5000"]), Value::Int(2));
    drop(m);
    master.signal("KILL");
    drop(master);
    let mut promoted = 0;
    settle(
        &sentinels,
        "a replica promoted and the other following it",
        || match settled(&sentinels, &[&r1, &r2]) {
            Some(p) => {
                promoted = p;
                true
            }
            None => false,
        },
    );
    let mut c = Conn::connect(promoted);
    for i in 0..200 {
        assert_eq!(
            c.cmd(&["GET", &format!("k{i}")]),
            Value::Bulk(format!("v{i}").into_bytes()),
            "k{i}"
        );
    }
    assert_eq!(c.cmd(&["SET", "after", "kill"]), Value::Simple("OK".into()));

    // The old master comes back (empty: no persistence) and is made a replica.
    let old = data_node(kinds[0], dirs[0].path(), ports[0], None);
    let all = [&old, &r1, &r2];
    let mut current = 0;
    settle(
        &sentinels,
        "the old master to be turned into a replica",
        || match settled(&sentinels, &all) {
            Some(p) if p != ports[0] => {
                current = p;
                true
            }
            _ => false,
        },
    );
    // Every sentinel has seen it report itself a replica: none will "convert" it again in
    // the middle of the next failover (Sentinel converts a node that reported master for a
    // while, and each sentinel refreshes on its own clock).
    settle(
        &sentinels,
        "every sentinel to see the old master as a replica",
        || {
            sentinels.iter().all(|s| {
                s.replica_view(ports[0]) == Some(("slave".into(), "ok".into(), current.to_string()))
            })
        },
    );
    for n in all.iter().filter(|n| n.port != current) {
        wait_converged(all.iter().find(|m| m.port == current).expect("master"), n);
        assert_eq!(
            n.conn().cmd(&["GET", "k199"]),
            Value::Bulk(b"v199".to_vec())
        );
        assert_eq!(
            n.conn().cmd(&["GET", "after"]),
            Value::Bulk(b"kill".to_vec())
        );
    }

    // A planned failover moves the master again; everyone follows.
    assert_eq!(
        sentinels[0].cmd(&["SENTINEL", "FAILOVER", GROUP]),
        Value::Simple("OK".into()),
        "{}",
        sentinels[0].log()
    );
    let mut third = 0;
    settle(
        &sentinels,
        "the planned failover to settle on another master",
        || match settled(&sentinels, &all) {
            Some(p) if p != current => {
                third = p;
                true
            }
            _ => false,
        },
    );
    assert_eq!(
        Conn::connect(third).cmd(&["GET", "after"]),
        Value::Bulk(b"kill".to_vec())
    );
}

#[test]
fn sentinel_manages_a_replikv_group() {
    sentinels_fail_over([Kind::Replikv, Kind::Replikv, Kind::Replikv]);
}

#[test]
fn sentinel_manages_a_redis_master_with_replikv_replicas() {
    sentinels_fail_over([Kind::Redis, Kind::Replikv, Kind::Replikv]);
}

#[test]
fn sentinel_manages_a_replikv_master_with_redis_replicas() {
    sentinels_fail_over([Kind::Replikv, Kind::Redis, Kind::Redis]);
}

/// A base port whose example ports (base..base+2, +3000, +20000..+20002) are all free.
fn example_base_port() -> u16 {
    loop {
        let base = 10_000 + (crate::harness::free_port() % 20_000);
        let ports = [0, 1, 2, 3000, 3001, 3002, 20_000, 20_001, 20_002].map(|d| base + d);
        if ports
            .iter()
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        {
            return base;
        }
    }
}

/// The Sentinel example of conf/ runs as its README says: the script starts the group,
/// the master is killed and replaced, restarted as a replica, and everything stops.
#[test]
fn the_sentinel_example_runs_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("tempdir");
    let base = example_base_port();
    let script = |args: &[&str]| {
        let out = Command::new(root.join("scripts/sentinel-example"))
            .args(args)
            .env("BASE_PORT", base.to_string())
            .env("WORKDIR", work.path())
            .env("REPLIKV", crate::harness::replikv_bin())
            .output()
            .expect("run scripts/sentinel-example");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "sentinel-example {args:?}: {text}");
        text
    };
    /// Stops whatever the example started, even when the test fails half way.
    struct Stop<'a>(&'a dyn Fn(&[&str]) -> String);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.0)(&["stop"])));
        }
    }
    let _stop = Stop(&script);
    script(&["start"]);
    let sentinel = base + 20_000;
    let master_of =
        || match Conn::connect(sentinel).cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP]) {
            Value::Array(a) if a.len() == 2 => a[1].text().parse::<u16>().unwrap_or(0),
            _ => 0,
        };
    assert_eq!(master_of(), base);
    assert_eq!(
        Conn::connect(base).cmd(&["SET", "k", "v"]),
        Value::Simple("OK".into())
    );
    assert_eq!(
        Conn::connect(base).cmd(&["WAIT", "2", "5000"]),
        Value::Int(2)
    );
    let pid = std::fs::read_to_string(work.path().join("master.pid")).expect("master.pid");
    assert!(Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .expect("kill")
        .success());
    wait_until(SETTLE, "Sentinel to promote a replica", || {
        let m = master_of();
        m == base + 1 || m == base + 2
    });
    let promoted = master_of();
    assert_eq!(
        Conn::connect(promoted).cmd(&["GET", "k"]),
        Value::Bulk(b"v".to_vec())
    );
    script(&["start-master"]);
    // Sentinel kills every normal client when it repoints the restarted node: a poll it
    // cuts is "not yet".
    wait_until(SETTLE, "the old master to follow the new one", || {
        Conn::try_cmd(base, &["INFO", "replication"]).is_some_and(|v| {
            let text = v.text();
            text.contains(&format!("master_port:{promoted}"))
                && text.contains("master_link_status:up")
        })
    });
    assert!(script(&["status"]).contains(&format!("master is 127.0.0.1 {promoted}")));
    script(&["stop"]);
    wait_until(
        Duration::from_secs(20),
        "every process of the example to stop",
        || {
            [base, base + 1, base + 2, sentinel]
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err())
        },
    );
}
