//! `maxmemory`: keeping the dataset under its memory limit, as Redis's `performEvictions`.
//!
//! Before each command (when `maxmemory` is set, on a master or a replica that does not
//! ignore it), the allocator's figure is compared with the limit. Over it, keys are evicted
//! by `maxmemory-policy`: `maxmemory-samples` random keys per database are weighed (idle
//! time for LRU, decayed access counter for LFU, nearest expiry for volatile-ttl, any for
//! random) and the best candidate goes, until about enough was freed, then the allocator is
//! read again; the work per command is bounded by `maxmemory-eviction-tenacity`. Each
//! eviction is propagated to replicas as DEL (UNLINK with `lazyfree-lazy-eviction`) and
//! counted in `evicted_keys`. When nothing can be evicted, commands that add data are
//! refused with Redis's `-OOM` error.
//!
//! Not counted, as Redis does not count them: bytes the replication buffer holds for slow
//! replicas beyond `repl-backlog-size`, and evicted values a live snapshot (BGSAVE, full
//! sync) still references — those are freed when the snapshot ends, and counting them would
//! evict the whole dataset during a full sync. Nor the buffers of clients `maxmemory-clients`
//! just evicted, which their connections are releasing: client eviction runs first, and a
//! key is evicted only when memory is still over the limit after it. Nor messages on their
//! way to clients whose sockets take them (an eviction's own invalidations among them).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Engine, State};
use crate::keyspace::{lazyfree, lfu, AccessMode, ItemRef, NO_EXPIRE};
use crate::telemetry::process;

/// `maxmemory-policy`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Refuse writes with -OOM.
    NoEviction,
    /// Least recently used, among all keys or keys with a TTL.
    Lru { volatile: bool },
    /// Least frequently used.
    Lfu { volatile: bool },
    /// Any key.
    Random { volatile: bool },
    /// Nearest expiry among keys with a TTL.
    Ttl,
}

impl Policy {
    /// Parses a `maxmemory-policy` value (already validated by the directive).
    pub fn parse(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::Lru { volatile: false },
            "volatile-lru" => Policy::Lru { volatile: true },
            "allkeys-lfu" => Policy::Lfu { volatile: false },
            "volatile-lfu" => Policy::Lfu { volatile: true },
            "allkeys-random" => Policy::Random { volatile: false },
            "volatile-random" => Policy::Random { volatile: true },
            "volatile-ttl" => Policy::Ttl,
            _ => Policy::NoEviction,
        }
    }

    fn volatile(self) -> bool {
        match self {
            Policy::Lru { volatile } | Policy::Lfu { volatile } | Policy::Random { volatile } => {
                volatile
            }
            Policy::Ttl => true,
            Policy::NoEviction => false,
        }
    }
}

/// How accesses are recorded under `settings`.
pub fn access_mode(settings: &crate::config::Settings) -> AccessMode {
    match Policy::parse(&settings.maxmemory_policy) {
        Policy::Lfu { .. } => AccessMode::Lfu {
            log_factor: settings.lfu_log_factor,
            decay_minutes: settings.lfu_decay_time,
        },
        _ => AccessMode::Lru,
    }
}

/// Eviction's state and counters.
#[derive(Debug, Default)]
pub struct Eviction {
    /// Keys evicted (INFO evicted_keys).
    pub evicted_keys: u64,
    /// Estimated bytes of evicted values that a live snapshot still references.
    held_by_snapshots: u64,
    /// When the allocator figure was last refreshed, and the figure.
    measured: Option<(Instant, u64)>,
    /// [`process::releases`] at that refresh: memory freed off the command path since
    /// (a closed client's buffers, the lazy-free thread) makes the figure stale at once,
    /// or the next command would evict keys for memory that is already free.
    releases_seen: u64,
    /// What commands allocated (net) since that refresh, by their threads' own counters:
    /// a large write is seen by the very next command, not after the refresh interval.
    growth_since_measured: i64,
    /// Since when memory has been over the limit (INFO total_eviction_exceeded_time).
    exceeded_since: Option<Instant>,
    /// Time spent over the limit before `exceeded_since`.
    pub exceeded_total: Duration,
    /// The last eviction ran out of time before memory fit (Redis's running eviction
    /// timer): the cron goes on with it.
    unfinished: bool,
}

/// Elements of a collection weighed to estimate what evicting it frees.
const EVICTION_SAMPLES: usize = 5;

/// What [`perform`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit applies).
    Fits,
    /// Still over the limit: commands that add data must be refused.
    OutOfMemory,
}

/// The allocator's figure is refreshed at most this often (a refresh costs microseconds;
/// within it, a burst of small writes can overshoot the limit by little).
const MEASURE_EVERY: Duration = Duration::from_millis(1);

