//! Pub/Sub: a real `redis-cli subscribe` receives what another client publishes, RESP3
//! clients receive push frames, and confirmations, messages, introspection and the RESP2
//! subscribed-context errors are byte for byte those of redis-server 7.0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::differential::Pair;
use crate::harness::{redis_tool, wait_until, Conn, Node, Value};

/// Sends `args` on both servers' connections and compares the next `replies` replies
/// byte for byte (for commands that answer more than once, such as SUBSCRIBE a b).
fn check_replies(rc: &mut Conn, oc: &mut Conn, args: &[&str], replies: usize) {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    rc.send(&bytes);
    oc.send(&bytes);
    for i in 0..replies {
        let (_, r) = rc.read_raw();
        let (_, o) = oc.read_raw();
        assert_eq!(
            String::from_utf8_lossy(&r),
            String::from_utf8_lossy(&o),
            "reply {i} of {args:?} (left redis, right replikv)"
        );
    }
}

/// Reads the next reply on both and compares (a message delivered by a publish).
fn check_next(rc: &mut Conn, oc: &mut Conn, what: &str) {
    let (_, r) = rc.read_raw();
    let (_, o) = oc.read_raw();
    assert_eq!(
        String::from_utf8_lossy(&r),
        String::from_utf8_lossy(&o),
        "{what} (left redis, right replikv)"
    );
}

/// Reads the next `n` replies on both and compares them as multisets (messages for several
/// matching patterns come in an order Redis leaves unspecified).
fn check_next_unordered(rc: &mut Conn, oc: &mut Conn, n: usize, what: &str) {
    let mut r: Vec<Vec<u8>> = (0..n).map(|_| rc.read_raw().1).collect();
    let mut o: Vec<Vec<u8>> = (0..n).map(|_| oc.read_raw().1).collect();
    r.sort();
    o.sort();
    assert_eq!(r, o, "{what} (left redis, right replikv)");
}

fn numsub(conn: &mut Conn, channel: &str) -> i64 {
    match conn.cmd(&["PUBSUB", "NUMSUB", channel]) {
        Value::Array(v) if v.len() == 2 => v[1].int(),
        other => panic!("PUBSUB NUMSUB: {other:?}"),
    }
}

#[test]
fn redis_cli_subscribe_receives_what_another_client_publishes() {
    let node = Node::replikv(&[]);
    let mut child = Command::new(redis_tool("redis-cli"))
        .args(["-p", &node.port.to_string(), "subscribe", "news", "sports"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-cli");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut publisher = node.conn();
    wait_until(Duration::from_secs(10), "redis-cli to subscribe", || {
        numsub(&mut publisher, "sports") == 1
    });
    assert_eq!(
        publisher.cmd(&["PUBLISH", "news", "hello world"]),
        Value::Int(1)
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "nobody", "x"]), Value::Int(0));
    assert_eq!(publisher.cmd(&["PUBLISH", "sports", "goal"]), Value::Int(1));
    let mut lines = Vec::new();
    while lines.len() < 12 {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        lines,
        [
            "subscribe",
            "news",
            "1",
            "subscribe",
            "sports",
            "2",
            "message",
            "news",
            "hello world",
            "message",
            "sports",
            "goal"
        ],
        "redis-cli output"
    );
    // The subscriber is gone once redis-cli exits.
    wait_until(Duration::from_secs(10), "the subscription to go", || {
        numsub(&mut publisher, "news") == 0
    });
}

