//! The GEO commands: positions kept as sorted-set scores (see [`super::geohash`]).
//!
//! GEOADD is ZADD with scores computed from coordinates, and is replicated as that ZADD,
//! as Redis replicates it. GEORADIUS, GEORADIUSBYMEMBER (and their `_RO` forms), GEOSEARCH
//! and GEOSEARCHSTORE share one search: parse the centre and shape, visit the nine geohash
//! cells around the centre as score ranges, keep the members inside the shape, sort by
//! distance when asked (or when COUNT asks for the nearest), then reply or store. The order
//! of cells and members, the rounding of distances and the digits of coordinates follow
//! Redis 7.0, so replies compare byte for byte.

use bytes::Bytes;

use super::geohash::{self, Shape, ShapeKind};
use super::zadd_generic;
use crate::command::cmd;
use crate::command::collection::{db_out, read, store};
use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::flags::*;
use crate::command::numeric::{parse_double, parse_int};
use crate::command::Spec;
use crate::engine::notify;
use crate::keyspace::types::ZSet;
use crate::keyspace::Blob;
use crate::resp::ReplyBuf;

/// A longitude and a latitude argument, within the storable limits.
fn position_arg(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = parse_double(lon).ok_or(CmdError::Fixed(error::NOT_FLOAT))?;
    let lat = parse_double(lat).ok_or(CmdError::Fixed(error::NOT_FLOAT))?;
    if !geohash::valid(lon, lat) {
        return Err(CmdError::geo_invalid_position(lon, lat));
    }
    Ok((lon, lat))
}

/// Metres per unit; units are case-insensitive (Redis 7.0).
fn unit_arg(unit: &[u8]) -> Result<f64, CmdError> {
    match unit.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::Fixed(error::GEO_UNIT)),
    }
}

/// A non-negative number argument, or `not_numeric` when it is not a number.
fn length_arg(arg: &[u8], not_numeric: &'static str) -> Result<f64, CmdError> {
    parse_double(arg).ok_or(CmdError::Fixed(not_numeric))
}

/// `radius unit`: the radius and the unit's metres.
fn radius_args(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let radius = length_arg(radius, error::GEO_RADIUS_NOT_NUMERIC)?;
    if radius < 0.0 {
        return Err(CmdError::Fixed(error::GEO_RADIUS_NEGATIVE));
    }
    Ok((radius, unit_arg(unit)?))
}

/// `width height unit`: the box and the unit's metres.
fn box_args(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(ShapeKind, f64), CmdError> {
    let width = length_arg(width, error::GEO_WIDTH_NOT_NUMERIC)?;
    let height = length_arg(height, error::GEO_HEIGHT_NOT_NUMERIC)?;
    if height < 0.0 || width < 0.0 {
        return Err(CmdError::Fixed(error::GEO_BOX_NEGATIVE));
    }
    Ok((ShapeKind::Box { width, height }, unit_arg(unit)?))
}

/// The position of a member, or the error Redis gives for a missing one.
fn member_position(zset: &ZSet, member: &[u8]) -> Result<(f64, f64), CmdError> {
    zset.score(member)
        .map(geohash::position_of)
        .ok_or(CmdError::Fixed(error::GEO_NO_MEMBER))
}

/// A coordinate as Redis prints it: `%.17Lf` without trailing zeros (and `-0` as `0`).
fn human_coordinate(d: f64) -> String {
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A distance as Redis prints it: four decimals, rounded half to even.
fn distance_text(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10_000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let abs = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", abs / 10_000, abs % 10_000)
}

/// Writes a position: an array of longitude and latitude.
fn reply_position(out: &mut ReplyBuf, (lon, lat): (f64, f64)) {
    out.array(2);
    out.double_text(&human_coordinate(lon));
    out.double_text(&human_coordinate(lat));
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: a ZADD of computed scores.
fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx) = (false, false);
    let mut at = 2;
    while at < argv.len() {
        match argv[at].to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"ch" => {}
            _ => break,
        }
        at += 1;
    }
    if !(argv.len() - at).is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let mut zadd: Vec<Bytes> = Vec::with_capacity(at + (argv.len() - at) / 3 * 2);
    zadd.push(Bytes::from_static(b"zadd"));
    zadd.extend(argv[1..at].iter().cloned());
    for triple in argv[at..].chunks(3) {
        let (lon, lat) = position_arg(&triple[0], &triple[1])?;
        let score =
            geohash::score_of(lon, lat).ok_or_else(|| CmdError::geo_invalid_position(lon, lat))?;
        zadd.push(Bytes::copy_from_slice(
            itoa::Buffer::new().format(score).as_bytes(),
        ));
        zadd.push(triple[2].clone());
    }
    zadd_generic(ctx, &zadd, false)?;
    ctx.propagate_as(vec![zadd.into_iter().collect()]);
    Ok(())
}

