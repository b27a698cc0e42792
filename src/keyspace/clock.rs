//! The clocks commands read: the LRU clock (seconds, for OBJECT IDLETIME and eviction) and
//! wall-clock milliseconds (expiry, stream IDs). Both are read for every command, so both
//! are served from figures the server cron refreshes, as Redis serves `server.lruclock`:
//! a clock read per key access or per command was a measurable share of a pipelined
//! command's cost.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Offset of the LRU clock: idle times up to this many seconds (about 48 days) can be
/// given to keys that arrive with one (RESTORE IDLETIME, an RDB's IDLE opcode) even just
/// after start.
const LRU_BASE: u32 = 1 << 22;

/// The LRU clock: seconds since the process started plus [`LRU_BASE`]. It is process-wide,
/// so items loaded into a fresh keyspace (full sync, DEBUG RELOAD) keep comparable times.
/// OBJECT IDLETIME is the clock minus an item's last access.
///
/// Read from a cache that the server cron refreshes ([`refresh_lru_clock`]), as Redis's
/// `server.lruclock`: every key access reads it, and a clock read per access was a
/// measurable share of a pipelined command's cost, for a figure counted in seconds.
pub fn lru_clock() -> u32 {
    match LRU_CLOCK.load(Ordering::Relaxed) {
        0 => refresh_lru_clock(),
        cached => cached,
    }
}

/// Reads the clock into the cache [`lru_clock`] serves (the cron, `hz` times a second).
pub fn refresh_lru_clock() -> u32 {
    let clock = epoch().elapsed().as_secs() as u32 + LRU_BASE;
    LRU_CLOCK.store(clock, Ordering::Relaxed);
    clock
}

/// The cached LRU clock; 0 until first read (the clock itself starts at [`LRU_BASE`]).
static LRU_CLOCK: AtomicU32 = AtomicU32::new(0);

/// Current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The instant both clocks count from: the first read in the process.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Unix time in nanoseconds at [`epoch`], as of the last calibration; `i64::MIN` before
/// the first. Nanoseconds, not milliseconds: a base rounded to the millisecond would put
/// derived times up to 1 ms behind the system clock, and a replica would then clamp its
/// master's XCLAIM TIME (never later than "now") to a time 1 ms early.
static WALL_AT_EPOCH_NS: AtomicI64 = AtomicI64::new(i64::MIN);

/// Unix time in milliseconds at `at`, an instant of the monotonic clock, from the last
/// calibration ([`calibrate_wall_clock`], the cron's, `hz` times a second): a command that
/// already read the monotonic clock for its duration needs no second read for its time. A
/// change of the system's time shows within one cron period.
pub fn wall_ms_at(at: Instant) -> i64 {
    let base = match WALL_AT_EPOCH_NS.load(Ordering::Relaxed) {
        i64::MIN => calibrate_wall_clock(),
        base => base,
    };
    let since_epoch = at.saturating_duration_since(epoch()).as_nanos() as i64;
    (base + since_epoch).div_euclid(1_000_000)
}

/// Reads the wall clock against the monotonic one for [`wall_ms_at`]; returns the new base.
/// The wall reading is taken between two monotonic ones and paired with their midpoint;
/// a pair pulled apart (the thread preempted in between) is read again.
pub fn calibrate_wall_clock() -> i64 {
    let epoch = epoch();
    let mut base = i64::MIN;
    for _ in 0..3 {
        let before = epoch.elapsed().as_nanos() as i64;
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let after = epoch.elapsed().as_nanos() as i64;
        base = wall - (before + (after - before) / 2);
        if after - before < 20_000 {
            break;
        }
    }
    WALL_AT_EPOCH_NS.store(base, Ordering::Relaxed);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_wall_clock_follows_the_system_clock() {
        calibrate_wall_clock();
        let before = now_ms();
        let derived = wall_ms_at(Instant::now());
        let after = now_ms();
        assert!(
            (before - 1..=after + 1).contains(&derived),
            "{before} {derived} {after}"
        );
    }

    #[test]
    fn the_lru_clock_counts_seconds_from_its_base() {
        let clock = refresh_lru_clock();
        assert!(clock >= LRU_BASE);
        assert_eq!(lru_clock(), clock);
    }
}