#[test]
fn subscriptions_and_messages_match_redis_in_resp2_and_resp3() {
    let p = Pair::start(&[]);
    for resp3 in [false, true] {
        let (mut rs, mut os) = (p.redis.conn(), p.ours.conn());
        let (mut rp, mut op) = (p.redis.conn(), p.ours.conn());
        if resp3 {
            rs.cmd(&["HELLO", "3"]);
            os.cmd(&["HELLO", "3"]);
        }
        check_replies(&mut rs, &mut os, &["SUBSCRIBE", "a", "b", "a"], 3);
        check_replies(
            &mut rs,
            &mut os,
            &["PSUBSCRIBE", "h*llo", "h?llo", "h*llo"],
            3,
        );
        check_replies(&mut rp, &mut op, &["PUBLISH", "a", "one"], 1);
        check_next(&mut rs, &mut os, "message on a");
        check_replies(&mut rp, &mut op, &["PUBLISH", "hello", "two"], 1);
        check_next_unordered(&mut rs, &mut os, 2, "pmessages of two patterns");
        check_replies(&mut rp, &mut op, &["PUBLISH", "nobody", "x"], 1);
        check_replies(&mut rp, &mut op, &["PUBLISH", "b", ""], 1);
        check_next(&mut rs, &mut os, "empty message on b");
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMSUB", "a", "b", "c"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMPAT"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "CHANNELS", "a*"], 1);
        if resp3 {
            // A RESP3 subscriber may run any command; its own PUBLISH delivers to itself
            // before the PUBLISH reply.
            check_replies(&mut rs, &mut os, &["PING"], 1);
            check_replies(&mut rs, &mut os, &["GET", "x"], 1);
            check_replies(&mut rs, &mut os, &["PUBLISH", "a", "self"], 2);
            rs.send(&[b"PUBLISH", b"hello", b"self"]);
            os.send(&[b"PUBLISH", b"hello", b"self"]);
            check_next_unordered(&mut rs, &mut os, 2, "own pmessages");
            check_next(&mut rs, &mut os, "PUBLISH reply after the own messages");
        } else {
            check_replies(&mut rs, &mut os, &["PING"], 1);
            check_replies(&mut rs, &mut os, &["PING", "hi"], 1);
            check_replies(&mut rs, &mut os, &["GET", "x"], 1);
            check_replies(&mut rs, &mut os, &["PUBLISH", "a", "x"], 1);
            check_replies(&mut rs, &mut os, &["MULTI"], 1);
            check_replies(&mut rs, &mut os, &["CLIENT", "ID"], 1);
        }
        check_replies(&mut rs, &mut os, &["UNSUBSCRIBE", "b", "nosuch"], 2);
        check_replies(&mut rs, &mut os, &["PUNSUBSCRIBE"], 2);
        check_replies(&mut rs, &mut os, &["PUNSUBSCRIBE"], 1);
        check_replies(&mut rs, &mut os, &["UNSUBSCRIBE"], 1);
        check_replies(&mut rs, &mut os, &["UNSUBSCRIBE"], 1);
        // Out of the subscribed context, everything works again.
        check_replies(&mut rs, &mut os, &["PING"], 1);
        check_replies(&mut rs, &mut os, &["SET", "x", "1"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMSUB", "a", "b"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMPAT"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "CHANNELS"], 1);
        // RESET leaves the context too.
        check_replies(&mut rs, &mut os, &["SUBSCRIBE", "z"], 1);
        check_replies(&mut rs, &mut os, &["RESET"], 1);
        check_replies(&mut rs, &mut os, &["GET", "x"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMSUB", "z"], 1);
    }
}

