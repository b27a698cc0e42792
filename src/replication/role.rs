//! The node's role and the only functions that change it: a master, or a replica of one
//! master with the state of its link; on a master, the steps of a coordinated FAILOVER.
//! Everything else reads it. (Redis keeps the same facts in `server.masterhost`,
//! `repl_state`, `cached_master` and `failover_state`, changed by `replicationSetMaster`,
//! `replicationUnsetMaster` and `updateFailoverStatus`; raft-rs calls its versions
//! `become_follower` / `become_leader`.)
//!
//! Why one value: the link state, the history a reconnect resumes from, the generation that
//! stops a stale link driver and the failover steps used to be separate flags written under
//! separate locks, so a reader could see half a role change. Here each change is one method
//! of [`RoleState`], which the replication hub keeps behind one mutex; the engine mirrors the
//! two bits its gates read on every command (`is_replica`, `link_up`), set by the same calls
//! in `engine::replication`.
//!
//! Nothing here does I/O or reads the clock: times are arguments, so the unit tests below
//! walk every transition, link loss in every phase and failover abort and timeout included.

use super::phase::Phase;
use super::status::FailoverState;
use super::CachedMaster;

/// What the node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes; may have replicas.
    Master,
    /// Follows `link.host:link.port`.
    Replica(MasterLink),
}

/// The replica-side link state (ROLE's state strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (or reconnect).
    Connect,
    /// TCP connection in progress.
    Connecting,
    /// PING / AUTH / REPLCONF / PSYNC exchange.
    Handshake,
    /// Receiving the RDB.
    Transfer,
    /// Streaming.
    Connected,
}

impl LinkState {
    /// The ROLE state string.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// Our link to a master, while we are a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLink {
    /// Master host.
    pub host: String,
    /// Master port.
    pub port: u16,
    /// Link state.
    pub state: LinkState,
    /// Unix ms of the last byte from the master (0 = never on this connection).
    pub last_io_ms: i64,
    /// Unix ms when the link went down; `None` when it was never up.
    pub down_since_ms: Option<i64>,
    /// RDB bytes expected (-1 when unknown: EOF-marked transfer).
    pub sync_total_bytes: i64,
    /// RDB bytes received.
    pub sync_read_bytes: u64,
    /// Unix ms of the last RDB byte.
    pub sync_last_io_ms: i64,
    /// Current sync phase.
    pub phase: Option<Phase>,
    /// The driver this link belongs to: a driver whose generation is stale stops.
    pub generation: u64,
    /// This link hands a failover over: its PSYNC carries `FAILOVER`, which promotes the
    /// target before it answers.
    pub psync_failover: bool,
}

/// A coordinated failover (the FAILOVER command, or `POST /v1/replication/failover`), as
/// the master that runs it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    /// `waiting-for-sync` or `failover-in-progress` while it runs.
    pub state: FailoverState,
    /// The replica to hand over to: given, or the first one found caught up.
    pub target: Option<(String, u16)>,
    /// Unix ms after which it gives up (or, with `force`, hands over anyway).
    pub deadline_ms: Option<i64>,
    /// Hand over at the deadline even if the target has not caught up.
    pub force: bool,
    /// The steps so far, with their unix ms.
    pub steps: Vec<FailoverStep>,
}

/// One step of a failover, for operators (API, events, traces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverStep {
    /// What happened.
    pub step: StepKind,
    /// Unix ms.
    pub at_ms: i64,
    /// Details (the target, the reason of an abort).
    pub detail: String,
}

/// The steps of a failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Requested; writes paused; waiting for a replica to reach our offset.
    WaitingForSync,
    /// The target reached our offset (or the deadline passed with `force`): handing over.
    HandingOver,
    /// The target accepted the PSYNC FAILOVER: we are its replica.
    Completed,
    /// Given up: by ABORT, timeout, or a refused hand-over; roles as before.
    Aborted,
}

impl StepKind {
    /// The name the API and events use.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::WaitingForSync => "waiting-for-sync",
            StepKind::HandingOver => "failover-in-progress",
            StepKind::Completed => "completed",
            StepKind::Aborted => "aborted",
        }
    }
}

