//! Every buffer has a limit that is enforced, on every path: clients that stop reading
//! (normal and Pub/Sub classes, `timeout`, CLIENT KILL), replicas that stop reading
//! (`client-output-buffer-limit replica`, `repl-timeout`), and pipelined input before AUTH.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::repl::info_field;
use crate::harness::resp::{encode, Conn, Value};
use crate::harness::{wait_until, Kind, Node};

/// The server's resident memory in MiB.
fn rss_mib(node: &Node) -> u64 {
    status_mib(node, "VmRSS")
}

/// A memory figure of the server's process from /proc (`VmRSS`, `VmHWM`: the peak RSS),
/// in MiB.
fn status_mib(node: &Node, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid())).expect("status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/pid/status"));
    kb / 1024
}

/// The CLIENT LIST fields of the client named `name`, if it is connected.
fn client_fields(node: &Node, name: &str) -> Option<Vec<(String, String)>> {
    let list = node.conn().cmd(&["CLIENT", "LIST"]).text();
    list.lines()
        .find(|l| l.split(' ').any(|f| f == format!("name={name}")))
        .map(|l| {
            l.split(' ')
                .filter_map(|f| f.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
}

fn field(fields: &[(String, String)], key: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

/// A connection named `name` that then sends `count` pipelined GETs of `key` in one write
/// and never reads a reply.
fn stop_reading_after_gets(node: &Node, name: &str, key: &str, count: usize) -> Conn {
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", name]),
        Value::Simple("OK".into())
    );
    let mut pipeline = Vec::new();
    for _ in 0..count {
        pipeline.extend(encode(&[b"GET", key.as_bytes()]));
    }
    c.send_raw(&pipeline);
    c
}

fn set_big(node: &Node, key: &str, bytes: usize) {
    let value = vec![b'v'; bytes];
    let (reply, _) = node.conn().cmd_raw(&[b"SET", key.as_bytes(), &value]);
    assert_eq!(reply, Value::Simple("OK".into()));
}

/// CONFIG SET client-output-buffer-limit `spec` (e.g. "normal 100kb 0 0").
fn set_output_limit(c: &mut Conn, spec: &str) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", spec]),
        Value::Simple("OK".into())
    );
}

/// Waits until at least `n` closures are logged (the log is collected from the server's
/// output by another thread, so it may trail what a client sees), then returns the count.
fn wait_closures_logged(node: &Node, n: usize) -> usize {
    wait_until(Duration::from_secs(5), "the closure to be logged", || {
        closures_logged(node) >= n
    });
    closures_logged(node)
}

fn closures_logged(node: &Node) -> usize {
    node.log_lines()
        .iter()
        .filter(|l| {
            l.contains("scheduled to be closed ASAP for overcoming of output buffer limits")
        })
        .count()
}

#[test]
fn a_client_that_does_not_read_holds_bounded_memory_and_client_kill_ends_it() {
    let node = Node::replikv(&[]);
    set_big(&node, "big", 10 << 20);
    let rss_before = rss_mib(&node);
    // 100 pipelined GETs of 10 MB: a server that runs them all before writing holds 1 GB.
    let _stuck = stop_reading_after_gets(&node, "stuck", "big", 100);
    wait_until(
        Duration::from_secs(10),
        "the stuck client's output shows in omem",
        || client_fields(&node, "stuck").is_some_and(|f| field(&f, "omem") != "0"),
    );
    let fields = client_fields(&node, "stuck").expect("stuck client listed");
    let omem: u64 = field(&fields, "omem").parse().expect("omem");
    assert!(
        omem <= 12 << 20,
        "omem {omem}: more than one reply and one batch held"
    );
    let grown = rss_mib(&node).saturating_sub(rss_before);
    assert!(
        grown < 100,
        "RSS grew by {grown} MiB for a client that does not read"
    );
    // CLIENT KILL takes effect while the client is stuck in a write.
    let id = field(&fields, "id");
    assert_eq!(
        node.conn().cmd(&["CLIENT", "KILL", "ID", &id]),
        Value::Int(1)
    );
    wait_until(Duration::from_secs(5), "the killed client is gone", || {
        client_fields(&node, "stuck").is_none()
    });
    assert_eq!(node.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
}

#[test]
fn normal_output_limits_close_a_client_hard_at_once_soft_after_its_seconds() {
    let node = Node::replikv(&[]);
    set_big(&node, "big", 200 << 10);
    // Hard: one reply over the limit is never sent and the client is closed, as Redis.
    let mut c = node.conn();
    set_output_limit(&mut c, "normal 100kb 0 0");
    c.send(&[b"GET", b"big"]);
    assert_eq!(c.try_read(), None, "the reply over the hard limit was sent");
    assert_eq!(wait_closures_logged(&node, 1), 1);

    // Soft: a client that stops reading with more than the soft limit pending is closed
    // once its seconds pass, not before.
    set_output_limit(&mut node.conn(), "normal 0 100kb 1");
    let started = Instant::now();
    let _slow = stop_reading_after_gets(&node, "slow", "big", 200);
    wait_until(Duration::from_secs(10), "the slow client is closed", || {
        client_fields(&node, "slow").is_none()
    });
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed before the soft limit's seconds"
    );
    assert_eq!(
        wait_closures_logged(&node, 2),
        2,
        "each closure is logged once"
    );
}

#[test]
fn timeout_closes_a_client_that_stopped_reading() {
    let node = Node::replikv(&["--timeout", "1"]);
    set_big(&node, "big", 1 << 20);
    let _stuck = stop_reading_after_gets(&node, "stuck", "big", 50);
    wait_until(
        Duration::from_secs(10),
        "the client that stopped reading is closed",
        || client_fields(&node, "stuck").is_none(),
    );
}

#[test]
fn a_pubsub_subscriber_over_its_limit_is_closed_and_logged_once() {
    let node = Node::replikv(&[]);
    let mut admin = node.conn();
    set_output_limit(&mut admin, "pubsub 1mb 0 0");
    let mut sub = node.conn();
    sub.cmd(&["CLIENT", "SETNAME", "subscriber"]);
    let confirmation = sub.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(confirmation.array()[0].text(), "subscribe");
    // The subscriber stops reading; the publisher goes on until nobody receives.
    let message = vec![b'm'; 100 << 10];
    let mut receivers = Vec::new();
    for _ in 0..400 {
        let (reply, _) = admin.cmd_raw(&[b"PUBLISH", b"news", &message]);
        receivers.push(reply.int());
        if reply.int() == 0 {
            break;
        }
    }
    assert_eq!(
        receivers.last(),
        Some(&0),
        "the subscriber was never closed: {receivers:?}"
    );
    assert!(client_fields(&node, "subscriber").is_none());
    assert_eq!(
        wait_closures_logged(&node, 1),
        1,
        "one log line per closure, not per PUBLISH"
    );
    drop(sub);
}

#[test]
fn commands_pipelined_before_auth_are_all_answered_in_order() {
    let node = Node::replikv(&["--requirepass", "pw"]);
    let mut c = node.conn();
    c.send_raw(b"AUTH bad\r\nSET x 1\r\nPING\r\n");
    assert!(c.read_raw().0.text().starts_with("WRONGPASS"));
    assert!(c.read_raw().0.text().starts_with("NOAUTH"));
    assert!(c.read_raw().0.text().starts_with("NOAUTH"));
    // The same pipeline with the right password runs everything after AUTH.
    c.send_raw(b"AUTH pw\r\nSET x 1\r\nGET x\r\n");
    assert_eq!(c.read_raw().0, Value::Simple("OK".into()));
    assert_eq!(c.read_raw().0, Value::Simple("OK".into()));
    assert_eq!(c.read_raw().0, Value::Bulk(b"1".to_vec()));
}

/// Connects to `master` as a replica would and asks for a full sync (one command at a time,
/// as a replica does: PSYNC is refused behind unsent replies); returns the link once
/// `+FULLRESYNC` arrived.
fn ask_for_a_full_sync(master: &Node) -> TcpStream {
    let mut link = TcpStream::connect(("127.0.0.1", master.port)).expect("connect");
    link.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    for (command, answer) in [
        (encode(&[b"REPLCONF", b"listening-port", b"1"]), "+OK"),
        (
            encode(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]),
            "+OK",
        ),
        (encode(&[b"PSYNC", b"?", b"-1"]), "+FULLRESYNC"),
    ] {
        link.write_all(&command).expect("write");
        got.clear();
        while !String::from_utf8_lossy(&got).contains(answer) {
            let n = link.read(&mut chunk).expect("read");
            assert!(
                n > 0,
                "master closed the link: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&chunk[..n]);
        }
    }
    link
}

/// A hand-made replica: attaches with PSYNC, reads the full sync's first line, sends one
/// ACK (so the master considers it online) and then never reads nor acknowledges again.
fn stalled_replica(master: &Node) -> TcpStream {
    let mut link = ask_for_a_full_sync(master);
    wait_until(
        Duration::from_secs(10),
        "the master sent the snapshot",
        || {
            info_field(master, "replication", "slave0").contains("state=send_bulk")
                || info_field(master, "replication", "slave0").contains("state=online")
        },
    );
    link.write_all(&encode(&[b"REPLCONF", b"ACK", b"0"]))
        .expect("write");
    wait_until(Duration::from_secs(10), "the replica is online", || {
        info_field(master, "replication", "slave0").contains("state=online")
    });
    link
}

/// Writes about `mib` MiB to `master`, enough to fill a stalled replica's socket buffers.
fn write_mib(master: &Node, mib: usize) {
    let mut c = master.conn();
    let value = vec![b'w'; 64 << 10];
    for i in 0..mib * 16 {
        let key = format!("k{i}");
        let (reply, _) = c.cmd_raw(&[b"SET", key.as_bytes(), &value]);
        assert_eq!(reply, Value::Simple("OK".into()));
    }
}

#[test]
fn a_replica_that_stops_reading_is_dropped_at_its_output_limit() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    set_output_limit(&mut master.conn(), "replica 8mb 4mb 60");
    let _link = stalled_replica(&master);
    let rss_before = rss_mib(&master);
    write_mib(&master, 40);
    wait_until(
        Duration::from_secs(20),
        "the stalled replica is dropped",
        || info_field(&master, "replication", "connected_slaves") == "0",
    );
    assert!(
        wait_closures_logged(&master, 1) >= 1,
        "the drop is logged in Redis's words"
    );
    crate::link_aborts::wait_abort(&master, "master", "replica_too_slow", 0);
    // Its share of the stream is released: memory holds the dataset, not a second copy.
    let grown = rss_mib(&master).saturating_sub(rss_before);
    assert!(
        grown < 120,
        "master RSS grew {grown} MiB for 40 MiB of data"
    );
}