#[test]
fn pubsub_introspection_and_errors_match_redis() {
    let mut p = Pair::start(&[]);
    let mut subscribers = Vec::new();
    for (node_is_ours, node) in [(false, &p.redis), (true, &p.ours)] {
        let mut conns = Vec::new();
        for chans in [&["c1", "c2"][..], &["c2", "c3"][..], &["c3"][..]] {
            let mut c = node.conn();
            let mut args = vec!["SUBSCRIBE"];
            args.extend(chans);
            let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            c.send(&bytes);
            for _ in chans {
                c.read_raw();
            }
            conns.push(c);
        }
        let mut c = node.conn();
        c.send(&[b"PSUBSCRIBE", b"c*", b"d*"]);
        c.read_raw();
        c.read_raw();
        let mut d = node.conn();
        d.send(&[b"PSUBSCRIBE", b"c*"]);
        d.read_raw();
        conns.push(c);
        conns.push(d);
        subscribers.push((node_is_ours, conns));
    }
    p.script(
        r#"
        ~PUBSUB CHANNELS
        ~PUBSUB CHANNELS c[12]
        PUBSUB CHANNELS nomatch*
        PUBSUB NUMSUB c1 c2 c3 c4
        PUBSUB NUMSUB
        PUBSUB NUMPAT
        PUBSUB SHARDCHANNELS
        PUBSUB SHARDNUMSUB c1
        PUBLISH c2 hi
        PUBLISH c3 hi
        PUBLISH d9 hi
        PUBLISH e hi
        PUBSUB CHANNELS a b
        PUBSUB NUMPAT x
        PUBSUB FOO
        PUBSUB
        PUBSUB HELP
        PUBLISH c1
        SUBSCRIBE
        PSUBSCRIBE
        "#,
    );
    // CLIENT LIST shows the counts; CLIENT KILL TYPE pubsub disconnects every subscriber.
    let list = p.oc.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("sub=2 psub=0"), "{list}");
    assert!(list.contains("sub=0 psub=2"), "{list}");
    p.check("CLIENT KILL TYPE pubsub");
    assert_eq!(p.rc.cmd(&["PUBSUB", "NUMPAT"]), Value::Int(0));
    wait_until(Duration::from_secs(10), "killed subscribers to go", || {
        p.oc.cmd(&["PUBSUB", "NUMPAT"]) == Value::Int(0)
    });
    p.check("PUBSUB NUMSUB c1 c2 c3");
    drop(subscribers);
}

/// Shard channels (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS / SHARDNUMSUB)
/// as Redis 7.0 serves them outside cluster mode: a namespace of their own, counted apart
/// from channels and patterns, delivered as `smessage`, in RESP2 and RESP3.
#[test]
fn shard_channels_match_redis_in_resp2_and_resp3() {
    let p = Pair::start(&[]);
    for resp3 in [false, true] {
        let (mut rs, mut os) = (p.redis.conn(), p.ours.conn());
        let (mut rp, mut op) = (p.redis.conn(), p.ours.conn());
        if resp3 {
            rs.cmd(&["HELLO", "3"]);
            os.cmd(&["HELLO", "3"]);
        }
        check_replies(&mut rs, &mut os, &["SUBSCRIBE", "a"], 1);
        check_replies(&mut rs, &mut os, &["SSUBSCRIBE", "a", "s1", "a"], 3);
        check_replies(&mut rp, &mut op, &["SPUBLISH", "a", "shard"], 1);
        check_next(&mut rs, &mut os, "smessage on a");
        check_replies(&mut rp, &mut op, &["PUBLISH", "a", "plain"], 1);
        check_next(&mut rs, &mut os, "message on a (the plain namespace)");
        check_replies(&mut rp, &mut op, &["SPUBLISH", "nobody", "x"], 1);
        check_replies(
            &mut rp,
            &mut op,
            &["PUBSUB", "SHARDNUMSUB", "a", "s1", "c"],
            1,
        );
        check_replies(&mut rp, &mut op, &["PUBSUB", "SHARDCHANNELS", "s*"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "NUMSUB", "a", "s1"], 1);
        check_replies(&mut rs, &mut os, &["SUNSUBSCRIBE", "s1", "nosuch"], 2);
        check_replies(&mut rs, &mut os, &["SUNSUBSCRIBE"], 1);
        check_replies(&mut rs, &mut os, &["SUNSUBSCRIBE"], 1);
        check_replies(&mut rs, &mut os, &["UNSUBSCRIBE"], 1);
        check_replies(&mut rs, &mut os, &["PING"], 1);
        check_replies(&mut rp, &mut op, &["PUBSUB", "SHARDCHANNELS"], 1);
        check_replies(
            &mut rp,
            &mut op,
            &["COMMAND", "INFO", "SPUBLISH", "SSUBSCRIBE"],
            1,
        );
    }
}

