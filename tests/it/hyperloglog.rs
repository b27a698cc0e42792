//! HyperLogLog against redis-server 7.0: the values are strings in Redis's byte layout, so
//! every PFADD / PFMERGE / PFCOUNT must leave the same bytes (GET compared byte for byte),
//! answer the same counts, refuse the same inputs, and replicate to the same bytes in both
//! directions between replikv and Redis.

use std::time::Duration;

use crate::differential::Pair;
use crate::harness::repl::{start, start_replica, wait_converged, wait_link_up};
use crate::harness::Kind;

/// Adds `n` elements named `prefix:i` to `key` on both servers, in batches of 50.
fn add_many(pair: &mut Pair, key: &str, prefix: &str, n: usize) {
    for start in (0..n).step_by(50) {
        let mut line = format!("PFADD {key}");
        for i in start..(start + 50).min(n) {
            line.push_str(&format!(" {prefix}:{i}"));
        }
        pair.check(&line);
    }
}

#[test]
fn sparse_values_are_byte_identical_to_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        PFADD h
        GET h
        PFCOUNT h
        PFADD h a b c d e f g
        PFADD h a b c
        GET h
        PFCOUNT h
        // The count is cached in the value: GET shows it.
        GET h
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        PFCOUNT missing
        PFADD other x y z
        PFCOUNT h other missing
        PFMERGE dest h other
        GET dest
        PFCOUNT dest
        PFMERGE dest
        PFMERGE fresh
        GET fresh
        OBJECT ENCODING h
        ",
    );
    add_many(&mut pair, "h", "el", 400);
    pair.script(
        "
        GET h
        PFCOUNT h
        GET h
        PFDEBUG DECODE h
        ",
    );
}

#[test]
fn the_dense_form_and_its_conversions_are_byte_identical() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    // Past hll-sparse-max-bytes (3000 by default) the value turns dense.
    add_many(&mut pair, "big", "member", 3000);
    pair.script(
        "
        PFDEBUG ENCODING big
        STRLEN big
        GET big
        PFCOUNT big
        GET big
        ",
    );
    // A small sparse one merged with a dense one comes out dense.
    add_many(&mut pair, "small", "s", 20);
    pair.script(
        "
        PFMERGE merged small big
        PFDEBUG ENCODING merged
        GET merged
        PFCOUNT merged
        PFCOUNT small big
        PFDEBUG TODENSE small
        PFDEBUG TODENSE small
        GET small
        PFDEBUG GETREG small
        PFDEBUG DECODE small
        // A lower limit converts at the next change.
        CONFIG SET hll-sparse-max-bytes 30
        CONFIG GET hll-sparse-max-bytes
        PFADD tiny a
        PFADD tiny b c d e f g h i j k l m n o p
        PFDEBUG ENCODING tiny
        GET tiny
        CONFIG SET hll-sparse-max-bytes 3kb
        CONFIG GET hll-sparse-max-bytes
        ",
    );
}

#[test]
fn wrong_types_and_corrupt_values_get_redis_s_errors() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        SET notahll hello
        PFADD notahll a
        PFCOUNT notahll
        PFMERGE dest notahll
        LPUSH alist a
        PFADD alist a
        PFCOUNT alist
        PFCOUNT h alist
        PFDEBUG ENCODING nosuchkey
        PFADD h a
        PFDEBUG NOSUCH h
        PFDEBUG ENCODING h extra
        PFADD
        PFCOUNT
        // A dense header on a short string is not a HyperLogLog.
        SET fake \"HYLL\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\"
        PFCOUNT fake
        // A sparse value whose runs do not cover every register is corrupt.
        SET broken \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\x00\"
        PFCOUNT broken
        PFADD broken a
        PFMERGE dest2 broken
        EXISTS dest2
        ",
    );
}

/// PFADD, PFMERGE and PFCOUNT (which refreshes the cached count inside the value and so is
/// propagated) leave the same bytes on a replica, in both directions between replikv and
/// Redis.
#[test]
fn hyperloglogs_replicate_to_the_same_bytes_both_ways() {
    for (master_kind, replica_kind) in [(Kind::Replikv, Kind::Redis), (Kind::Redis, Kind::Replikv)]
    {
        let master = start(master_kind, &[]);
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(10));
        let mut m = master.conn();
        for i in 0..3000 {
            let element = format!("e{i}");
            m.cmd(&["PFADD", "big", &element]);
            if i < 50 {
                m.cmd(&["PFADD", "small", &element]);
            }
        }
        m.cmd(&["PFCOUNT", "big"]);
        m.cmd(&["PFCOUNT", "small"]);
        m.cmd(&["PFMERGE", "both", "small", "big"]);
        m.cmd(&["PFCOUNT", "both"]);
        wait_converged(&master, &replica, Duration::from_secs(20));
        let mut r = replica.conn();
        for key in ["big", "small", "both"] {
            let on_master = m.cmd_raw(&[b"GET", key.as_bytes()]).1;
            let on_replica = r.cmd_raw(&[b"GET", key.as_bytes()]).1;
            assert_eq!(
                on_master, on_replica,
                "{key} differs ({master_kind:?} master, {replica_kind:?} replica)"
            );
        }
    }
}