/// Why a failover cannot start; the texts are Redis's (without the `ERR ` prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailoverRefusal {
    /// One already runs.
    #[error("FAILOVER already in progress.")]
    InProgress,
    /// We follow a master.
    #[error("FAILOVER is not valid when server is a replica.")]
    Replica,
}

/// What a role change asks the engine to do (the engine applies it under its lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The node was a master before this change.
    pub was_master: bool,
    /// The generation of the new link driver (replica) or the one that retires the old one.
    pub generation: u64,
}

/// The role, the history a replica resumes from, the failover steps and the fencing epoch.
#[derive(Debug, Clone)]
pub struct RoleState {
    role: Role,
    generation: u64,
    cached_master: Option<CachedMaster>,
    force_full_sync: bool,
    failover: Option<Failover>,
    last_failover: Option<Failover>,
    epoch: u64,
    failovers: FailoverCounts,
}

/// Failovers this node ran, by outcome (metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailoverCounts {
    /// Handed over.
    pub completed: u64,
    /// Given up.
    pub aborted: u64,
}

impl Default for RoleState {
    fn default() -> Self {
        RoleState {
            role: Role::Master,
            generation: 0,
            cached_master: None,
            force_full_sync: false,
            failover: None,
            last_failover: None,
            epoch: 0,
            failovers: FailoverCounts::default(),
        }
    }
}

impl RoleState {
    // ---------------------------------------------------------------- reading

    /// The role.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// True while we follow a master.
    pub fn is_replica(&self) -> bool {
        matches!(self.role, Role::Replica(_))
    }

    /// Our master link, when we are a replica.
    pub fn link(&self) -> Option<&MasterLink> {
        match &self.role {
            Role::Replica(link) => Some(link),
            Role::Master => None,
        }
    }

    /// The current driver generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The master a driver of `generation` serves, while that generation is current.
    pub fn target(&self, generation: u64) -> Option<(String, u16)> {
        self.link()
            .filter(|l| l.generation == generation)
            .map(|l| (l.host.clone(), l.port))
    }

    /// The history a reconnect resumes from (`None` = `PSYNC ? -1`).
    pub fn cached_master(&self) -> Option<&CachedMaster> {
        self.cached_master.as_ref()
    }

    /// The failover in progress (master side, or a demoted master handing over).
    pub fn failover(&self) -> Option<&Failover> {
        self.failover.as_ref()
    }

    /// The failover in progress, else the last one (for operators).
    pub fn latest_failover(&self) -> Option<&Failover> {
        self.failover.as_ref().or(self.last_failover.as_ref())
    }

    /// INFO's `master_failover_state`.
    pub fn failover_state(&self) -> FailoverState {
        self.failover
            .as_ref()
            .map_or(FailoverState::NoFailover, |f| f.state)
    }

    /// The fencing epoch: bumped at every promotion, so an old master can be told from a
    /// new one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Failovers run here, by outcome.
    pub fn failover_counts(&self) -> FailoverCounts {
        self.failovers
    }

    // ---------------------------------------------------------------- role changes

    /// Follow `host:port` (REPLICAOF, start-up, failover hand-over). A former master keeps
    /// its own history (`own`) to resume from, unless one is cached already (a replica that
    /// restarted from its RDB). A new generation retires any previous link driver.
    pub fn become_replica(&mut self, host: &str, port: u16, own: Option<CachedMaster>) -> Change {
        let was_master = !self.is_replica();
        if was_master && self.cached_master.is_none() {
            self.cached_master = own;
        }
        let psync_failover = self
            .failover
            .as_ref()
            .is_some_and(|f| f.state == FailoverState::InProgress);
        self.generation += 1;
        self.role = Role::Replica(MasterLink {
            host: host.to_string(),
            port,
            state: LinkState::Connect,
            last_io_ms: 0,
            down_since_ms: None,
            sync_total_bytes: 0,
            sync_read_bytes: 0,
            sync_last_io_ms: 0,
            phase: None,
            generation: self.generation,
            psync_failover,
        });
        Change {
            was_master,
            generation: self.generation,
        }
    }

    /// Stop following (REPLICAOF NO ONE, a PSYNC FAILOVER received, an aborted hand-over):
    /// the link and the cached history go, the driver generation moves on, and a promotion
    /// bumps the fencing epoch.
    pub fn become_master(&mut self) -> Change {
        let was_master = !self.is_replica();
        self.role = Role::Master;
        self.cached_master = None;
        self.force_full_sync = false;
        self.generation += 1;
        if !was_master {
            self.epoch += 1;
        }
        Change {
            was_master,
            generation: self.generation,
        }
    }

