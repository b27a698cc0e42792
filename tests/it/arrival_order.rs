//! Commands from different clients that wait together run in the order their input
//! arrived, as Redis's event loop runs them (it serves ready sockets in the order epoll
//! reports them). Redis's own tests lean on this: a deferred client's UNSUBSCRIBE sent
//! before another client's PUBLISH must take effect first, though nothing waits for its
//! reply. Side by side with redis-server 7.0.

use crate::harness::{Conn, Node, Value};

/// Four clients send `RPUSH order <their letter>` back to back, 200 times: the list is
/// `a b c d` every time, on Redis and on replikv. With tokio's LIFO slot (disabled in
/// src/main.rs) the last client woken ran first: 197 rounds of 200 were out of order.
#[test]
fn clients_sending_back_to_back_run_in_arrival_order() {
    let letters: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
    let expected = Value::Array(letters.iter().map(|l| Value::Bulk(l.to_vec())).collect());
    for node in [Node::redis(&[]), Node::replikv(&[])] {
        let mut clients: Vec<Conn> = letters.iter().map(|_| node.conn()).collect();
        let mut out_of_order = 0;
        for _ in 0..200 {
            // On loopback a write is in the server's socket when `send` returns.
            for (c, letter) in clients.iter_mut().zip(letters) {
                c.send(&[b"RPUSH", b"order", letter]);
            }
            for c in clients.iter_mut() {
                assert!(matches!(c.read_raw().0, Value::Int(_)));
            }
            if clients[0].cmd(&["LPOP", "order", "4"]) != expected {
                out_of_order += 1;
            }
        }
        assert_eq!(out_of_order, 0, "{:?}", node.kind);
    }
}