/// Writes one reply element per member named after the key: `write` gets the member's
/// score, or `None` when the member (or the key) is missing.
fn reply_per_member(ctx: &mut Ctx, write: impl Fn(&mut ReplyBuf, Option<f64>)) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let argv = ctx.argv;
    let (db, out) = db_out(ctx);
    let zset = read::<ZSet>(db, &argv[1], now, clock)?;
    out.array(argv.len() - 2);
    for member in &argv[2..] {
        write(out, zset.and_then(|z| z.score(member)));
    }
    Ok(())
}

/// GEOHASH key member...: the standard 11-character geohash of each member.
fn geohash_cmd(ctx: &mut Ctx) -> CmdResult {
    reply_per_member(ctx, |out, score| match score {
        Some(score) => out.bulk(&geohash::standard_geohash(score)),
        None => out.null(),
    })
}

/// GEOPOS key member...: each member's longitude and latitude.
fn geopos(ctx: &mut Ctx) -> CmdResult {
    reply_per_member(ctx, |out, score| match score {
        Some(score) => reply_position(out, geohash::position_of(score)),
        None => out.null_array(),
    })
}

/// GEODIST key member1 member2 [unit]
fn geodist(ctx: &mut Ctx) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let argv = ctx.argv;
    let to_meters = match argv.len() {
        5 => unit_arg(&argv[4])?,
        n if n > 5 => return Err(CmdError::Fixed(error::SYNTAX)),
        _ => 1.0,
    };
    let (db, out) = db_out(ctx);
    let Some(zset) = read::<ZSet>(db, &argv[1], now, clock)? else {
        out.null();
        return Ok(());
    };
    match (zset.score(&argv[2]), zset.score(&argv[3])) {
        (Some(a), Some(b)) => {
            let ((lon1, lat1), (lon2, lat2)) = (geohash::position_of(a), geohash::position_of(b));
            out.bulk(
                distance_text(geohash::distance(lon1, lat1, lon2, lat2) / to_meters).as_bytes(),
            );
        }
        _ => out.null(),
    }
    Ok(())
}

/// Which search command is running: what it takes and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS key lon lat radius unit ...; `read_only` for GEORADIUS_RO.
    Radius { read_only: bool },
    /// GEORADIUSBYMEMBER key member radius unit ...
    RadiusByMember { read_only: bool },
    /// GEOSEARCH key FROM... BY... ...
    Search,
    /// GEOSEARCHSTORE dst src FROM... BY... ...
    SearchStore,
}

impl Form {
    fn is_search(self) -> bool {
        matches!(self, Form::Search | Form::SearchStore)
    }

    /// STORE and STOREDIST with a key are GEORADIUS's options.
    fn takes_store_key(self) -> bool {
        matches!(
            self,
            Form::Radius { read_only: false } | Form::RadiusByMember { read_only: false }
        )
    }
}

/// The order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Everything a search request said.
struct Request<'a> {
    shape: Option<Shape>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    /// Stop at the first `count` members found (ANY) rather than the `count` nearest.
    any: bool,
    /// 0 means no limit.
    count: usize,
    store: Option<&'a [u8]>,
    store_dist: bool,
}

/// One member inside the shape.
struct Found {
    lon: f64,
    lat: f64,
    /// Metres from the centre.
    dist: f64,
    score: f64,
    member: Blob,
}

