//! Geohash arithmetic as Redis 7.0 does it, for the GEO commands.
//!
//! A position is stored as the score of a sorted-set member: longitude and latitude, each
//! scaled to 26 bits over its range, interleaved into a 52-bit integer (latitude in the even
//! bits, longitude in the odd ones). Latitude spans ±85.05112878° (the Web Mercator limit),
//! not ±90°, so scores are Redis's own and cross RDB files and replication links unchanged.
//! A search covers the shape with the geohash cell that holds its centre and the eight cells
//! around it, at the finest step whose cells are still larger than the shape; each cell is
//! one score range of the sorted set.
//!
//! Everything here is computed with the same operations in the same order as Redis (the
//! trigonometry comes from the same C library), because replies print coordinates with 17
//! digits and distances with 4, and clients compare them with Redis's.

/// Longitude limits.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude limits: the Web Mercator projection stops here.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate in a stored score (26 × 2 = 52, a double's mantissa).
pub const STEP_MAX: u8 = 26;

/// Earth's quadratic mean radius (WGS-84), the one Redis measures with.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Half the equator in Web Mercator metres: where step estimation starts.
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians, written as Redis writes it (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A closed interval of one coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The ranges positions are stored over.
pub const WGS84: (Range, Range) = (
    Range {
        min: LONG_MIN,
        max: LONG_MAX,
    },
    Range {
        min: LAT_MIN,
        max: LAT_MAX,
    },
);

/// The ranges of the standard geohash (latitude ±90°), which GEOHASH prints.
pub const STANDARD: (Range, Range) = (
    Range {
        min: -180.0,
        max: 180.0,
    },
    Range {
        min: -90.0,
        max: 90.0,
    },
);

/// A geohash cell: `step` bits per coordinate, interleaved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    /// A neighbour ruled out of a search.
    const ZERO: Hash = Hash { bits: 0, step: 0 };

    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell as a 52-bit score prefix: the lowest score inside it.
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }

    /// The scores inside the cell: `min..max` (max excluded).
    pub fn score_range(self) -> (f64, f64) {
        let next = Hash {
            bits: self.bits + 1,
            step: self.step,
        };
        (self.align52() as f64, next.align52() as f64)
    }
}

