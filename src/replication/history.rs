//! The sync history: every sync session on either side, bounded, with its phases, for the
//! control plane (`GET /v1/replication/syncs`), the exporters and tests.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use super::admission::WaitReason;
use super::phase::{Phase, Side};

/// Unix milliseconds now.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Full or partial synchronisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// A snapshot plus the writes buffered meanwhile.
    Full,
    /// The backlog from the replica's offset.
    Partial,
}

impl SyncKind {
    /// `full` or `partial`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Full => "full",
            SyncKind::Partial => "partial",
        }
    }
}

/// How a sync session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Still running.
    InProgress,
    /// The link reached the streaming state.
    Succeeded,
    /// It failed; why.
    Failed(super::abort::LinkError),
}

/// One phase of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseRecord {
    /// Which phase.
    pub phase: Phase,
    /// Unix ms when it started.
    pub started_at_ms: i64,
    /// How long it took; `None` while it runs.
    pub duration_ms: Option<u64>,
}

/// One sync session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    /// Increasing id.
    pub id: u64,
    /// Our side.
    pub side: Side,
    /// The other end, `ip:port` (for a replica, its announced listening port).
    pub peer: String,
    /// Full or partial; `None` until decided.
    pub kind: Option<SyncKind>,
    /// Why a full sync was needed (or why the partial one was refused).
    pub reason: Option<String>,
    /// Replication id the session synchronised to.
    pub replid: String,
    /// Offset the stream continued from (for a full sync, the snapshot's offset).
    pub offset: i64,
    /// Unix ms when it started.
    pub started_at_ms: i64,
    /// Unix ms when it ended.
    pub ended_at_ms: Option<i64>,
    /// Outcome.
    pub outcome: SyncOutcome,
    /// Bytes moved (RDB payload plus backlog for a partial sync).
    pub bytes: u64,
    /// Keys moved (full syncs).
    pub keys: u64,
    /// Phases in order.
    pub phases: Vec<PhaseRecord>,
    /// The OpenTelemetry trace id of the session's trace, when tracing is on.
    pub trace_id: Option<String>,
    /// The admission queue's hold on a master's full sync, if it had to wait.
    pub queue: Option<QueueRecord>,
}

/// How long a master's full sync waited for admission, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// The rule holding it (the latest, when several held it in turn).
    pub reason: WaitReason,
    /// Unix ms when it started to wait.
    pub since_ms: i64,
    /// How long it waited; `None` while it waits.
    pub waited_ms: Option<u64>,
}

impl SyncRecord {
    /// The phase running now.
    pub fn current_phase(&self) -> Option<Phase> {
        self.phases
            .last()
            .filter(|p| p.duration_ms.is_none())
            .map(|p| p.phase)
    }
}

/// A bounded ring of sync records, newest last.
#[derive(Debug)]
pub struct SyncHistory {
    records: VecDeque<SyncRecord>,
    capacity: usize,
    next_id: u64,
}

impl SyncHistory {
    /// A history keeping `capacity` sessions.
    pub fn new(capacity: usize) -> SyncHistory {
        SyncHistory {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            next_id: 1,
        }
    }