    /// Adopts the fencing epoch a start-up or a peer tells us, when it is higher.
    pub fn observe_epoch(&mut self, epoch: u64) {
        self.epoch = self.epoch.max(epoch);
    }

    // ---------------------------------------------------------------- the link

    fn link_mut(&mut self, generation: u64) -> Option<&mut MasterLink> {
        match &mut self.role {
            Role::Replica(l) if l.generation == generation => Some(l),
            _ => None,
        }
    }

    /// The driver of `generation` entered `state` / `phase` (ignored when stale).
    pub fn link_progress(&mut self, generation: u64, state: LinkState, phase: Option<Phase>) {
        if let Some(l) = self.link_mut(generation) {
            l.state = state;
            l.phase = phase;
        }
    }

    /// The link of `generation` streams. True when it applied (not stale).
    pub fn link_up(&mut self, generation: u64, now_ms: i64) -> bool {
        let Some(l) = self.link_mut(generation) else {
            return false;
        };
        l.state = LinkState::Connected;
        l.phase = Some(Phase::Stream);
        l.last_io_ms = now_ms;
        l.down_since_ms = None;
        true
    }

    /// The link of `generation` is down (any phase). Returns the master's address when
    /// the link had been up (a `LinkDown` event is due); the down-since time starts then.
    pub fn link_down(
        &mut self,
        generation: u64,
        now_ms: i64,
        was_up: bool,
    ) -> Option<(String, u16)> {
        let l = self.link_mut(generation)?;
        let report = l.state == LinkState::Connected || was_up;
        if report {
            l.down_since_ms = Some(now_ms);
        }
        l.state = LinkState::Connect;
        l.phase = None;
        l.last_io_ms = 0;
        report.then(|| (l.host.clone(), l.port))
    }

    /// Bytes arrived on the link of `generation`.
    pub fn link_io(&mut self, generation: u64, now_ms: i64) {
        if let Some(l) = self.link_mut(generation) {
            l.last_io_ms = now_ms;
        }
    }

    /// A full sync's payload progress on the link of `generation`.
    pub fn transfer_progress(
        &mut self,
        generation: u64,
        total: Option<i64>,
        read: u64,
        now_ms: i64,
    ) {
        if let Some(l) = self.link_mut(generation) {
            if let Some(t) = total {
                l.sync_total_bytes = t;
            }
            l.sync_read_bytes = read;
            l.sync_last_io_ms = now_ms;
            l.last_io_ms = now_ms;
        }
    }

    /// Where a reconnect resumes from, recorded with the bytes it applied.
    pub fn cache_master(&mut self, position: Option<CachedMaster>) {
        self.cached_master = position;
    }

    /// The history for the next PSYNC: `None` asks for a full sync (no history, or an
    /// operator forced one, which this consumes).
    pub fn take_psync_history(&mut self) -> (Option<CachedMaster>, bool) {
        let forced = std::mem::take(&mut self.force_full_sync);
        if forced {
            (None, true)
        } else {
            (self.cached_master.clone(), false)
        }
    }

    /// True while an operator's full resync is pending (the link is being closed for it).
    pub fn full_sync_requested(&self) -> bool {
        self.force_full_sync
    }

    /// An operator asks for a full sync of our link; false when we are not a replica.
    pub fn force_full_sync(&mut self) -> bool {
        if !self.is_replica() {
            return false;
        }
        self.force_full_sync = true;
        true
    }

    // ---------------------------------------------------------------- failover

    /// Starts a coordinated failover (writes are paused by the caller). `target` is checked
    /// by the caller against the replica list (it knows the replicas).
    pub fn begin_failover(
        &mut self,
        target: Option<(String, u16)>,
        deadline_ms: Option<i64>,
        force: bool,
        now_ms: i64,
    ) -> Result<(), FailoverRefusal> {
        if self.failover.is_some() {
            return Err(FailoverRefusal::InProgress);
        }
        if self.is_replica() {
            return Err(FailoverRefusal::Replica);
        }
        let detail = match &target {
            Some((h, p)) => format!("to {h}:{p}"),
            None => "to any replica".to_string(),
        };
        self.failover = Some(Failover {
            state: FailoverState::WaitingForSync,
            target,
            deadline_ms,
            force,
            steps: vec![FailoverStep {
                step: StepKind::WaitingForSync,
                at_ms: now_ms,
                detail,
            }],
        });
        Ok(())
    }