/// Parses a search's arguments in Redis's order, so the same request fails with the same
/// error. `zset` is the source, when it exists (a missing one defers some checks).
fn parse_search<'a>(
    argv: &'a [Bytes],
    form: Form,
    zset: Option<&ZSet>,
) -> Result<Request<'a>, CmdError> {
    let mut center: Option<(f64, f64)> = None;
    let mut kind: Option<(ShapeKind, f64)> = None;
    let mut store: Option<&'a [u8]> = None;
    let base = match form {
        Form::Radius { .. } => {
            center = Some(position_arg(&argv[2], &argv[3])?);
            let (radius, conversion) = radius_args(&argv[4], &argv[5])?;
            kind = Some((ShapeKind::Circle { radius }, conversion));
            6
        }
        Form::RadiusByMember { .. } => {
            // Without a source the reply is empty whatever the centre; options are still
            // parsed, to know whether it is a count (STORE) or an array.
            if let Some(z) = zset {
                center = Some(member_position(z, &argv[2])?);
                let (radius, conversion) = radius_args(&argv[3], &argv[4])?;
                kind = Some((ShapeKind::Circle { radius }, conversion));
            }
            5
        }
        Form::Search => 2,
        Form::SearchStore => {
            store = Some(&argv[1]);
            3
        }
    };
    let mut req = Request {
        shape: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store,
        store_dist: false,
    };
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let rest = &argv[base..];
    let mut i = 0;
    while i < rest.len() {
        let left = rest.len() - i - 1;
        let arg = rest[i].to_ascii_lowercase();
        match arg.as_slice() {
            b"withdist" => req.with_dist = true,
            b"withhash" => req.with_hash = true,
            b"withcoord" => req.with_coord = true,
            b"any" => req.any = true,
            b"asc" => req.sort = Sort::Asc,
            b"desc" => req.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let n = parse_int(&rest[i + 1])?;
                if n <= 0 {
                    return Err(CmdError::Fixed(error::GEO_COUNT_NOT_POSITIVE));
                }
                req.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && form.takes_store_key() => {
                req.store = Some(&rest[i + 1]);
                req.store_dist = arg == b"storedist";
                i += 1;
            }
            b"storedist" if form == Form::SearchStore => req.store_dist = true,
            b"frommember" if left >= 1 && form.is_search() && !from_lonlat => {
                if let Some(z) = zset {
                    center = Some(member_position(z, &rest[i + 1])?);
                }
                from_member = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && form.is_search() && !from_member => {
                center = Some(position_arg(&rest[i + 1], &rest[i + 2])?);
                from_lonlat = true;
                i += 2;
            }
            b"byradius" if left >= 2 && form.is_search() && !by_box => {
                let (radius, conversion) = radius_args(&rest[i + 1], &rest[i + 2])?;
                kind = Some((ShapeKind::Circle { radius }, conversion));
                by_radius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && form.is_search() && !by_radius => {
                kind = Some(box_args(&rest[i + 1], &rest[i + 2], &rest[i + 3])?);
                by_box = true;
                i += 3;
            }
            _ => return Err(CmdError::Fixed(error::SYNTAX)),
        }
        i += 1;
    }
    if req.store.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        return Err(CmdError::geo_store_with_fields(
            if form == Form::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            },
        ));
    }
    if form.is_search() && !(from_member || from_lonlat) {
        return Err(CmdError::geo_exactly_one(
            "FROMMEMBER or FROMLONLAT",
            &argv[0],
        ));
    }
    if form.is_search() && !(by_radius || by_box) {
        return Err(CmdError::geo_exactly_one("BYRADIUS and BYBOX", &argv[0]));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::Fixed(error::GEO_ANY_NEEDS_COUNT));
    }
    if let (Some(center), Some((kind, conversion))) = (center, kind) {
        req.shape = Some(Shape {
            center,
            conversion,
            kind,
        });
    }
    Ok(req)
}

/// The members inside `shape`, cell by cell in Redis's order; with `limit` (ANY), the
/// search stops once that many are found.
fn members_inside(zset: &ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let mut found = Vec::new();
    let full = |found: &Vec<Found>| limit != 0 && found.len() >= limit;
    for cell in geohash::cells_to_search(shape) {
        if full(&found) {
            break;
        }
        let (min, max) = cell.score_range();
        let start = zset.partition_point(|score, _| score < min);
        for (member, score) in zset.iter_range(start, zset.len()) {
            if score >= max {
                break;
            }
            let (lon, lat) = geohash::position_of(score);
            if let Some(dist) = shape.contains(lon, lat) {
                found.push(Found {
                    lon,
                    lat,
                    dist,
                    score,
                    member: member.clone(),
                });
            }
            if full(&found) {
                break;
            }
        }
    }
    found
}