/// A replica that stops reading while its diskless snapshot is still being produced (a
/// slow producer: 200 keys at 100 ms each) is dropped at its output limit within seconds,
/// not when the producer's next chunk comes, as Redis drops a replica waiting for BGSAVE.
#[test]
fn a_replica_waiting_for_a_slow_snapshot_is_dropped_at_its_output_limit() {
    let master = Node::replikv(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut c = master.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", "200"]),
        Value::Simple("OK".into())
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]),
        Value::Simple("OK".into())
    );
    set_output_limit(&mut c, "replica 8mb 4mb 60");
    let _link = ask_for_a_full_sync(&master);
    // The link stops reading here; the snapshot takes 20 s to produce.
    write_mib(&master, 24);
    let written = Instant::now();
    wait_until(
        Duration::from_secs(8),
        "the replica is dropped while its snapshot is produced",
        || info_field(&master, "replication", "connected_slaves") == "0",
    );
    assert!(written.elapsed() < Duration::from_secs(8));
    assert!(wait_closures_logged(&master, 1) >= 1);
}

/// As Redis: a replica hard limit below `repl-backlog-size` counts as the backlog size (the
/// backlog holds those bytes anyway, and a replica that resumed from it must not be dropped
/// at once). A stalled replica 24 MiB behind (well past what the sockets buffer) stays
/// under a 512 kB limit with a 64 MiB backlog, and is dropped past 64 MiB.
#[test]
fn a_replica_limit_below_the_backlog_size_counts_as_the_backlog_size() {
    let master = Node::replikv(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-backlog-size",
        "64mb",
    ]);
    set_output_limit(&mut master.conn(), "replica 512kb 0 0");
    let _link = stalled_replica(&master);
    write_mib(&master, 24);
    assert_eq!(
        info_field(&master, "replication", "connected_slaves"),
        "1",
        "dropped below the backlog size"
    );
    assert_eq!(closures_logged(&master), 0);
    write_mib(&master, 60);
    wait_until(
        Duration::from_secs(20),
        "the stalled replica is dropped past the backlog size",
        || info_field(&master, "replication", "connected_slaves") == "0",
    );
    assert!(wait_closures_logged(&master, 1) >= 1);
}