    /// Changes how many sessions are kept.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.records.len() > self.capacity {
            self.records.pop_front();
        }
    }

    /// Opens a session; returns its id.
    pub fn start(&mut self, side: Side, peer: String) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if self.records.len() >= self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(SyncRecord {
            id,
            side,
            peer,
            kind: None,
            reason: None,
            replid: String::new(),
            offset: -1,
            started_at_ms: unix_ms(),
            ended_at_ms: None,
            outcome: SyncOutcome::InProgress,
            bytes: 0,
            keys: 0,
            phases: Vec::new(),
            trace_id: None,
            queue: None,
        });
        id
    }

    /// The session `id`, if still kept.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut SyncRecord> {
        self.records.iter_mut().rev().find(|r| r.id == id)
    }

    /// The trace id of session `id`, once known.
    pub fn trace_id(&self, id: u64) -> Option<String> {
        self.records
            .iter()
            .rev()
            .find(|r| r.id == id)
            .and_then(|r| r.trace_id.clone())
    }

    /// Ends the running phase of session `id` (if any) and starts `phase`.
    pub fn enter_phase(&mut self, id: u64, phase: Phase) {
        let now = unix_ms();
        if let Some(r) = self.get_mut(id) {
            close_phase(r, now);
            r.phases.push(PhaseRecord {
                phase,
                started_at_ms: now,
                duration_ms: None,
            });
        }
    }

    /// Session `id` waits for admission because of `reason`.
    pub fn hold(&mut self, id: u64, reason: WaitReason) {
        let now = unix_ms();
        if let Some(r) = self.get_mut(id) {
            match r.queue.as_mut() {
                Some(q) => q.reason = reason,
                None => {
                    r.queue = Some(QueueRecord {
                        reason,
                        since_ms: now,
                        waited_ms: None,
                    })
                }
            }
        }
    }

    /// Session `id`'s wait for admission ended.
    pub fn admit(&mut self, id: u64) {
        let now = unix_ms();
        if let Some(q) = self.get_mut(id).and_then(|r| r.queue.as_mut()) {
            end_wait(q, now);
        }
    }

    /// Ends session `id` with `outcome`; false when it had ended already (or is gone).
    pub fn finish(&mut self, id: u64, outcome: SyncOutcome) -> bool {
        let now = unix_ms();
        match self.get_mut(id) {
            Some(r) if r.outcome == SyncOutcome::InProgress => {
                close_phase(r, now);
                if let Some(q) = r.queue.as_mut() {
                    end_wait(q, now);
                }
                r.outcome = outcome;
                r.ended_at_ms = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Every kept session, oldest first.
    pub fn records(&self) -> Vec<SyncRecord> {
        self.records.iter().cloned().collect()
    }
}

fn end_wait(q: &mut QueueRecord, now: i64) {
    if q.waited_ms.is_none() {
        q.waited_ms = Some((now - q.since_ms).max(0) as u64);
    }
}

fn close_phase(r: &mut SyncRecord, now: i64) {
    if let Some(last) = r.phases.last_mut() {
        if last.duration_ms.is_none() {
            last.duration_ms = Some((now - last.started_at_ms).max(0) as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_keeps_its_first_start_and_latest_reason_until_admitted() {
        let mut h = SyncHistory::new(4);
        let a = h.start(Side::Master, "127.0.0.1:1".into());
        h.hold(a, WaitReason::DisklessDelay { delay_secs: 5 });
        let since = h
            .get_mut(a)
            .and_then(|r| r.queue.clone())
            .expect("held")
            .since_ms;
        h.hold(a, WaitReason::ConcurrencyCap { cap: 1 });
        let q = h.get_mut(a).and_then(|r| r.queue.clone()).expect("held");
        assert_eq!(q.reason, WaitReason::ConcurrencyCap { cap: 1 });
        assert_eq!(q.since_ms, since);
        assert_eq!(q.waited_ms, None, "still waiting");
        h.admit(a);
        let waited = h
            .get_mut(a)
            .and_then(|r| r.queue.clone())
            .and_then(|q| q.waited_ms);
        assert!(waited.is_some(), "admitted: the wait is measured");
        let b = h.start(Side::Master, "127.0.0.1:2".into());
        h.hold(b, WaitReason::DiskSnapshotBusy);
        h.finish(b, SyncOutcome::Succeeded);
        let q = h.get_mut(b).and_then(|r| r.queue.clone()).expect("held");
        assert!(q.waited_ms.is_some(), "a session that ends ends its wait");
    }

    #[test]
    fn records_phases_and_stays_bounded() {
        let mut h = SyncHistory::new(2);
        let a = h.start(Side::Master, "127.0.0.1:1".into());
        h.enter_phase(a, Phase::Psync);
        h.enter_phase(a, Phase::Snapshot);
        assert_eq!(
            h.get_mut(a).and_then(|r| r.current_phase()),
            Some(Phase::Snapshot)
        );
        h.finish(a, SyncOutcome::Succeeded);
        let r = h.records()[0].clone();
        assert_eq!(r.phases.len(), 2);
        assert!(r.phases.iter().all(|p| p.duration_ms.is_some()));
        assert_eq!(r.queue, None, "never held");
        h.start(Side::Replica, "x".into());
        h.start(Side::Replica, "y".into());
        assert_eq!(h.records().len(), 2);
        assert!(h.records().iter().all(|r| r.id != a));
    }
}
