//! SLOWLOG and MONITOR against redis-server 7.0: the same commands on both servers give the
//! same entries and the same monitor lines once the values no two servers share (times,
//! durations, client ports) are set aside; secrets are redacted in both.

use std::time::Duration;

use crate::differential::Pair;
use crate::harness::resp::Value;
use crate::harness::{Conn, Node};

/// Errors, defaults and the reply shapes, compared byte for byte.
#[test]
fn slowlog_replies_and_errors_as_redis() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        CONFIG GET slowlog-log-slower-than
        CONFIG GET slowlog-max-len
        CONFIG SET slowlog-log-slower-than -2
        CONFIG SET slowlog-max-len -1
        CONFIG SET slowlog-max-len abc
        SLOWLOG RESET
        SLOWLOG LEN
        SLOWLOG GET
        SLOWLOG GET -2
        SLOWLOG GET abc
        SLOWLOG GET 1 2
        SLOWLOG HELP
        SLOWLOG NOPE
        SLOWLOG
        CONFIG SET slowlog-log-slower-than 0
        CONFIG SET slowlog-max-len 3
        SLOWLOG RESET
        SET a 1
        SET b 2
        SET c 3
        SET d 4
        SLOWLOG LEN
        ?SLOWLOG GET
        SLOWLOG GET 0
        ?SLOWLOG GET 1
        ?SLOWLOG GET -1
        CONFIG SET slowlog-log-slower-than -1
        SLOWLOG RESET
        SET e 5
        SLOWLOG LEN
        ",
    );
}

/// One slow-log entry with what differs between servers set aside: the arguments, the
/// client's name, and who ran it (`self`, `other` or Lua's `?:0`).
#[derive(Debug, PartialEq)]
struct Logged {
    argv: Vec<String>,
    peer: String,
    name: String,
}

fn slowlog(conn: &mut Conn, own: &str, other: &str) -> Vec<Logged> {
    let reply = conn.cmd(&["SLOWLOG", "GET", "-1"]);
    let mut ids = Vec::new();
    let entries = reply
        .array()
        .into_iter()
        .map(|entry| {
            let parts = entry.array();
            assert_eq!(parts.len(), 6, "{parts:?}");
            ids.push(parts[0].int());
            assert!(parts[1].int() > 1_600_000_000, "{parts:?}");
            assert!(parts[2].int() >= 0, "{parts:?}");
            let peer = parts[4].text();
            let peer = if peer == own {
                "self".to_string()
            } else if peer == other {
                "other".to_string()
            } else {
                peer
            };
            Logged {
                argv: parts[3].array().iter().map(Value::text).collect(),
                peer,
                name: parts[5].text(),
            }
        })
        .collect();
    // Newest first, ids consecutive.
    for pair in ids.windows(2) {
        assert_eq!(pair[0], pair[1] + 1, "{ids:?}");
    }
    entries
}

/// The address a connection has as the server sees it (CLIENT INFO's `addr`).
fn own_addr(conn: &mut Conn) -> String {
    let info = conn.cmd(&["CLIENT", "INFO"]).text();
    info.split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr=")
        .to_string()
}