#[test]
fn a_replica_that_stops_reading_is_dropped_after_repl_timeout() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0", "--repl-timeout", "2"]);
    let _link = stalled_replica(&master);
    write_mib(&master, 40);
    let filled = Instant::now();
    wait_until(
        Duration::from_secs(20),
        "the stalled replica is dropped",
        || info_field(&master, "replication", "connected_slaves") == "0",
    );
    assert!(filled.elapsed() < Duration::from_secs(10));
    assert!(master.wait_for_log("Disconnecting timedout replica"));
    crate::link_aborts::wait_abort(&master, "master", "timeout", 0);
}

/// Opens `n` connections to `port` and sends PING on each: (PONGs, max-clients refusals).
/// Every connection gets an answer: none hangs in the accept queue.
fn ping_many(port: u16, n: usize) -> (usize, usize, Vec<TcpStream>) {
    let mut open = Vec::new();
    let (mut pongs, mut refused) = (0, 0);
    for _ in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"PING\r\n").expect("write");
        let mut buf = [0u8; 128];
        let got = s
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("no answer: {e}"));
        let text = String::from_utf8_lossy(&buf[..got]).into_owned();
        match text.as_str() {
            "+PONG\r\n" => pongs += 1,
            "-ERR max number of clients reached\r\n" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
        open.push(s);
    }
    (pongs, refused, open)
}

