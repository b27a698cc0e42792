//! Listeners moved at run time: CONFIG SET `port` and `bind` as Redis 7.0 (same replies,
//! connections kept, nothing changed on failure), `bind ""` leaving only the Unix socket,
//! and the control plane moved with `http-port` / `http-enabled`.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::control::Http;
use crate::harness::{free_port, redis_tool, wait_until, Conn, Node, Value};

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()), "expected OK");
}

fn refuses(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

fn info_port(c: &mut Conn) -> u16 {
    let text = c.cmd(&["INFO", "server"]).text();
    text.lines()
        .find_map(|l| l.strip_prefix("tcp_port:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO server has tcp_port")
}

#[test]
fn config_set_port_moves_the_listener_and_refuses_a_taken_port_as_redis() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port().to_string();
    let mut replies = Vec::new();
    for node in [&redis, &ours] {
        let old = node.port;
        let mut c = node.conn();
        let new = free_port();
        ok(c.cmd(&["CONFIG", "SET", "port", &new.to_string()]));
        // The connection that moved the port stays; new ones go to the new port only.
        assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
        let mut moved = Conn::connect(new);
        assert_eq!(moved.cmd(&["PING"]), Value::Simple("PONG".into()));
        wait_until(Duration::from_secs(5), "the old port to close", || {
            refuses(old)
        });
        assert_eq!(info_port(&mut moved), new);
        assert_eq!(
            moved.cmd(&["CONFIG", "GET", "port"]).array()[1].text(),
            new.to_string()
        );
        // A port in use is refused and the listener stays where it was.
        replies.push(moved.cmd(&["CONFIG", "SET", "port", &taken_port]));
        assert_eq!(
            Conn::connect(new).cmd(&["PING"]),
            Value::Simple("PONG".into())
        );
        assert_eq!(info_port(&mut moved), new);
        // Bad addresses are refused the same way.
        replies.push(moved.cmd(&["CONFIG", "SET", "bind", "999.999.999.999"]));
        assert_eq!(
            Conn::connect(new).cmd(&["PING"]),
            Value::Simple("PONG".into())
        );
    }
    assert_eq!(
        replies[0], replies[2],
        "CONFIG SET port <taken>: same reply"
    );
    assert_eq!(replies[1], replies[3], "CONFIG SET bind <bad>: same reply");
    assert!(
        matches!(&replies[0], Value::Error(e) if e.contains("Unable to listen on this port")),
        "{:?}",
        replies[0]
    );
    assert!(
        matches!(&replies[1], Value::Error(e) if e.contains("Failed to bind to specified addresses.")),
        "{:?}",
        replies[1]
    );
}

#[test]
fn config_set_bind_adds_and_drops_addresses_on_the_same_port() {
    let node = Node::replikv(&[]);
    let port = node.port;
    let mut c = node.conn();
    ok(c.cmd(&["CONFIG", "SET", "bind", "127.0.0.1 127.0.0.2"]));
    let mut second = TcpStream::connect(("127.0.0.2", port)).expect("127.0.0.2 listens");
    use std::io::{Read, Write};
    second.write_all(b"PING\r\n").expect("write");
    let mut buf = [0u8; 7];
    second.read_exact(&mut buf).expect("read");
    assert_eq!(&buf, b"+PONG\r\n");
    // Dropping 127.0.0.1 keeps the connections made through it.
    ok(c.cmd(&["CONFIG", "SET", "bind", "127.0.0.2"]));
    wait_until(Duration::from_secs(5), "127.0.0.1 to close", || {
        refuses(port)
    });
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert!(TcpStream::connect(("127.0.0.2", port)).is_ok());
    assert_eq!(info_port(&mut c), port, "the port did not change");
}

#[test]
fn an_empty_bind_leaves_only_the_unix_socket_and_survives_a_rewrite_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("replikv.sock");
    let sock = sock.to_str().expect("utf8").to_string();
    let conf = dir.path().join("replikv.conf");
    std::fs::write(
        &conf,
        format!(
            "port 0\nhttp-enabled no\nsave \"\"\nunixsocket {sock}\ndir {}\n",
            dir.path().display()
        ),
    )
    .expect("write conf");
    let conf = conf.to_str().expect("utf8").to_string();
    let cli = |args: &[&str]| {
        let out = Command::new(redis_tool("redis-cli"))
            .args(["-s", &sock])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut node = Node::replikv_raw(&[&conf], tempfile::tempdir().expect("tempdir"));
    let port = node.port;
    let mut c = node.conn();
    ok(c.cmd(&["CONFIG", "SET", "bind", ""]));
    assert_eq!(c.cmd(&["CONFIG", "GET", "bind"]).array()[1].text(), "");
    wait_until(Duration::from_secs(5), "TCP to close", || refuses(port));
    assert_eq!(
        c.cmd(&["PING"]),
        Value::Simple("PONG".into()),
        "connections stay"
    );
    assert_eq!(cli(&["PING"]), "PONG");
    assert_eq!(cli(&["CONFIG", "REWRITE"]), "OK");
    let text = std::fs::read_to_string(&conf).expect("read conf");
    assert_eq!(
        text.lines().filter(|l| *l == "bind \"\"").count(),
        1,
        "{text}"
    );
    assert_eq!(cli(&["SHUTDOWN", "NOSAVE"]), "");
    assert!(node.wait_exit(Duration::from_secs(10)).is_some());

    // It starts again on the Unix socket alone, and TCP comes back with CONFIG SET bind.
    let _node = Node::replikv_raw(&[&conf], tempfile::tempdir().expect("tempdir"));
    assert_eq!(cli(&["CONFIG", "GET", "bind"]), "bind");
    assert_eq!(cli(&["CONFIG", "SET", "bind", "127.0.0.1"]), "OK");
    let text = cli(&["INFO", "server"]);
    let port: u16 = text
        .lines()
        .find_map(|l| l.strip_prefix("tcp_port:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("tcp_port");
    assert_ne!(port, 0, "an ephemeral port was bound");
    assert_eq!(
        Conn::connect(port).cmd(&["PING"]),
        Value::Simple("PONG".into())
    );
}

#[test]
fn the_control_plane_moves_with_http_port_and_http_enabled() {
    let node = Node::replikv(&[]);
    let old = node.http_port;
    assert_ne!(old, 0);
    let mut c = node.conn();
    let new = free_port();
    ok(c.cmd(&["CONFIG", "SET", "http-port", &new.to_string()]));
    assert_eq!(Http::on_port(new).get("/healthz").status, 200);
    wait_until(Duration::from_secs(5), "the old HTTP port to close", || {
        refuses(old)
    });
    ok(c.cmd(&["CONFIG", "SET", "http-enabled", "no"]));
    wait_until(Duration::from_secs(5), "the control plane to stop", || {
        refuses(new)
    });
    ok(c.cmd(&["CONFIG", "SET", "http-enabled", "yes"]));
    assert_eq!(Http::on_port(new).get("/healthz").status, 200);
    // A taken port is refused, and the control plane stays.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port().to_string();
    let reply = c.cmd(&["CONFIG", "SET", "http-port", &taken_port]);
    assert!(reply.is_error(), "{reply:?}");
    assert_eq!(Http::on_port(new).get("/healthz").status, 200);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "http-port"]).array()[1].text(),
        new.to_string()
    );
}

