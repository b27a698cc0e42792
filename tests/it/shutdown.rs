//! Shutdown with lagging replicas, as Redis 7.0: SHUTDOWN (and SIGTERM) hold writes and
//! wait up to `shutdown-timeout` for every replica to acknowledge the whole stream before
//! the final save, so a planned restart loses no acknowledged write; SHUTDOWN ABORT cancels
//! the wait and the blocked SHUTDOWN gets Redis's error. Each scenario runs against
//! redis-server 7.0 and replikv alike.

use std::time::Duration;

use crate::harness::repl::{info_field, start, start_replica, wait_converged};
use crate::harness::{wait_until, Kind, Value};

const LINK: Duration = Duration::from_secs(30);

#[test]
fn a_master_shut_down_waits_for_its_lagging_replica() {
    for kind in [Kind::Replikv, Kind::Redis] {
        for how in ["SHUTDOWN", "SIGTERM"] {
            let mut master = start(kind, &["--save", "", "--shutdown-timeout", "60"]);
            let replica = start_replica(kind, &master, &["--save", ""]);
            let mut m = master.conn();
            m.cmd(&["SET", "k", "1"]);
            wait_converged(&master, &replica, LINK);
            replica.freeze();
            assert_eq!(m.cmd(&["INCR", "k"]), Value::Int(2));
            let mut blocked = master.conn();
            match how {
                "SHUTDOWN" => blocked.send(&[b"SHUTDOWN"]),
                _ => master.signal("TERM"),
            }
            let what = format!("{kind:?} master, {how}");
            wait_until(LINK, &format!("{what}: the shutdown to wait"), || {
                info_field(&master, "server", "shutdown_in_milliseconds")
                    .parse::<i64>()
                    .is_ok_and(|ms| ms > 0)
            });
            // Writes are held while it waits; reads are served.
            assert_eq!(m.cmd(&["GET", "k"]), Value::Bulk(b"2".to_vec()), "{what}");
            replica.signal("CONT");
            assert!(
                master.wait_exit(LINK).is_some(),
                "{what}: the master did not exit once its replica caught up"
            );
            assert_eq!(
                replica.conn().cmd(&["GET", "k"]),
                Value::Bulk(b"2".to_vec()),
                "{what}: the replica lost the last write"
            );
            assert!(
                master.log_contains("1 of 1 replicas are in sync when shutting down"),
                "{what}"
            );
        }
    }
}

#[test]
fn shutdown_abort_cancels_the_wait_and_releases_writes() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let master = start(kind, &["--save", "", "--shutdown-timeout", "60"]);
        let replica = start_replica(kind, &master, &["--save", ""]);
        let mut m = master.conn();
        m.cmd(&["SET", "k", "1"]);
        wait_converged(&master, &replica, LINK);
        replica.freeze();
        m.cmd(&["INCR", "k"]);
        let mut blocked = master.conn();
        blocked.send(&[b"SHUTDOWN"]);
        wait_until(LINK, &format!("{kind:?}: the shutdown to wait"), || {
            !info_field(&master, "server", "shutdown_in_milliseconds").is_empty()
        });
        let (_, raw) = m.cmd_raw(&[b"SHUTDOWN", b"ABORT"]);
        assert_eq!(raw, b"+OK\r\n".to_vec(), "{kind:?}");
        let (_, raw) = blocked.read_raw();
        assert_eq!(
            raw,
            b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n".to_vec(),
            "{kind:?}"
        );
        let (_, raw) = m.cmd_raw(&[b"SHUTDOWN", b"ABORT"]);
        assert_eq!(
            raw,
            b"-ERR No shutdown in progress.\r\n".to_vec(),
            "{kind:?}"
        );
        assert_eq!(
            m.cmd(&["INCR", "k"]),
            Value::Int(3),
            "{kind:?}: writes released"
        );
        assert_eq!(
            info_field(&master, "server", "shutdown_in_milliseconds"),
            "",
            "{kind:?}"
        );
        replica.signal("CONT");
        wait_converged(&master, &replica, LINK);
    }
}

/// A stopping server refuses new clients before its SHUTDOWN client sees the connection
/// close, as Redis closes its listeners first: a client (or the suite's "connection
/// refused" check) that reconnects at once never reaches a server on its way out. Also
/// when SHUTDOWN NOSAVE stops a script that timed out.
#[test]
fn a_shut_down_server_refuses_clients_before_its_shutdown_client_sees_the_close() {
    for kind in [Kind::Replikv, Kind::Redis] {
        for busy in [false, true] {
            let node = match kind {
                Kind::Redis => crate::harness::Node::redis(&["--busy-reply-threshold", "100"]),
                Kind::Replikv => crate::harness::Node::replikv(&["--busy-reply-threshold", "100"]),
            };
            let what = format!("{kind:?}, script running: {busy}");
            let mut script = node.conn();
            if busy {
                script.send(&[b"EVAL", b"while true do end", b"0"]);
                wait_until(LINK, &format!("{what}: the script to time out"), || {
                    node.conn().cmd(&["PING"]).is_error()
                });
            }
            let mut c = node.conn();
            c.send(&[b"SHUTDOWN", b"NOSAVE"]);
            assert!(
                c.is_closed(LINK),
                "{what}: SHUTDOWN's connection stays open"
            );
            let refused = std::net::TcpStream::connect(("127.0.0.1", node.port));
            assert!(
                refused.is_err(),
                "{what}: a client connected after SHUTDOWN closed its connection"
            );
        }
    }
}
