//! Figures the engine publishes for readers that must never wait for it.
//!
//! The control plane's reads (`/readyz`, `GET /v1/replication`, `/metrics`...) want the
//! engine's figures, which live behind the engine lock. A command that holds the lock for
//! long (`DEBUG SLEEP`, a big `KEYS`, a script) must not make them wait: a probe that times
//! out gets the node restarted, and the operator loses their view exactly when they need it.
//! So such a reader tries the lock for a short budget ([`READ_BUDGET`]): when it gets it,
//! it reads fresh figures and publishes them; when it does not, it answers with the last
//! published ones and their age. The cron publishes too, at most every
//! [`PUBLISH_EVERY`], so what a reader falls back on is never older than the busy spell
//! plus that period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::snapshot::ServerSnapshot;
use super::{Engine, State};
use crate::replication::ReplicationStatus;

/// How long a reader tries the engine lock before it falls back on published figures.
pub const READ_BUDGET: Duration = Duration::from_millis(50);

/// The cron publishes figures no one refreshed for this long.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// One lock attempt while a reader waits: short, since it parks the reader's thread.
const ATTEMPT: Duration = Duration::from_millis(1);

/// The last published value of one kind of figures.
#[derive(Debug)]
pub struct Published<T>(Mutex<Option<(Instant, Arc<T>)>>);

impl<T> Default for Published<T> {
    fn default() -> Self {
        Published(Mutex::new(None))
    }
}

impl<T> Published<T> {
    /// Makes `value` the latest.
    pub fn publish(&self, value: Arc<T>) {
        *self.0.lock() = Some((Instant::now(), value));
    }

    /// The latest value and when it was published.
    pub fn latest(&self) -> Option<(Instant, Arc<T>)> {
        self.0.lock().clone()
    }

    fn older_than(&self, age: Duration) -> bool {
        self.0
            .lock()
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= age)
    }
}

/// Figures as a reader got them: fresh, or published earlier while the engine was busy.
#[derive(Debug, Clone)]
pub struct Observed<T> {
    /// The figures.
    pub value: Arc<T>,
    /// How old they are when they were not read fresh.
    pub age: Option<Duration>,
}

impl<T> std::ops::Deref for Observed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// What replication readers see: the status INFO renders and whether a load is running.
#[derive(Debug, Clone)]
pub struct ReplicationView {
    /// The replication status.
    pub status: ReplicationStatus,
    /// A dataset is loading (start-up, or a replica loading its master's snapshot).
    pub loading: bool,
}

impl ReplicationView {
    /// Reads the view under the engine lock.
    pub fn read(state: &State, engine: &Engine) -> ReplicationView {
        ReplicationView {
            status: super::replication::status(state, engine),
            loading: engine.loading,
        }
    }
}

/// Everything the engine publishes.
#[derive(Debug, Default)]
pub struct Observations {
    /// Replication status and loading.
    pub replication: Published<ReplicationView>,
    /// The figures INFO renders.
    pub server: Published<ServerSnapshot>,
}

impl Observations {
    /// Publishes what no reader refreshed within [`PUBLISH_EVERY`] (the cron, holding the
    /// engine lock).
    pub fn refresh(&self, state: &State, engine: &Engine) {
        self.publish(state, engine, PUBLISH_EVERY);
    }

    /// Publishes everything now (start-up, so that readers have figures from the first
    /// request on).
    pub fn publish_all(&self, state: &State, engine: &Engine) {
        self.publish(state, engine, Duration::ZERO);
    }

    fn publish(&self, state: &State, engine: &Engine, older_than: Duration) {
        if self.replication.older_than(older_than) {
            self.replication
                .publish(Arc::new(ReplicationView::read(state, engine)));
        }
        if self.server.older_than(older_than) {
            self.server
                .publish(Arc::new(ServerSnapshot::capture(state, engine)));
        }
    }
}

/// Reads figures with `read` under the engine lock if the lock comes within [`READ_BUDGET`]
/// (publishing them in `slot`), else answers with `slot`'s latest. Never parks its thread
/// for more than [`ATTEMPT`] at a time, so other requests on that thread keep being served;
/// with nothing published yet it waits for the lock.
pub async fn observe<T>(
    state: &State,
    slot: &Published<T>,
    read: impl Fn(&State, &Engine) -> T,
) -> Observed<T> {
    let started = Instant::now();
    loop {
        // A running script holds the lock for as long as it runs: no use trying.
        let script_runs = state.engine.script().running_for().is_some();
        if !script_runs {
            if let Some(engine) = state.engine.try_lock_for(ATTEMPT) {
                let value = Arc::new(read(state, &engine));
                drop(engine);
                slot.publish(value.clone());
                return Observed { value, age: None };
            }
        }
        if started.elapsed() >= READ_BUDGET {
            if let Some((at, value)) = slot.latest() {
                return Observed {
                    value,
                    age: Some(at.elapsed()),
                };
            }
        }
        if script_runs {
            tokio::time::sleep(ATTEMPT).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Arc<State> {
        State::new(
            crate::config::Settings::defaults(),
            None,
            |_, _, _, _, _| unreachable!("no command runs here"),
            |_| None,
        )
    }

    fn read_offset(_: &State, engine: &Engine) -> u64 {
        engine.repl.offset
    }

    #[tokio::test]
    async fn a_free_engine_is_read_fresh_and_published() {
        let state = state();
        let slot = Published::default();
        state.engine.lock().repl.offset = 7;
        let seen = observe(&state, &slot, read_offset).await;
        assert_eq!((*seen.value, seen.age), (7, None));
        assert_eq!(slot.latest().map(|(_, v)| *v), Some(7));
    }

    #[tokio::test]
    async fn a_busy_engine_gives_the_published_figures_with_their_age() {
        let state = state();
        let slot = Published::default();
        slot.publish(Arc::new(3));
        let held = state.engine.lock();
        let started = Instant::now();
        let seen = observe(&state, &slot, read_offset).await;
        drop(held);
        assert_eq!(*seen.value, 3);
        assert!(seen.age.is_some());
        assert!(started.elapsed() >= READ_BUDGET);
    }

    #[tokio::test]
    async fn with_nothing_published_a_reader_waits_for_the_lock() {
        let state = state();
        let held = state.engine.lock();
        let reader = {
            let state = state.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let slot = Published::default();
                    observe(&state, &slot, read_offset).await.age
                })
            })
        };
        std::thread::sleep(READ_BUDGET * 2);
        assert!(!reader.is_finished());
        drop(held);
        assert_eq!(reader.join().expect("reader"), None);
    }

    #[test]
    fn the_cron_refreshes_only_stale_figures() {
        let state = state();
        let observations = Observations::default();
        let engine = state.engine.lock();
        observations.refresh(&state, &engine);
        let (first, _) = observations.replication.latest().expect("published");
        observations.refresh(&state, &engine);
        let (second, _) = observations.replication.latest().expect("published");
        assert_eq!(first, second, "republished within PUBLISH_EVERY");
        assert!(observations.server.latest().is_some());
    }
}