fn run_logged_commands(node: &Node) -> Vec<Logged> {
    let mut c = node.conn();
    let mut waiter = node.conn();
    let own = own_addr(&mut c);
    let other = own_addr(&mut waiter);
    let many: Vec<String> = (3..=33).map(|i| i.to_string()).collect();
    let long = "A".repeat(129);
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["CLIENT", "SETNAME", "app"]);
    c.cmd(&["SET", "k", "v"]);
    assert!(c.cmd(&["AUTH", "secret"]).is_error());
    assert!(c.cmd(&["AUTH", "user", "secret"]).is_error());
    c.cmd(&["HELLO", "2", "AUTH", "default", "x", "SETNAME", "app"]);
    c.cmd(&[
        "CONFIG",
        "SET",
        "masterauth",
        "pw1",
        "maxmemory-policy",
        "noeviction",
    ]);
    assert!(c
        .cmd(&["CONFIG", "SET", "nosuch", "v", "requirepass", "pw2"])
        .is_error());
    c.cmd(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "n"]);
    let mut sadd = vec!["SADD", "set"];
    sadd.extend(many.iter().map(String::as_str));
    c.cmd(&sadd);
    c.cmd(&["SADD", "set", "foo", &long]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SPOP", "set", "100"]);
    c.cmd(&["GETSET", "k", "w"]);
    c.cmd(&["EXEC"]);
    // A blocked command is logged when it is served, after what served it.
    waiter.send(&[b"BLPOP", b"list", b"0"]);
    // The polls are not logged: as many as it takes on either server.
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    crate::harness::wait_until(Duration::from_secs(10), "the client blocks", || {
        c.cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    });
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(waiter.read_raw().0.array().len(), 2);
    // One that times out is not logged (as in Redis 7.0).
    waiter.cmd(&["BLPOP", "nothing", "0.01"]);
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    slowlog(&mut c, &own, &other)
}

#[test]
fn slowlog_entries_are_trimmed_redacted_and_ordered_as_redis() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let expected = run_logged_commands(&redis);
    let got = run_logged_commands(&ours);
    assert_eq!(got, expected);
    // The facts the comparison relies on, stated once so that a server that logged nothing
    // (or everything unredacted) on both sides could not pass.
    let texts: Vec<String> = got.iter().map(|e| e.argv.join(" ")).collect();
    assert!(texts.contains(&"AUTH (redacted)".to_string()), "{texts:#?}");
    assert!(
        texts.contains(&"CONFIG SET masterauth (redacted) maxmemory-policy noeviction".to_string())
    );
    assert!(texts.contains(&"CONFIG SET nosuch v requirepass (redacted)".to_string()));
    assert!(texts.contains(&"incr n".to_string()));
    assert!(texts.iter().any(|t| t.ends_with("... (2 more arguments)")));
    assert!(texts.iter().any(|t| t.ends_with("... (1 more bytes)")));
    assert!(!texts.iter().any(|t| t.starts_with("EXEC")));
    assert_eq!(texts[0], "BLPOP list 0", "{texts:#?}");
    assert_eq!(texts[1], "LPUSH list x", "{texts:#?}");
    assert_eq!(got[0].peer, "other");
    let lua = got.iter().find(|e| e.argv[0] == "incr").expect("incr");
    assert_eq!((lua.peer.as_str(), lua.name.as_str()), ("?:0", ""));
}

#[test]
fn slowlog_max_len_and_threshold_apply_as_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        CONFIG SET slowlog-log-slower-than 100000
        SLOWLOG RESET
        PING
        DEBUG SLEEP 0
        SLOWLOG LEN
        DEBUG SLEEP 0.12
        SLOWLOG LEN
        CONFIG SET slowlog-log-slower-than 0
        CONFIG SET slowlog-max-len 10
        ",
    );
    for _ in 0..30 {
        pair.check("PING");
    }
    pair.script(
        "
        SLOWLOG LEN
        CONFIG SET slowlog-max-len 1
        // Trimmed at the next entry, not by CONFIG SET.
        SLOWLOG LEN
        PING
        SLOWLOG LEN
        CONFIG SET slowlog-max-len 0
        PING
        SLOWLOG LEN
        ",
    );
}

/// Reads monitor lines until `count` arrived; each with its timestamp and client address
/// replaced, so that two servers' lines compare.
fn monitor_lines(monitor: &mut Conn, count: usize, own: &str) -> Vec<String> {
    (0..count)
        .map(|_| {
            let line = match monitor.read_raw().0 {
                Value::Simple(s) => s,
                other => panic!("a monitor line is a simple string, got {other:?}"),
            };
            let (stamp, rest) = line.split_once(' ').expect("timestamp");
            let (secs, micros) = stamp.split_once('.').expect("seconds.micros");
            assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{line}");
            rest.replace(own, "self")
        })
        .collect()
}

