//! Every way a replication link ends with an error has a documented code
//! (docs/metrics.md): counted in `replikv_link_aborts_total{side,code}`, named as
//! `error_code` in the sync history when the sync itself failed, and in the `link_down`
//! event. A scripted master (a socket in the test) produces the replica's codes one
//! connection at a time; real nodes produce the master's and the operator-driven ones.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::control::Http;
use crate::harness::repl::{answer_handshake, empty_rdb, start, start_replica, wait_link_up};
use crate::harness::{free_port, wait_until, Kind, Node};

/// `replikv_link_aborts_total{side,code}` on `node`.
pub fn aborts(node: &Node, side: &str, code: &str) -> u64 {
    let body = Http::new(node).get("/metrics").body;
    let series = format!("replikv_link_aborts_total{{side=\"{side}\",code=\"{code}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .unwrap_or_else(|| panic!("{series} missing"))
        .trim()
        .parse()
        .expect("a count")
}

/// Waits until `node` counted one more link of `side` ended with `code` than `before`.
pub fn wait_abort(node: &Node, side: &str, code: &str, before: u64) {
    wait_until(
        Duration::from_secs(15),
        &format!("a {side} link to end with {code}"),
        || aborts(node, side, code) > before,
    );
}

/// The `error_code` of the newest failed sync session on `node`.
fn last_failed_code(node: &Node) -> String {
    let syncs = Http::new(node).get("/v1/replication/syncs").json();
    syncs["syncs"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .filter(|s| s["outcome"] == "failed")
                .max_by_key(|s| s["id"].as_u64())
                .map(|s| s["error_code"].as_str().unwrap_or("").to_string())
        })
        .unwrap_or_default()
}

/// Reads one command from the replica and returns its name.
fn read_command(link: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    loop {
        if let Some((cmd, _)) = crate::harness::resp::parse(&buf) {
            return cmd.array().first().map(|v| v.text()).unwrap_or_default();
        }
        let mut chunk = [0u8; 1024];
        let n = link.read(&mut chunk).expect("read from the replica");
        assert!(n > 0, "the replica closed the link");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Drops the connections the replica opened while the last step was being checked: it
/// retries at once, and a connection left waiting in the accept queue past `repl-timeout`
/// is one it already gave up on.
fn drop_queued(listener: &TcpListener) {
    listener.set_nonblocking(true).expect("nonblocking");
    while let Ok((stale, _)) = listener.accept() {
        drop(stale);
    }
    listener.set_nonblocking(false).expect("blocking");
}

/// A replica names each way its master link failed: the scripted master answers each
/// connection differently, and each failure is counted and named in the history.
#[test]
fn a_replica_names_why_each_link_to_its_master_ended() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let replica = Node::replikv(&[
        "--repl-timeout",
        "1",
        "--replica-refuse-empty-full-sync",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &port,
    ]);
    let fullresync = format!("+FULLRESYNC {} 0\r\n", "a".repeat(40));
    type Script = Box<dyn Fn(&mut TcpStream)>;
    let steps: Vec<(&str, Script)> = vec![
        (
            "handshake_refused",
            Box::new(|link: &mut TcpStream| {
                assert_eq!(read_command(link).to_ascii_uppercase(), "PING");
                link.write_all(b"-ERR not today\r\n").expect("write");
            }),
        ),
        (
            "psync_refused",
            Box::new(|link: &mut TcpStream| {
                answer_handshake(link);
                link.write_all(b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
                    .expect("write");
            }),
        ),
        (
            "protocol_error",
            Box::new(|link: &mut TcpStream| {
                answer_handshake(link);
                link.write_all(b"+WHAT\r\n").expect("write");
            }),
        ),
        (
            "transfer_failed",
            Box::new({
                let fullresync = fullresync.clone();
                move |link: &mut TcpStream| {
                    answer_handshake(link);
                    link.write_all(format!("{fullresync}$EOF:short\r\n").as_bytes())
                        .expect("write");
                }
            }),
        ),
        (
            "load_failed",
            Box::new({
                let fullresync = fullresync.clone();
                move |link: &mut TcpStream| {
                    answer_handshake(link);
                    link.write_all(format!("{fullresync}$10\r\nNOTANRDB!!").as_bytes())
                        .expect("write");
                }
            }),
        ),
        (
            "timeout",
            // Silence after PSYNC: repl-timeout (1 s) ends the wait for the answer.
            Box::new(|link: &mut TcpStream| {
                answer_handshake(link);
            }),
        ),
        (
            "peer_closed",
            Box::new(|link: &mut TcpStream| {
                answer_handshake(link);
                link.shutdown(std::net::Shutdown::Both).expect("shutdown");
            }),
        ),
    ];
    for (code, script) in &steps {
        let before = aborts(&replica, "replica", code);
        let (mut link, _) = listener.accept().expect("the replica connects");
        link.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        script(&mut link);
        wait_abort(&replica, "replica", code, before);
        assert_eq!(last_failed_code(&replica), *code);
        drop(link);
        drop_queued(&listener);
    }

    // A replica holding keys refuses an empty dataset from a new history.
    let rdb = empty_rdb();
    assert_eq!(replica.conn().cmd(&["REPLICAOF", "NO", "ONE"]).text(), "OK");
    drop_queued(&listener);
    replica.conn().cmd(&["SET", "mine", "1"]);
    assert_eq!(
        replica
            .conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &port])
            .text(),
        "OK"
    );
    let before = aborts(&replica, "replica", "refused_empty_dataset");
    let (mut link, _) = listener.accept().expect("the replica connects");
    answer_handshake(&mut link);
    link.write_all(format!("{fullresync}${}\r\n", rdb.len()).as_bytes())
        .expect("write");
    link.write_all(&rdb).expect("write");
    wait_abort(&replica, "replica", "refused_empty_dataset", before);
    assert_eq!(last_failed_code(&replica), "refused_empty_dataset");
    drop(link);

    // Nobody listening.
    let closed = free_port().to_string();
    let before = aborts(&replica, "replica", "connect_failed");
    assert_eq!(
        replica
            .conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &closed])
            .text(),
        "OK"
    );
    wait_abort(&replica, "replica", "connect_failed", before);
    assert_eq!(last_failed_code(&replica), "connect_failed");
}