/// `bind-source-addr`: a replica connects to its master from that address, which the
/// master (replikv or Redis) shows in INFO replication.
#[test]
fn a_replica_connects_from_bind_source_addr() {
    // Redis's protected mode counts only 127.0.0.1 and ::1 as local (its own test turns it
    // off the same way).
    for master in [
        Node::redis(&["--protected-mode", "no"]),
        Node::replikv(&["--protected-mode", "no"]),
    ] {
        let replica = Node::replikv(&[]);
        let mut r = replica.conn();
        ok(r.cmd(&["CONFIG", "SET", "bind-source-addr", "127.0.0.2"]));
        ok(r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]));
        let mut m = master.conn();
        wait_until(Duration::from_secs(20), "the replica to link", || {
            m.cmd(&["INFO", "replication"])
                .text()
                .contains("state=online")
        });
        let info = m.cmd(&["INFO", "replication"]).text();
        assert!(info.contains("slave0:ip=127.0.0.2,"), "{info}");
    }
}

/// This host's first non-loopback address (`hostname -I`, as Redis's own test finds it).
fn nonloopback_addr() -> String {
    let out = Command::new("hostname")
        .arg("-I")
        .output()
        .expect("run hostname -I");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let addr = text
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_string);
    addr.unwrap_or_else(|| panic!("this host has no non-loopback IPv4 address: {text:?}"))
}