/// SPUBLISH reaches the subscribers of a replica, as PUBLISH does, in both directions
/// between replikv and real Redis.
#[test]
fn spublish_reaches_subscribers_of_replicas_both_ways() {
    use crate::harness::repl::{start_replica, wait_link_up};
    use crate::harness::Kind;
    for (master_kind, replica_kind) in [(Kind::Replikv, Kind::Redis), (Kind::Redis, Kind::Replikv)]
    {
        let master = match master_kind {
            Kind::Replikv => Node::replikv(&[]),
            Kind::Redis => Node::redis(&[]),
        };
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(30));
        let mut sub = replica.conn();
        sub.send(&[b"SSUBSCRIBE", b"orders"]);
        assert_eq!(
            sub.read_raw().0,
            Value::Array(vec![
                Value::Bulk(b"ssubscribe".to_vec()),
                Value::Bulk(b"orders".to_vec()),
                Value::Int(1)
            ])
        );
        let mut publisher = master.conn();
        assert_eq!(publisher.cmd(&["SPUBLISH", "orders", "42"]), Value::Int(0));
        assert_eq!(
            sub.read_raw().0,
            Value::Array(vec![
                Value::Bulk(b"smessage".to_vec()),
                Value::Bulk(b"orders".to_vec()),
                Value::Bulk(b"42".to_vec())
            ]),
            "{master_kind:?} master, {replica_kind:?} replica"
        );
    }
}

/// CLIENT REPLY OFF / SKIP / ON drop command replies as Redis does, while Pub/Sub
/// confirmations and messages still arrive, in RESP2 and RESP3.
#[test]
fn client_reply_off_skip_and_on_match_redis() {
    let p = Pair::start(&[]);
    for resp3 in [false, true] {
        let (mut r, mut o) = (p.redis.conn(), p.ours.conn());
        if resp3 {
            r.cmd(&["HELLO", "3"]);
            o.cmd(&["HELLO", "3"]);
        }
        // SKIP drops the reply of the next command only; OFF drops everything until ON,
        // whose OK is the next reply either server sends.
        for conn in [&mut r, &mut o] {
            conn.send(&[b"CLIENT", b"REPLY", b"SKIP"]);
            conn.send(&[b"SET", b"k", b"skipped"]);
            conn.send(&[b"GET", b"k"]);
        }
        check_next(&mut r, &mut o, "the GET after a skipped SET");
        for conn in [&mut r, &mut o] {
            conn.send(&[b"CLIENT", b"REPLY", b"OFF"]);
            conn.send(&[b"SET", b"k", b"quiet"]);
            conn.send(&[b"INCR", b"k"]);
            conn.send(&[b"CLIENT", b"REPLY", b"ON"]);
        }
        check_next(&mut r, &mut o, "ON's reply after silent commands");
        check_replies(&mut r, &mut o, &["GET", "k"], 1);
        check_replies(&mut r, &mut o, &["CLIENT", "REPLY", "MAYBE"], 1);
        // Pub/Sub confirmations pass the silencing in both protocols, and so do messages.
        for conn in [&mut r, &mut o] {
            conn.send(&[b"CLIENT", b"REPLY", b"OFF"]);
            conn.send(&[b"SSUBSCRIBE", b"c"]);
            conn.send(&[b"PSUBSCRIBE", b"p*"]);
        }
        check_next(&mut r, &mut o, "a confirmation with replies off");
        check_next(&mut r, &mut o, "a pattern confirmation with replies off");
        p.redis.conn().cmd(&["PUBLISH", "pat", "hello"]);
        p.ours.conn().cmd(&["PUBLISH", "pat", "hello"]);
        check_next(&mut r, &mut o, "a message with replies off");
    }
}
