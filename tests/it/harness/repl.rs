//! Replication helpers for scenario tests: start a node of either kind following a master,
//! wait for the link, wait for offsets to converge, and compare whole keyspaces (every type,
//! every database, absolute expiry times included).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::{wait_until, Conn, Kind, Node, Value};

/// Arguments that make a node of `kind` start syncing at once (no diskless delay).
pub fn fast_sync_args(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Redis | Kind::Replikv => vec!["--repl-diskless-sync-delay", "0"],
    }
}

/// Starts a node of `kind`.
pub fn start(kind: Kind, args: &[&str]) -> Node {
    let mut all = fast_sync_args(kind);
    all.extend_from_slice(args);
    match kind {
        Kind::Redis => Node::redis(&all),
        Kind::Replikv => Node::replikv(&all),
    }
}

/// Starts a node of `kind` that follows `master`.
pub fn start_replica(kind: Kind, master: &Node, args: &[&str]) -> Node {
    let port = master.port.to_string();
    let mut all: Vec<&str> = vec!["--replicaof", "127.0.0.1", &port];
    all.extend_from_slice(args);
    start(kind, &all)
}

/// INFO `section` as a map.
pub fn info(conn: &mut Conn, section: &str) -> HashMap<String, String> {
    let text = conn.cmd(&["INFO", section]).text();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end_matches('\r').to_string()))
        .collect()
}

/// One INFO field (empty when absent).
pub fn info_field(node: &Node, section: &str, field: &str) -> String {
    info(&mut node.conn(), section)
        .get(field)
        .cloned()
        .unwrap_or_default()
}

/// Waits until `replica` reports `master_link_status:up`.
pub fn wait_link_up(replica: &Node, timeout: Duration) {
    wait_until(
        timeout,
        &format!(
            "{:?} replica on {} to have its link up",
            replica.kind, replica.port
        ),
        || info_field(replica, "replication", "master_link_status") == "up",
    );
}

/// Waits until the replica processed everything the master wrote.
pub fn wait_converged(master: &Node, replica: &Node, timeout: Duration) {
    wait_until(timeout, "replica offset to reach the master's", || {
        let m = info_field(master, "replication", "master_repl_offset");
        let r = info_field(replica, "replication", "slave_repl_offset");
        !m.is_empty() && m == r
    });
}

/// A readable form of every key of every database: `db:key` → `type value @expiretime`.
pub fn keyspace(node: &Node) -> BTreeMap<String, String> {
    let mut c = node.conn();
    let mut out = BTreeMap::new();
    for db in 0..16 {
        if c.cmd(&["SELECT", &db.to_string()]).is_error() {
            break;
        }
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let reply = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]).array();
            cursor = reply[0].text();
            keys.extend(reply[1].array().into_iter().map(|k| match k {
                Value::Bulk(b) => b,
                other => panic!("SCAN returned {other:?}"),
            }));
            if cursor == "0" {
                break;
            }
        }
        for key in keys {
            let kt = |args: &[&[u8]], c: &mut Conn| c.cmd_raw(args).0;
            let ty = kt(&[b"TYPE", &key], &mut c).text();
            let value = match ty.as_str() {
                "string" => format!("{:?}", kt(&[b"GET", &key], &mut c)),
                "list" => format!("{:?}", kt(&[b"LRANGE", &key, b"0", b"-1"], &mut c)),
                "hash" => sorted_pairs(kt(&[b"HGETALL", &key], &mut c)),
                "set" => sorted(kt(&[b"SMEMBERS", &key], &mut c)),
                "zset" => format!(
                    "{:?}",
                    kt(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"], &mut c)
                ),
                "none" => continue,
                other => format!("<{other}>"),
            };
            let expire = kt(&[b"PEXPIRETIME", &key], &mut c).text();
            out.insert(
                format!("{db}:{}", String::from_utf8_lossy(&key)),
                format!("{ty} {value} @{expire}"),
            );
        }
    }
    out
}

fn sorted(v: Value) -> String {
    let mut items: Vec<String> = v.array().iter().map(|x| format!("{x:?}")).collect();
    items.sort();
    items.join(",")
}

fn sorted_pairs(v: Value) -> String {
    let items = v.array();
    let mut pairs: Vec<String> = items
        .chunks(2)
        .map(|p| format!("{:?}={:?}", p[0], p.get(1)))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// Asserts two nodes hold the same data, naming the first differences.
pub fn assert_same_keyspace(a: &Node, b: &Node) {
    let (ka, kb) = (keyspace(a), keyspace(b));
    if ka == kb {
        return;
    }
    let mut diffs = Vec::new();
    for (k, v) in &ka {
        if kb.get(k) != Some(v) {
            diffs.push(format!(
                "{k}: {:?} has {v:?}, {:?} has {:?}",
                a.kind,
                b.kind,
                kb.get(k)
            ));
        }
    }
    for (k, v) in &kb {
        if !ka.contains_key(k) {
            diffs.push(format!("{k}: only {:?} has {v:?}", b.kind));
        }
    }
    diffs.truncate(20);
    panic!(
        "keyspaces differ ({} vs {} keys):\n{}",
        ka.len(),
        kb.len(),
        diffs.join("\n")
    );
}

/// Plays a master's side of the handshake on `link` until the replica sends PSYNC (or
/// SYNC); returns that command's arguments.
pub fn answer_handshake(link: &mut std::net::TcpStream) -> Vec<String> {
    use std::io::{Read, Write};
    let mut buf = Vec::new();
    loop {
        while let Some((cmd, used)) = super::resp::parse(&buf) {
            buf.drain(..used);
            let args: Vec<String> = cmd.array().iter().map(Value::text).collect();
            let name = args.first().cloned().unwrap_or_default();
            match name.to_ascii_uppercase().as_str() {
                "PSYNC" | "SYNC" => return args,
                "PING" => link.write_all(b"+PONG\r\n").expect("write"),
                _ => link.write_all(b"+OK\r\n").expect("write"),
            }
        }
        let mut chunk = [0u8; 4096];
        let n = link.read(&mut chunk).expect("read from the replica");
        assert!(n > 0, "the replica closed the link during the handshake");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A valid RDB file of an empty dataset, as Debian's redis-server 7.0 writes it.
pub fn empty_rdb() -> Vec<u8> {
    let redis = Node::redis(&[]);
    assert_eq!(redis.conn().cmd(&["SAVE"]), Value::Simple("OK".into()));
    std::fs::read(redis.dir.path().join("dump.rdb")).expect("read dump.rdb")
}
