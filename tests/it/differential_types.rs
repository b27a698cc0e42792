//! Differential tests of the collection types: lists, hashes, sets and sorted sets, sent to
//! a real redis-server 7.0 and to replikv and compared byte for byte (sorted where Redis
//! leaves the order unspecified, membership only for random picks).

use crate::differential::{Mode, Pair};

#[test]
fn list_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        LPUSH l a b c
        RPUSH l d e
        LRANGE l 0 -1
        LLEN l
        LLEN nokey
        LPUSHX nokey a
        RPUSHX nokey a
        EXISTS nokey
        LPUSHX l x
        RPUSHX l y z
        LRANGE l 0 -1
        LRANGE l -3 -1
        LRANGE l -100 100
        LRANGE l 5 2
        LRANGE l 100 200
        LRANGE l 0 x
        LRANGE nokey 0 -1
        LRANGE nokey x 1
        LINDEX l 0
        LINDEX l -1
        LINDEX l 100
        LINDEX l -100
        LINDEX l x
        LINDEX nokey x
        LINDEX nokey 0
        LSET l 0 first
        LSET l -1 last
        LSET l 100 x
        LSET l x y
        LSET nokey 0 x
        LSET nokey x x
        LRANGE l 0 -1
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 0
        LPOP l 0
        LPOP l -1
        LPOP l x
        LPOP l 1 2
        LPOP nokey
        LPOP nokey 2
        LPOP nokey 0
        RPOP nokey x
        RPOP l 100
        EXISTS l
        RPUSH l a b a c a d a
        LREM l 2 a
        LRANGE l 0 -1
        LREM l -1 a
        LRANGE l 0 -1
        LREM l 0 a
        LRANGE l 0 -1
        LREM l 0 zzz
        LREM l x a
        LREM nokey 1 a
        LREM nokey x a
        RPUSH l2 a a a a
        LREM l2 -9223372036854775808 a
        EXISTS l2
        RPUSH l3 1 2 3 4 5 6
        LTRIM l3 1 -2
        LRANGE l3 0 -1
        LTRIM l3 -100 100
        LRANGE l3 0 -1
        LTRIM l3 3 1
        EXISTS l3
        LTRIM nokey 0 1
        LTRIM l x 1
        RPUSH l4 a b c
        LINSERT l4 BEFORE b X
        LINSERT l4 after b Y
        LINSERT l4 before nope Z
        LINSERT l4 middle b Z
        LINSERT nokey before a b
        LRANGE l4 0 -1
        RPUSH l5 a b c a b c a
        LPOS l5 a
        LPOS l5 a RANK 2
        LPOS l5 a RANK -1
        LPOS l5 a RANK -2
        LPOS l5 a COUNT 0
        LPOS l5 a COUNT 2
        LPOS l5 a COUNT 2 RANK -1
        LPOS l5 a COUNT 0 MAXLEN 4
        LPOS l5 a MAXLEN 1 RANK -1
        LPOS l5 z
        LPOS l5 z COUNT 3
        LPOS l5 a RANK 0
        LPOS l5 a RANK x
        LPOS l5 a COUNT -1
        LPOS l5 a COUNT x
        LPOS l5 a MAXLEN -1
        LPOS l5 a MAXLEN x
        LPOS l5 a FOO
        LPOS l5 a RANK
        LPOS l5 a RANK -9223372036854775808
        LPOS l5 a RANK 9223372036854775807
        LPOS nokey a
        LPOS nokey a COUNT 1
        RPUSH src 1 2 3
        LMOVE src dst LEFT RIGHT
        LMOVE src dst right left
        LMOVE src src LEFT RIGHT
        LRANGE src 0 -1
        LRANGE dst 0 -1
        LMOVE src dst up LEFT
        LMOVE nokey dst LEFT LEFT
        RPOPLPUSH src dst
        RPOPLPUSH src dst
        EXISTS src
        RPOPLPUSH nokey dst
        LRANGE dst 0 -1
        SET str x
        LMOVE dst str LEFT LEFT
        LMOVE str dst LEFT LEFT
        LMOVE nokey str LEFT LEFT
        RPOPLPUSH dst str
        LRANGE dst 0 -1
        LPUSH str a
        LRANGE str 0 1
        LLEN str
        LPOP str
        LINDEX str 0
        LSET str 0 a
        LREM str 0 a
        LTRIM str 0 1
        LINSERT str before a b
        LPOS str a
        LPUSHX str a
        RPUSH m1 a b c
        RPUSH m2 d e
        LMPOP 2 m1 m2 LEFT
        LMPOP 2 nokey m2 RIGHT COUNT 10
        LMPOP 2 nokey nokey2 LEFT
        LMPOP 2 m1 str LEFT COUNT 5
        LMPOP 2 str m1 LEFT
        LMPOP 0 m1 LEFT
        LMPOP -1 m1 LEFT
        LMPOP x m1 LEFT
        LMPOP 1 m1 MIDDLE
        LMPOP 1 m1 LEFT COUNT 0
        LMPOP 1 m1 LEFT COUNT -1
        LMPOP 1 m1 LEFT COUNT x
        LMPOP 1 m1 LEFT COUNT 1 COUNT 1
        LMPOP 1 m1 LEFT COUNT
        LMPOP 1 m1 LEFT FOO
        LMPOP 3 m1 LEFT
        LMPOP 9223372036854775807 m1 LEFT
        LPUSH
        LPUSH l
        LRANGE l 0
        LPOS l
        OBJECT ENCODING dst
        TYPE dst
        "#,
    );
}

