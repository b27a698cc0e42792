//! The memory guard of a load that keeps the old dataset serving reads: two datasets live
//! side by side until the swap. When they do not fit — memory in use passes
//! `replica-load-memory-limit` (or `maxmemory`) — the old dataset is freed at once and the
//! load goes on as Redis's blocking load does (clients get -LOADING), with a log line and a
//! `load_memory_fallback` event, rather than the replica running out of memory.

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use crate::config::Settings;
use crate::replication::{AbortOnDrop, Event, Follower};

/// How often memory in use is read while the guard watches.
const EVERY: Duration = Duration::from_millis(100);

/// Watches the load of sync `sync_id` until the returned guard is dropped; `None` when no
/// limit applies.
pub(super) fn watch(host: &Arc<dyn Follower>, sync_id: u64) -> Option<AbortOnDrop> {
    let limit = limit(&host.settings())?;
    let host = host.clone();
    Some(AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let used = crate::telemetry::process::allocated_bytes();
            if used <= limit {
                continue;
            }
            if host.release_old_dataset() {
                warn!(
                    used,
                    limit,
                    "MASTER <-> REPLICA sync: the load passed replica-load-memory-limit while the old dataset kept serving: the old dataset is freed, clients get -LOADING until the load ends"
                );
                host.hub().events.publish(Event::LoadMemoryFallback {
                    sync_id,
                    used_bytes: used,
                    limit_bytes: limit,
                });
            }
            return;
        }
    })))
}

/// `replica-load-memory-limit`, else `maxmemory`; `None` when both are 0.
fn limit(settings: &Settings) -> Option<u64> {
    match (settings.replica_load_memory_limit, settings.maxmemory) {
        (0, 0) => None,
        (0, maxmemory) => Some(maxmemory),
        (limit, _) => Some(limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_its_own_else_maxmemory_else_none() {
        let mut s = Settings::defaults();
        assert_eq!(limit(&s), None);
        s.maxmemory = 100;
        assert_eq!(limit(&s), Some(100));
        s.replica_load_memory_limit = 50;
        assert_eq!(limit(&s), Some(50));
    }
}