#[test]
fn maxclients_is_fitted_to_the_open_files_limit() {
    // A hard limit of 512: 10000 clients cannot fit, maxclients is lowered with Redis's words.
    let node = Node::replikv_wrapped(&["prlimit", "--nofile=512:512"], &[], &[]);
    assert!(node.wait_for_log(
        "You requested maxclients of 10000 requiring at least 10096 max file descriptors."
    ));
    assert!(node.wait_for_log("maxclients has been reduced to 416 to compensate for low ulimit"));
    let mut admin = node.conn();
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text(),
        "416"
    );
    let (pongs, refused, _open) = ping_many(node.port, 450);
    assert_eq!(pongs, 415, "the admin connection is the 416th client");
    assert_eq!(refused, 35);
    let reply = admin.cmd(&["CONFIG", "SET", "maxclients", "100000"]);
    assert_eq!(
        reply.text(),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with 416"
    );
    assert_eq!(admin.cmd(&["PING"]), Value::Simple("PONG".into()));

    // A soft limit below the need and a hard one above it: the soft limit is raised.
    let node = Node::replikv_wrapped(&["prlimit", "--nofile=200:20000"], &[], &[]);
    assert!(node.wait_for_log(
        "Increased maximum number of open files to 10096 (it was originally set to 200)."
    ));
    assert_eq!(
        node.conn().cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text(),
        "10000"
    );
}