#[test]
fn blocking_list_commands_answer_at_once_when_data_is_there() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        RPUSH a 1 2 3 4 5 6 7 8
        RPUSH b x
        BLPOP nokey a b 0
        BRPOP a b 0
        BRPOP nokey b a 1.5
        BLPOP b a 0.01
        BLMOVE a c LEFT RIGHT 0
        BRPOPLPUSH c a 0
        BLMPOP 0 2 nokey a LEFT COUNT 3
        LRANGE c 0 -1
        SET s x
        BLPOP s 0
        BLPOP nokey s 0
        BLMOVE s c LEFT LEFT 0
        BLMPOP 0 1 s LEFT
        BLPOP a abc
        BLPOP a -1
        BLPOP a ""
        BLPOP a " 1"
        BLPOP a inf
        BLPOP a 1e30
        BLPOP a nan
        BLMOVE a c LEFT LEFT abc
        BLMOVE a c LEFT UP 0
        BLMPOP abc 1 a LEFT
        BLMPOP 0 0 a LEFT
        BLMPOP 0 1 a LEFT COUNT 0
        BRPOPLPUSH a c -5
        BLPOP nokey 0.01
        BRPOP nokey 0.001
        BLMOVE nokey c LEFT LEFT 0.01
        BRPOPLPUSH nokey c 0.01
        BLMPOP 0.01 1 nokey RIGHT
        MULTI
        BLPOP nokey 0
        BRPOPLPUSH nokey c 0
        BLMOVE nokey c LEFT LEFT 0
        BLMPOP 0 1 nokey LEFT
        BLPOP c 0
        EXEC
        "#,
    );
}

#[test]
fn hash_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        HSET h f1 v1 f2 v2
        HSET h f1 new f3 v3
        HGET h f1
        HGET h nofield
        HGET nokey f
        HMGET h f1 nofield f3
        HMGET nokey a b
        HMSET h f4 v4 f5 v5
        HSETNX h f1 x
        HSETNX h f6 v6
        HSETNX newh f v
        HGETALL h
        HKEYS h
        HVALS h
        HGETALL nokey
        HKEYS nokey
        HVALS nokey
        HLEN h
        HLEN nokey
        HEXISTS h f1
        HEXISTS h nofield
        HEXISTS nokey f
        HSTRLEN h f1
        HSTRLEN h nofield
        HSTRLEN nokey f
        HDEL h f1 nofield f2
        HDEL h nofield
        HDEL nokey f
        HGETALL h
        HDEL newh f
        EXISTS newh
        HSET n i 10 f 1.5 s abc big 9223372036854775807 z 007
        HINCRBY n i 5
        HINCRBY n i -20
        HINCRBY n new 3
        HINCRBY n f 1
        HINCRBY n s 1
        HINCRBY n z 1
        HINCRBY n big 1
        HINCRBY n i x
        HINCRBY n i 9223372036854775807
        HINCRBY n i -9223372036854775808
        HINCRBY nokey2 f 7
        HINCRBYFLOAT n f 0.1
        HINCRBYFLOAT n f -1.6
        HINCRBYFLOAT n i 1e3
        HINCRBYFLOAT n s 1
        HINCRBYFLOAT n f abc
        HINCRBYFLOAT n f inf
        HINCRBYFLOAT n f nan
        HINCRBYFLOAT n nf 5.0e3
        HINCRBYFLOAT n big 1
        HINCRBYFLOAT n f 1.7976931348623157e308
        HGET n f
        HINCRBYFLOAT nokey3 f 0.1
        OBJECT ENCODING n
        HSET h
        HSET h a
        HSET h a 1 b
        HMSET h a
        HGETALL
        HSET long f aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING long
        HSET long2 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa v
        OBJECT ENCODING long2
        HSET long3 f 1
        HINCRBYFLOAT long3 f 1e100
        OBJECT ENCODING long3
        HSET long4 f 1
        HINCRBY long4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1
        OBJECT ENCODING long4
        HSETNX long5 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1
        OBJECT ENCODING long5
        OBJECT ENCODING h
        TYPE h
        SET str x
        HSET str a b
        HGET str a
        HGETALL str
        HDEL str a
        HLEN str
        HINCRBY str a 1
        HINCRBYFLOAT str a 1
        HINCRBYFLOAT str a x
        HSETNX str a b
        HMGET str a
        HEXISTS str a
        HSTRLEN str a
        HKEYS str
        HRANDFIELD str
        HSCAN str 0
        HRANDFIELD nokey
        HRANDFIELD nokey 5
        HRANDFIELD nokey 5 WITHVALUES
        HRANDFIELD h 0
        HRANDFIELD h 100
        HRANDFIELD h 100 WITHVALUES
        HRANDFIELD h 5 WITHVALUES extra
        HRANDFIELD h 5 FOO
        HRANDFIELD h x
        HRANDFIELD h -9223372036854775808
        HRANDFIELD h 9223372036854775807 WITHVALUES
        HRANDFIELD h -9223372036854775807 WITHVALUES
        HSCAN h 0
        HSCAN h 0 MATCH f*
        HSCAN h 0 MATCH x*
        HSCAN h 0 COUNT 1
        HSCAN h 12345
        HSCAN h 0 COUNT 0
        HSCAN h 0 FOO bar
        HSCAN h 0 TYPE string
        HSCAN h abc
        HSCAN nokey 0
        HSCAN nokey 0 FOO
        HSCAN nokey abc
        HSCAN str 0 FOO
        "#,
    );
    // Random picks: only the shape and membership are deterministic.
    p.script(
        r#"
        ?HRANDFIELD h
        ?HRANDFIELD h 2
        ?HRANDFIELD h -3
        ?HRANDFIELD h -3 WITHVALUES
        ?HRANDFIELD h 2 WITHVALUES
        "#,
    );
    p.script("?HELLO 3");
    p.script(
        r#"
        HGETALL h
        HGETALL nokey
        HRANDFIELD h 100 WITHVALUES
        ?HRANDFIELD h -2 WITHVALUES
        HINCRBYFLOAT n f 1
        HSCAN h 0
        "#,
    );
}

