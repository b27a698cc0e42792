//! Random command sequences over a small key space holding every type, sent to
//! redis-server 7.0 and replikv, alone and inside MULTI/EXEC, compared byte for byte
//! (sorted where Redis leaves the order unspecified, shape only for random picks).
//! `DIFF_SEED` replays a failing sequence.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::differential::{Mode, Pair};

const KEYS: &[&str] = &["k0", "k1", "k2", "k3"];
const MEMBERS: &[&str] = &["a", "b", "c", "aa", "1", "2", "-3", "10", ""];
const SCORES: &[&str] = &["0", "1", "2.5", "-1", "10", "inf", "-inf", "1e3", "x"];
const BOUNDS: &[&str] = &["-inf", "+inf", "0", "(1", "2.5", "(10", "x", "1"];
const LEX: &[&str] = &["-", "+", "[a", "(a", "[b", "(c", "[1", "x", "[aa"];
const INTS: &[&str] = &["0", "1", "2", "-1", "-2", "3", "100", "x"];

/// A random choice from a list.
fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// One random command and how to compare its reply. `lex` allows BYLEX commands (only
/// where sorted sets stay in the listpack form, since Redis's answers for lexical ranges
/// over differently scored skiplist members depend on the skiplist's random levels).
fn random_command(rng: &mut StdRng, lex: bool) -> (Vec<String>, Mode) {
    let k = pick(rng, KEYS).to_string();
    let k2 = pick(rng, KEYS).to_string();
    let m = pick(rng, MEMBERS).to_string();
    let m2 = pick(rng, MEMBERS).to_string();
    let s = pick(rng, SCORES).to_string();
    let i = pick(rng, INTS).to_string();
    let j = pick(rng, INTS).to_string();
    let e1 = pick(rng, &["LEFT", "RIGHT"]).to_string();
    let e2 = pick(rng, &["LEFT", "RIGHT"]).to_string();
    let v = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<String>>();
    use Mode::{Exact, Shape, Sorted};
    let (cmd, mode): (Vec<String>, Mode) = match rng.random_range(0..96) {
        // Lists.
        0 => (v(&["LPUSH", &k, &m, &m2]), Exact),
        1 => (v(&["RPUSH", &k, &m]), Exact),
        2 => (v(&["LPUSHX", &k, &m]), Exact),
        3 => (v(&["RPUSHX", &k, &m]), Exact),
        4 => (v(&["LPOP", &k]), Exact),
        5 => (v(&["RPOP", &k, &i]), Exact),
        6 => (v(&["LLEN", &k]), Exact),
        7 => (v(&["LRANGE", &k, &i, &j]), Exact),
        8 => (v(&["LINDEX", &k, &i]), Exact),
        9 => (v(&["LSET", &k, &i, &m]), Exact),
        10 => (v(&["LREM", &k, &i, &m]), Exact),
        11 => (v(&["LTRIM", &k, &i, &j]), Exact),
        12 => (
            v(&[
                "LINSERT",
                &k,
                if rng.random() { "BEFORE" } else { "AFTER" },
                &m,
                &m2,
            ]),
            Exact,
        ),
        13 => (v(&["LPOS", &k, &m, "RANK", &i, "COUNT", &j]), Exact),
        14 => (v(&["LPOS", &k, &m]), Exact),
        15 => (v(&["LMOVE", &k, &k2, &e1, &e2]), Exact),
        16 => (v(&["RPOPLPUSH", &k, &k2]), Exact),
        17 => (v(&["LMPOP", "2", &k, &k2, &e1, "COUNT", &i]), Exact),
        18 => (v(&["BLPOP", &k, &k2, "0.01"]), Exact),
        19 => (v(&["BRPOP", &k, "0.01"]), Exact),
        20 => (v(&["BLMOVE", &k, &k2, &e1, &e2, "0.01"]), Exact),
        // Hashes.
        21 => (v(&["HSET", &k, &m, &m2]), Exact),
        22 => (v(&["HSET", &k, &m, &s, &m2, &i]), Exact),
        23 => (v(&["HSETNX", &k, &m, &s]), Exact),
        24 => (v(&["HGET", &k, &m]), Exact),
        25 => (v(&["HMGET", &k, &m, &m2]), Exact),
        26 => (v(&["HDEL", &k, &m, &m2]), Exact),
        27 => (v(&["HEXISTS", &k, &m]), Exact),
        28 => (v(&["HLEN", &k]), Exact),
        29 => (v(&["HKEYS", &k]), Sorted),
        30 => (v(&["HVALS", &k]), Sorted),
        31 => (v(&["HGETALL", &k]), Sorted),
        32 => (v(&["HINCRBY", &k, &m, &i]), Exact),
        33 => (v(&["HINCRBYFLOAT", &k, &m, &s]), Exact),
        34 => (v(&["HSTRLEN", &k, &m]), Exact),
        35 => (v(&["HRANDFIELD", &k, &i]), Shape),
        36 => (v(&["HSCAN", &k, "0"]), Sorted),
        // Sets.
        37 => (v(&["SADD", &k, &m, &m2]), Exact),
        38 => (v(&["SREM", &k, &m]), Exact),
        39 => (v(&["SMEMBERS", &k]), Sorted),
        40 => (v(&["SISMEMBER", &k, &m]), Exact),
        41 => (v(&["SMISMEMBER", &k, &m, &m2]), Exact),
        42 => (v(&["SCARD", &k]), Exact),
        43 => (v(&["SPOP", &k, "100"]), Sorted),
        44 => (v(&["SRANDMEMBER", &k, &i]), Shape),
        45 => (v(&["SMOVE", &k, &k2, &m]), Exact),
        46 => (v(&["SINTER", &k, &k2]), Sorted),
        47 => (v(&["SUNION", &k, &k2]), Sorted),
        48 => (v(&["SDIFF", &k, &k2]), Sorted),
        49 => (v(&["SINTERSTORE", &k, &k2, &k]), Exact),
        50 => (v(&["SUNIONSTORE", &k2, &k, &k2]), Exact),
        51 => (v(&["SDIFFSTORE", &k, &k2]), Exact),
        52 => (v(&["SINTERCARD", "2", &k, &k2, "LIMIT", &i]), Exact),
        53 => (v(&["SSCAN", &k, "0"]), Sorted),
        // Sorted sets.
        54 => (v(&["ZADD", &k, &s, &m]), Exact),
        55 => (
            v(&[
                "ZADD",
                &k,
                pick(rng, &["NX", "XX", "GT", "LT", "CH"]),
                &s,
                &m,
                &i,
                &m2,
            ]),
            Exact,
        ),
        56 => (v(&["ZADD", &k, "INCR", &s, &m]), Exact),
        57 => (v(&["ZINCRBY", &k, &s, &m]), Exact),
        58 => (v(&["ZREM", &k, &m, &m2]), Exact),
        59 => (v(&["ZSCORE", &k, &m]), Exact),
        60 => (v(&["ZMSCORE", &k, &m, &m2]), Exact),
        61 => (v(&["ZCARD", &k]), Exact),
        62 => (
            v(&["ZCOUNT", &k, pick(rng, BOUNDS), pick(rng, BOUNDS)]),
            Exact,
        ),
        63 => (v(&["ZRANGE", &k, &i, &j, "WITHSCORES"]), Exact),
        64 => (
            v(&[
                "ZRANGE",
                &k,
                pick(rng, BOUNDS),
                pick(rng, BOUNDS),
                "BYSCORE",
                "LIMIT",
                &i,
                &j,
            ]),
            Exact,
        ),
        65 => (
            v(&[
                "ZRANGE",
                &k,
                pick(rng, BOUNDS),
                pick(rng, BOUNDS),
                "BYSCORE",
                "REV",
                "WITHSCORES",
            ]),
            Exact,
        ),
        66 => (v(&["ZRANGESTORE", &k2, &k, &i, &j]), Exact),
        67 => (
            v(&[
                "ZRANGEBYSCORE",
                &k,
                pick(rng, BOUNDS),
                pick(rng, BOUNDS),
                "WITHSCORES",
            ]),
            Exact,
        ),
        68 => (
            v(&[
                "ZREVRANGEBYSCORE",
                &k,
                pick(rng, BOUNDS),
                pick(rng, BOUNDS),
                "LIMIT",
                &i,
                &j,
            ]),
            Exact,
        ),
        69 => (v(&["ZREVRANGE", &k, &i, &j]), Exact),
        70 => (v(&["ZRANK", &k, &m]), Exact),
        71 => (v(&["ZREVRANK", &k, &m]), Exact),
        72 => (v(&["ZPOPMIN", &k]), Exact),
        73 => (v(&["ZPOPMAX", &k, &i]), Exact),
        74 => (
            v(&[
                "ZMPOP",
                "2",
                &k,
                &k2,
                pick(rng, &["MIN", "MAX"]),
                "COUNT",
                &i,
            ]),
            Exact,
        ),
        75 => (v(&["BZPOPMIN", &k, &k2, "0.01"]), Exact),
        76 => (v(&["ZRANDMEMBER", &k, &i, "WITHSCORES"]), Shape),
        77 => (v(&["ZREMRANGEBYRANK", &k, &i, &j]), Exact),
        78 => (
            v(&["ZREMRANGEBYSCORE", &k, pick(rng, BOUNDS), pick(rng, BOUNDS)]),
            Exact,
        ),
        79 => (
            v(&[
                "ZUNIONSTORE",
                &k,
                "2",
                &k,
                &k2,
                "WEIGHTS",
                &i,
                "2",
                "AGGREGATE",
                pick(rng, &["SUM", "MIN", "MAX"]),
            ]),
            Exact,
        ),
        80 => (v(&["ZINTERSTORE", &k2, "2", &k, &k2]), Exact),
        81 => (v(&["ZDIFFSTORE", &k, "2", &k2, &k]), Exact),
        82 => (v(&["ZUNION", "2", &k, &k2, "WITHSCORES"]), Exact),
        83 => (
            v(&["ZINTER", "2", &k, &k2, "AGGREGATE", "MAX", "WITHSCORES"]),
            Exact,
        ),
        84 => (v(&["ZDIFF", "2", &k, &k2, "WITHSCORES"]), Exact),
        85 => (v(&["ZINTERCARD", "2", &k, &k2]), Exact),
        86 => (v(&["ZSCAN", &k, "0"]), Sorted),
        87 if lex => (
            v(&[
                "ZRANGEBYLEX",
                &k,
                pick(rng, LEX),
                pick(rng, LEX),
                "LIMIT",
                &i,
                &j,
            ]),
            Exact,
        ),
        88 if lex => (
            v(&["ZREVRANGEBYLEX", &k, pick(rng, LEX), pick(rng, LEX)]),
            Exact,
        ),
        89 if lex => (v(&["ZLEXCOUNT", &k, pick(rng, LEX), pick(rng, LEX)]), Exact),
        90 if lex => (
            v(&["ZREMRANGEBYLEX", &k, pick(rng, LEX), pick(rng, LEX)]),
            Exact,
        ),
        // Keys and strings, so every type meets every other.
        91 => (v(&["SET", &k, &m]), Exact),
        92 => (v(&["DEL", &k]), Exact),
        93 => (v(&["TYPE", &k]), Exact),
        94 => (v(&["RENAME", &k, &k2]), Exact),
        95 => (v(&["COPY", &k, &k2, "REPLACE"]), Exact),
        _ => (v(&["OBJECT", "ENCODING", &k]), Exact),
    };
    (cmd, mode)
}

