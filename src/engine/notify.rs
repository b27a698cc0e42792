//! Keyspace notifications (`notify-keyspace-events`), as Redis 7.0 sends them.
//!
//! A command that changes a key reports an event of one class (`set` of the string class,
//! `lpush` of the list class, `del` and `expire` of the generic class...); expiry, eviction
//! and key creation report `expired`, `evicted` and `new`. When the event's class is
//! enabled, it is published on `__keyspace@<db>__:<key>` (message: the event) with `K`, and
//! on `__keyevent@<db>__:<event>` (message: the key) with `E`, to this server's
//! subscribers only: notifications are not replicated (a replica notifies its own
//! subscribers as it applies its master's stream). With no class enabled, the default,
//! a notification costs one comparison.

pub use crate::config::directives::notify::{
    EVICTED, EXPIRED, GENERIC, HASH, KEY_MISS, LIST, NEW, SET, STREAM, STRING, ZSET,
};

use super::Engine;
use crate::config::directives::notify::{KEYEVENT, KEYSPACE};
use crate::config::Settings;

/// True when events of `class` are enabled and could reach a channel (for the classes
/// whose keys the keyspace must record as it goes: `new`, `keymiss`).
pub fn wants(settings: &Settings, class: u32) -> bool {
    let flags = settings.notify_keyspace_events;
    flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
}

impl Engine {
    /// Reports `event` of `class` on `key` in database `db`.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        let flags = self.settings.notify_keyspace_events;
        if flags & class == 0 {
            return;
        }
        if flags & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{db}__:").into_bytes();
            channel.extend_from_slice(key);
            self.subscriptions.publish(&channel, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{event}");
            self.subscriptions.publish(channel.as_bytes(), key);
        }
    }

    /// Reports the keys missed and created since the last call as `keymiss` and `new`
    /// events, each in order.
    pub fn notify_logged_keys(&mut self) {
        let flags = self.settings.notify_keyspace_events;
        if flags & (NEW | KEY_MISS) == 0 {
            return;
        }
        for db in 0..self.keyspace.dbs.len() {
            for key in self.keyspace.dbs[db].take_missed_keys() {
                self.notify(KEY_MISS, "keymiss", &key, db);
            }
            for key in self.keyspace.dbs[db].take_new_keys() {
                self.notify(NEW, "new", &key, db);
            }
        }
    }

    /// Before a command reports its own event: the events its lookups caused come first,
    /// as in Redis (a key that expired on access, a key the command created).
    pub fn notify_pending(&mut self) {
        if self.settings.notify_keyspace_events == 0 {
            return;
        }
        self.propagate_expired();
        self.notify_logged_keys();
    }
}