    /// What the failover cron must do now, given the replicas that have acknowledged our
    /// whole stream (`caught_up`, in replica order). `HandOver` moves the state to
    /// `failover-in-progress`; the caller then becomes the target's replica.
    pub fn failover_tick(&mut self, caught_up: &[(String, u16)], now_ms: i64) -> FailoverAction {
        let Some(f) = self.failover.as_mut() else {
            return FailoverAction::Nothing;
        };
        if f.state != FailoverState::WaitingForSync {
            return FailoverAction::Nothing;
        }
        let chosen = match &f.target {
            Some(t) => caught_up.iter().find(|c| *c == t).cloned(),
            None => caught_up.first().cloned(),
        };
        let timed_out = f.deadline_ms.is_some_and(|d| now_ms >= d);
        let forced = chosen.is_none();
        let target = match (chosen, timed_out) {
            (Some(t), _) => t,
            (None, true) if f.force => match f.target.clone() {
                Some(t) => t,
                None => {
                    return FailoverAction::Abort("Replica never caught up before timeout".into())
                }
            },
            (None, true) => {
                return FailoverAction::Abort("Replica never caught up before timeout".into())
            }
            (None, false) => return FailoverAction::Nothing,
        };
        f.target = Some(target.clone());
        f.state = FailoverState::InProgress;
        f.steps.push(FailoverStep {
            step: StepKind::HandingOver,
            at_ms: now_ms,
            detail: format!(
                "{}:{}{}",
                target.0,
                target.1,
                if forced {
                    " (forced at the timeout)"
                } else {
                    " (caught up)"
                }
            ),
        });
        FailoverAction::HandOver { target, forced }
    }

    /// The target accepted our PSYNC FAILOVER: the failover is over, we are its replica.
    /// A later reconnect to it is an ordinary PSYNC (as Redis, whose failover state is
    /// cleared here): asking FAILOVER again would be refused forever.
    pub fn failover_completed(&mut self, now_ms: i64) {
        if let Role::Replica(link) = &mut self.role {
            link.psync_failover = false;
        }
        if let Some(mut f) = self.failover.take() {
            self.failovers.completed += 1;
            f.state = FailoverState::NoFailover;
            f.steps.push(FailoverStep {
                step: StepKind::Completed,
                at_ms: now_ms,
                detail: String::new(),
            });
            self.last_failover = Some(f);
        }
    }

    /// Gives the failover up. Returns true when the hand-over had started, so the caller
    /// must make this node a master again (Redis's `abortFailover`). None when no failover
    /// runs.
    pub fn abort_failover(&mut self, reason: &str, now_ms: i64) -> Option<bool> {
        let mut f = self.failover.take()?;
        self.failovers.aborted += 1;
        let was_handing_over = f.state == FailoverState::InProgress;
        f.state = FailoverState::NoFailover;
        f.steps.push(FailoverStep {
            step: StepKind::Aborted,
            at_ms: now_ms,
            detail: reason.to_string(),
        });
        self.last_failover = Some(f);
        Some(was_handing_over)
    }
}