/// Open descriptors of the server process.
fn open_fds(node: &Node) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", node.pid()))
        .expect("fd dir")
        .count()
}

#[test]
fn idle_http_connections_are_capped_and_closed_and_never_starve_resp() {
    let node = Node::replikv(&[]);
    let fds_before = open_fds(&node);
    // 300 connections that never send a request.
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(("127.0.0.1", node.http_port)).expect("connect"))
        .collect();
    assert_eq!(node.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
    let held = open_fds(&node).saturating_sub(fds_before);
    assert!(
        held <= 70,
        "{held} descriptors held for idle HTTP connections"
    );
    // The header-read timeout closes them; then requests are served again.
    let mut first = idle.into_iter().next().expect("one");
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let started = Instant::now();
    let n = first.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "an idle connection got data instead of being closed");
    assert!(started.elapsed() < Duration::from_secs(25));
    wait_until(
        Duration::from_secs(40),
        "GET /healthz is served again",
        || {
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", node.http_port)) else {
                return false;
            };
            s.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            if s.write_all(request.as_bytes()).is_err() {
                return false;
            }
            let mut response = String::new();
            let _ = s.read_to_string(&mut response);
            response.starts_with("HTTP/1.1 200")
        },
    );
}

#[test]
fn a_huge_random_count_stops_at_the_output_limit() {
    let node = Node::replikv(&[]);
    let mut admin = node.conn();
    set_output_limit(&mut admin, "normal 1000000 0 0");
    admin.cmd(&["HSET", "h", "a", "b"]);
    admin.cmd(&["SADD", "s", "a"]);
    admin.cmd(&["ZADD", "z", "1", "a"]);
    // A billion picks would take minutes and gigabytes; the client is closed at its limit.
    for args in [
        ["HRANDFIELD", "h", "-999999999"],
        ["SRANDMEMBER", "s", "-999999999"],
        ["ZRANDMEMBER", "z", "-999999999"],
    ] {
        let started = Instant::now();
        let mut c = node.conn();
        c.send(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
        assert_eq!(c.try_read(), None, "{args:?} answered past the limit");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} ran to the end"
        );
    }
    assert_eq!(admin.cmd(&["PING"]), Value::Simple("PONG".into()));
}

/// A large value written then deleted gives its memory back, as Redis does: nothing keeps
/// a slice of its command's input buffer (the slow log entry of `SET key <64 MB>` once
/// kept all 64 MB alive), and jemalloc's background threads (`jemalloc-bg-thread yes`,
/// Redis's default) return the freed pages to the system while the server sits idle.
#[test]
fn memory_of_a_large_deleted_value_returns_to_the_system() {
    for kind in [Kind::Redis, Kind::Replikv] {
        let node = match kind {
            Kind::Redis => Node::redis(&["--slowlog-log-slower-than", "0"]),
            Kind::Replikv => Node::replikv(&["--slowlog-log-slower-than", "0"]),
        };
        let mut c = node.conn();
        let rss_start = rss_mib(&node);
        let value = vec![b'x'; 64 << 20];
        assert_eq!(
            c.cmd_raw(&[b"SET", b"big", &value]).0,
            Value::Simple("OK".into())
        );
        assert!(
            rss_mib(&node) >= rss_start + 60,
            "{kind:?}: the value is resident"
        );
        assert_eq!(c.cmd(&["DEL", "big"]), Value::Int(1));
        drop(c);
        wait_until(
            Duration::from_secs(30),
            &format!("{kind:?} to return the value's memory"),
            || rss_mib(&node) < rss_start + 16,
        );
    }
}