/// The search behind GEORADIUS*, GEOSEARCH and GEOSEARCHSTORE; the source key is argument
/// `src_at`.
fn search(ctx: &mut Ctx, src_at: usize, form: Form) -> CmdResult {
    let (now, clock) = (ctx.now, ctx.clock());
    let argv = ctx.argv;
    let db = ctx.db();
    let zset = read::<ZSet>(db, &argv[src_at], now, clock)?;
    let mut req = parse_search(argv, form, zset)?;
    let (Some(zset), Some(shape)) = (zset, req.shape) else {
        // No source: an empty reply, or an emptied destination.
        match req.store {
            Some(dst) => {
                if ctx.db().delete(dst, now) {
                    ctx.modified(dst);
                    ctx.notify(notify::GENERIC, "del", dst);
                }
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return Ok(());
    };
    // The nearest `count` need a sort; ANY takes the first found.
    if req.count != 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    let mut found = members_inside(zset, &shape, if req.any { req.count } else { 0 });
    // A stable sort, as the C library's merge sort behind Redis's qsort is.
    match req.sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    if req.count != 0 {
        found.truncate(req.count);
    }
    for f in &mut found {
        f.dist /= shape.conversion;
    }
    match req.store {
        None => reply_found(ctx.out, &req, &found),
        Some(dst) => {
            let n = found.len();
            let entries: Vec<(Blob, f64)> = found
                .into_iter()
                .map(|f| (f.member, if req.store_dist { f.dist } else { f.score }))
                .collect();
            let limits = ctx.engine.keyspace.limits;
            if store(
                ctx.db(),
                dst,
                ZSet::from_entries(entries, &limits),
                now,
                clock,
            ) {
                ctx.modified(dst);
                // Redis counts one change per member stored.
                ctx.dirty += n.saturating_sub(1) as u64;
                let event = if form.is_search() {
                    "geosearchstore"
                } else {
                    "georadiusstore"
                };
                ctx.notify_stored(n > 0, notify::ZSET, event, dst);
            }
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

/// Writes the members found, each with the fields asked for.
fn reply_found(out: &mut ReplyBuf, req: &Request, found: &[Found]) {
    let fields = [req.with_dist, req.with_hash, req.with_coord]
        .iter()
        .filter(|on| **on)
        .count();
    out.array(found.len());
    for f in found {
        if fields > 0 {
            out.array(fields + 1);
        }
        out.bulk(&f.member);
        if req.with_dist {
            out.bulk(distance_text(f.dist).as_bytes());
        }
        if req.with_hash {
            out.int(f.score as i64);
        }
        if req.with_coord {
            reply_position(out, (f.lon, f.lat));
        }
    }
}

fn georadius(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 1, Form::Radius { read_only: false })
}

fn georadius_ro(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 1, Form::Radius { read_only: true })
}

fn georadiusbymember(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 1, Form::RadiusByMember { read_only: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 1, Form::RadiusByMember { read_only: true })
}

fn geosearch(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 1, Form::Search)
}

fn geosearchstore(ctx: &mut Ctx) -> CmdResult {
    search(ctx, 2, Form::SearchStore)
}

pub static COMMANDS: &[Spec] = &[
    cmd!("geoadd", -5, WRITE | DENYOOM, (1, 1, 1), "geo", geoadd),
    cmd!("geodist", -4, READONLY, (1, 1, 1), "geo", geodist),
    cmd!("geohash", -2, READONLY, (1, 1, 1), "geo", geohash_cmd),
    cmd!("geopos", -2, READONLY, (1, 1, 1), "geo", geopos),
    cmd!(
        "georadius",
        -6,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "geo",
        georadius
    ),
    cmd!("georadius_ro", -6, READONLY, (1, 1, 1), "geo", georadius_ro),
    cmd!(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM | MOVABLEKEYS,
        (1, 1, 1),
        "geo",
        georadiusbymember
    ),
    cmd!(
        "georadiusbymember_ro",
        -5,
        READONLY,
        (1, 1, 1),
        "geo",
        georadiusbymember_ro
    ),
    cmd!("geosearch", -7, READONLY, (1, 1, 1), "geo", geosearch),
    cmd!(
        "geosearchstore",
        -8,
        WRITE | DENYOOM,
        (1, 2, 1),
        "geo",
        geosearchstore
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_print_in_fixed_notation_without_trailing_zeros() {
        assert_eq!(human_coordinate(13.361389338970184), "13.36138933897018433");
        assert_eq!(human_coordinate(2.0), "2");
        assert_eq!(human_coordinate(-0.0), "0");
        assert_eq!(human_coordinate(0.5), "0.5");
    }

    #[test]
    fn distances_have_four_decimals_rounded_half_to_even() {
        assert_eq!(distance_text(0.0), "0.0000");
        assert_eq!(distance_text(166274.15156960033), "166274.1516");
        assert_eq!(distance_text(12.5), "12.5000");
    }
}