/// What the failover cron does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailoverAction {
    /// Keep waiting.
    Nothing,
    /// Become the replica of this target, with a PSYNC FAILOVER; `forced` when FORCE
    /// hands over at the timeout to a target that has not caught up.
    HandOver {
        /// The new master.
        target: (String, u16),
        /// Handed over at the deadline without the target having caught up.
        forced: bool,
    },
    /// Give up, for this reason.
    Abort(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> CachedMaster {
        CachedMaster {
            replid: "a".repeat(40),
            offset: 100,
            db: 0,
        }
    }

    #[test]
    fn a_master_becomes_a_replica_and_keeps_its_history() {
        let mut r = RoleState::default();
        assert!(!r.is_replica());
        let c = r.become_replica("h", 1, Some(own()));
        assert!(c.was_master);
        assert_eq!(r.target(c.generation), Some(("h".into(), 1)));
        assert_eq!(r.cached_master(), Some(&own()));
        assert_eq!(r.link().map(|l| l.state), Some(LinkState::Connect));
        // Re-pointing a replica keeps the history it streamed, and retires the old driver.
        let c2 = r.become_replica("h2", 2, Some(CachedMaster { offset: 5, ..own() }));
        assert!(!c2.was_master);
        assert_eq!(r.cached_master().map(|c| c.offset), Some(100));
        assert_eq!(r.target(c.generation), None);
        assert_eq!(r.target(c2.generation), Some(("h2".into(), 2)));
    }

    #[test]
    fn a_process_starting_as_a_replica_offers_no_history_of_its_own() {
        let mut r = RoleState::default();
        r.become_replica("h", 1, None);
        assert_eq!(r.cached_master(), None);
    }

    #[test]
    fn a_replica_restarted_from_its_rdb_resumes_the_masters_history() {
        let mut r = RoleState::default();
        let from_rdb = CachedMaster {
            replid: "m".repeat(40),
            offset: 7,
            db: 3,
        };
        r.cache_master(Some(from_rdb.clone()));
        r.become_replica("h", 1, Some(own()));
        assert_eq!(r.cached_master(), Some(&from_rdb));
    }

    #[test]
    fn promotion_drops_the_link_and_the_history_and_bumps_the_epoch() {
        let mut r = RoleState::default();
        let c = r.become_replica("h", 1, Some(own()));
        assert_eq!(r.epoch(), 0);
        let p = r.become_master();
        assert!(!p.was_master);
        assert!(r.link().is_none() && r.cached_master().is_none());
        assert_eq!(r.target(c.generation), None);
        assert_eq!(r.epoch(), 1);
        // Already a master: no new epoch.
        r.become_master();
        assert_eq!(r.epoch(), 1);
        r.observe_epoch(9);
        r.observe_epoch(4);
        assert_eq!(r.epoch(), 9);
    }

    #[test]
    fn the_link_walks_its_states_and_loses_them_in_every_phase() {
        for (state, phase) in [
            (LinkState::Connecting, Some(Phase::Connect)),
            (LinkState::Handshake, Some(Phase::Handshake)),
            (LinkState::Handshake, Some(Phase::Psync)),
            (LinkState::Transfer, Some(Phase::Receive)),
            (LinkState::Transfer, Some(Phase::Load)),
        ] {
            let mut r = RoleState::default();
            let g = r.become_replica("h", 1, Some(own())).generation;
            r.link_progress(g, state, phase);
            assert_eq!(r.link().map(|l| (l.state, l.phase)), Some((state, phase)));
            // Lost before ever streaming: no down event, state back to connect.
            assert_eq!(r.link_down(g, 50, false), None);
            let l = r.link().unwrap();
            assert_eq!(
                (l.state, l.phase, l.down_since_ms),
                (LinkState::Connect, None, None)
            );
        }
        let mut r = RoleState::default();
        let g = r.become_replica("h", 1, Some(own())).generation;
        assert!(r.link_up(g, 10));
        assert_eq!(r.link().map(|l| l.state), Some(LinkState::Connected));
        assert_eq!(r.link_down(g, 20, false), Some(("h".into(), 1)));
        assert_eq!(r.link().and_then(|l| l.down_since_ms), Some(20));
        // A stale driver changes nothing.
        let g2 = r.become_replica("h2", 2, Some(own())).generation;
        assert!(!r.link_up(g, 30));
        r.link_progress(g, LinkState::Transfer, None);
        assert_eq!(r.link().map(|l| l.state), Some(LinkState::Connect));
        assert!(r.link_up(g2, 30));
    }

    #[test]
    fn a_forced_full_sync_is_asked_once() {
        let mut r = RoleState::default();
        assert!(!r.force_full_sync(), "a master has no link to resync");
        r.become_replica("h", 1, Some(own()));
        assert!(r.force_full_sync());
        assert_eq!(r.take_psync_history(), (None, true));
        assert_eq!(r.take_psync_history(), (Some(own()), false));
    }

    #[test]
    fn failover_waits_for_a_caught_up_replica_then_hands_over() {
        let mut r = RoleState::default();
        r.begin_failover(None, None, false, 0).unwrap();
        assert_eq!(r.failover_state(), FailoverState::WaitingForSync);
        assert_eq!(
            r.begin_failover(None, None, false, 1),
            Err(FailoverRefusal::InProgress)
        );
        assert_eq!(r.failover_tick(&[], 5), FailoverAction::Nothing);
        let b = ("b".to_string(), 2);
        assert_eq!(
            r.failover_tick(std::slice::from_ref(&b), 6),
            FailoverAction::HandOver {
                target: b.clone(),
                forced: false
            }
        );
        assert_eq!(r.failover_state(), FailoverState::InProgress);
        assert_eq!(
            r.failover_tick(std::slice::from_ref(&b), 7),
            FailoverAction::Nothing
        );
        // The hand-over link carries PSYNC FAILOVER.
        r.become_replica("b", 2, Some(own()));
        assert!(r.link().unwrap().psync_failover);
        r.failover_completed(8);
        assert_eq!(r.failover_state(), FailoverState::NoFailover);
        // A reconnect to the new master after the hand-over is an ordinary PSYNC.
        assert!(!r.link().unwrap().psync_failover);
        let steps: Vec<StepKind> = r
            .latest_failover()
            .unwrap()
            .steps
            .iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(
            steps,
            [
                StepKind::WaitingForSync,
                StepKind::HandingOver,
                StepKind::Completed
            ]
        );
        // A later REPLICAOF is an ordinary link.
        r.become_replica("c", 3, Some(own()));
        assert!(!r.link().unwrap().psync_failover);
    }

    #[test]
    fn a_named_target_is_waited_for_even_if_another_replica_caught_up() {
        let mut r = RoleState::default();
        let t = ("t".to_string(), 1);
        r.begin_failover(Some(t.clone()), None, false, 0).unwrap();
        assert_eq!(
            r.failover_tick(&[("x".to_string(), 9)], 1),
            FailoverAction::Nothing
        );
        assert_eq!(
            r.failover_tick(&[("x".to_string(), 9), t.clone()], 2),
            FailoverAction::HandOver {
                target: t,
                forced: false
            }
        );
    }

    #[test]
    fn failover_timeout_aborts_or_forces() {
        let mut r = RoleState::default();
        r.begin_failover(None, Some(100), false, 0).unwrap();
        assert_eq!(r.failover_tick(&[], 99), FailoverAction::Nothing);
        assert_eq!(
            r.failover_tick(&[], 100),
            FailoverAction::Abort("Replica never caught up before timeout".into())
        );
        assert_eq!(
            r.abort_failover("Replica never caught up before timeout", 100),
            Some(false)
        );
        assert_eq!(r.failover_state(), FailoverState::NoFailover);

        let t = ("t".to_string(), 1);
        r.begin_failover(Some(t.clone()), Some(100), true, 0)
            .unwrap();
        assert_eq!(
            r.failover_tick(&[], 100),
            FailoverAction::HandOver {
                target: t,
                forced: true
            }
        );
        assert!(r.latest_failover().unwrap().steps[1]
            .detail
            .contains("forced"));
    }

    #[test]
    fn abort_says_whether_roles_must_be_restored() {
        let mut r = RoleState::default();
        assert_eq!(r.abort_failover("x", 0), None);
        r.begin_failover(None, None, false, 0).unwrap();
        assert_eq!(
            r.abort_failover("Failover manually aborted", 1),
            Some(false)
        );
        r.begin_failover(None, None, false, 2).unwrap();
        let b = ("b".to_string(), 2);
        assert_eq!(
            r.failover_tick(std::slice::from_ref(&b), 3),
            FailoverAction::HandOver {
                target: b,
                forced: false
            }
        );
        r.become_replica("b", 2, Some(own()));
        assert_eq!(
            r.abort_failover("Failover target rejected psync request", 4),
            Some(true)
        );
        let last = r.latest_failover().unwrap();
        assert_eq!(last.steps.last().map(|s| s.step), Some(StepKind::Aborted));
        assert_eq!(
            last.steps.last().map(|s| s.detail.as_str()),
            Some("Failover target rejected psync request")
        );
    }

    #[test]
    fn a_replica_cannot_start_a_failover() {
        let mut r = RoleState::default();
        r.become_replica("h", 1, Some(own()));
        assert_eq!(
            r.begin_failover(None, None, false, 0),
            Err(FailoverRefusal::Replica)
        );
    }
}