/// The first reply a client connecting from `addr` gets to PING.
fn ping_from(addr: &str, port: u16, auth: Option<&str>) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect((addr, port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    if let Some(pw) = auth {
        s.write_all(format!("AUTH {pw}\r\n").as_bytes())
            .expect("write");
        let mut ok = [0u8; 5];
        s.read_exact(&mut ok).expect("AUTH reply");
        assert_eq!(&ok, b"+OK\r\n");
    }
    s.write_all(b"PING\r\n").expect("write");
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while !reply.ends_with(b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
    reply
}

/// Protected mode, from a non-loopback address, as Redis: refused with the same text while
/// no password is set whatever `bind` says, served once a password is set (and refused
/// again when it is cleared), served with `protected-mode no`.
#[test]
fn protected_mode_refuses_other_hosts_as_redis() {
    let addr = nonloopback_addr();
    let mut seen = Vec::new();
    for node in [
        Node::redis(&["--bind", "*"]),
        Node::replikv(&["--bind", "*"]),
    ] {
        let mut c = node.conn();
        let mut story = vec![ping_from(&addr, node.port, None)];
        ok(c.cmd(&["CONFIG", "SET", "requirepass", "secret"]));
        story.push(ping_from(&addr, node.port, Some("secret")));
        ok(c.cmd(&["AUTH", "secret"]));
        ok(c.cmd(&["CONFIG", "SET", "requirepass", ""]));
        story.push(ping_from(&addr, node.port, None));
        ok(c.cmd(&["CONFIG", "SET", "protected-mode", "no"]));
        story.push(ping_from(&addr, node.port, None));
        seen.push(story);
    }
    assert!(
        seen[0][0].starts_with(b"-DENIED "),
        "{:?}",
        String::from_utf8_lossy(&seen[0][0])
    );
    assert_eq!(seen[0][1], b"+PONG\r\n");
    assert_eq!(seen[0][3], b"+PONG\r\n");
    assert_eq!(seen[1], seen[0], "replikv answers as Redis");
}

fn oom_score(node: &Node) -> i32 {
    std::fs::read_to_string(format!("/proc/{}/oom_score_adj", node.pid()))
        .expect("read oom_score_adj")
        .trim()
        .parse()
        .expect("a number")
}

/// `oom-score-adj` as Redis: the score by role (absolute or added to the starting one),
/// changed with the role, restored with `no`; the same scores on both servers.
#[test]
fn oom_score_follows_the_role_as_redis() {
    let mut seen = Vec::new();
    for node in [
        Node::redis(&[
            "--oom-score-adj",
            "absolute",
            "--oom-score-adj-values",
            "100 300 800",
        ]),
        Node::replikv(&[
            "--oom-score-adj",
            "absolute",
            "--oom-score-adj-values",
            "100 300 800",
        ]),
    ] {
        let start = oom_score(&node);
        let mut c = node.conn();
        let mut story = vec![start];
        ok(c.cmd(&["REPLICAOF", "127.0.0.1", "1"]));
        story.push(oom_score(&node));
        ok(c.cmd(&["REPLICAOF", "NO", "ONE"]));
        story.push(oom_score(&node));
        ok(c.cmd(&[
            "CONFIG",
            "SET",
            "oom-score-adj",
            "relative",
            "oom-score-adj-values",
            "10 20 30",
        ]));
        story.push(oom_score(&node));
        // Redis names the mode by its first spelling.
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "oom-score-adj"]).array()[1].text(),
            "yes"
        );
        ok(c.cmd(&["CONFIG", "SET", "oom-score-adj", "no"]));
        story.push(oom_score(&node));
        let bad = c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "1 2 3000"]);
        story.push(i32::from(bad.is_error()));
        seen.push((story, bad));
    }
    assert_eq!(
        seen[0].0[0], 100,
        "Redis applies the master's value at start"
    );
    assert_eq!(
        seen[1], seen[0],
        "replikv sets the same scores and refuses the same values"
    );
}