impl Eviction {
    /// Bytes counted against `maxmemory` now.
    fn used(&mut self, not_counted: u64, force: bool) -> u64 {
        let now = Instant::now();
        let releases = process::releases();
        let stale = self.measured.is_none_or(|(at, _)| {
            force || now.duration_since(at) >= MEASURE_EVERY || releases != self.releases_seen
        });
        if stale {
            self.measured = Some((now, process::allocated_bytes()));
            self.releases_seen = releases;
            self.growth_since_measured = 0;
        }
        let allocated = self.measured.map_or(0, |(_, v)| v);
        let allocated = allocated.saturating_add_signed(self.growth_since_measured);
        allocated.saturating_sub(not_counted + self.held_by_snapshots)
    }

    /// Counts what a command allocated (negative: freed), measured on its thread.
    pub fn note_command_growth(&mut self, bytes: i64) {
        self.growth_since_measured = self.growth_since_measured.saturating_add(bytes);
    }

    /// Takes `bytes` just freed off the last measurement.
    fn credit(&mut self, bytes: u64) {
        if let Some((_, allocated)) = self.measured.as_mut() {
            *allocated = allocated.saturating_sub(bytes);
        }
    }

    /// CONFIG RESETSTAT: the counters start again.
    pub fn reset_counters(&mut self) {
        self.evicted_keys = 0;
        self.exceeded_total = Duration::ZERO;
        self.exceeded_since = self.exceeded_since.map(|_| Instant::now());
    }

    /// Total time spent over the limit, the current stretch included.
    pub fn exceeded_time(&self) -> Duration {
        self.exceeded_total + self.exceeded_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    fn note_exceeded(&mut self, over: bool) {
        match (over, self.exceeded_since) {
            (true, None) => self.exceeded_since = Some(Instant::now()),
            (false, Some(since)) => {
                self.exceeded_total += since.elapsed();
                self.exceeded_since = None;
            }
            _ => {}
        }
    }
}

/// Brings memory under `maxmemory` by evicting keys, within the time tenacity allows
/// (the rest waits for the next command or the cron).
pub fn perform(state: &State, engine: &mut Engine) -> Outcome {
    engine.eviction.unfinished = false;
    let settings = engine.settings.clone();
    if settings.maxmemory == 0 || (engine.is_replica && settings.replica_ignore_maxmemory) {
        return Outcome::Fits;
    }
    // The replication buffer's bytes beyond the backlog are what slow replicas still need.
    let replication = state
        .repl
        .backlog
        .memory()
        .saturating_sub(settings.repl_backlog_size);
    if engine.keyspace.snapshots_alive() == 0 {
        engine.eviction.held_by_snapshots = 0;
    }
    let not_counted = replication + not_counted_for_clients(state);
    let mut used = engine.eviction.used(not_counted, false);
    // Clients over `maxmemory-clients` go before any key does (Redis's `evictClients`
    // ahead of `performEvictions`); what they held is on its way out.
    if used > settings.maxmemory && state.evict_clients_before_keys() {
        let not_counted = replication + not_counted_for_clients(state);
        used = engine.eviction.used(not_counted, false);
    }
    if used <= settings.maxmemory {
        engine.eviction.note_exceeded(false);
        return Outcome::Fits;
    }
    let policy = Policy::parse(&settings.maxmemory_policy);
    if policy == Policy::NoEviction {
        engine.eviction.note_exceeded(true);
        return Outcome::OutOfMemory;
    }
    // The clock is read every 16 evictions, as Redis does: most commands evict one key and
    // should not pay for timing it.
    let limit = time_limit(settings.maxmemory_eviction_tenacity);
    let mut started: Option<Instant> = None;
    let mut evictions = 0u64;
    let mut out_of_time = move |evictions: u64| {
        evictions.is_multiple_of(16)
            && limit.is_some_and(|l| started.get_or_insert_with(Instant::now).elapsed() >= l)
    };
    loop {
        let to_free = used - settings.maxmemory;
        let mut freed = 0u64;
        let mut evicted_any = false;
        let mut timed_out = false;
        while freed < to_free {
            let Some((db, key)) = choose_victim(engine, policy, settings.maxmemory_samples) else {
                break;
            };
            freed += evict(engine, db, &key, settings.lazyfree_lazy_eviction);
            evicted_any = true;
            evictions += 1;
            if out_of_time(evictions) {
                timed_out = true;
                break;
            }
        }
        if freed >= to_free {
            // Trust the estimate until the next measurement (at most MEASURE_EVERY away):
            // reading the allocator after every eviction would cost more than the eviction.
            engine.eviction.credit(freed);
            engine.eviction.note_exceeded(false);
            return Outcome::Fits;
        }
        let not_counted = replication + not_counted_for_clients(state);
        used = engine.eviction.used(not_counted, true);
        if used <= settings.maxmemory {
            engine.eviction.note_exceeded(false);
            return Outcome::Fits;
        }
        engine.eviction.note_exceeded(true);
        if !evicted_any {
            return Outcome::OutOfMemory;
        }
        if timed_out {
            // Out of time, not out of candidates: the next command (or the cron) goes on,
            // and this one runs (Redis's EVICT_RUNNING).
            engine.eviction.unfinished = true;
            return Outcome::Fits;
        }
    }
}

/// Client memory on its way out: evicted clients' buffers being released, and messages
/// queued for clients that write freely (see [`crate::engine::push::in_flight_bytes`]).
fn not_counted_for_clients(state: &State) -> u64 {
    state.clients.memory_being_freed() + super::push::in_flight_bytes()
}

/// Redis's eviction timer, run by the cron and after each command: it goes on with an
/// eviction a command left unfinished for lack of time, or one a new limit asked for (see
/// [`limit_changed`]); memory that grows without a command waits for the next command,
/// as in Redis.
pub fn continue_unfinished(state: &State, engine: &mut Engine) {
    if engine.eviction.unfinished {
        perform(state, engine);
    }
}

/// CONFIG SET maxmemory (Redis's `updateMaxmemory`): warns when the new limit is below
/// what is in use, and leaves the eviction to run after the command (Redis's eviction
/// timer): a CONFIG SET inside MULTI does not evict between the transaction's commands.
pub fn limit_changed(engine: &mut Engine) {
    let limit = engine.settings.maxmemory;
    if limit == 0 {
        return;
    }
    let used = engine.eviction.used(0, true);
    if limit < used {
        tracing::warn!(
            "WARNING: the new maxmemory value set via CONFIG SET ({limit}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
        );
    }
    engine.eviction.unfinished = true;
}

/// True when an eviction waits to go on (see [`continue_unfinished`]).
pub fn is_unfinished(engine: &Engine) -> bool {
    engine.eviction.unfinished
}

/// Redis's `evictionTimeLimitUs`: tenacity 10 is 500 µs, each step above ×1.15, 100 is
/// unlimited.
fn time_limit(tenacity: u32) -> Option<Duration> {
    if tenacity >= 100 {
        return None;
    }
    let us = if tenacity <= 10 {
        50.0 * tenacity as f64
    } else {
        500.0 * 1.15f64.powi(tenacity as i32 - 10)
    };
    Some(Duration::from_micros(us.max(1.0) as u64))
}

/// The best key to evict across every database, by the policy's score (higher goes first).
fn choose_victim(engine: &mut Engine, policy: Policy, samples: u32) -> Option<(usize, Bytes)> {
    let now = crate::keyspace::now_ms();
    let clock = engine.keyspace.lru_clock();
    let minute = lfu::minutes_now();
    let decay = engine.settings.lfu_decay_time;
    let mut best: Option<(u64, usize, Bytes)> = None;
    for db in &engine.keyspace.dbs {
        db.sample(
            samples as usize,
            policy.volatile(),
            now,
            |item: &ItemRef| {
                let score = match policy {
                    Policy::Lru { .. } => clock.saturating_sub(item.access()) as u64,
                    Policy::Lfu { .. } => 255 - lfu::decayed(item.access(), decay, minute) as u64,
                    Policy::Ttl => (NO_EXPIRE - item.expire_at()) as u64,
                    Policy::Random { .. } | Policy::NoEviction => 0,
                };
                if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                    best = Some((score, db.id, Bytes::copy_from_slice(&item.key)));
                }
            },
        );
        // Random needs no comparison: the first database with a candidate gives it.
        if matches!(policy, Policy::Random { .. }) && best.is_some() {
            break;
        }
    }
    best.map(|(_, db, key)| (db, key))
}