/// A big SET holds its value once, as Redis does: the argument is read into a buffer of its
/// own, and that buffer becomes the stored string (Redis: the query buffer becomes the
/// value object). Before, the value was copied out of the input buffer, so the peak RSS of
/// `SET key <64 MiB>` grew by twice the value. Checked on the peak RSS (`VmHWM`, reset
/// before each command), for plain SET and for SET EX (whose propagated form is rewritten),
/// and the stored values are then read and changed (APPEND copies before writing in place).
#[test]
fn a_big_set_holds_its_value_once() {
    const MIB: usize = 1 << 20;
    for kind in [Kind::Redis, Kind::Replikv] {
        let node = match kind {
            Kind::Redis => Node::redis(&[]),
            Kind::Replikv => Node::replikv(&[]),
        };
        let mut c = node.conn();
        let value: Vec<u8> = (0..64 * MIB).map(|i| b'a' + (i % 26) as u8).collect();
        for (key, extra) in [("plain", &[][..]), ("with-ttl", &[&b"EX"[..], b"1000"][..])] {
            std::fs::write(format!("/proc/{}/clear_refs", node.pid()), "5")
                .expect("reset the peak RSS");
            let before = rss_mib(&node);
            let mut command: Vec<&[u8]> = vec![b"SET", key.as_bytes(), &value];
            command.extend_from_slice(extra);
            assert_eq!(c.cmd_raw(&command).0, Value::Simple("OK".into()));
            let peak = status_mib(&node, "VmHWM") - before;
            assert!(
                (60..=88).contains(&peak),
                "{kind:?} {key}: the peak RSS grew by {peak} MiB for a 64 MiB value"
            );
        }
        for key in ["plain", "with-ttl"] {
            assert_eq!(c.cmd(&["STRLEN", key]), Value::Int(64 * MIB as i64));
            let tail = c.cmd(&["GETRANGE", key, "-26", "-1"]);
            assert_eq!(tail, Value::Bulk(value[value.len() - 26..].to_vec()));
        }
        assert_eq!(
            c.cmd(&["APPEND", "plain", "!"]),
            Value::Int(64 * MIB as i64 + 1)
        );
        let last = *value.last().expect("a value");
        assert_eq!(
            c.cmd(&["GETRANGE", "plain", "-2", "-1"]),
            Value::Bulk(vec![last, b'!'])
        );
        assert_eq!(
            c.cmd(&["GETRANGE", "with-ttl", "-1", "-1"]),
            Value::Bulk(vec![last])
        );
        assert_eq!(
            c.cmd(&["OBJECT", "ENCODING", "with-ttl"]),
            Value::Bulk(b"raw".to_vec())
        );
    }
}

/// The query buffer as Redis sizes it (CLIENT LIST `qbuf` + `qbuf-free`): a new client
/// starts with 16 KiB; a big command grows it; busy with small commands again, it shrinks
/// back toward its recent peak (not to nothing); idle for over 2 s, it is released. Side
/// by side with Redis, the same steps give the same shape.
#[test]
fn the_query_buffer_shrinks_after_a_big_command_and_when_idle() {
    for kind in [Kind::Redis, Kind::Replikv] {
        let node = match kind {
            Kind::Redis => Node::redis(&[]),
            Kind::Replikv => Node::replikv(&[]),
        };
        let mut c = node.conn();
        c.cmd(&["CLIENT", "SETNAME", "qb"]);
        let allocated = |node: &Node| -> usize {
            let f = client_fields(node, "qb").expect("the client is listed");
            let n = |k: &str| field(&f, k).parse::<usize>().expect("a number");
            n("qbuf") + n("qbuf-free")
        };
        // The allocation after `command`, read while the client was idle for under 2 s:
        // a slower read (a loaded machine) may follow the cron's idle release, so it is
        // taken again.
        let allocated_after = |c: &mut Conn, command: &[&[u8]]| -> usize {
            loop {
                c.cmd_raw(command);
                let f = client_fields(&node, "qb").expect("the client is listed");
                let n = |k: &str| field(&f, k).parse::<usize>().expect("a number");
                if n("idle") < 2 {
                    return n("qbuf") + n("qbuf-free");
                }
            }
        };
        let start = allocated_after(&mut c, &[b"PING"]);
        assert!(
            (16384..32768).contains(&start),
            "{kind:?}: starts at {start}"
        );
        let big = vec![b'A'; 400_000];
        let grown = allocated_after(&mut c, &[b"SET", b"x", &big]);
        assert!(grown > 32768, "{kind:?}: grew to {grown}");
        wait_until(
            Duration::from_secs(10),
            &format!("{kind:?}: the buffer to shrink while busy"),
            || {
                c.cmd(&["SET", "x", "small"]);
                let now = allocated(&node);
                now > 0 && now < grown
            },
        );
        wait_until(
            Duration::from_secs(10),
            &format!("{kind:?}: the buffer released while idle"),
            || allocated(&node) == 0,
        );
    }
}

