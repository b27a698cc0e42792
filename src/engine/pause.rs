//! Client pauses (Redis's `pauseClients`): CLIENT PAUSE holds clients for a while, and a
//! coordinated FAILOVER holds every write until it has handed over. While writes are held,
//! nothing changes the dataset behind the replicas' backs either: expired keys are hidden but
//! not deleted, and the active expiry cycle waits.
//!
//! A held client is not blocked inside the engine: the executor answers its command with
//! `Action::Paused`, the connection puts the command back in front of its queue, releases the
//! engine and waits on [`Pauses::changed`] (or the pause's deadline) before it tries again.

use std::time::Instant;

use tokio::sync::watch;

/// What a pause holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseKind {
    /// Commands that may write (writes, PUBLISH, EXEC of a transaction that writes).
    Write,
    /// Every command.
    All,
}

/// Why clients are held; several can hold at once (Redis's pause purposes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePurpose {
    /// CLIENT PAUSE.
    ClientCommand,
    /// A coordinated failover, until it hands over or aborts.
    Failover,
    /// A shutdown waiting for lagging replicas, until it ends or is aborted.
    Shutdown,
}

/// The pauses in force.
#[derive(Debug)]
pub struct Pauses {
    /// CLIENT PAUSE: what it holds, until when.
    client: Option<(PauseKind, Instant)>,
    /// FAILOVER holds writes (no deadline: it ends with the failover).
    failover: bool,
    /// A shutdown waiting for replicas holds writes (it ends with the shutdown).
    shutdown: bool,
    /// Bumped on every change, so held clients wake up and look again.
    changed: watch::Sender<u64>,
}

impl Default for Pauses {
    fn default() -> Self {
        Pauses {
            client: None,
            failover: false,
            shutdown: false,
            changed: watch::channel(0).0,
        }
    }
}

impl Pauses {
    /// Holds clients for `purpose`; a CLIENT PAUSE keeps the stronger kind and the later
    /// deadline of two overlapping pauses, as Redis does.
    pub fn pause(&mut self, purpose: PausePurpose, kind: PauseKind, until: Option<Instant>) {
        match purpose {
            PausePurpose::ClientCommand => {
                let until = until.unwrap_or_else(Instant::now);
                self.client = Some(match self.client {
                    Some((k, u)) => (k.max(kind), u.max(until)),
                    None => (kind, until),
                });
            }
            PausePurpose::Failover => self.failover = true,
            PausePurpose::Shutdown => self.shutdown = true,
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// Ends the pause of `purpose`.
    pub fn unpause(&mut self, purpose: PausePurpose) {
        match purpose {
            PausePurpose::ClientCommand => self.client = None,
            PausePurpose::Failover => self.failover = false,
            PausePurpose::Shutdown => self.shutdown = false,
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// What is held at `now` (an expired CLIENT PAUSE holds nothing).
    pub fn held(&self, now: Instant) -> Option<PauseKind> {
        self.held_at(|| now)
    }

    /// [`Pauses::held`], reading the clock only when a client pause is set (every command
    /// asks).
    pub fn held_at(&self, now: impl FnOnce() -> Instant) -> Option<PauseKind> {
        let client = self
            .client
            .filter(|(_, until)| now() < *until)
            .map(|(k, _)| k);
        let held_writes = (self.failover || self.shutdown).then_some(PauseKind::Write);
        client.max(held_writes)
    }

    /// True while writes are held (expiry waits too).
    pub fn writes_held(&self, now: Instant) -> bool {
        self.held(now).is_some()
    }

    /// When the CLIENT PAUSE ends, if one runs (held clients wake up then).
    pub fn client_deadline(&self) -> Option<Instant> {
        self.client.map(|(_, until)| until)
    }

    /// Wakes held clients on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pauses_combine_and_expire() {
        let mut p = Pauses::default();
        let now = Instant::now();
        assert_eq!(p.held(now), None);
        p.pause(
            PausePurpose::ClientCommand,
            PauseKind::Write,
            Some(now + Duration::from_secs(1)),
        );
        assert_eq!(p.held(now), Some(PauseKind::Write));
        // A second, weaker and shorter pause keeps the stronger kind and the later end.
        p.pause(
            PausePurpose::ClientCommand,
            PauseKind::All,
            Some(now + Duration::from_millis(10)),
        );
        assert_eq!(p.held(now), Some(PauseKind::All));
        assert_eq!(p.client_deadline(), Some(now + Duration::from_secs(1)));
        assert_eq!(p.held(now + Duration::from_secs(2)), None);
        // A failover holds writes until it ends, whatever CLIENT UNPAUSE does.
        p.pause(PausePurpose::Failover, PauseKind::Write, None);
        p.unpause(PausePurpose::ClientCommand);
        assert_eq!(p.held(now + Duration::from_secs(5)), Some(PauseKind::Write));
        p.unpause(PausePurpose::Failover);
        assert!(!p.writes_held(now));
    }

    #[test]
    fn changes_wake_held_clients() {
        let mut p = Pauses::default();
        let mut rx = p.subscribe();
        p.pause(PausePurpose::Failover, PauseKind::Write, None);
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        p.unpause(PausePurpose::Failover);
        assert!(rx.has_changed().unwrap());
    }
}
