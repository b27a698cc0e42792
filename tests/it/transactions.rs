//! MULTI / EXEC / DISCARD / WATCH / UNWATCH against redis-server 7.0: queueing, EXECABORT
//! on queue-time errors, runtime errors inside EXEC, and which writes by another client
//! (or by expiry) abort a watched transaction — for every type, byte for byte.

use std::time::Duration;

use crate::differential::{split, Pair};
use crate::harness::{Conn, Node};

/// Two clients (A and B) on each server. Script lines start with `A ` or `B ` to pick
/// the client; `sleep N` waits N milliseconds; every reply is compared byte for byte.
struct Twins {
    _redis: Node,
    _ours: Node,
    clients: [[Conn; 2]; 2],
}

impl Twins {
    fn start() -> Twins {
        let (redis, ours) = (Node::redis(&[]), Node::replikv(&[]));
        let clients = [[redis.conn(), redis.conn()], [ours.conn(), ours.conn()]];
        Twins {
            _redis: redis,
            _ours: ours,
            clients,
        }
    }

    fn script(&mut self, text: &str) {
        let mut history = Vec::new();
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            if let Some(ms) = line.strip_prefix("sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
                continue;
            }
            let (who, cmd) = match line.split_once(' ') {
                Some(("A", rest)) => (0, rest),
                Some(("B", rest)) => (1, rest),
                _ => panic!("script line must start with A or B: {line}"),
            };
            history.push(line.to_string());
            let args = split(cmd);
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            let (_, r) = self.clients[0][who].cmd_raw(&refs);
            let (_, o) = self.clients[1][who].cmd_raw(&refs);
            assert_eq!(
                String::from_utf8_lossy(&r),
                String::from_utf8_lossy(&o),
                "reply differs for {line:?} (left redis, right replikv); history:\n{}",
                history.join("\n")
            );
        }
    }
}

#[test]
fn multi_exec_discard_queueing_and_errors() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        EXEC
        DISCARD
        MULTI
        MULTI
        SET a 1
        INCR a
        LPUSH a x
        GET a
        EXEC
        MULTI
        SET b 1
        DISCARD
        GET b
        MULTI
        SET c 1
        NOSUCHCOMMAND
        GET
        SET c 2
        EXEC
        GET c
        MULTI
        WATCH a
        UNWATCH
        EXEC
        MULTI
        HSET h f v
        HINCRBY h f 1
        SADD h x
        ZADD z 1 m
        ZINCRBY z 2 m
        ZRANGE z 0 -1 WITHSCORES
        RPUSH l 1 2 3
        LPOP l 2
        LRANGE l 0 -1
        EXEC
        MULTI
        EXEC
        MULTI
        PING
        ECHO hi
        SELECT 1
        SET k indb1
        SELECT 0
        GET k
        EXEC
        SELECT 1
        GET k
        SELECT 0
        "#,
    );
    p.script("?HELLO 3");
    p.script(
        r#"
        MULTI
        SET x 1
        HGETALL h
        ZSCORE z m
        SMEMBERS nokey
        EXEC
        MULTI
        GET
        EXEC
        "#,
    );
}

#[test]
fn watched_keys_abort_exec_when_another_client_changes_them() {
    let mut t = Twins::start();
    t.script(
        r#"
        A SET s 1
        A WATCH s
        B SET s 2
        A MULTI
        A GET s
        A EXEC
        A WATCH s
        A MULTI
        A GET s
        A EXEC
        A WATCH s
        A GET s
        A SET s 3
        A MULTI
        A GET s
        A EXEC
        A WATCH nokey
        B SET nokey 1
        A MULTI
        A PING
        A EXEC
        A WATCH gone
        B DEL gone
        A MULTI
        A PING
        A EXEC
        A WATCH s
        A UNWATCH
        B SET s 9
        A MULTI
        A GET s
        A EXEC
        A WATCH s
        A MULTI
        A NOSUCH
        A EXEC
        A MULTI
        A GET s
        A EXEC
        A WATCH s
        B SELECT 1
        B SET s other-db
        B SELECT 0
        A MULTI
        A GET s
        A EXEC
        A WATCH s
        B FLUSHDB
        A MULTI
        A GET s
        A EXEC
        A SET s 1
        A WATCH s
        B SWAPDB 0 1
        A MULTI
        A GET s
        A EXEC
        B SWAPDB 0 1
        A SET t 1
        A PEXPIRE t 50
        A WATCH t
        sleep 120
        A MULTI
        A GET t
        A EXEC
        A WATCH s
        B MULTI
        B SET s 5
        B EXEC
        A MULTI
        A GET s
        A EXEC
        A WATCH r1 r2
        B RENAME s r2
        A MULTI
        A PING
        A EXEC
        A WATCH s
        A DISCARD
        A MULTI
        A DISCARD
        B SET s 7
        A MULTI
        A GET s
        A EXEC
        "#,
    );
}

