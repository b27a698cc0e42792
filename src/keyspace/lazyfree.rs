//! Freeing large values off the engine (Redis's lazyfree): UNLINK, `FLUSHDB|FLUSHALL ASYNC`
//! and lazy eviction hand what they removed to one background thread, so the command
//! returns in constant time however big the value was. Values cheaper to free than to hand
//! over (a free effort of at most [`EFFORT_THRESHOLD`] allocations, Redis's rule) are
//! freed at once. INFO counts what is queued (`lazyfree_pending_objects`) and what the
//! thread freed (`lazyfreed_objects`), process-wide as in Redis.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use super::Value;

/// Above this many allocations, freeing goes to the background (Redis's
/// `LAZYFREE_THRESHOLD`).
pub const EFFORT_THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

type Job = (Box<dyn Send>, u64);

/// The background thread's queue, started on first use.
fn queue() -> Option<&'static Mutex<mpsc::Sender<Job>>> {
    static QUEUE: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let spawned = std::thread::Builder::new()
                .name("lazyfree".into())
                .spawn(move || {
                    for (garbage, objects) in rx {
                        drop(garbage);
                        crate::telemetry::process::note_release();
                        PENDING.fetch_sub(objects, Ordering::Relaxed);
                        FREED.fetch_add(objects, Ordering::Relaxed);
                    }
                });
            match spawned {
                Ok(_) => Some(Mutex::new(tx)),
                Err(e) => {
                    tracing::warn!(error = %e, "could not start the lazy-free thread; freeing inline");
                    None
                }
            }
        })
        .as_ref()
}

/// Hands `garbage`, which holds `objects` values (or keys), to the background thread;
/// freed inline when the thread could not start.
pub fn free_later<T: Send + 'static>(garbage: T, objects: u64) {
    let Some(queue) = queue() else {
        return;
    };
    PENDING.fetch_add(objects, Ordering::Relaxed);
    let sent = queue
        .lock()
        .map_err(|_| ())
        .and_then(|tx| tx.send((Box::new(garbage), objects)).map_err(|_| ()));
    if sent.is_err() {
        PENDING.fetch_sub(objects, Ordering::Relaxed);
    }
}

/// Redis's `lazyfreeGetFreeEffort`: about how many allocations freeing `value` takes
/// (one for a compact encoding, one per element for the others, a stream's nodes and its
/// groups' pending entries).
pub fn free_effort(value: &Value) -> usize {
    match value {
        Value::List(l) => l.len(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::Stream(s) => {
            let groups = s.groups.len();
            let first_pel = s.groups.values().next().map_or(0, |g| g.pel.len());
            s.nodes().len() + groups * (1 + first_pel)
        }
        _ => 1,
    }
}

/// INFO `lazyfree_pending_objects`.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// INFO `lazyfreed_objects`.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    FREED.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::types::list::{End, List};
    use crate::keyspace::value::blob;

    #[test]
    fn big_values_are_freed_in_the_background_and_counted() {
        let mut list = List::new();
        for i in 0..100 {
            list.push(End::Tail, blob(i.to_string().as_bytes()));
        }
        let value = Value::List(Box::new(list));
        assert!(free_effort(&value) > EFFORT_THRESHOLD);
        let before = freed();
        free_later(value, 1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while freed() == before {
            assert!(std::time::Instant::now() < deadline, "freed in time");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