/// Evicts `key` from `db`: removes it, signals its watchers, propagates the deletion and
/// counts it. Returns the estimated bytes freed.
fn evict(engine: &mut Engine, db: usize, key: &[u8], lazy: bool) -> u64 {
    let Some(item) = engine.keyspace.dbs[db].remove(key) else {
        return 0;
    };
    // MEMORY USAGE's estimate (sampling a collection): what the allocator gets back, close
    // enough that an eviction stops near what it had to free.
    let estimate = crate::keyspace::memory::item_usage(&item, EVICTION_SAMPLES) as u64;
    if ItemRef::count(&item) > 1 {
        // A snapshot still references it: nothing is freed until the snapshot ends.
        engine.eviction.held_by_snapshots += estimate;
    }
    if lazy && lazyfree::free_effort(&item.value) > lazyfree::EFFORT_THRESHOLD {
        lazyfree::free_later(item, 1);
    } else {
        drop(item);
    }
    let command: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    engine.repl.feed(db, &[command, key]);
    engine.aof.feed(db, &[command, key]);
    engine.notify(super::notify::EVICTED, "evicted", key, db);
    engine.dirty += 1;
    engine.eviction.evicted_keys += 1;
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_redis_names_them() {
        assert_eq!(Policy::parse("noeviction"), Policy::NoEviction);
        assert_eq!(
            Policy::parse("allkeys-lru"),
            Policy::Lru { volatile: false }
        );
        assert_eq!(
            Policy::parse("volatile-lfu"),
            Policy::Lfu { volatile: true }
        );
        assert!(Policy::parse("volatile-ttl").volatile());
        assert!(!Policy::parse("allkeys-random").volatile());
    }

    #[test]
    fn tenacity_follows_redis() {
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(0), Some(Duration::from_micros(1)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }
}