/// `enable-protected-configs local` and `enable-debug-command local`, as Redis's
/// 'cannot modify protected configuration - local' checks them: a loopback client may set
/// `dir` and run DEBUG, a client from another address of this host is refused with
/// Redis's texts.
#[test]
fn protected_configs_and_debug_refuse_non_local_clients_as_redis() {
    use std::io::{Read, Write};
    let addr = nonloopback_addr();
    let mut seen = Vec::new();
    let args = [
        "--bind",
        "*",
        "--protected-mode",
        "no",
        "--enable-protected-configs",
        "local",
        "--enable-debug-command",
        "local",
    ];
    for node in [Node::redis(&args), Node::replikv(&args)] {
        let mut local = node.conn();
        ok(local.cmd(&["CONFIG", "SET", "dbfilename", "somename"]));
        assert!(matches!(local.cmd(&["DEBUG", "HELP"]), Value::Array(_)));
        let mut remote = TcpStream::connect((addr.as_str(), node.port)).expect("connect");
        remote
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut replies = Vec::new();
        for line in ["CONFIG SET dir somedir\r\n", "DEBUG HELP\r\n"] {
            remote.write_all(line.as_bytes()).expect("write");
            let mut reply = Vec::new();
            let mut buf = [0u8; 1024];
            while !reply.ends_with(b"\r\n") {
                match remote.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => reply.extend_from_slice(&buf[..n]),
                }
            }
            replies.push(String::from_utf8_lossy(&reply).into_owned());
        }
        seen.push(replies);
    }
    assert!(seen[0][0].contains("protected"), "{:?}", seen[0]);
    assert!(
        seen[0][1].contains("DEBUG command not allowed"),
        "{:?}",
        seen[0]
    );
    assert_eq!(seen[1], seen[0], "replikv answers as Redis");
}

/// CLIENT KILL frees the clients it names at once, as Redis does: right after its reply
/// they are gone from CLIENT LIST and `connected_clients`, and a second CLIENT KILL does
/// not count them again (Redis's introspection unit counts on it).
#[test]
fn killed_clients_leave_the_counts_with_the_kill() {
    for kind in [crate::harness::Kind::Replikv, crate::harness::Kind::Redis] {
        let node = match kind {
            crate::harness::Kind::Redis => Node::redis(&[]),
            crate::harness::Kind::Replikv => Node::replikv(&[]),
        };
        let mut me = node.conn();
        let mut others: Vec<Conn> = (0..6).map(|_| node.conn()).collect();
        for o in &mut others {
            o.cmd(&["PING"]);
        }
        let connected = |c: &mut Conn| {
            let text = c.cmd(&["INFO", "clients"]).text();
            text.lines()
                .find_map(|l| l.strip_prefix("connected_clients:"))
                .and_then(|v| v.trim().parse::<i64>().ok())
                .expect("connected_clients")
        };
        assert_eq!(connected(&mut me), 7, "{kind:?}");
        assert_eq!(
            me.cmd(&["CLIENT", "KILL", "SKIPME", "yes"]),
            Value::Int(6),
            "{kind:?}"
        );
        assert_eq!(
            connected(&mut me),
            1,
            "{kind:?}: the killed clients still count"
        );
        let listed = me.cmd(&["CLIENT", "LIST"]).text().lines().count();
        assert_eq!(listed, 1, "{kind:?}: the killed clients are still listed");
        assert_eq!(
            me.cmd(&["CLIENT", "KILL", "SKIPME", "yes"]),
            Value::Int(0),
            "{kind:?}: a second kill counted them again"
        );
        for o in &mut others {
            assert!(o.is_closed(Duration::from_secs(10)), "{kind:?}");
        }
    }
}