/// UNLINK of a big value, and FLUSHALL ASYNC, free in the background and are counted as
/// Redis counts them (INFO `lazyfreed_objects`: one per big value, one per flushed key); a
/// small value is freed at once and not counted. With `lazyfree-lazy-user-flush yes` a
/// flush given no mode is lazy too.
#[test]
fn unlink_and_async_flushes_are_lazy_freed_and_counted() {
    for kind in [Kind::Redis, Kind::Replikv] {
        let node = match kind {
            Kind::Redis => Node::redis(&[]),
            Kind::Replikv => Node::replikv(&[]),
        };
        let mut c = node.conn();
        let freed = |node: &Node| info_field(node, "memory", "lazyfreed_objects");
        let members: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let mut sadd = vec!["SADD", "big"];
        sadd.extend(members.iter().map(String::as_str));
        c.cmd(&sadd);
        c.cmd(&["SADD", "small", "a", "b"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        assert_eq!(c.cmd(&["UNLINK", "small"]), Value::Int(1));
        assert_eq!(c.cmd(&["UNLINK", "big"]), Value::Int(1));
        wait_until(
            Duration::from_secs(10),
            &format!("{kind:?}: one object lazy freed"),
            || freed(&node) == "1",
        );
        for i in 0..10 {
            c.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        c.cmd(&["FLUSHALL", "ASYNC"]);
        wait_until(
            Duration::from_secs(10),
            &format!("{kind:?}: the flushed keys lazy freed"),
            || freed(&node) == "11",
        );
        assert_eq!(info_field(&node, "memory", "lazyfree_pending_objects"), "0");
        // `lazyfree-lazy-user-flush yes`: a flush given no mode is an ASYNC one; SYNC
        // still frees before replying, uncounted.
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]),
            Value::Simple("OK".into())
        );
        for i in 0..5 {
            c.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        c.cmd(&["FLUSHALL"]);
        wait_until(
            Duration::from_secs(10),
            &format!("{kind:?}: a flush without a mode lazy freed"),
            || freed(&node) == "16",
        );
        c.cmd(&["SET", "k", "v"]);
        assert_eq!(c.cmd(&["FLUSHDB", "SYNC"]), Value::Simple("OK".into()));
        assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(0));
        assert_eq!(freed(&node), "16", "{kind:?}: FLUSHDB SYNC freed lazily");
    }
}

