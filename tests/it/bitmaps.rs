//! Bitmap commands against redis-server 7.0, byte for byte: SETBIT, GETBIT, BITCOUNT,
//! BITPOS (byte and bit ranges, every edge), BITOP, BITFIELD (every width, overflow
//! behaviour and error); hand-written cases, then random
//! strings and random ranges; and the bitmaps replicate both ways.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::differential::Pair;
use crate::harness::repl::{
    assert_same_keyspace, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::Kind;

const CASES: &str = "
    SETBIT b 7 1
    GET b
    SETBIT b 7 1
    SETBIT b 7 0
    SETBIT b 100 1
    STRLEN b
    OBJECT ENCODING b
    GETBIT b 100
    GETBIT b 101
    GETBIT b 100000
    GETBIT nokey 5
    SETBIT b -1 1
    SETBIT b 4294967296000 1
    SETBIT b x 1
    SETBIT b 1 2
    SETBIT b 1 -1
    SETBIT b 1 x
    GETBIT b -1
    SET n 12345
    GETBIT n 2
    SETBIT n 2 1
    GET n
    OBJECT ENCODING n
    SET e hello
    SETBIT e 0 1
    GET e
    OBJECT ENCODING e
    LPUSH l a
    SETBIT l 1 1
    GETBIT l 1
    BITCOUNT l
    BITPOS l 1
    SET s foobar
    BITCOUNT s
    BITCOUNT s 0 0
    BITCOUNT s 1 1
    BITCOUNT s 1 1 BYTE
    BITCOUNT s 5 30 BIT
    BITCOUNT s -1 -1
    BITCOUNT s -2 -1 BIT
    BITCOUNT s -1 -2
    BITCOUNT s -1 -2 bogus
    BITCOUNT s 0 -1 bogus
    BITCOUNT s 0
    BITCOUNT s 0 1 BIT extra
    BITCOUNT s a b
    BITCOUNT nokey
    BITCOUNT nokey 0
    BITCOUNT nokey a b c d
    BITCOUNT s 100 200
    SET empty \"\"
    BITCOUNT empty
    BITPOS empty 0
    BITPOS empty 1
    SET z \"\\xff\\xf0\\x00\"
    BITPOS z 0
    BITPOS z 1
    BITPOS z 1 2
    BITPOS z 0 0 0
    BITPOS z 0 0 1
    BITPOS z 0 0
    BITPOS z 1 7 15 BIT
    BITPOS z 0 7 15 BIT
    BITPOS z 0 12 15 BIT
    BITPOS z 0 0 11 BIT
    BITPOS z 0 0 -1 BIT
    BITPOS z 0 8 BIT
    BITPOS z 1 -5 -1 BIT
    BITPOS z 2
    BITPOS z 1 0 1 BOGUS
    BITPOS z 1 0 1 BIT extra
    BITPOS z 1 a
    BITPOS nokey 0
    BITPOS nokey 1
    BITPOS nokey 2
    BITPOS nokey 0 bogus
    SET allones \"\\xff\\xff\"
    BITPOS allones 0
    BITPOS allones 0 0
    BITPOS allones 0 0 -1
    BITPOS allones 0 0 -1 BIT
    SET k1 foobar
    SET k2 abcdef
    BITOP AND dest k1 k2
    GET dest
    BITOP OR dest k1 k2 nokey
    GET dest
    BITOP XOR dest k1 k2 z
    GET dest
    BITOP NOT dest k1
    GET dest
    BITOP NOT dest k1 k2
    BITOP NAND dest k1
    BITOP AND dest l
    BITOP AND dest nokey nokey2
    EXISTS dest
    SET k3 1
    BITOP OR dest k3 k1
    GET dest
    OBJECT ENCODING dest
    SET withttl x EX 100
    BITOP NOT withttl k1
    TTL withttl
    SETBIT withttl 0 1
    TTL withttl
    COMMAND GETKEYS BITOP AND d a b
    BITFIELD bf SET u8 0 255 GET u8 0 GET i8 0 GET u4 4 GET i64 0
    BITFIELD bf INCRBY u8 0 1 INCRBY u2 100 1 GET u2 100
    BITFIELD bf OVERFLOW SAT INCRBY u8 0 300 INCRBY i8 8 -200 OVERFLOW FAIL INCRBY u8 0 1 OVERFLOW WRAP INCRBY i8 8 -200
    BITFIELD bf SET i8 #2 -100 GET i8 #2 GET u8 16 SET u8 #2 100
    BITFIELD bf SET i64 64 -1 GET i64 64 INCRBY i64 64 9223372036854775807 OVERFLOW SAT INCRBY i64 64 -9223372036854775808 INCRBY i64 64 -9223372036854775808
    BITFIELD bf SET u63 0 9223372036854775807 INCRBY u63 0 1 OVERFLOW SAT INCRBY u63 0 5
    BITFIELD bf SET u8 0 -1 SET i4 0 100 OVERFLOW FAIL SET u2 0 9 SET i3 0 -5
    BITFIELD bf SET u8 0 255
    GET bf
    STRLEN bf
    OBJECT ENCODING bf
    BITFIELD bf
    BITFIELD nokey GET u8 0 GET i16 100
    EXISTS nokey
    BITFIELD bf GET u64 0
    BITFIELD bf GET i65 0
    BITFIELD bf GET u0 0
    BITFIELD bf GET U8 0
    BITFIELD bf GET x8 0
    BITFIELD bf GET u8 -1
    BITFIELD bf GET u8 #-1
    BITFIELD bf GET u8 abc
    BITFIELD bf SET u8 0 abc
    BITFIELD bf OVERFLOW bogus GET u8 0
    BITFIELD bf OVERFLOW
    BITFIELD bf GET u8
    BITFIELD bf FOO u8 0
    BITFIELD bf GET u8 4294967296000
    BITFIELD l GET u8 0
    BITFIELD l SET u8 0 1
    BITFIELD_RO bf GET u8 0 GET i8 #1
    BITFIELD_RO bf SET u8 0 1
    BITFIELD_RO bf INCRBY u8 0 1
    BITFIELD_RO nokey GET u8 0
    SET n2 42
    BITFIELD n2 GET u8 0 SET u8 8 1
    GET n2
    BITFIELD fresh OVERFLOW FAIL INCRBY u2 0 5
    EXISTS fresh
    GET fresh
";

/// Random strings, then random ranges in bytes and bits, every reply compared.
fn random_bits(pair: &mut Pair, rng: &mut StdRng) {
    for k in 0..6 {
        for _ in 0..rng.random_range(1..40) {
            let offset = rng.random_range(0..200);
            pair.check(&format!("SETBIT r{k} {offset} {}", rng.random_range(0..2)));
        }
    }
    pair.check("SET r6 \"\\xff\\xff\\xff\\x00\\xff\"");
    for _ in 0..300 {
        let k = rng.random_range(0..8);
        let (a, b) = (rng.random_range(-40..40), rng.random_range(-40..40));
        let unit = ["", "BYTE", "BIT"][rng.random_range(0..3)];
        let line = match rng.random_range(0..7) {
            5 => {
                let ty = format!(
                    "{}{}",
                    ["i", "u"][rng.random_range(0..2)],
                    rng.random_range(1..33)
                );
                let ow = ["WRAP", "SAT", "FAIL"][rng.random_range(0..3)];
                let (off, v) = (rng.random_range(0..180), rng.random_range(-70000i64..70000));
                format!("BITFIELD r{k} OVERFLOW {ow} INCRBY {ty} {off} {v} GET {ty} {off}")
            }
            6 => {
                let ty = format!(
                    "{}{}",
                    ["i", "u"][rng.random_range(0..2)],
                    rng.random_range(1..64)
                );
                let ow = ["WRAP", "SAT", "FAIL"][rng.random_range(0..3)];
                let (off, v) = (
                    rng.random_range(0..180),
                    rng.random_range(i64::MIN..i64::MAX),
                );
                format!("BITFIELD r{k} OVERFLOW {ow} SET {ty} {off} {v} GET {ty} {off}")
            }
            0 => format!("BITCOUNT r{k} {a} {b} {unit}"),
            1 => format!("BITPOS r{k} {} {a} {b} {unit}", rng.random_range(0..2)),
            2 => format!("BITPOS r{k} {} {a}", rng.random_range(0..2)),
            3 => format!("GETBIT r{k} {}", rng.random_range(0..220)),
            _ => {
                let op = ["AND", "OR", "XOR"][rng.random_range(0..3)];
                format!("BITOP {op} r7 r{k} r{}", rng.random_range(0..7))
            }
        };
        pair.check(line.trim());
    }
    for k in 0..8 {
        pair.check(&format!("GET r{k}"));
    }
}

#[test]
fn bitmap_replies_match_redis_byte_for_byte() {
    let seed: u64 = std::env::var("BITS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("bitmap random seed: {seed} (set BITS_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pair = Pair::start(&[]);
    pair.script(CASES);
    random_bits(&mut pair, &mut rng);
}

/// SETBIT (growing a string, changing a bit, changing nothing) and BITOP (storing,
/// deleting on an empty result) leave the same strings on a replica, in both directions.
#[test]
fn bitmaps_replicate_both_ways() {
    for (master_kind, replica_kind) in [(Kind::Replikv, Kind::Redis), (Kind::Redis, Kind::Replikv)]
    {
        let master = start(master_kind, &[]);
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(10));
        let mut m = master.conn();
        for i in 0..300u32 {
            let offset = (i * 37 % 1000).to_string();
            m.cmd(&[
                "SETBIT",
                "bits",
                &offset,
                if i % 3 == 0 { "0" } else { "1" },
            ]);
        }
        m.cmd(&["SETBIT", "other", "4000", "1"]);
        m.cmd(&["BITOP", "XOR", "x", "bits", "other"]);
        m.cmd(&["BITOP", "NOT", "n", "bits"]);
        m.cmd(&["SET", "gone", "v"]);
        m.cmd(&["BITOP", "AND", "gone", "missing1", "missing2"]);
        m.cmd(&[
            "BITFIELD", "bits", "INCRBY", "i5", "#3", "100", "SET", "u8", "2000", "7",
        ]);
        if master_kind == Kind::Replikv {
            // Every write refused, the string created: a Redis master keeps the new key
            // without propagating it (its replicas diverge); replikv propagates it.
            m.cmd(&[
                "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9",
            ]);
        }
        wait_converged(&master, &replica, Duration::from_secs(20));
        assert_same_keyspace(&master, &replica);
        assert_eq!(replica.conn().cmd(&["EXISTS", "gone"]).text(), "0");
    }
}