#[test]
fn collection_writes_abort_watchers_only_when_they_change_something() {
    let mut t = Twins::start();
    t.script(
        r#"
        A RPUSH l a b c
        A HSET h f v
        A SADD s m
        A ZADD z 1 m
        // No-op writes leave the watch alone.
        A WATCH l h s z
        B SADD s m
        B HDEL h nofield
        B SREM s nomember
        B ZADD z 1 m
        B ZREM z nomember
        B LREM l 0 nomember
        B LPUSHX nokey x
        B ZADD z XX 1 nomember
        B HSETNX h f other
        B LINSERT l BEFORE nopivot x
        B SMOVE s s m
        A MULTI
        A PING
        A EXEC
        // Each real change aborts.
        A WATCH l
        B LTRIM l 0 -1
        A MULTI
        A PING
        A EXEC
        A WATCH l
        B RPUSH l d
        A MULTI
        A PING
        A EXEC
        A WATCH l
        B LSET l 0 z
        A MULTI
        A PING
        A EXEC
        A WATCH h
        B HINCRBY h n 1
        A MULTI
        A PING
        A EXEC
        A WATCH h
        B HSET h f v
        A MULTI
        A PING
        A EXEC
        A WATCH s
        B SPOP s
        A MULTI
        A PING
        A EXEC
        A WATCH z
        B ZINCRBY z 1 m
        A MULTI
        A PING
        A EXEC
        A WATCH z
        B ZPOPMIN z
        A MULTI
        A PING
        A EXEC
        A SADD s1 a
        A WATCH s2
        B SMOVE s1 s2 a
        A MULTI
        A PING
        A EXEC
        A WATCH d
        B SUNIONSTORE d s2
        A MULTI
        A PING
        A EXEC
        A WATCH src dst
        B RPUSH src x
        A MULTI
        A PING
        A EXEC
        A WATCH dst
        B LMOVE src dst LEFT LEFT
        A MULTI
        A PING
        A EXEC
        A WATCH zd
        B ZUNIONSTORE zd 1 z
        A MULTI
        A PING
        A EXEC
        A WATCH nothing
        B ZUNIONSTORE nothing 1 nokey
        A MULTI
        A PING
        A EXEC
        "#,
    );
}

#[test]
fn exec_refused_by_a_gate_ends_the_transaction_and_stale_watches_follow_redis() {
    let mut t = Twins::start();
    t.script(
        "
        A SET xx 1
        // A write queued, then the server stops accepting writes: EXEC is refused whole.
        A MULTI
        A INCR xx
        B CONFIG SET min-replicas-to-write 2
        A EXEC
        A GET xx
        B CONFIG SET min-replicas-to-write 0
        // A read queued, then the server becomes a stale replica.
        A CONFIG SET replica-serve-stale-data no
        A MULTI
        A GET xx
        B REPLICAOF 127.0.0.1 1
        A EXEC
        B REPLICAOF NO ONE
        A MULTI
        A PING
        A EXEC
        // Keys already expired when watched: deleting them is no change.
        A DEBUG SET-ACTIVE-EXPIRE 0
        A SET x foo PX 1
        sleep 5
        A WATCH x
        A EXISTS x
        A MULTI
        A PING
        A EXEC
        A SET x foo PX 1
        sleep 5
        A WATCH x
        A FLUSHDB
        A MULTI
        A PING
        A EXEC
        // SWAPDB: a live watched key swapped away is a change; a missing key replaced by a
        // stale one is not.
        A SET x 30
        A WATCH x
        A SWAPDB 0 1
        A MULTI
        A PING
        A EXEC
        A FLUSHALL
        A SET x foo PX 1
        sleep 5
        A SELECT 1
        A WATCH x
        A SWAPDB 0 1
        A MULTI
        A PING
        A EXEC
        A SELECT 0
        A DEBUG SET-ACTIVE-EXPIRE 1
        ",
    );
}

/// MULTI, queued commands and EXEC while a script keeps the server busy, on one server.
fn transaction_while_busy(node: &Node) -> Vec<String> {
    let mut admin = node.conn();
    let mut c = node.conn();
    let mut script = node.conn();
    let mut seen = Vec::new();
    let mut record = |what: &str, raw: Vec<u8>| {
        seen.push(format!("{what}: {}", String::from_utf8_lossy(&raw)));
    };
    admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]);
    admin.cmd(&["SET", "xx", "1"]);
    let busy = |admin: &mut Conn| {
        crate::harness::wait_until(Duration::from_secs(10), "the script is busy", || {
            admin.cmd(&["PING"]).text().starts_with("BUSY")
        });
    };
    // MULTI arrives during the script: accepted, and what follows is refused into it.
    script.send(&[b"EVAL", b"while true do end", b"0"]);
    busy(&mut admin);
    record("multi", c.cmd_raw(&[b"MULTI"]).1);
    record("incr", c.cmd_raw(&[b"INCR", b"xx"]).1);
    record("kill", admin.cmd_raw(&[b"SCRIPT", b"KILL"]).1);
    record("script", script.read_raw().1);
    record("incr again", c.cmd_raw(&[b"INCR", b"xx"]).1);
    record("exec", c.cmd_raw(&[b"EXEC"]).1);
    record("get", admin.cmd_raw(&[b"GET", b"xx"]).1);
    record("out of multi", c.cmd_raw(&[b"PING", b"asdf"]).1);
    // EXEC arrives during the script: refused, and the transaction is gone.
    record("multi 2", c.cmd_raw(&[b"MULTI"]).1);
    record("incr 2", c.cmd_raw(&[b"INCR", b"xx"]).1);
    script.send(&[b"EVAL", b"while true do end", b"0"]);
    busy(&mut admin);
    record("exec 2", c.cmd_raw(&[b"EXEC"]).1);
    record("kill 2", admin.cmd_raw(&[b"SCRIPT", b"KILL"]).1);
    record("script 2", script.read_raw().1);
    record("get 2", admin.cmd_raw(&[b"GET", b"xx"]).1);
    record("out of multi 2", c.cmd_raw(&[b"PING", b"asdf"]).1);
    seen
}

#[test]
fn transactions_meeting_a_busy_script_are_refused_whole_as_redis() {
    let expected = transaction_while_busy(&Node::redis(&[]));
    let got = transaction_while_busy(&Node::replikv(&[]));
    assert_eq!(got, expected);
    assert!(expected[1].contains("BUSY"), "{expected:#?}");
    assert!(
        expected[10].contains("EXECABORT Transaction discarded because of: BUSY"),
        "{expected:#?}"
    );
}