/// The strictest comparison that holds for a whole transaction.
fn combined(modes: &[Mode]) -> Mode {
    if modes.contains(&Mode::Shape) {
        Mode::Shape
    } else if modes.contains(&Mode::Sorted) {
        Mode::Sorted
    } else {
        Mode::Exact
    }
}

fn run(pair_args: &[&str], setup: &[&str], lex: bool, steps: usize) {
    let seed: u64 = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("random differential seed: {seed} (set DIFF_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut p = Pair::start(pair_args);
    for line in setup {
        p.check(line);
    }
    let mut done = 0;
    while done < steps {
        if rng.random_range(0..8) == 0 {
            // A transaction of a few commands; its EXEC array is compared as a whole.
            let n = rng.random_range(1..5);
            p.check("MULTI");
            let mut modes = Vec::new();
            for _ in 0..n {
                let (cmd, mode) = random_command(&mut rng, lex);
                let refs: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
                p.check_mode(&refs, Mode::Exact);
                modes.push(mode);
            }
            p.check_mode(&[b"EXEC"], combined(&modes));
            done += n;
        } else {
            let (cmd, mode) = random_command(&mut rng, lex);
            let refs: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
            p.check_mode(&refs, mode);
            done += 1;
        }
    }
    // Whatever the sequence did, both servers hold the same data.
    for k in KEYS {
        p.check(&format!("TYPE {k}"));
        p.check(&format!("OBJECT ENCODING {k}"));
    }
}

/// Small collections in their compact encodings (listpack, intset), lexical ranges included.
#[test]
fn random_sequences_of_collection_commands() {
    run(&[], &[], true, 3000);
}

/// The same with tiny encoding thresholds, so hash tables and skiplists form after a few
/// elements and convert under the commands' feet.
#[test]
fn random_sequences_of_collection_commands_in_large_encodings() {
    run(
        &[],
        &[
            "CONFIG SET hash-max-listpack-entries 2",
            "CONFIG SET set-max-intset-entries 2",
            "CONFIG SET zset-max-listpack-entries 2",
        ],
        false,
        3000,
    );
}