/// A master and its replicas name the links that operators, topology changes and the
/// other side ended.
#[test]
fn a_master_and_its_replicas_name_why_streaming_links_ended() {
    let master = start(Kind::Replikv, &["--enable-protected-configs", "yes"]);
    let mut m = master.conn();
    m.cmd(&["SET", "k", "v"]);

    // The replica leaves: the master sees its side closed.
    let r = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&r, Duration::from_secs(20));
    let before = aborts(&master, "master", "peer_closed");
    assert_eq!(r.conn().cmd(&["REPLICAOF", "NO", "ONE"]).text(), "OK");
    wait_abort(&master, "master", "peer_closed", before);

    // CLIENT KILL on the master: its side is client_kill, the replica's peer_closed.
    let port = master.port.to_string();
    assert_eq!(
        r.conn().cmd(&["REPLICAOF", "127.0.0.1", &port]).text(),
        "OK"
    );
    wait_link_up(&r, Duration::from_secs(20));
    let (m_kill, r_closed) = (
        aborts(&master, "master", "client_kill"),
        aborts(&r, "replica", "peer_closed"),
    );
    m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    wait_abort(&master, "master", "client_kill", m_kill);
    wait_abort(&r, "replica", "peer_closed", r_closed);
    wait_link_up(&r, Duration::from_secs(20));

    // CLIENT KILL of the master link on the replica.
    let before = aborts(&r, "replica", "client_kill");
    r.conn().cmd(&["CLIENT", "KILL", "TYPE", "master"]);
    wait_abort(&r, "replica", "client_kill", before);
    wait_link_up(&r, Duration::from_secs(20));

    // An operator asks the replica for a full resync over HTTP.
    let before = aborts(&r, "replica", "operator_resync");
    let reply = Http::new(&r).json("POST", "/v1/replication/resync", "{}");
    assert!(reply.status < 300, "{} {}", reply.status, reply.body);
    wait_abort(&r, "replica", "operator_resync", before);
    wait_link_up(&r, Duration::from_secs(20));

    // A raw replica that sends garbage after PSYNC: the master's reader refuses it.
    let before = aborts(&master, "master", "protocol_error");
    let mut raw = TcpStream::connect(("127.0.0.1", master.port)).expect("connect");
    raw.write_all(b"PSYNC ? -1\r\n*x\r\n").expect("write");
    wait_abort(&master, "master", "protocol_error", before);
    drop(raw);

    // A raw replica that resets its connection: an I/O error on the master's side.
    let before = aborts(&master, "master", "io_error");
    let raw = TcpStream::connect(("127.0.0.1", master.port)).expect("connect");
    (&raw).write_all(b"PSYNC ? -1\r\n").expect("write");
    wait_until(Duration::from_secs(10), "the raw replica to attach", || {
        crate::harness::repl::info_field(&master, "replication", "connected_slaves") == "2"
    });
    socket2::SockRef::from(&raw)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(raw);
    wait_abort(&master, "master", "io_error", before);

    // The snapshot cannot be written (a disk-based sync into a directory that is gone).
    let dir = tempfile::tempdir().expect("tempdir");
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).expect("mkdir");
    m.cmd(&["CONFIG", "SET", "repl-diskless-sync", "no"]);
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "dir", gone.to_str().expect("utf-8")])
            .text(),
        "OK"
    );
    std::fs::remove_dir(&gone).expect("rmdir");
    let before = aborts(&master, "master", "snapshot_failed");
    let mut raw = TcpStream::connect(("127.0.0.1", master.port)).expect("connect");
    raw.write_all(b"PSYNC ? -1\r\n").expect("write");
    wait_abort(&master, "master", "snapshot_failed", before);
    assert_eq!(last_failed_code(&master), "snapshot_failed");
    drop(raw);
    m.cmd(&["CONFIG", "SET", "repl-diskless-sync", "yes"]);
    let home = master.dir.path().to_str().expect("utf-8").to_string();
    assert_eq!(m.cmd(&["CONFIG", "SET", "dir", &home]).text(), "OK");

    // The master becomes a replica of another node: its replicas' links close
    // (topology_change on its side), and re-pointing a replica mid-link is one on its own.
    let other = start(Kind::Replikv, &[]);
    let before = aborts(&r, "replica", "topology_change");
    let other_port = other.port.to_string();
    assert_eq!(
        r.conn()
            .cmd(&["REPLICAOF", "127.0.0.1", &other_port])
            .text(),
        "OK"
    );
    wait_abort(&r, "replica", "topology_change", before);
    wait_link_up(&r, Duration::from_secs(20));
    let second = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&second, Duration::from_secs(20));
    let before = aborts(&master, "master", "topology_change");
    assert_eq!(m.cmd(&["REPLICAOF", "127.0.0.1", &other_port]).text(), "OK");
    wait_abort(&master, "master", "topology_change", before);
    drop(second);
}