fn run_monitored_commands(node: &Node) -> Vec<String> {
    let mut monitor = node.conn();
    let mut c = node.conn();
    let own = own_addr(&mut c);
    let (value, raw) = monitor.cmd_raw(&[b"MONITOR"]);
    assert_eq!(value, Value::Simple("OK".into()), "{raw:?}");
    // A second MONITOR is ignored without a reply: the next thing read is a line.
    monitor.send(&[b"MONITOR"]);
    c.cmd(&["SET", "k", "a \"quoted\"\n\x01value"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["GET", "k"]);
    assert!(c.cmd(&["AUTH", "pw"]).is_error());
    assert!(c.cmd(&["HELLO", "2", "AUTH", "u", "p"]).is_error());
    // Administrative commands are never shown.
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    c.cmd(&["EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "s"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["MULTI"]);
    assert!(c.cmd(&["NOSUCHCOMMAND"]).is_error());
    assert!(c.cmd(&["EXEC"]).is_error());
    // Refused before it runs (arity): not shown.
    assert!(c.cmd(&["GET"]).is_error());
    c.cmd(&["PING"]);
    monitor_lines(&mut monitor, 13, &own)
}

#[test]
fn monitor_lines_as_redis() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let expected = run_monitored_commands(&redis);
    let got = run_monitored_commands(&ours);
    assert_eq!(got, expected);
    assert_eq!(
        got[0], r#"[0 self] "SET" "k" "a \"quoted\"\n\x01value""#,
        "{got:#?}"
    );
    assert_eq!(got[3], r#"[3 self] "AUTH" "(redacted)""#);
    assert_eq!(got[6], r#"[3 lua] "set" "s" "x""#);
    assert_eq!(got[12], r#"[3 self] "PING""#);
}

#[test]
fn monitor_ends_with_reset_and_its_client_is_listed_with_flag_o() {
    let ours = Node::replikv(&[]);
    let mut monitor = ours.conn();
    let mut c = ours.conn();
    monitor.cmd(&["MONITOR"]);
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=O"), "{list}");
    c.cmd(&["SET", "a", "1"]);
    assert!(monitor.read_raw().0.text().ends_with(r#""SET" "a" "1""#));
    assert_eq!(monitor.cmd(&["RESET"]), Value::Simple("RESET".into()));
    c.cmd(&["SET", "a", "2"]);
    // No line arrives any more: the next reply is PING's.
    assert_eq!(monitor.cmd(&["PING"]), Value::Simple("PONG".into()));
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    assert!(!list.contains("flags=O"), "{list}");
    // MONITOR inside a transaction is refused at EXEC, as Redis refuses it.
    c.cmd(&["MULTI"]);
    c.cmd(&["MONITOR"]);
    let exec = c.cmd(&["EXEC"]).array();
    assert_eq!(
        exec[0],
        Value::Error("ERR MONITOR isn't allowed for DENY BLOCKING client".into())
    );
}

#[test]
fn a_monitor_that_does_not_read_is_closed_at_its_output_limit() {
    let ours = Node::replikv(&["--client-output-buffer-limit", "normal 64kb 0 0"]);
    let mut monitor = ours.conn();
    monitor.cmd(&["MONITOR"]);
    let mut c = ours.conn();
    let value = "v".repeat(64 * 1024);
    // The monitor never reads: 32 MB of lines pass its 64 kB limit whatever the socket
    // buffers hold.
    for i in 0..512 {
        c.cmd(&["SET", &format!("k{i}"), &value]);
    }
    crate::harness::wait_until(Duration::from_secs(10), "the monitor is closed", || {
        !c.cmd(&["CLIENT", "LIST"]).text().contains("flags=O")
    });
    assert!(ours.wait_for_log("overcoming of output buffer limits"));
}