#[test]
fn big_hashes_convert_and_scan_completely() {
    let mut p = Pair::start(&[]);
    for i in 0..600 {
        p.check(&format!("HSET big f{i} v{i}"));
        if i == 510 || i == 511 || i == 512 {
            p.check("OBJECT ENCODING big");
        }
    }
    p.script(
        r#"
        OBJECT ENCODING big
        HLEN big
        ~HGETALL big
        ~HKEYS big
        ~HVALS big
        HGET big f599
        HDEL big f0
        OBJECT ENCODING big
        CONFIG SET hash-max-listpack-entries 4
        HSET small a 1 b 2 c 3 d 4
        OBJECT ENCODING small
        HSET small e 5
        OBJECT ENCODING small
        CONFIG SET hash-max-listpack-value 3
        HSET small2 a 1234
        OBJECT ENCODING small2
        "#,
    );
    assert_full_scan(&mut p, &["HSCAN", "big"], 599 * 2);
}

/// Iterates a SCAN-family command to the end on both servers with a small COUNT and
/// checks that both return the same elements (as a set) and `expected` items in all.
pub fn assert_full_scan(p: &mut Pair, cmd: &[&str], expected: usize) {
    use std::collections::BTreeSet;
    let mut results: Vec<BTreeSet<Vec<u8>>> = Vec::new();
    for ours in [false, true] {
        let conn = if ours { &mut p.oc } else { &mut p.rc };
        let mut cursor = "0".to_string();
        let mut seen = BTreeSet::new();
        let mut calls = 0;
        loop {
            let mut args: Vec<&str> = cmd.to_vec();
            args.push(&cursor);
            args.extend(["COUNT", "7"]);
            let reply = conn.cmd(&args).array();
            cursor = reply[0].text();
            let items = reply[1].array();
            // Pairs (HSCAN, ZSCAN) are kept together so that a value is checked with its key.
            let pair = cmd[0].eq_ignore_ascii_case("HSCAN") || cmd[0].eq_ignore_ascii_case("ZSCAN");
            if pair {
                for kv in items.chunks(2) {
                    let mut joined = kv[0].text().into_bytes();
                    joined.push(0);
                    joined.extend(kv[1].text().into_bytes());
                    seen.insert(joined);
                }
            } else {
                for it in items {
                    seen.insert(it.text().into_bytes());
                }
            }
            calls += 1;
            assert!(calls < 100_000, "scan does not end");
            if cursor == "0" {
                break;
            }
        }
        let count = if cmd[0].eq_ignore_ascii_case("HSCAN") || cmd[0].eq_ignore_ascii_case("ZSCAN")
        {
            seen.len() * 2
        } else {
            seen.len()
        };
        assert_eq!(count, expected, "ours={ours}: {cmd:?}");
        results.push(seen);
    }
    assert_eq!(results[0], results[1], "{cmd:?}: redis vs replikv");
}

