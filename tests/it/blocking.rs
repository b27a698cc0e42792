//! Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN/MAX, BZMPOP): waiters
//! are served in arrival order from the key that became ready, timeouts fire, and writes
//! inside MULTI wake waiters only after EXEC. Every scenario runs against redis-server 7.0
//! and replikv, and both must behave the same.

use std::time::{Duration, Instant};

use crate::harness::{wait_until, Conn, Node, Value};

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

fn pair(a: &str, b: &str) -> Value {
    Value::Array(vec![bulk(a), bulk(b)])
}

/// Both servers, for scenarios that must hold on each.
fn both() -> [Node; 2] {
    [Node::redis(&[]), Node::replikv(&[])]
}

fn blocked_clients(c: &mut Conn) -> i64 {
    let info = c.cmd(&["INFO", "clients"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1)
}

/// Sends a blocking command on a new connection and waits until the server counts
/// `expected_blocked` blocked clients.
fn block(node: &Node, admin: &mut Conn, args: &[&str], expected_blocked: i64) -> Conn {
    let mut c = node.conn();
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&bytes);
    wait_until(Duration::from_secs(10), "the client to block", || {
        blocked_clients(admin) == expected_blocked
    });
    c
}

#[test]
fn several_clients_blocked_on_one_key_are_served_in_arrival_order() {
    for node in both() {
        let mut admin = node.conn();
        let mut c1 = block(&node, &mut admin, &["BLPOP", "q", "0"], 1);
        let mut c2 = block(&node, &mut admin, &["BRPOP", "other", "q", "0"], 2);
        let mut c3 = block(&node, &mut admin, &["BLPOP", "q", "0"], 3);
        assert_eq!(
            admin.cmd(&["RPUSH", "q", "a", "b"]),
            Value::Int(2),
            "{:?}",
            node.kind
        );
        assert_eq!(c1.read_raw().0, pair("q", "a"), "{:?}", node.kind);
        assert_eq!(c2.read_raw().0, pair("q", "b"), "{:?}", node.kind);
        assert_eq!(blocked_clients(&mut admin), 1, "{:?}", node.kind);
        assert_eq!(admin.cmd(&["EXISTS", "q"]), Value::Int(0));
        assert_eq!(admin.cmd(&["LPUSH", "q", "c"]), Value::Int(1));
        assert_eq!(c3.read_raw().0, pair("q", "c"), "{:?}", node.kind);
        assert_eq!(admin.cmd(&["EXISTS", "q"]), Value::Int(0));
        // A client waiting on two keys is served from the one that became ready.
        let mut c4 = block(&node, &mut admin, &["BLPOP", "k1", "k2", "0"], 1);
        admin.cmd(&["RPUSH", "k2", "x"]);
        assert_eq!(c4.read_raw().0, pair("k2", "x"), "{:?}", node.kind);
        assert_eq!(blocked_clients(&mut admin), 0);
    }
}

