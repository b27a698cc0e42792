//! Expiry: lazy deletion on access, the active cycle for keys nobody touches, and the
//! millisecond precision of TTLs.

use std::time::Duration;

use crate::harness::{wait_until, Node, Value};

#[test]
fn keys_expire_lazily_with_millisecond_precision() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        Value::Simple("OK".into())
    );
    c.cmd(&["SET", "k", "v", "PX", "150"]);
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
    std::thread::sleep(Duration::from_millis(250));
    // Still counted until touched, since the active cycle is off.
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(1));
    assert_eq!(c.cmd(&["GET", "k"]), Value::Nil);
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(0));
    let info = c.cmd(&["INFO", "stats"]).text();
    assert!(info.contains("expired_keys:1\r\n"), "{info}");
}

#[test]
fn the_active_cycle_removes_untouched_keys() {
    let node = Node::replikv(&["--hz", "50"]);
    let mut c = node.conn();
    for i in 0..5000 {
        c.send(&[b"SET", format!("tmp:{i}").as_bytes(), b"v", b"PX", b"100"]);
    }
    for i in 0..1000 {
        c.send(&[b"SET", format!("keep:{i}").as_bytes(), b"v"]);
    }
    for _ in 0..6000 {
        assert_eq!(c.try_read(), Some(Value::Simple("OK".into())));
    }
    wait_until(
        Duration::from_secs(10),
        "active expiry to remove every volatile key",
        || c.cmd(&["DBSIZE"]) == Value::Int(1000),
    );
    let info = c.cmd(&["INFO", "keyspace"]).text();
    assert!(info.contains("db0:keys=1000,expires=0"), "{info}");
}
