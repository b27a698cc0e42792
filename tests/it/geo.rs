//! GEO commands against redis-server 7.0: every reply byte for byte (coordinates printed to
//! 17 digits, distances to 4, members in the order Redis visits its geohash cells when no
//! sort is asked), in RESP2 and RESP3, on hand-written cases and on random points and
//! searches; writes replicate both ways, GEOADD as the ZADD Redis sends.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::differential::{Mode, Pair};
use crate::harness::repl::{
    assert_same_keyspace, info_field, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::Kind;

const CASES: &str = "
    GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
    GEOADD Sicily NX 13.361389 38.115556 Palermo 12.758489 38.788135 edge1
    GEOADD Sicily XX CH 13.5 38.2 Palermo 17.241510 38.788135 nope
    GEOADD Sicily CH NX 14 37 Other
    GEOADD Sicily XX NX 14 37 Other
    GEOADD Sicily NX XX 14 37
    GEOADD Sicily GT 14 37 Other
    GEOADD Sicily 200 37 Bad
    GEOADD Sicily 14 86 Bad
    GEOADD Sicily abc 37 Bad
    GEOADD Sicily 14 37
    ZRANGE Sicily 0 -1 WITHSCORES
    GEOPOS Sicily Palermo Catania NonExisting
    GEOPOS nokey a
    GEOHASH Sicily Palermo Catania NonExisting
    GEOHASH nokey a b
    GEODIST Sicily Palermo Catania
    GEODIST Sicily Palermo Catania km
    GEODIST Sicily Palermo Catania MI
    GEODIST Sicily Palermo Catania ft
    GEODIST Sicily Palermo Catania yards
    GEODIST Sicily Palermo Catania km extra
    GEODIST Sicily Palermo Nope
    GEODIST nokey a b
    GEODIST Sicily Palermo Palermo
    GEORADIUS Sicily 15 37 200 km
    GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH
    GEORADIUS Sicily 15 37 200 km WITHDIST ASC
    GEORADIUS Sicily 15 37 200 km WITHDIST DESC COUNT 2
    GEORADIUS Sicily 15 37 200 km COUNT 1 ANY
    GEORADIUS Sicily 15 37 200 km ANY
    GEORADIUS Sicily 15 37 200 km COUNT 0
    GEORADIUS Sicily 15 37 200 km COUNT -3
    GEORADIUS Sicily 15 37 200 km COUNT x
    GEORADIUS Sicily 15 37 200 km COUNT
    GEORADIUS Sicily 15 37 -1 km
    GEORADIUS Sicily 15 37 abc km
    GEORADIUS Sicily 15 37 200 parsecs
    GEORADIUS Sicily 15 95 200 km
    GEORADIUS Sicily 15 37 200 km BOGUS
    GEORADIUS Sicily 15 37 200 km STORE
    GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST
    GEORADIUS Sicily 15 37 200 km STORE dst
    ZRANGE dst 0 -1 WITHSCORES
    GEORADIUS Sicily 15 37 200 km STOREDIST dst ASC COUNT 2
    ZRANGE dst 0 -1 WITHSCORES
    GEORADIUS Sicily 15 37 1 m STORE dst
    EXISTS dst
    GEORADIUS nokey 15 37 200 km STORE dst
    GEORADIUS nokey 15 37 200 km
    GEORADIUS_RO Sicily 15 37 200 km WITHDIST
    GEORADIUS_RO Sicily 15 37 200 km STORE dst
    GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST WITHCOORD
    GEORADIUSBYMEMBER Sicily Nobody 200 km
    GEORADIUSBYMEMBER nokey Nobody 200 km
    GEORADIUSBYMEMBER nokey Nobody 200 km STORE dst
    GEORADIUSBYMEMBER Sicily Palermo 200 km STOREDIST dst
    ZRANGE dst 0 -1 WITHSCORES
    GEORADIUSBYMEMBER_RO Sicily Palermo 200 km DESC
    GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST
    GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH
    GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km COUNT 1
    GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 200 km
    GEOSEARCH Sicily BYRADIUS 200 km
    GEOSEARCH Sicily FROMLONLAT 15 37
    geosearch Sicily FROMLONLAT 15 37
    GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km
    GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km
    GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km
    GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x 1 km
    GEOSEARCH Sicily FROMMEMBER Nobody BYRADIUS 1 km
    GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
    GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE dst
    GEOSEARCH nokey FROMMEMBER Nobody BYRADIUS 1 km
    GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km
    ZRANGE dst 0 -1 WITHSCORES
    GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST DESC COUNT 2
    ZRANGE dst 0 -1 WITHSCORES
    GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
    GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 200 km
    EXISTS dst
    SET str x
    GEOADD str 1 1 a
    GEOPOS str a
    GEOHASH str a
    GEODIST str a b
    GEORADIUS str 1 1 1 km
    GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km
    GEOSEARCHSTORE dst str FROMLONLAT 1 1 BYRADIUS 1 km
    // Sorted-set members with scores GEOADD never wrote still decode.
    ZADD plain 0 zero 1 one 4503599627370495 top
    GEOPOS plain zero one top
    GEOHASH plain zero one top
    GEORADIUS plain 0 0 20000 km WITHCOORD
    // Edges: the antimeridian, the latitude limits, a zero radius, a huge radius.
    GEOADD edges 179.9999 0 east -179.9999 0 west 0 85.05112878 north 0 -85.05112878 south
    GEOSEARCH edges FROMLONLAT 180 0 BYBOX 200 200 km WITHCOORD
    GEOSEARCH edges FROMLONLAT -180 0 BYRADIUS 100 km ASC WITHDIST
    GEORADIUS edges 0 85 100 km WITHDIST
    GEORADIUS edges 0 -85 100 km WITHDIST
    GEORADIUS edges 179.9999 0 0 m WITHDIST
    GEORADIUS edges 0 0 25000 km
    GEORADIUS edges 0 0 25000 km ASC WITHDIST
    GEOSEARCH edges FROMLONLAT 0 0 BYBOX 50000 50000 km DESC
    COMMAND GETKEYS GEORADIUS src 1 1 1 km STORE a STOREDIST b
    COMMAND GETKEYS GEORADIUSBYMEMBER src m 1 km STORE a
    COMMAND GETKEYS GEORADIUS src 1 1 1 km STOREDIST b STORE a STORE c
    COMMAND GETKEYS GEORADIUS src 1 1 1 km WITHDIST STORE
    COMMAND GETKEYS GEOSEARCHSTORE dst src FROMLONLAT 1 1 BYRADIUS 1 km
";

/// Random points, clustered and worldwide, then random searches of every kind, each reply
/// compared exactly (so the order members are visited in, and every digit, must match).
fn random_searches(pair: &mut Pair, rng: &mut StdRng) {
    let clusters = [(13.36, 38.11), (-73.98, 40.75), (179.5, -16.0), (0.0, 84.0)];
    for i in 0..400 {
        let (lon, lat) = if i % 4 == 0 {
            (
                rng.random_range(-180.0..180.0),
                rng.random_range(-85.0..85.0),
            )
        } else {
            let (clon, clat): (f64, f64) = clusters[i % clusters.len()];
            let lon = (clon + rng.random_range(-2.0..2.0)).clamp(-180.0, 180.0);
            let lat = (clat + rng.random_range(-2.0..2.0)).clamp(-85.0, 85.0);
            (lon, lat)
        };
        pair.check(&format!("GEOADD pts {lon} {lat} p{i}"));
    }
    for _ in 0..150 {
        let (clon, clat): (f64, f64) = clusters[rng.random_range(0..clusters.len())];
        let lon = (clon + rng.random_range(-1.0..1.0)).clamp(-180.0, 180.0);
        let lat = (clat + rng.random_range(-1.0..1.0)).clamp(-85.0, 85.0);
        let unit = ["m", "km", "mi", "ft"][rng.random_range(0..4)];
        let scale = match unit {
            "m" => 1000.0,
            "ft" => 3000.0,
            _ => 1.0,
        };
        let radius = rng.random_range(1.0..400.0) * scale;
        let order = ["", "ASC", "DESC"][rng.random_range(0..3)];
        let count = match rng.random_range(0..4) {
            0 => format!("COUNT {}", rng.random_range(1..20)),
            1 => format!("COUNT {} ANY", rng.random_range(1..20)),
            _ => String::new(),
        };
        let line = match rng.random_range(0..4) {
            0 => format!(
                "GEORADIUS pts {lon} {lat} {radius} {unit} WITHDIST WITHCOORD WITHHASH {order} {count}"
            ),
            1 => format!(
                "GEOSEARCH pts FROMLONLAT {lon} {lat} BYBOX {} {} {unit} WITHDIST WITHCOORD {order} {count}",
                radius * 2.0,
                rng.random_range(1.0..400.0) * scale
            ),
            2 => format!(
                "GEORADIUSBYMEMBER pts p{} {radius} {unit} WITHDIST {order} {count}",
                rng.random_range(0..400)
            ),
            _ => format!(
                "GEOSEARCHSTORE dst pts FROMLONLAT {lon} {lat} BYRADIUS {radius} {unit} STOREDIST {order} {count}"
            ),
        };
        pair.check(&line);
        pair.check("ZRANGE dst 0 -1 WITHSCORES");
    }
}

/// COMMAND INFO's facts for the GEO commands: name, arity, flags, key positions and ACL
/// categories (key specs and tips are not compared: replikv derives one range spec per
/// command, where Redis lists GEORADIUS's STORE keywords as specs of their own).
fn command_info_matches(pair: &mut Pair) {
    for name in [
        "geoadd",
        "geodist",
        "geohash",
        "geopos",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
        "geosearch",
        "geosearchstore",
    ] {
        let facts = |conn: &mut crate::harness::Conn| {
            let entry = conn.cmd(&["COMMAND", "INFO", name]).array()[0].array();
            format!("{:?}", &entry[..7])
        };
        let (theirs, ours) = (facts(&mut pair.rc), facts(&mut pair.oc));
        assert_eq!(
            ours, theirs,
            "COMMAND INFO {name}: replikv (left), Redis (right)"
        );
    }
}

/// Hand-written cases and random searches, in RESP2 and then RESP3.
#[test]
fn geo_replies_match_redis_byte_for_byte() {
    let seed: u64 = std::env::var("GEO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("geo random seed: {seed} (set GEO_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pair = Pair::start(&[]);
    pair.script(CASES);
    random_searches(&mut pair, &mut rng);
    command_info_matches(&mut pair);
    pair.check("FLUSHALL");
    pair.check_mode(&[b"HELLO", b"3"], Mode::Shape);
    pair.script(CASES);
    random_searches(&mut pair, &mut rng);
}

/// GEOADD, GEORADIUS ... STORE / STOREDIST and GEOSEARCHSTORE leave the same data on a
/// replica, replikv → Redis and Redis → replikv; GEOADD travels as ZADD, as Redis sends it
/// (the Redis replica of a replikv master runs ZADD and never GEOADD).
#[test]
fn geo_writes_replicate_both_ways() {
    for (master_kind, replica_kind) in [(Kind::Replikv, Kind::Redis), (Kind::Redis, Kind::Replikv)]
    {
        let master = start(master_kind, &[]);
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(10));
        let mut m = master.conn();
        for i in 0..200 {
            let lon = format!("{}", -10.0 + (i as f64) * 0.1);
            let lat = format!("{}", 40.0 + ((i * 7) % 50) as f64 * 0.05);
            m.cmd(&["GEOADD", "places", &lon, &lat, &format!("m{i}")]);
        }
        m.cmd(&["GEOADD", "places", "XX", "CH", "0", "0", "m1"]);
        m.cmd(&[
            "GEORADIUS",
            "places",
            "-5",
            "41",
            "300",
            "km",
            "STORE",
            "near",
        ]);
        m.cmd(&[
            "GEORADIUSBYMEMBER",
            "places",
            "m10",
            "100",
            "km",
            "STOREDIST",
            "dists",
        ]);
        m.cmd(&[
            "GEOSEARCHSTORE",
            "boxed",
            "places",
            "FROMLONLAT",
            "0",
            "41",
            "BYBOX",
            "500",
            "200",
            "km",
            "STOREDIST",
            "DESC",
            "COUNT",
            "5",
        ]);
        // A search that finds nothing empties its destination.
        m.cmd(&["SET", "gone", "x"]);
        m.cmd(&[
            "GEOSEARCHSTORE",
            "gone",
            "places",
            "FROMLONLAT",
            "100",
            "0",
            "BYRADIUS",
            "1",
            "m",
        ]);
        wait_converged(&master, &replica, Duration::from_secs(20));
        assert_same_keyspace(&master, &replica);
        let mut r = replica.conn();
        assert_eq!(r.cmd(&["EXISTS", "gone"]).text(), "0");
        assert_eq!(r.cmd(&["ZCARD", "boxed"]).text(), "5");
        if replica_kind == Kind::Redis {
            let stats = info_field(&replica, "commandstats", "cmdstat_zadd");
            assert!(
                stats.starts_with("calls=201,"),
                "the Redis replica ran ZADD: {stats}"
            );
            assert_eq!(
                info_field(&replica, "commandstats", "cmdstat_geoadd"),
                "",
                "GEOADD reached the Redis replica as itself"
            );
        }
    }
}