#[test]
fn blocking_timeouts_fire() {
    for node in both() {
        let mut c = node.conn();
        for (cmd, expected) in [
            (&["BLPOP", "nokey", "0.2"][..], Value::Nil),
            (&["BRPOPLPUSH", "nokey", "dst", "0.2"][..], Value::Nil),
            (
                &["BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.2"][..],
                Value::Nil,
            ),
            (&["BZPOPMIN", "nokey", "0.2"][..], Value::Nil),
            (&["BLMPOP", "0.2", "1", "nokey", "LEFT"][..], Value::Nil),
            (&["BZMPOP", "0.2", "1", "nokey", "MAX"][..], Value::Nil),
        ] {
            let start = Instant::now();
            let (v, raw) = c.cmd_raw(&cmd.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
            let took = start.elapsed();
            assert_eq!(v, expected, "{cmd:?} on {:?}", node.kind);
            assert_eq!(raw, b"*-1\r\n", "{cmd:?} on {:?}", node.kind);
            assert!(
                took >= Duration::from_millis(150),
                "{cmd:?} returned after {took:?}"
            );
            assert!(
                took < Duration::from_secs(5),
                "{cmd:?} returned after {took:?}"
            );
        }
        // The connection goes on with its next command after a timeout.
        assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
        // Commands pipelined behind a blocking one wait for it.
        c.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nw\r\n$3\r\n0.2\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(c.read_raw().0, Value::Nil);
        assert_eq!(c.read_raw().0, Value::Simple("PONG".into()));
    }
}

#[test]
fn a_push_inside_multi_wakes_waiters_after_exec() {
    for node in both() {
        let mut admin = node.conn();
        let mut waiter = block(&node, &mut admin, &["BLPOP", "m", "0"], 1);
        let mut tx = node.conn();
        assert_eq!(tx.cmd(&["MULTI"]), Value::Simple("OK".into()));
        assert_eq!(
            tx.cmd(&["RPUSH", "m", "1", "2"]),
            Value::Simple("QUEUED".into())
        );
        assert_eq!(tx.cmd(&["LLEN", "m"]), Value::Simple("QUEUED".into()));
        // Nothing happens before EXEC.
        assert_eq!(blocked_clients(&mut admin), 1, "{:?}", node.kind);
        let exec = tx.cmd(&["EXEC"]);
        assert_eq!(
            exec,
            Value::Array(vec![Value::Int(2), Value::Int(2)]),
            "{:?}",
            node.kind
        );
        assert_eq!(waiter.read_raw().0, pair("m", "1"), "{:?}", node.kind);
        assert_eq!(
            admin.cmd(&["LRANGE", "m", "0", "-1"]),
            Value::Array(vec![bulk("2")])
        );
        // A key pushed and emptied inside one transaction serves nobody.
        admin.cmd(&["DEL", "m"]);
        let mut waiter = block(&node, &mut admin, &["BLPOP", "m", "0"], 1);
        tx.cmd(&["MULTI"]);
        tx.cmd(&["RPUSH", "m", "x"]);
        tx.cmd(&["DEL", "m"]);
        tx.cmd(&["EXEC"]);
        assert_eq!(blocked_clients(&mut admin), 1, "{:?}", node.kind);
        admin.cmd(&["RPUSH", "m", "y"]);
        assert_eq!(waiter.read_raw().0, pair("m", "y"), "{:?}", node.kind);
        // Inside MULTI a blocking command answers like its timeout at once.
        tx.cmd(&["MULTI"]);
        tx.cmd(&["BLPOP", "none", "0"]);
        tx.cmd(&["BLMOVE", "none", "d", "LEFT", "LEFT", "0"]);
        assert_eq!(
            tx.cmd(&["EXEC"]),
            Value::Array(vec![Value::Nil, Value::Nil]),
            "{:?}",
            node.kind
        );
    }
}

#[test]
fn waiters_are_served_by_the_right_type_and_command() {
    for node in both() {
        let kind = node.kind;
        let mut admin = node.conn();
        // A string written to the key does not wake a list waiter (Redis 7.0).
        let mut w = block(&node, &mut admin, &["BRPOP", "t", "0"], 1);
        admin.cmd(&["SET", "t", "str"]);
        admin.cmd(&["ZADD", "z", "1", "a"]);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(blocked_clients(&mut admin), 1, "{kind:?}");
        admin.cmd(&["DEL", "t"]);
        admin.cmd(&["RPUSH", "t", "a", "b"]);
        assert_eq!(w.read_raw().0, pair("t", "b"), "{kind:?}");
        // BLMOVE moves the element it was served.
        let mut w = block(
            &node,
            &mut admin,
            &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"],
            1,
        );
        admin.cmd(&["RPUSH", "src", "1", "2"]);
        assert_eq!(w.read_raw().0, bulk("2"), "{kind:?}");
        assert_eq!(
            admin.cmd(&["LRANGE", "dst", "0", "-1"]),
            Value::Array(vec![bulk("2")])
        );
        // BRPOPLPUSH into a key of the wrong type answers WRONGTYPE when served.
        admin.cmd(&["SET", "strdst", "x"]);
        let mut w = block(&node, &mut admin, &["BRPOPLPUSH", "s2", "strdst", "0"], 1);
        admin.cmd(&["RPUSH", "s2", "v"]);
        assert!(w.read_raw().0.is_error(), "{kind:?}");
        assert_eq!(admin.cmd(&["LLEN", "s2"]), Value::Int(1), "{kind:?}");
        // BLMPOP takes up to COUNT.
        let mut w = block(
            &node,
            &mut admin,
            &["BLMPOP", "0", "2", "e1", "e2", "LEFT", "COUNT", "2"],
            1,
        );
        admin.cmd(&["RPUSH", "e2", "a", "b", "c"]);
        let (_, raw) = w.read_raw();
        assert_eq!(
            raw, b"*2\r\n$2\r\ne2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            "{kind:?}"
        );
        // Sorted sets: BZPOPMIN / BZPOPMAX / BZMPOP.
        let mut w1 = block(&node, &mut admin, &["BZPOPMIN", "zz", "0"], 1);
        let mut w2 = block(&node, &mut admin, &["BZPOPMAX", "zz", "0"], 2);
        let mut w3 = block(
            &node,
            &mut admin,
            &["BZMPOP", "0", "1", "zz", "MIN", "COUNT", "5"],
            3,
        );
        admin.cmd(&["ZADD", "zz", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(
            w1.read_raw().1,
            b"*3\r\n$2\r\nzz\r\n$1\r\na\r\n$1\r\n1\r\n",
            "{kind:?}"
        );
        assert_eq!(
            w2.read_raw().1,
            b"*3\r\n$2\r\nzz\r\n$1\r\nd\r\n$1\r\n4\r\n",
            "{kind:?}"
        );
        assert_eq!(
            w3.read_raw().1,
            b"*2\r\n$2\r\nzz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            "{kind:?}"
        );
        // A disconnected waiter is forgotten.
        let w = block(&node, &mut admin, &["BLPOP", "gone", "0"], 1);
        drop(w);
        wait_until(Duration::from_secs(10), "the waiter to go", || {
            blocked_clients(&mut admin) == 0
        });
        admin.cmd(&["RPUSH", "gone", "x"]);
        assert_eq!(admin.cmd(&["LLEN", "gone"]), Value::Int(1), "{kind:?}");
    }
}

/// CLIENT UNBLOCK on a client in BLPOP, as a timeout and with ERROR, and its errors: the
/// same bytes from redis-server 7.0 and replikv.
#[test]
fn client_unblock_ends_a_wait_as_redis() {
    let run = |node: &Node| -> Vec<Vec<u8>> {
        let mut admin = node.conn();
        let mut blocked = node.conn();
        let id = blocked.cmd(&["CLIENT", "ID"]).int().to_string();
        let mut replies = Vec::new();
        for reason in [None, Some("TIMEOUT"), Some("ERROR")] {
            blocked.send(&[b"BLPOP", b"nothing", b"0"]);
            wait_until(Duration::from_secs(10), "the client blocks", || {
                crate::harness::repl::info_field(node, "clients", "blocked_clients") == "1"
            });
            let mut args = vec!["CLIENT", "UNBLOCK", id.as_str()];
            args.extend(reason);
            replies.push(
                admin
                    .cmd_raw(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
                    .1,
            );
            replies.push(blocked.read_raw().1);
        }
        // Not blocked any more: 0; a bad reason and a bad id: Redis's errors.
        for args in [
            vec!["CLIENT", "UNBLOCK", id.as_str()],
            vec!["CLIENT", "UNBLOCK", id.as_str(), "LATER"],
            vec!["CLIENT", "UNBLOCK", "notanid"],
        ] {
            replies.push(
                admin
                    .cmd_raw(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
                    .1,
            );
        }
        let stats = admin.cmd(&["INFO", "errorstats"]).text();
        assert!(stats.contains("errorstat_UNBLOCKED:count=1"), "{stats}");
        replies
    };
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let (expected, got) = (run(&redis), run(&ours));
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(String::from_utf8_lossy(g), String::from_utf8_lossy(e));
    }
    assert_eq!(expected.len(), got.len());
}