/// `maxmemory-clients` (Redis's client eviction): a client that stops reading holds what
/// it did not read (replikv stops reading its input meanwhile, so that is at most about
/// one reply beyond what the kernel buffers); once the clients together hold more than the
/// limit, the biggest are disconnected and counted (INFO `evicted_clients`), a CLIENT
/// NO-EVICT client is spared (CLIENT LIST flag `e`), and the data is untouched. Without
/// the limit nobody is evicted.
#[test]
fn clients_over_maxmemory_clients_are_evicted_biggest_first() {
    let node = Node::replikv(&[]);
    let mut admin = node.conn();
    set_big(&node, "big", 16 << 20);
    let evicted = |node: &Node| info_field(node, "stats", "evicted_clients");
    let mut keeper = node.conn();
    keeper.cmd(&["CLIENT", "SETNAME", "keeper"]);
    assert_eq!(
        keeper.cmd(&["CLIENT", "NO-EVICT", "on"]),
        Value::Simple("OK".into())
    );
    let flags = field(&client_fields(&node, "keeper").expect("listed"), "flags");
    assert_eq!(flags, "e");
    let holds = |node: &Node, name: &str| -> usize {
        client_fields(node, name).map_or(0, |f| field(&f, "omem").parse().expect("omem"))
    };
    // Without a limit, a client holding megabytes of unread reply stays.
    let _first = stop_reading_after_gets(&node, "hog0", "big", 2);
    wait_until(Duration::from_secs(10), "the hog to hold its reply", || {
        holds(&node, "hog0") > 2 << 20
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(client_fields(&node, "hog0").is_some());
    assert_eq!(evicted(&node), "0");
    admin.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]);
    wait_until(Duration::from_secs(10), "the hog to be evicted", || {
        client_fields(&node, "hog0").is_none()
    });
    assert_eq!(evicted(&node), "1");
    // The spared client holds as much; the new hog goes.
    keeper.send_raw(&encode(&[b"GET", b"big"]));
    wait_until(
        Duration::from_secs(10),
        "the keeper to hold its reply",
        || holds(&node, "keeper") > 2 << 20,
    );
    let _second = stop_reading_after_gets(&node, "hog1", "big", 2);
    wait_until(
        Duration::from_secs(10),
        "the second hog to be evicted",
        || client_fields(&node, "hog1").is_none(),
    );
    assert!(
        client_fields(&node, "keeper").is_some(),
        "NO-EVICT spares it"
    );
    assert_eq!(evicted(&node), "2");
    assert_eq!(admin.cmd(&["EXISTS", "big"]), Value::Int(1));
}

/// `maxmemory-clients` accepts bytes or a percentage of maxmemory, shows them as Redis
/// does, and refuses a percentage over 100 with Redis's text; CLIENT NO-EVICT's errors.
#[test]
fn maxmemory_clients_values_and_errors_match_redis() {
    let mut pair = crate::differential::Pair::start(&[]);
    pair.script(
        "
        CONFIG GET maxmemory-clients
        CONFIG SET maxmemory-clients 3mb
        CONFIG GET maxmemory-clients
        CONFIG SET maxmemory-clients 10%
        CONFIG GET maxmemory-clients
        CONFIG SET maxmemory-clients 200%
        CONFIG SET maxmemory 10000001 maxmemory-clients 200% client-query-buffer-limit invalid
        CONFIG GET maxmemory
        CONFIG SET maxmemory-clients 0
        CLIENT NO-EVICT on
        CLIENT NO-EVICT off
        CLIENT NO-EVICT maybe
        CLIENT NO-EVICT
        ",
    );
}

/// Sends a million INCRs in one write before reading any reply, as a client that builds
/// its whole pipeline first does, and reads the replies: the last must count them all.
/// The replies (10 MB) outgrow the sockets' buffers long before the input is all sent, so
/// a server that stops reading while its output waits never gets the rest of it.
fn pipeline_written_before_reading(node: &Node) -> Vec<u8> {
    const N: usize = 1_000_000;
    let mut stream = TcpStream::connect(("127.0.0.1", node.port)).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_secs(60)))
        .expect("write timeout");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let pipeline = encode(&[b"INCR", b"n"]).repeat(N);
    stream
        .write_all(&pipeline)
        .expect("the whole pipeline is accepted before any reply is read");
    let mut replies = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut lines = 0;
    while lines < N {
        let n = stream.read(&mut chunk).expect("replies arrive");
        assert!(
            n > 0,
            "the server closed the connection after {lines} replies"
        );
        lines += chunk[..n].iter().filter(|&&b| b == b'\n').count();
        replies.extend_from_slice(&chunk[..n]);
    }
    replies
}

#[test]
fn a_pipeline_written_whole_before_reading_is_answered_as_by_redis() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let expected = pipeline_written_before_reading(&redis);
    let got = pipeline_written_before_reading(&ours);
    assert!(got.ends_with(b":1000000\r\n"));
    assert!(got == expected, "replies differ from Redis's");
}