/// The rectangle a cell covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spreads the bits of `x` over the even positions and those of `y` over the odd ones.
fn interleave(x: u32, y: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave`]: even bits in the low half, odd bits in the high half.
fn deinterleave(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// True when a position is inside the limits positions are stored within.
pub fn valid(longitude: f64, latitude: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&longitude) && (LAT_MIN..=LAT_MAX).contains(&latitude)
}

/// The cell of `step` bits that holds a position, over `ranges` (longitude, latitude);
/// `None` outside the storable limits or the ranges.
pub fn encode(ranges: (Range, Range), longitude: f64, latitude: f64, step: u8) -> Option<Hash> {
    let (long_range, lat_range) = ranges;
    if step == 0 || step > 32 || !valid(longitude, latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    // Truncation toward zero, as C's conversion of a double to uint32_t.
    Some(Hash {
        bits: interleave(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// The score a position is stored with.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode(WGS84, longitude, latitude, STEP_MAX).map(Hash::align52)
}

/// The rectangle `hash` covers over `ranges`.
pub fn decode(ranges: (Range, Range), hash: Hash) -> Area {
    let (long_range, lat_range) = ranges;
    let separated = deinterleave(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = separated as u32;
    let ilono = (separated >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / cells) * lat_scale,
            max: lat_range.min + ((f64::from(ilato) + 1.0) * 1.0 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / cells) * long_scale,
            max: long_range.min + ((f64::from(ilono) + 1.0) * 1.0 / cells) * long_scale,
        },
    }
}

/// The position a stored score stands for: the centre of its cell, within the limits.
pub fn position_of(score: f64) -> (f64, f64) {
    // A double-to-unsigned conversion, as Redis's `(uint64_t)bits` (saturating here where C
    // leaves it undefined: scores no GEOADD wrote).
    let hash = Hash {
        bits: score as u64,
        step: STEP_MAX,
    };
    let area = decode(WGS84, hash);
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// The 11-character standard geohash of a stored score (GEOHASH's reply).
pub fn standard_geohash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = position_of(score);
    let bits = encode(STANDARD, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    // 52 bits make ten characters; the eleventh is zero, as Redis prints it.
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

/// Longitude bits of an interleaved hash (the odd positions).
const X_BITS: u64 = 0xaaaaaaaaaaaaaaaa;
/// Latitude bits (the even positions).
const Y_BITS: u64 = 0x5555555555555555;

/// Moves `hash` one cell along the axis whose bits are `own` (forward when `d > 0`,
/// backward when `d < 0`), wrapping around at the edges: the axis's bits are added to or
/// subtracted from with the other axis's bits set as carriers.
fn move_along(hash: &mut Hash, d: i8, own: u64) {
    if d == 0 {
        return;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let mut moving = hash.bits & own;
    let kept = hash.bits & !own;
    let carriers = !own >> width;
    if d > 0 {
        moving = moving.wrapping_add(carriers + 1);
    } else {
        moving |= carriers;
        moving = moving.wrapping_sub(carriers + 1);
    }
    moving &= own >> width;
    hash.bits = moving | kept;
}

fn moved(hash: Hash, dx: i8, dy: i8) -> Hash {
    let mut h = hash;
    move_along(&mut h, dx, X_BITS);
    move_along(&mut h, dy, Y_BITS);
    h
}

/// What a search looks at: where it is centred, and its extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Longitude and latitude of the centre.
    pub center: (f64, f64),
    /// Metres per unit of the distances given (and replied).
    pub conversion: f64,
    pub kind: ShapeKind,
}

/// A circle (BYRADIUS, GEORADIUS) or a box (BYBOX), in the request's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

impl Shape {
    /// The distance from the centre to a position, when the position is inside.
    pub fn contains(&self, longitude: f64, latitude: f64) -> Option<f64> {
        let (x1, y1) = self.center;
        match self.kind {
            ShapeKind::Circle { radius } => {
                let d = distance(x1, y1, longitude, latitude);
                (d <= radius * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                if lat_distance(latitude, y1) > height_m / 2.0 {
                    return None;
                }
                if distance(longitude, latitude, x1, latitude) > width_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, longitude, latitude))
            }
        }
    }

    /// Longitude/latitude bounds of the shape: `[min_lon, min_lat, max_lon, max_lat]`.
    fn bounding_box(&self) -> [f64; 4] {
        let (longitude, latitude) = self.center;
        let (half_height, half_width) = match self.kind {
            ShapeKind::Circle { radius } => (radius, radius),
            ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * half_height;
        let width = self.conversion * half_width;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        // The wider edge is the one nearer the equator.
        let long_delta = if latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - long_delta,
            latitude - lat_delta,
            longitude + long_delta,
            latitude + lat_delta,
        ]
    }

    /// The distance that bounds the shape from its centre, in metres.
    fn radius_meters(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }
}

/// The finest step whose cells are still larger than `range_meters` around `latitude`.
fn estimate_steps(range_meters: f64, latitude: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    // Two steps coarser, so the shape fits in most cases.
    step -= 2;
    // Cells narrow towards the poles.
    if !(-66.0..=66.0).contains(&latitude) {
        step -= 1;
        if !(-80.0..=80.0).contains(&latitude) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The cells a search visits, in the order Redis visits them: the centre's cell, then
/// north, south, east, west, north-east, north-west, south-east, south-west. Cells the
/// shape cannot reach are left out.
pub fn cells_to_search(shape: &Shape) -> Vec<Hash> {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let (longitude, latitude) = shape.center;
    let mut steps = estimate_steps(shape.radius_meters(), latitude);
    let cell_at = |steps: u8| {
        encode(WGS84, longitude, latitude, steps).unwrap_or(Hash {
            bits: 0,
            step: steps,
        })
    };
    let mut hash = cell_at(steps);
    let neighbours = |h: Hash| {
        [
            moved(h, 0, 1),   // north
            moved(h, 0, -1),  // south
            moved(h, 1, 0),   // east
            moved(h, -1, 0),  // west
            moved(h, 1, 1),   // north-east
            moved(h, -1, 1),  // north-west
            moved(h, 1, -1),  // south-east
            moved(h, -1, -1), // south-west
        ]
    };
    let mut around = neighbours(hash);
    // Near a cell's edge the estimated step can leave part of the shape outside the nine
    // cells: one step coarser then.
    let reaches_past = {
        let [north, south, east, west] = [around[0], around[1], around[2], around[3]];
        decode(WGS84, north).latitude.max < max_lat
            || decode(WGS84, south).latitude.min > min_lat
            || decode(WGS84, east).longitude.max < max_lon
            || decode(WGS84, west).longitude.min > min_lon
    };
    if steps > 1 && reaches_past {
        steps -= 1;
        hash = cell_at(steps);
        around = neighbours(hash);
    }
    let area = decode(WGS84, hash);
    if steps >= 2 {
        let [n, s, e, w, ne, nw, se, sw] = [0, 1, 2, 3, 4, 5, 6, 7];
        if area.latitude.min < min_lat {
            for i in [s, sw, se] {
                around[i] = Hash::ZERO;
            }
        }
        if area.latitude.max > max_lat {
            for i in [n, ne, nw] {
                around[i] = Hash::ZERO;
            }
        }
        if area.longitude.min < min_lon {
            for i in [w, sw, nw] {
                around[i] = Hash::ZERO;
            }
        }
        if area.longitude.max > max_lon {
            for i in [e, se, ne] {
                around[i] = Hash::ZERO;
            }
        }
    }
    // With huge radii adjacent neighbours can be the same cell: a cell equal to the last
    // one kept is skipped, so no member is reported twice.
    let mut cells: Vec<Hash> = Vec::with_capacity(9);
    for cell in std::iter::once(hash).chain(around) {
        if cell.is_zero() || cells.len() > 1 && cells.last() == Some(&cell) {
            continue;
        }
        cells.push(cell);
    }
    cells
}

/// Metres between two latitudes on a meridian.
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Metres between two positions (haversine, on Redis's sphere).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the cheaper meridian distance.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ffffff, 0x1234567),
            (u32::MAX, 7),
        ] {
            let d = deinterleave(interleave(x, y));
            assert_eq!((d as u32, (d >> 32) as u32), (x, y));
        }
    }

    #[test]
    fn scores_are_redis_scores() {
        // Palermo and Catania, as GEOADD stores them in Redis 7.0.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(181.0, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
    }

    #[test]
    fn positions_and_distances_print_as_redis_prints_them() {
        let (lon, lat) = position_of(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        let (lon2, lat2) = position_of(3479447370796909.0);
        let d = distance(lon, lat, lon2, lat2);
        assert_eq!(format!("{:.4}", d), "166274.1516");
    }

    #[test]
    fn geohash_strings_use_the_standard_latitude_range() {
        assert_eq!(&standard_geohash(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&standard_geohash(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn neighbours_wrap_and_step() {
        let h = Hash { bits: 0, step: 2 };
        // Moving west from the first column wraps to the last one.
        assert_eq!(moved(h, -1, 0).bits & 0xaaaa, 0b1010);
        assert_eq!(moved(moved(h, 1, 0), -1, 0), h);
        assert_eq!(moved(moved(h, 0, 1), 0, -1), h);
    }

    #[test]
    fn a_huge_radius_searches_each_cell_once() {
        let shape = Shape {
            center: (0.0, 0.0),
            conversion: 1000.0,
            kind: ShapeKind::Circle { radius: 50000.0 },
        };
        let cells = cells_to_search(&shape);
        assert!(!cells.is_empty());
        for pair in cells.windows(2) {
            assert_ne!(pair[0], pair[1]);
        }
    }
}
