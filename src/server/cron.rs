//! The server cron: `hz` times a second, the active expiry cycle (and its DEL propagation),
//! then save rules (persistence), then the statistics samples and the figures published for
//! the control plane; once a second the replication cron.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::State;
use crate::keyspace::now_ms;

/// Runs the cron until shutdown.
pub async fn run(state: Arc<State>) {
    let mut shutdown = state.shutdown.subscribe();
    let mut ops = OpsSampler::default();
    let mut last_second = Instant::now();
    let mut repl_ticks = 0u64;
    loop {
        let hz = state.settings().hz.clamp(1, 500);
        let period = Duration::from_micros(1_000_000 / hz as u64);
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
        // A running script holds the engine; the cron waits for it (as Redis's does) rather
        // than park a runtime worker on the lock.
        if state.engine.script().running_for().is_some() {
            continue;
        }
        if !tick(&state, period, &mut ops) {
            continue;
        }
        clients_cron(&state);
        if last_second.elapsed() >= Duration::from_secs(1) {
            last_second = Instant::now();
            crate::engine::replication::cron(&state, &mut repl_ticks);
        }
    }
}

/// One cron tick; false when DEBUG PAUSE-CRON holds the cron.
fn tick(state: &State, period: Duration, ops: &mut OpsSampler) -> bool {
    let mut engine = state.engine.lock();
    if engine.cron_paused {
        return false;
    }
    // The clocks commands read from caches: OBJECT IDLETIME's, and the wall clock's
    // offset from the monotonic one.
    crate::keyspace::refresh_lru_clock();
    crate::keyspace::clock::calibrate_wall_clock();
    let writes_held = engine.pauses.writes_held(Instant::now());
    engine.keyspace.hold_expiry(writes_held);
    if engine.active_expire_enabled && !writes_held {
        // Like Redis's slow cycle: at most a quarter of the tick on expiry.
        let deadline = Instant::now() + period / 4;
        let now = now_ms();
        for db in &mut engine.keyspace.dbs {
            if Instant::now() >= deadline {
                break;
            }
            db.active_expire(now, deadline);
            // A writable replica's own volatile keys (a no-op on a master).
            db.expire_local_keys(now, deadline);
        }
        engine.propagate_expired();
        engine.flush_propagation_unwrapped();
    }
    // A coordinated failover hands over as soon as a replica caught up.
    crate::engine::failover::failover_cron(state, &mut engine);
    // A shutdown a signal asked for starts here; one waiting for replicas ends here.
    if crate::engine::shutdown::cron(state, &mut engine) {
        drop(engine);
        state.request_shutdown();
        return true;
    }
    // Eviction a command left unfinished (its time ran out) goes on without waiting for
    // the next command.
    crate::engine::eviction::continue_unfinished(state, &mut engine);
    // Client-side caching: the table's limit, and invalidations of what expiry, eviction
    // or anything outside a command changed.
    let e = &mut *engine;
    e.tracking.enforce_limit(&e.settings, None);
    e.tracking.flush(&mut e.keyspace, &e.settings, None, None);
    // MIGRATE's connections idle for too long.
    engine.migrate_sockets.close_idle(now_ms() / 1000);
    // Save rules and scheduled BGSAVEs.
    crate::engine::persistence::cron(state, &mut engine);
    // The AOF: everysec fsyncs, a failed write retried, scheduled and automatic rewrites.
    crate::engine::aof::cron(state, &mut engine);
    // Figures for readers that must not wait for the engine (the control plane), in case
    // a long command holds it next.
    state.observed.refresh(state, &engine);
    let total = engine.stats.total_commands;
    drop(engine);
    if let Some(rate) = ops.sample(total) {
        state.stats.instantaneous_ops.store(rate, Ordering::Relaxed);
    }
    let used = crate::telemetry::process::allocated_bytes();
    state.stats.memory_peak.fetch_max(used, Ordering::Relaxed);
    true
}

/// Redis's `clientsCron`, for what a connection cannot notice alone: clients over
/// `maxmemory-clients` together (one that stopped reading, say) are evicted, and a query
/// buffer left large by a big command, or kept while the client idles, is pointed out to
/// its connection, which resizes it.
fn clients_cron(state: &State) {
    state.evict_clients_if_needed();
    let now = now_ms();
    for client in state.clients.all() {
        if client.query_buffer_visit(now) {
            client.housekeeping.notify_one();
        }
    }
}

/// Commands per second over the last second, sampled by the cron.
#[derive(Default)]
struct OpsSampler {
    last: Option<(Instant, u64)>,
}

impl OpsSampler {
    fn sample(&mut self, total: u64) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some((at, count)) if now.duration_since(at) >= Duration::from_secs(1) => {
                let secs = now.duration_since(at).as_secs_f64();
                self.last = Some((now, total));
                Some((total.saturating_sub(count) as f64 / secs) as u64)
            }
            Some(_) => None,
            None => {
                self.last = Some((now, total));
                None
            }
        }
    }
}