#[test]
fn set_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        SADD s 3 1 2
        SADD s 2 4
        SMEMBERS s
        OBJECT ENCODING s
        SADD t a b c 1
        ~SMEMBERS t
        OBJECT ENCODING t
        SCARD s
        SCARD nokey
        SISMEMBER s 1
        SISMEMBER s 01
        SISMEMBER s x
        SISMEMBER nokey x
        SMISMEMBER s 1 5 2
        SMISMEMBER nokey a b
        SREM s 1 5
        SREM s nope
        SREM nokey a
        SMEMBERS s
        SMEMBERS nokey
        SADD u 2 3 x
        SINTER s u
        ~SINTER u t
        SINTER s nokey
        SINTER nokey s
        ~SUNION s u
        ~SUNION s t u
        SUNION nokey
        SDIFF s u
        SDIFF u s
        SDIFF nokey s
        SDIFF s nokey
        SINTERSTORE d1 s u
        SMEMBERS d1
        OBJECT ENCODING d1
        SUNIONSTORE d2 s t
        ~SMEMBERS d2
        OBJECT ENCODING d2
        SDIFFSTORE d3 s u
        SMEMBERS d3
        SINTERSTORE d3 s nokey
        EXISTS d3
        SDIFFSTORE d2 nokey
        EXISTS d2
        SUNIONSTORE s s u
        ~SMEMBERS s
        SINTERCARD 2 s u
        SINTERCARD 2 s u LIMIT 1
        SINTERCARD 2 s u LIMIT 0
        SINTERCARD 1 nokey
        SINTERCARD 0 s
        SINTERCARD 3 s u
        SINTERCARD 2 s u LIMIT -1
        SINTERCARD 2 s u LIMIT x
        SINTERCARD 2 s u FOO
        SINTERCARD x s
        SINTERCARD 1 s LIMIT
        SET str x
        SINTER s str
        SINTER nokey str
        SUNION s str
        SDIFF nokey str
        SINTERSTORE d s str
        SINTERCARD 2 s str
        SADD str a
        SMEMBERS str
        SCARD str
        SISMEMBER str a
        SPOP str
        SRANDMEMBER str
        SMOVE str s a
        SMOVE s str 2
        SMOVE nokey str a
        SADD m1 a b
        SADD m2 c
        SMOVE m1 m2 a
        SMOVE m1 m2 zz
        SMOVE m1 m1 b
        SMOVE m1 m1 zz
        SMOVE m1 m3 b
        EXISTS m1
        SMEMBERS m3
        ~SMEMBERS m2
        SMOVE m2 m3 c
        SADD i 1 2 3
        SADD i x
        OBJECT ENCODING i
        SREM i x
        OBJECT ENCODING i
        SADD big 1 2 3 -9223372036854775808 9223372036854775807
        SMEMBERS big
        SADD big 9223372036854775808
        OBJECT ENCODING big
        SADD neg -1 -0 +1 01
        OBJECT ENCODING neg
        SPOP nokey
        SPOP nokey 3
        SPOP s 0
        SPOP s -1
        SPOP s x
        SPOP s 1 2
        SRANDMEMBER nokey
        SRANDMEMBER nokey 3
        SRANDMEMBER s 0
        SRANDMEMBER s x
        SRANDMEMBER s 1 2
        SRANDMEMBER s -9223372036854775808
        SADD p 1 2 3
        SRANDMEMBER p 10
        SPOP p 10
        EXISTS p
        ~SSCAN i 0
        ~SSCAN i 0 MATCH 1*
        ~SSCAN t 0 COUNT 100
        SSCAN nokey 0
        SSCAN nokey 0 FOO
        SSCAN str 0
        SSCAN s abc
        SSCAN s 0 COUNT 0
        SSCAN s 0 FOO bar
        SADD
        SADD s
        SMISMEMBER s
        "#,
    );
    p.script(
        r#"
        SADD r 1 2 3 4 5 6
        ?SPOP r
        ?SPOP r 2
        ?SRANDMEMBER r
        ?SRANDMEMBER r 2
        ?SRANDMEMBER r -8
        SCARD r
        "#,
    );
    p.script("?HELLO 3");
    p.script(
        r#"
        SADD j 3 1 2
        SMEMBERS j
        ~SMEMBERS i
        SMEMBERS nokey
        SINTER j j
        ~SINTER i i
        SUNION nokey
        SPOP nokey 2
        SPOP j 0
        SRANDMEMBER j 10
        SRANDMEMBER nokey 2
        SPOP j 100
        ~SPOP i 100
        "#,
    );
}

#[test]
fn big_sets_convert_and_scan_completely() {
    let mut p = Pair::start(&[]);
    let members: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    for chunk in members.chunks(100) {
        let mut args: Vec<&[u8]> = vec![b"SADD", b"bigint"];
        args.extend(chunk.iter().map(|m| m.as_bytes()));
        p.check_mode(&args, Mode::Exact);
        p.check("OBJECT ENCODING bigint");
    }
    for i in 0..300 {
        p.check(&format!("SADD strs m{i}"));
    }
    p.script(
        r#"
        SCARD bigint
        ~SMEMBERS bigint
        SINTERCARD 2 bigint strs
        SREM bigint 0 1 2
        OBJECT ENCODING bigint
        ~SINTER bigint bigint
        SINTERSTORE small bigint bigint
        OBJECT ENCODING small
        SPOP strs 0
        CONFIG SET set-max-intset-entries 3
        SADD tiny 1 2 3
        OBJECT ENCODING tiny
        SADD tiny 4
        OBJECT ENCODING tiny
        SUNIONSTORE tiny2 tiny
        OBJECT ENCODING tiny2
        "#,
    );
    assert_full_scan(&mut p, &["SSCAN", "bigint"], 597);
    assert_full_scan(&mut p, &["SSCAN", "strs"], 300);
    // Large sets: random picks are checked for size and distinctness only.
    for cmd in [
        &["SRANDMEMBER", "strs", "50"][..],
        &["SPOP", "strs", "50"][..],
    ] {
        for ours in [false, true] {
            let c = if ours { &mut p.oc } else { &mut p.rc };
            let got = c.cmd(cmd).array();
            let distinct: std::collections::BTreeSet<String> =
                got.iter().map(|v| v.text()).collect();
            assert_eq!((got.len(), distinct.len()), (50, 50), "{cmd:?} ours={ours}");
        }
    }
    p.check("SCARD strs");
}

#[test]
fn sorted_set_commands() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c
        ZADD z 1.5 a 4 d
        ZADD z NX 10 a 5 e
        ZADD z XX 20 a 6 f
        ZADD z XX CH 21 a 3 c
        ZADD z CH 22 a 7 g
        ZADD z GT 1 a
        ZADD z GT CH 30 a
        ZADD z LT CH 100 a
        ZADD z LT CH 0 a
        ZADD z XX GT CH 5 b
        ZADD z INCR 1 a
        ZADD z INCR NX 1 a
        ZADD z INCR XX 1 nomember
        ZADD z INCR GT -5 a
        ZADD z INCR LT -5 a
        ZADD z INCR 0 a
        ZADD z NX XX 1 a
        ZADD z GT LT 1 a
        ZADD z NX GT 1 a
        ZADD z NX LT 1 a
        ZADD z INCR 1 a 2 b
        ZADD z 1
        ZADD z x a
        ZADD z nan a
        ZADD z 1 a 2
        ZADD z NX
        ZADD z NX 1
        ZADD z FOO 1 a
        ZADD z +inf inf -inf ninf 1e3 e3 0x10 hex -0.0 negzero
        ZADD z INCR -inf inf
        ZADD z INCR +inf inf
        ZADD z INCR 1 inf
        ZADD newz XX 1 a
        EXISTS newz
        ZADD newz XX INCR 1 a
        ZADD newz INCR 1.5 a
        ZADD newz INCR -0.0 n
        ZSCORE newz n
        ZINCRBY newz 2.5 a
        ZINCRBY newz -0.0 b
        ZINCRBY newz x a
        ZINCRBY newz nan a
        ZINCRBY newz +inf a
        ZINCRBY newz -inf a
        ZRANGE z 0 -1 WITHSCORES
        ZCARD z
        ZCARD nokey
        ZSCORE z a
        ZSCORE z nomember
        ZSCORE nokey a
        ZSCORE z inf
        ZSCORE z hex
        ZMSCORE z a b nomember inf
        ZMSCORE nokey a b
        ZRANK z a
        ZRANK z inf
        ZRANK z nomember
        ZRANK nokey a
        ZREVRANK z a
        ZREVRANK z ninf
        ZREVRANK nokey a
        ZREM z a nomember b
        ZREM z nomember
        ZREM nokey a
        ZRANGE z 0 -1
        ZRANGE z -3 -1 WITHSCORES
        ZRANGE z 0 -1 REV WITHSCORES
        ZRANGE z 2 1
        ZRANGE z 100 200
        ZRANGE z -100 1
        ZRANGE z 0 x
        ZRANGE z 0 -1 LIMIT 0 1
        ZRANGE z 0 -1 LIMIT 0 -1
        ZRANGE z 0 -1 REV REV
        ZRANGE z 0 -1 BYSCORE BYLEX
        ZRANGE z 0 -1 FOO
        ZRANGE z 0 -1 LIMIT 0
        ZRANGE nokey 0 -1
        ZRANGE z -inf +inf BYSCORE
        ZRANGE z (1 5 BYSCORE WITHSCORES
        ZRANGE z 5 (1 BYSCORE REV WITHSCORES
        ZRANGE z -inf +inf BYSCORE LIMIT 1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
        ZRANGE z -inf +inf BYSCORE LIMIT -1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 100 2
        ZRANGE z -inf +inf BYSCORE LIMIT 0 0
        ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES
        ZRANGE z 3 3 BYSCORE
        ZRANGE z (3 3 BYSCORE
        ZRANGE z 5 1 BYSCORE
        ZRANGE z a b BYSCORE
        ZRANGE z ( 5 BYSCORE
        ZRANGE z " 1" 5 BYSCORE
        ZRANGE z "1 " 5 BYSCORE
        ZRANGE z 1e999 inf BYSCORE
        ZRANGE z 0 -1 BYLEX
        ZRANGE z - + BYLEX WITHSCORES
        ZRANGE z [a [z BYLEX LIMIT 0 2
        ZRANGE z [z [a BYLEX REV
        ZRANGE z a b BYLEX
        ZRANGESTORE dst z 0 -1
        ZRANGE dst 0 -1 WITHSCORES
        OBJECT ENCODING dst
        ZRANGESTORE dst z 1 2 BYSCORE REV
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst z 100 200
        EXISTS dst
        ZRANGESTORE dst nokey 0 -1
        ZRANGESTORE dst z 0 -1 WITHSCORES
        ZRANGESTORE dst z - + BYLEX LIMIT 0 2
        ZRANGE dst 0 -1
        ZREVRANGE z 0 -1 WITHSCORES
        ZREVRANGE z 0 1
        ZREVRANGE z 0 1 BYSCORE
        ZREVRANGE z 0 1 LIMIT 0 1
        ZRANGEBYSCORE z -inf +inf WITHSCORES
        ZRANGEBYSCORE z 1 5 LIMIT 1 1
        ZRANGEBYSCORE z 1 5 WITHSCORES WITHSCORES
        ZRANGEBYSCORE z 1 5 LIMIT 1
        ZRANGEBYSCORE z 1 5 BYSCORE
        ZRANGEBYSCORE z 1 5 REV
        ZRANGEBYSCORE z x 5
        ZREVRANGEBYSCORE z +inf -inf WITHSCORES
        ZREVRANGEBYSCORE z 5 (1 LIMIT 0 2
        ZREVRANGEBYSCORE z 1 5
        ZCOUNT z -inf +inf
        ZCOUNT z (1 5
        ZCOUNT z 5 1
        ZCOUNT z x 1
        ZCOUNT nokey 0 1
        ZCOUNT nokey x 1
        DEL lex
        ZADD lex 0 a 0 b 0 c 0 d 0 e 0 f 0 g
        ZRANGEBYLEX lex - +
        ZRANGEBYLEX lex - [c
        ZRANGEBYLEX lex - (c
        ZRANGEBYLEX lex [aaa (g
        ZRANGEBYLEX lex (b [f LIMIT 1 2
        ZRANGEBYLEX lex + -
        ZRANGEBYLEX lex - -
        ZRANGEBYLEX lex + +
        ZRANGEBYLEX lex [c [c
        ZRANGEBYLEX lex (c [c
        ZRANGEBYLEX lex [c (c
        ZRANGEBYLEX lex c d
        ZRANGEBYLEX lex [a
        ZRANGEBYLEX lex - + WITHSCORES
        ZRANGEBYLEX lex "" +
        ZRANGEBYLEX lex -a +
        ZREVRANGEBYLEX lex + -
        ZREVRANGEBYLEX lex [f (b LIMIT 1 2
        ZREVRANGEBYLEX lex - +
        ZLEXCOUNT lex - +
        ZLEXCOUNT lex [b (e
        ZLEXCOUNT lex + -
        ZLEXCOUNT lex x y
        ZLEXCOUNT nokey - +
        ZADD mixed 1 a 2 b 0 c 5 d 3 aa
        ZRANGEBYLEX mixed - +
        ZRANGEBYLEX mixed [b +
        ZRANGEBYLEX mixed [aa [c
        ZREVRANGEBYLEX mixed [c [aa
        ZREVRANGEBYLEX mixed + [b
        ZLEXCOUNT mixed [b +
        ZRANGE mixed [b [d BYLEX REV
        ZREMRANGEBYLEX mixed [b [c
        ZRANGE mixed 0 -1
        ZREMRANGEBYLEX lex [b (d
        ZRANGE lex 0 -1
        ZREMRANGEBYLEX lex x y
        ZREMRANGEBYLEX nokey - +
        ZREMRANGEBYLEX lex - +
        EXISTS lex
        ZADD r 1 a 2 b 3 c 4 d 5 e
        ZREMRANGEBYRANK r 0 0
        ZREMRANGEBYRANK r -1 -1
        ZREMRANGEBYRANK r 5 10
        ZREMRANGEBYRANK r x 1
        ZREMRANGEBYRANK nokey 0 1
        ZRANGE r 0 -1
        ZREMRANGEBYSCORE r (2 3
        ZREMRANGEBYSCORE r x 3
        ZREMRANGEBYSCORE r 10 20
        ZRANGE r 0 -1 WITHSCORES
        ZREMRANGEBYSCORE r -inf +inf
        EXISTS r
        ZADD p 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN p
        ZPOPMAX p
        ZPOPMIN p 2
        ZPOPMIN p 0
        ZPOPMIN p -1
        ZPOPMIN p x
        ZPOPMIN p 1 2
        ZPOPMAX p 10
        EXISTS p
        ZPOPMIN nokey
        ZPOPMIN nokey 2
        ZADD p 1 a 2 b 3 c
        ZMPOP 2 nokey p MIN
        ZMPOP 2 nokey p MAX COUNT 10
        ZMPOP 1 p MIN
        ZMPOP 0 p MIN
        ZMPOP 1 p MIDDLE
        ZMPOP 1 p MIN COUNT 0
        ZMPOP 1 p MIN COUNT 1 COUNT 1
        ZMPOP 2 p MIN
        ZADD p 1 a 2 b 3 c
        BZPOPMIN nokey p 0
        BZPOPMAX p 0.5
        BZMPOP 0 1 p MAX COUNT 5
        BZPOPMIN nokey 0.01
        BZPOPMAX p abc
        BZPOPMAX p -1
        BZMPOP 0.01 1 nokey MIN
        BZMPOP 0 1 nokey FOO
        SET str x
        ZADD str 1 a
        ZINCRBY str 1 a
        ZREM str a
        ZSCORE str a
        ZMSCORE str a
        ZCARD str
        ZRANK str a
        ZRANGE str 0 -1
        ZRANGE str 0 x
        ZRANGEBYSCORE str 0 1
        ZRANGEBYLEX str - +
        ZRANGESTORE dst str 0 -1
        ZCOUNT str 0 1
        ZLEXCOUNT str - +
        ZREMRANGEBYRANK str 0 1
        ZPOPMIN str
        ZMPOP 1 str MIN
        BZPOPMIN str 0
        ZRANDMEMBER str
        ZSCAN str 0
        ZADD str XX 1 a
        MULTI
        BZPOPMIN nokey 0
        BZMPOP 0 1 nokey MIN
        EXEC
        "#,
    );
}

#[test]
fn sorted_set_algebra() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        SADD s y w q
        ZUNION 2 a b
        ZUNION 2 a b WITHSCORES
        ZUNION 3 a b s WITHSCORES
        ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES
        ZUNION 2 a b AGGREGATE MIN WITHSCORES
        ZUNION 2 a b AGGREGATE MAX WITHSCORES
        ZUNION 2 a b WEIGHTS 1 WITHSCORES
        ZUNION 2 a b WEIGHTS 1 x
        ZUNION 2 a b AGGREGATE FOO
        ZUNION 2 a b AGGREGATE
        ZUNION 0 a
        ZUNION -1 a
        ZUNION x a
        ZUNION 3 a b
        ZUNION 1 nokey
        ZUNION 2 a nokey WITHSCORES
        ZINTER 2 a b WITHSCORES
        ZINTER 3 a b s WITHSCORES
        ZINTER 2 a a WITHSCORES
        ZINTER 2 a b WEIGHTS 1 -1 AGGREGATE SUM WITHSCORES
        ZINTER 2 a nokey
        ZINTER 2 a b LIMIT 1
        ZDIFF 2 a b WITHSCORES
        ZDIFF 2 b s WITHSCORES
        ZDIFF 1 a
        ZDIFF 2 nokey a
        ZDIFF 2 a b WEIGHTS 1 1
        ZDIFF 2 a b AGGREGATE SUM
        ZINTERCARD 2 a b
        ZINTERCARD 2 a b LIMIT 1
        ZINTERCARD 2 a b LIMIT 0
        ZINTERCARD 2 a b LIMIT -1
        ZINTERCARD 2 a b WITHSCORES
        ZINTERCARD 0 a
        ZINTERCARD 3 a b
        ZINTERCARD 1 nokey
        ZUNIONSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZINTERSTORE d 2 a b WEIGHTS 2 3 AGGREGATE MAX
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        ZINTERSTORE d 2 a nokey
        EXISTS d
        ZUNIONSTORE d 2 a b WITHSCORES
        ZUNIONSTORE d 0 a
        ZUNIONSTORE a 2 a b
        ZRANGE a 0 -1 WITHSCORES
        ZADD inf 1 p +inf q -inf r
        ZADD ninf -inf q +inf r
        ZUNION 2 inf ninf WITHSCORES
        ZINTER 2 inf ninf WITHSCORES
        ZUNION 2 inf ninf WEIGHTS 0 1 WITHSCORES
        ZINTER 2 inf ninf WEIGHTS 0 0 AGGREGATE MIN WITHSCORES
        ZADD neg -0.0 m
        ZUNION 1 neg WITHSCORES
        ZUNIONSTORE dneg 1 neg
        ZSCORE dneg m
        SET str x
        ZUNION 2 a str
        ZUNION 2 str nokey FOO
        ZINTER 2 nokey str
        ZUNIONSTORE d 1 str
        ZINTERCARD 1 str
        ZDIFFSTORE d 2 s a
        ZRANGE d 0 -1 WITHSCORES
        "#,
    );
    p.script("?HELLO 3");
    p.script(
        r#"
        ZUNION 2 a b WITHSCORES
        ZRANGE b 0 -1 WITHSCORES
        ZRANGE b 0 -1
        ZSCORE b y
        ZMSCORE b y nomember
        ZADD b INCR 1 y
        ZINCRBY b 1 y
        ZPOPMIN b
        ZPOPMIN b 1
        ZPOPMIN nokey 1
        ZMPOP 1 b MAX
        ZADD b 1 a 2 b
        BZPOPMIN b 0
        ZRANDMEMBER b 10 WITHSCORES
        ZSCAN b 0
        ZRANGESTORE d b 0 -1
        ZRANGEBYSCORE b -inf +inf WITHSCORES
        "#,
    );
}

#[test]
fn sorted_set_scores_and_encodings() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        ZADD z 1e17 a 4611686018427387904 b 4611686018427387903 c 9007199254740993 d -4611686018427387904 e -0.0 f 1.5 g 0.1 h 1e18 i 4.6e18 j 4.7e18 k -inf l inf m 1e-5 n 123456789.123 o
        ZSCAN z 0
        ZRANGE z 0 -1 WITHSCORES
        ZSCORE z f
        ZADD big 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -0.0 f 1e17 a
        OBJECT ENCODING big
        ZSCORE big f
        ~ZSCAN big 0
        ZRANGE big 0 -1 WITHSCORES
        ZADD big 0 f
        ZSCORE big f
        ZUNIONSTORE small 1 big
        OBJECT ENCODING small
        ZREM big aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING big
        ZUNIONSTORE small 1 big
        OBJECT ENCODING small
        ZSCORE small f
        COPY big big2
        OBJECT ENCODING big2
        ZRANGESTORE s2 big 0 -1
        OBJECT ENCODING s2
        ZADD z 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING z
        ZSCAN small 0 MATCH a
        ZSCAN z 0 COUNT 0
        ZSCAN z 0 FOO bar
        ZSCAN z abc
        ZSCAN nokey 0
        ZSCAN nokey 0 FOO
        CONFIG SET zset-max-listpack-entries 3
        ZADD t 1 a 2 b 3 c
        OBJECT ENCODING t
        ZADD t 4 d
        OBJECT ENCODING t
        ZRANGESTORE t2 t 0 2
        OBJECT ENCODING t2
        ZRANGESTORE t3 t 0 -1
        OBJECT ENCODING t3
        CONFIG SET zset-max-listpack-value 2
        ZADD u 1 abc
        OBJECT ENCODING u
        "#,
    );
    for i in 0..200 {
        p.check(&format!("ZADD many {} m{i}", i % 17));
    }
    p.script(
        r#"
        OBJECT ENCODING many
        ZCARD many
        ZRANGE many 0 10 WITHSCORES
        ZRANGE many -10 -1 WITHSCORES
        ZRANGE many 50 60 REV
        ZRANGEBYSCORE many (3 5 LIMIT 2 5 WITHSCORES
        ZREVRANGEBYSCORE many 5 (3 LIMIT 2 5
        ZRANK many m100
        ZREVRANK many m100
        ZCOUNT many 2 (9
        ZRANGEBYLEX many [m1 (m2
        ZREMRANGEBYRANK many 0 9
        ZREMRANGEBYSCORE many 16 16
        ZRANGE many 0 -1
        ZPOPMIN many 3
        ZPOPMAX many 3
        ZMSCORE many m1 m150 nomember
        ZINTERSTORE half 2 many many WEIGHTS 0.5 0.5
        ZRANGE half 0 5 WITHSCORES
        OBJECT ENCODING half
        "#,
    );
    let card = p.rc.cmd(&["ZCARD", "many"]).int() as usize;
    assert_full_scan(&mut p, &["ZSCAN", "many"], 2 * card);
    p.script(
        r#"
        ?ZRANDMEMBER many
        ?ZRANDMEMBER many 5
        ?ZRANDMEMBER many -5 WITHSCORES
        ZRANDMEMBER nokey
        ZRANDMEMBER nokey 5
        ZRANDMEMBER many 0
        ZRANDMEMBER many x
        ZRANDMEMBER many 5 FOO
        ZRANDMEMBER many 5 WITHSCORES extra
        ZRANDMEMBER many -9223372036854775808
        ZRANDMEMBER many 9223372036854775807 WITHSCORES
        ZRANDMEMBER t 100 WITHSCORES
        "#,
    );
}

#[test]
fn key_commands_work_on_every_type() {
    let mut p = Pair::start(&[]);
    p.script(
        r#"
        SET str v
        RPUSH list a b
        HSET hash f v
        SADD set 1 2
        SADD set2 a
        ZADD zset 1 a
        TYPE str
        TYPE list
        TYPE hash
        TYPE set
        TYPE zset
        TYPE nokey
        OBJECT ENCODING list
        OBJECT ENCODING hash
        OBJECT ENCODING set
        OBJECT ENCODING set2
        OBJECT ENCODING zset
        OBJECT REFCOUNT list
        OBJECT REFCOUNT zset
        ~KEYS *
        EXISTS list hash set zset nokey
        ~SCAN 0 TYPE list
        ~SCAN 0 TYPE hash
        ~SCAN 0 TYPE set
        ~SCAN 0 TYPE zset
        ~SCAN 0 TYPE string
        SCAN 0 TYPE nosuchtype
        COPY list list2
        LRANGE list2 0 -1
        RPUSH list2 c
        LRANGE list 0 -1
        COPY hash hash2
        HSET hash2 g w
        HGETALL hash
        COPY set set3
        SADD set3 9
        SMEMBERS set
        COPY zset zset2
        ZADD zset2 5 b
        ZRANGE zset 0 -1
        COPY zset str REPLACE
        TYPE str
        ZRANGE str 0 -1 WITHSCORES
        RENAME list l
        LRANGE l 0 -1
        EXISTS list
        RENAMENX hash l
        RENAME hash h
        HGETALL h
        EXPIRE h 100
        #TTL h
        HSET h x y
        #TTL h
        PERSIST h
        TTL h
        EXPIRE set 100
        SADD set 3
        #TTL set
        SUNIONSTORE set set2
        TTL set
        MOVE zset 1
        SELECT 1
        ZRANGE zset 0 -1
        TYPE zset
        SELECT 0
        DEL l h set set2 set3 zset2 str hash2 list2
        DBSIZE
        RPUSH e x
        LPOP e
        EXISTS e
        HSET e f v
        HDEL e f
        EXISTS e
        SADD e m
        SREM e m
        EXISTS e
        ZADD e 1 m
        ZREM e m
        EXISTS e
        DBSIZE
        "#,
    );
}
