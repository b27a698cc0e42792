//! The JSON shapes of the control plane: the API's contract, kept apart from the internal
//! status types so the server can change inside without breaking clients.
//!
//! Conventions: `snake_case` fields, RFC 3339 times (UTC), byte counts and offsets as
//! integers, enums as lowercase strings. Every type here derives `ToSchema`, so the OpenAPI
//! document describes exactly what is serialized.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::rdb::progress::LoadFigures;
use crate::replication::admission::AdmissionStatus;
use crate::replication::history::{PhaseRecord, QueueRecord, SyncOutcome};
use crate::replication::status::{
    BacklogStatus, FailoverState, MasterLinkStatus, ReplicaState, ReplicaStatus,
};
use crate::replication::{Event, ReplicationStatus, Role, SyncRecord};

/// Unix milliseconds as an RFC 3339 UTC timestamp (millisecond precision).
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    // Always three fractional digits, so every timestamp has the same width (RFC 3339
    // formatting drops trailing zeros).
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// A node's role.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Accepts writes; may have replicas.
    Master,
    /// Follows a master.
    Replica,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> RoleName {
        match r {
            Role::Master => RoleName::Master,
            Role::Replica => RoleName::Replica,
        }
    }
}

/// The ports this node listens on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ports {
    /// RESP (data plane) port.
    pub resp: u16,
    /// HTTP control-plane port.
    pub http: u16,
}

/// Size of the dataset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dataset {
    /// Keys in all databases.
    pub keys: u64,
    /// Keys with a time to live.
    pub expires: u64,
    /// Bytes allocated by the server (INFO used_memory).
    pub used_memory_bytes: u64,
    /// A dataset is being loaded.
    pub loading: bool,
}

/// `GET /v1/server`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerInfo {
    /// replikv's version.
    pub version: String,
    /// The Redis version replikv is compatible with (INFO redis_version).
    pub redis_version: String,
    /// 40 hex characters identifying this run (INFO run_id).
    pub run_id: String,
    /// Process id.
    pub process_id: u32,
    /// When the process started.
    #[schema(format = DateTime)]
    pub started_at: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Current role.
    pub role: RoleName,
    /// Listening ports.
    pub ports: Ports,
    /// Dataset size.
    pub dataset: Dataset,
    /// Connected RESP clients.
    pub connected_clients: u64,
}

/// One configuration directive.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigDirective {
    /// Canonical name (as redis.conf and CONFIG GET spell it).
    pub name: String,
    /// Current value in redis.conf syntax; `null` for secrets (passwords, tokens).
    pub value: Option<String>,
    /// Default value in redis.conf syntax; `null` for secrets.
    pub default: Option<String>,
    /// True when `PATCH /v1/config` (and CONFIG SET) may change it at run time.
    pub mutable: bool,
    /// True when the value is a secret and never shown.
    pub secret: bool,
    /// What it does.
    pub description: String,
}

/// `GET /v1/config` and the answer to `PATCH /v1/config`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigView {
    /// Directives in table order.
    pub directives: Vec<ConfigDirective>,
}

/// `PATCH /v1/config`: directive name (or alias) to new value in redis.conf syntax.
///
/// Its schema is built from the directive table: one string property per directive that may
/// change at run time, and no others, so clients see exactly what PATCH accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct ConfigPatch(pub std::collections::BTreeMap<String, String>);

impl utoipa::PartialSchema for ConfigPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Directive name to new value, in redis.conf syntax (as CONFIG SET takes it). Only the directives that may change at run time are accepted.",
            ))
            .additional_properties(Some(AdditionalProperties::<utoipa::openapi::schema::Schema>::FreeForm(false)))
            .examples([serde_json::json!({"maxclients": "500", "repl-backlog-size": "4mb"})]);
        for d in crate::config::DIRECTIVES.iter().filter(|d| d.mutable) {
            for (name, doc) in std::iter::once((d.name, d.doc.to_string()))
                .chain(d.alias.map(|a| (a, format!("Alias of `{}`.", d.name))))
            {
                object = object.property(
                    name,
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(doc)),
                );
            }
        }
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object.build()))
    }
}

impl ToSchema for ConfigPatch {}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
}

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// True when the node is safe to read from.
    pub ready: bool,
    /// Why not, one entry per reason (empty when ready).
    pub reasons: Vec<String>,
}

/// A replica's state as its master sees it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStateName {
    /// Waiting for the snapshot of a full sync.
    WaitBgsave,
    /// Receiving the snapshot.
    SendBulk,
    /// Streaming.
    Online,
}

impl From<ReplicaState> for ReplicaStateName {
    fn from(s: ReplicaState) -> Self {
        match s {
            ReplicaState::WaitBgsave => ReplicaStateName::WaitBgsave,
            ReplicaState::SendBulk => ReplicaStateName::SendBulk,
            ReplicaState::Online => ReplicaStateName::Online,
        }
    }
}

/// One of our replicas.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Replica {
    /// Id (its connection's client id); use it in `/v1/replication/replicas/{id}`.
    pub id: u64,
    /// Its address.
    pub ip: String,
    /// Its announced listening port.
    pub listening_port: u16,
    /// Its state.
    pub state: ReplicaStateName,
    /// The last offset it acknowledged.
    pub ack_offset: u64,
    /// Our offset minus its acknowledged offset.
    pub lag_bytes: u64,
    /// Seconds since its last acknowledgement.
    pub lag_seconds: u64,
    /// How stale it was at its last acknowledgement, in milliseconds: the age of the oldest
    /// write it had not confirmed (0 when it had them all, and while it is not online).
    pub lag_ms: u64,
    /// How many seconds it could stay disconnected from now and still resume with a partial
    /// resync, at the current write rate; `null` while nothing is written (no limit) or
    /// while it is not online.
    pub resume_horizon_seconds: Option<f64>,
    /// Bytes held for it that it has not received yet.
    pub output_buffer_bytes: u64,
}

impl From<&ReplicaStatus> for Replica {
    fn from(r: &ReplicaStatus) -> Self {
        Replica {
            id: r.id,
            ip: r.ip.clone(),
            listening_port: r.port,
            state: r.state.into(),
            ack_offset: r.ack_offset,
            lag_bytes: r.lag_bytes,
            lag_seconds: r.lag_seconds,
            lag_ms: r.lag_ms,
            resume_horizon_seconds: r.resume_horizon_ms.map(|ms| ms as f64 / 1000.0),
            output_buffer_bytes: r.output_buffer_bytes,
        }
    }
}

/// `GET /v1/replication/replicas`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicaList {
    /// Connected replicas.
    pub replicas: Vec<Replica>,
}

/// Progress of the full sync a replica is receiving.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncProgress {
    /// A full sync is in progress.
    pub in_progress: bool,
    /// Snapshot bytes expected; `null` when unknown (diskless transfer).
    pub total_bytes: Option<u64>,
    /// Snapshot bytes received so far.
    pub read_bytes: u64,
    /// Stream bytes the master sent since its snapshot, held here until the snapshot is
    /// loaded (a dual-channel full sync; 0 otherwise).
    pub buffered_bytes: u64,
    /// The current sync phase (`connect`, `handshake`, `psync`, `receive`, `load`, `catchup`...).
    pub phase: Option<String>,
    /// The load of the snapshot, while it runs (it overlaps the receive when the payload
    /// is streamed into the parser); `null` otherwise.
    pub load: Option<LoadProgress>,
}

/// How far a replica's load of its master's snapshot has got (INFO `loading_*`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoadProgress {
    /// When the load started.
    #[schema(format = DateTime)]
    pub started_at: String,
    /// Bytes of the payload; `null` when unknown (a streamed payload without a length).
    pub total_bytes: Option<u64>,
    /// Bytes parsed so far.
    pub loaded_bytes: u64,
    /// Keys loaded so far.
    pub keys_loaded: u64,
    /// Percent done (against the snapshot's `used-mem` when the size is unknown, then
    /// capped at 99.99), as INFO `loading_loaded_perc`.
    pub percent: f64,
    /// Seconds left at the pace so far, as INFO `loading_eta_seconds`.
    pub eta_seconds: u64,
}

impl LoadProgress {
    fn of(f: &LoadFigures, now_ms: i64) -> LoadProgress {
        LoadProgress {
            started_at: rfc3339_ms(f.started_ms),
            total_bytes: (f.total_bytes > 0).then_some(f.total_bytes),
            loaded_bytes: f.loaded_bytes,
            keys_loaded: f.keys,
            percent: (f.percent() * 100.0).round() / 100.0,
            eta_seconds: f.eta_seconds(now_ms),
        }
    }
}

/// The link to our master (replicas only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MasterLink {
    /// Master host.
    pub host: String,
    /// Master port.
    pub port: u16,
    /// `up` when streaming, else `down`.
    pub link_status: LinkStatus,
    /// ROLE's view of the link: `connect`, `connecting`, `handshake`, `sync`, `connected`.
    pub state: String,
    /// Seconds since the master was last heard from.
    pub last_io_seconds_ago: i64,
    /// Seconds since the link went down (-1 when it never was up, 0 when up).
    pub link_down_since_seconds: i64,
    /// Sync progress.
    pub sync: SyncProgress,
    /// Offset of the master's stream processed so far.
    pub repl_offset: i64,
    /// Offset of the master's stream read so far.
    pub read_repl_offset: i64,
}

/// State of the link to the master.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// Streaming.
    Up,
    /// Not streaming.
    Down,
}

impl From<&MasterLinkStatus> for MasterLink {
    fn from(m: &MasterLinkStatus) -> Self {
        MasterLink {
            host: m.host.clone(),
            port: m.port,
            link_status: if m.link_up {
                LinkStatus::Up
            } else {
                LinkStatus::Down
            },
            state: m.state.to_string(),
            last_io_seconds_ago: m.last_io_seconds_ago,
            link_down_since_seconds: m.link_down_since_seconds,
            sync: SyncProgress {
                in_progress: m.sync_in_progress,
                total_bytes: u64::try_from(m.sync_total_bytes).ok(),
                read_bytes: m.sync_read_bytes,
                buffered_bytes: m.sync_buffered_bytes,
                phase: m.phase.map(|p| p.as_str().to_string()),
                load: m
                    .load
                    .as_ref()
                    .map(|f| LoadProgress::of(f, crate::replication::history::unix_ms())),
            },
            repl_offset: m.repl_offset,
            read_repl_offset: m.read_repl_offset,
        }
    }
}

/// A coordinated failover's state.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverStateName {
    /// None in progress.
    NoFailover,
    /// Waiting for the target to catch up.
    WaitingForSync,
    /// Handing over to the target.
    FailoverInProgress,
}

impl From<FailoverState> for FailoverStateName {
    fn from(s: FailoverState) -> Self {
        match s {
            FailoverState::NoFailover => FailoverStateName::NoFailover,
            FailoverState::WaitingForSync => FailoverStateName::WaitingForSync,
            FailoverState::InProgress => FailoverStateName::FailoverInProgress,
        }
    }
}

/// `GET /v1/replication/failover`: the coordinated failover in progress, else the last one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverStatus {
    /// State, as INFO `master_failover_state` names it.
    pub state: FailoverStateName,
    /// The fencing epoch: bumped every time this node is promoted, so clients and
    /// operators can tell an old master from a new one.
    pub epoch: u64,
    /// The replica handed over to (or to be), when known.
    pub target: Option<FailoverTarget>,
    /// The steps of the current (or last) failover, oldest first.
    pub steps: Vec<FailoverStepView>,
}

impl From<&ReplicationStatus> for FailoverStatus {
    fn from(s: &ReplicationStatus) -> Self {
        let latest = s.latest_failover.as_ref();
        FailoverStatus {
            state: s.failover.into(),
            epoch: s.epoch,
            target: latest
                .and_then(|f| f.target.clone())
                .map(|(host, port)| FailoverTarget { host, port }),
            steps: latest
                .map(|f| {
                    f.steps
                        .iter()
                        .map(|st| FailoverStepView {
                            step: st.step.as_str().to_string(),
                            at: rfc3339_ms(st.at_ms),
                            detail: st.detail.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A failover's target replica.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FailoverTarget {
    /// Its address, as the master knows it (announced ip, else the peer's).
    pub host: String,
    /// Its announced port.
    pub port: u16,
}

/// One step of a failover.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverStepView {
    /// `waiting-for-sync`, `failover-in-progress`, `completed` or `aborted`.
    pub step: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The target, or why it was aborted.
    pub detail: String,
}

/// One replica considered by `POST /v1/replication/failover`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverCandidate {
    /// Its address.
    pub host: String,
    /// Its announced port.
    pub port: u16,
    /// Its state (`online`, `wait_bgsave`, `send_bulk`).
    pub state: String,
    /// Bytes it has not acknowledged yet.
    pub lag_bytes: u64,
    /// True when it could be chosen.
    pub eligible: bool,
    /// Why not, when it could not.
    pub reason: Option<String>,
}

/// The answer to `POST /v1/replication/failover`: what was (or, with `dry_run`, would be)
/// done.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverPlan {
    /// Nothing was changed.
    pub dry_run: bool,
    /// The replica chosen; `null` when the master takes the first one to catch up.
    pub target: Option<FailoverTarget>,
    /// Why this target (or why none is named).
    pub reason: String,
    /// Every replica, with its lag and whether it could be chosen.
    pub candidates: Vec<FailoverCandidate>,
}

/// `GET /v1/replication`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicationState {
    /// Our role.
    pub role: RoleName,
    /// Our replication id (INFO master_replid).
    pub replid: String,
    /// The previous replication id (INFO master_replid2).
    pub replid2: String,
    /// Offset of the last byte of our stream (INFO master_repl_offset).
    pub master_repl_offset: u64,
    /// Last offset valid for `replid2` plus one, or -1 (INFO second_repl_offset).
    pub second_repl_offset: i64,
    /// The link to our master; `null` on a master.
    pub master_link: Option<MasterLink>,
    /// Our replicas (a replica may have its own).
    pub replicas: Vec<Replica>,
    /// Coordinated failover.
    pub failover: FailoverStatus,
    /// Full syncs this node serves as a master: running, waiting and why.
    pub full_sync_admission: FullSyncAdmission,
}

/// The admission of full syncs on a master (README, "Full syncs at scale").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FullSyncAdmission {
    /// `repl-max-concurrent-full-syncs` (0: no cap).
    pub max_concurrent: u64,
    /// Full-sync transfers running now (each holds one admission slot).
    pub transfers: u64,
    /// Replicas waiting for their snapshot now, by the rule holding them.
    pub waiting: WaitingByReason,
    /// Full syncs held since start, by rule (a sync held by two rules in turn counts
    /// once under each).
    pub held_total: WaitingByReason,
}

/// Counts by the rule that holds a full sync; the field names are the reason codes of
/// the `sync_queued` event and of `queue.reason_code` in the sync history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingByReason {
    /// Gathering replicas for one diskless snapshot (`repl-diskless-sync-delay`).
    pub diskless_delay: u64,
    /// Waiting for the disk snapshot being written for other replicas to finish.
    pub disk_snapshot_busy: u64,
    /// Held by `repl-max-concurrent-full-syncs`.
    pub concurrency_cap: u64,
}

impl WaitingByReason {
    fn of(counts: [u64; 3]) -> WaitingByReason {
        let [diskless_delay, disk_snapshot_busy, concurrency_cap] = counts;
        WaitingByReason {
            diskless_delay,
            disk_snapshot_busy,
            concurrency_cap,
        }
    }
}

impl From<&AdmissionStatus> for FullSyncAdmission {
    fn from(a: &AdmissionStatus) -> Self {
        FullSyncAdmission {
            max_concurrent: a.cap,
            transfers: a.transfers,
            waiting: WaitingByReason::of(a.waiting),
            held_total: WaitingByReason::of(a.held_total),
        }
    }
}

impl From<&ReplicationStatus> for ReplicationState {
    fn from(s: &ReplicationStatus) -> Self {
        ReplicationState {
            role: s.role.into(),
            replid: s.replid.clone(),
            replid2: s.replid2.clone(),
            master_repl_offset: s.master_repl_offset,
            second_repl_offset: s.second_repl_offset,
            master_link: s.master_link.as_ref().map(MasterLink::from),
            replicas: s.replicas.iter().map(Replica::from).collect(),
            failover: FailoverStatus::from(s),
            full_sync_admission: FullSyncAdmission::from(&s.admission),
        }
    }
}

/// `GET /v1/replication/backlog`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Backlog {
    /// A backlog exists (created when the first replica attaches).
    pub active: bool,
    /// Configured size in bytes (repl-backlog-size).
    pub size: u64,
    /// Bytes of memory the backlog buffer uses.
    pub memory_bytes: u64,
    /// Offset of the oldest byte held.
    pub first_byte_offset: u64,
    /// Bytes held.
    pub histlen: u64,
    /// Our offset.
    pub master_repl_offset: u64,
    /// The oldest offset a replica can continue from with a partial resync; `null` when
    /// no backlog exists.
    pub psync_min_offset: Option<u64>,
    /// Partial resyncs accepted (INFO sync_partial_ok).
    pub partial_resyncs_accepted: u64,
    /// Partial resyncs refused (INFO sync_partial_err).
    pub partial_resyncs_refused: u64,
    /// Full syncs served (INFO sync_full).
    pub full_syncs_served: u64,
    /// Age in seconds of the oldest byte held: how far back in time a partial resync can
    /// reach now.
    pub covered_seconds: f64,
    /// Bytes per second written to the replication stream over the last minute.
    pub write_rate_bytes_per_second: u64,
    /// Seconds of writes `repl-backlog-size` holds at that rate; `null` while nothing is
    /// written.
    pub capacity_seconds: Option<f64>,
}

impl Backlog {
    /// The backlog view of a status snapshot.
    pub fn of(s: &ReplicationStatus) -> Backlog {
        let b: &BacklogStatus = &s.backlog;
        Backlog {
            active: b.active,
            size: b.size,
            memory_bytes: b.memory_bytes,
            first_byte_offset: b.first_byte_offset,
            histlen: b.histlen,
            master_repl_offset: s.master_repl_offset,
            psync_min_offset: b.active.then_some(b.first_byte_offset),
            partial_resyncs_accepted: s.counters.sync_partial_ok,
            partial_resyncs_refused: s.counters.sync_partial_err,
            full_syncs_served: s.counters.sync_full,
            covered_seconds: b.covered_ms as f64 / 1000.0,
            write_rate_bytes_per_second: b.write_rate,
            capacity_seconds: b.capacity_ms.map(|ms| ms as f64 / 1000.0),
        }
    }
}

/// One phase of a sync session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncPhase {
    /// Phase name (`connect`, `handshake`, `psync`, `snapshot`, `transfer`, `receive`,
    /// `load`, `catchup`, `stream`): the same word as the trace span and the metric label.
    pub phase: String,
    /// When it started.
    #[schema(format = DateTime)]
    pub started_at: String,
    /// How long it took; `null` while it runs.
    pub duration_ms: Option<u64>,
}

impl From<&PhaseRecord> for SyncPhase {
    fn from(p: &PhaseRecord) -> Self {
        SyncPhase {
            phase: p.phase.as_str().to_string(),
            started_at: rfc3339_ms(p.started_at_ms),
            duration_ms: p.duration_ms,
        }
    }
}

/// Which side of the link a session ran on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SideName {
    /// We served a replica.
    Master,
    /// We synced from our master.
    Replica,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    /// Still running.
    InProgress,
    /// Reached streaming.
    Succeeded,
    /// Failed (see `error`).
    Failed,
}

/// One sync session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncSession {
    /// Increasing id.
    pub id: u64,
    /// Our side.
    pub side: SideName,
    /// The other end, `ip:port`.
    pub peer: String,
    /// `full` or `partial`; `null` until decided.
    pub kind: Option<String>,
    /// Why a full sync was needed (or why a partial one was refused). On the master, the
    /// stream channel of a dual-channel full sync is a `partial` session that says so here.
    pub full_sync_reason: Option<String>,
    /// Replication id synchronised to.
    pub replid: String,
    /// Offset the stream continued from (-1 until known).
    pub offset: i64,
    /// When it started.
    #[schema(format = DateTime)]
    pub started_at: String,
    /// When it ended; `null` while running.
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
    /// Outcome.
    pub outcome: OutcomeName,
    /// Failure reason.
    pub error: Option<String>,
    /// The failure's documented code (`connect_failed`, `timeout`, `replica_too_slow`...;
    /// docs/metrics.md says what each means and what to do).
    pub error_code: Option<String>,
    /// Bytes moved.
    pub bytes: u64,
    /// Keys moved.
    pub keys: u64,
    /// Phases in order.
    pub phases: Vec<SyncPhase>,
    /// Trace id of the session's OpenTelemetry trace, when tracing is on.
    pub trace_id: Option<String>,
    /// A master's full sync that waited for admission: why and how long; `null` when it
    /// never waited.
    pub queue: Option<SyncQueue>,
}

/// A full sync's wait for admission on the master.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncQueue {
    /// The rule holding it (the latest when several held it in turn): `diskless_delay`,
    /// `disk_snapshot_busy` or `concurrency_cap`.
    pub reason_code: String,
    /// The same, in words, with the setting's value.
    pub reason: String,
    /// When it started to wait.
    #[schema(format = DateTime)]
    pub since: String,
    /// How long it waited; `null` while it waits.
    pub waited_ms: Option<u64>,
}

impl From<&QueueRecord> for SyncQueue {
    fn from(q: &QueueRecord) -> Self {
        SyncQueue {
            reason_code: q.reason.code().to_string(),
            reason: q.reason.to_string(),
            since: rfc3339_ms(q.since_ms),
            waited_ms: q.waited_ms,
        }
    }
}

impl From<&SyncRecord> for SyncSession {
    fn from(r: &SyncRecord) -> Self {
        let (outcome, error) = match &r.outcome {
            SyncOutcome::InProgress => (OutcomeName::InProgress, None),
            SyncOutcome::Succeeded => (OutcomeName::Succeeded, None),
            SyncOutcome::Failed(e) => (OutcomeName::Failed, Some(e.clone())),
        };
        let (error, error_code) = match error {
            Some(e) => (Some(e.detail), Some(e.code.as_str().to_string())),
            None => (None, None),
        };
        SyncSession {
            id: r.id,
            side: match r.side {
                crate::replication::Side::Master => SideName::Master,
                crate::replication::Side::Replica => SideName::Replica,
            },
            peer: r.peer.clone(),
            kind: r.kind.map(|k| k.as_str().to_string()),
            full_sync_reason: r.reason.clone(),
            replid: r.replid.clone(),
            offset: r.offset,
            started_at: rfc3339_ms(r.started_at_ms),
            ended_at: r.ended_at_ms.map(rfc3339_ms),
            outcome,
            error,
            error_code,
            bytes: r.bytes,
            keys: r.keys,
            phases: r.phases.iter().map(SyncPhase::from).collect(),
            trace_id: r.trace_id.clone(),
            queue: r.queue.as_ref().map(SyncQueue::from),
        }
    }
}

/// `GET /v1/replication/syncs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncList {
    /// Sessions, newest first.
    pub syncs: Vec<SyncSession>,
}

/// Query of `GET /v1/replication/syncs`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Return at most this many sessions (newest first).
    #[param(minimum = 1, maximum = 100000)]
    pub limit: Option<u32>,
    /// Only sessions on this side.
    pub side: Option<SideName>,
}

/// An integer field that also accepts integral floats (`6379.0`): JSON Schema counts them
/// as integers, so a client validating against the document may send them.
fn integral<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    let v = n
        .as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 18_446_744_073_709_551_616.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| D::Error::custom(format!("expected a non-negative integer, got {n}")))?;
    T::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range")))
}

/// [`integral`] for an optional field.
fn integral_opt<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    integral(d).map(Some)
}

/// `PUT /v1/replication/master`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"host": "127.0.0.1", "port": 6379}))]
pub struct MasterAddress {
    /// Master host name or address.
    pub host: String,
    /// Master RESP port.
    #[schema(minimum = 1, maximum = 65535)]
    #[serde(deserialize_with = "integral")]
    pub port: u16,
}

/// `POST /v1/replication/failover`.
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FailoverBody {
    /// The replica to hand over to; omitted, the master picks one.
    pub target: Option<MasterAddress>,
    /// Give up after this many milliseconds.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "integral_opt")]
    pub timeout_ms: Option<u64>,
    /// Hand over at the timeout even if the target has not caught up (needs `timeout_ms`
    /// and `target`, as FAILOVER ... FORCE does).
    #[serde(default)]
    pub force: bool,
    /// A data-loss budget: refuse unless the target (given, or the closest replica, which
    /// is then named) has at most this many bytes left to acknowledge.
    #[serde(default, deserialize_with = "integral_opt")]
    pub max_lag_bytes: Option<u64>,
    /// Say which replica would be chosen and why; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The answer to an accepted mutation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Accepted {
    /// What the server will do (the operation runs on; follow it on `/v1/events`).
    pub message: String,
}

/// One Server-Sent Events message of `GET /v1/events`: `event:` names the event and
/// `data:` is one `ReplicationEvent` as JSON (documentation of the stream's framing).
#[derive(Debug)]
pub struct SseMessage;

impl utoipa::PartialSchema for SseMessage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
        let object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One message of the event stream: `event` is the event's type, `data` the event as JSON.",
            ))
            .property(
                "event",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("The event's type (the `type` field of `data`).")),
            )
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("The event, a ReplicationEvent as JSON."))
                    .content_media_type("application/json")
                    .content_schema(Some(Ref::from_schema_name("ReplicationEvent"))),
            )
            .required("event")
            .required("data")
            .build();
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object))
    }
}

impl ToSchema for SseMessage {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((
            ReplicationEvent::name().into(),
            <ReplicationEvent as PartialSchema>::schema(),
        ));
        <ReplicationEvent as ToSchema>::schemas(schemas);
    }
}

/// One replication event, as sent on `GET /v1/events` (the SSE `event:` field is `type`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicationEvent {
    /// `status` (first, with `state`), then `link_up`, `link_down`, `sync_started`,
    /// `phase_changed`, `sync_kind_decided`, `sync_queued`, `sync_progress`,
    /// `load_memory_fallback`, `sync_finished`,
    /// `role_changed`,
    /// `failover_step`, or `lagged` (this stream fell behind and missed events).
    #[serde(rename = "type")]
    pub kind: String,
    /// When the server sent it.
    #[schema(format = DateTime)]
    pub at: String,
    /// Master host (link events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Master port (link events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Why (link down, full sync reason, what holds a queued sync).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `sync_queued`: the code of the rule holding the sync (`diskless_delay`,
    /// `disk_snapshot_busy`, `concurrency_cap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// `sync_progress`: snapshot bytes received so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_bytes: Option<u64>,
    /// `sync_progress`: snapshot bytes expected, when the master said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
    /// `sync_progress`: the load, once it runs (it overlaps the receive when the payload
    /// is streamed into the parser).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadProgress>,
    /// Sync session id (`/v1/replication/syncs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<u64>,
    /// The W3C trace id of the session (the same on the master's and the replica's side
    /// of a sync between replikv nodes), once known: a master learns it when the session's
    /// link task starts, after its `sync_started` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Our side of the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<SideName>,
    /// The other end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The new phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `full` or `partial`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_kind: Option<String>,
    /// True when the session succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Failure reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure's (or the link loss's) documented code (docs/metrics.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The new role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleName>,
    /// The new failover state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_state: Option<String>,
    /// The whole replication state (the `status` event that opens the stream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ReplicationState>,
}

impl ReplicationEvent {
    fn blank(kind: &str, at_ms: i64) -> ReplicationEvent {
        ReplicationEvent {
            kind: kind.into(),
            at: rfc3339_ms(at_ms),
            host: None,
            port: None,
            reason: None,
            reason_code: None,
            received_bytes: None,
            total_bytes: None,
            load: None,
            sync_id: None,
            trace_id: None,
            side: None,
            peer: None,
            phase: None,
            sync_kind: None,
            ok: None,
            error: None,
            error_code: None,
            role: None,
            failover_state: None,
            state: None,
        }
    }

    /// The event that opens a stream: the state the following events apply to.
    pub fn status(state: ReplicationState, at_ms: i64) -> ReplicationEvent {
        let mut e = ReplicationEvent::blank("status", at_ms);
        e.state = Some(state);
        e
    }

    /// The wire form of `event`, stamped `at_ms`.
    pub fn of(event: &Event, at_ms: i64) -> ReplicationEvent {
        let mut e = ReplicationEvent::blank(event.kind(), at_ms);
        match event {
            Event::LinkUp { host, port } => {
                e.host = Some(host.clone());
                e.port = Some(*port);
            }
            Event::LinkDown {
                host,
                port,
                reason,
                code,
            } => {
                e.host = Some(host.clone());
                e.port = Some(*port);
                e.reason = Some(reason.clone());
                e.error_code = code.map(|c| c.as_str().to_string());
            }
            Event::SyncStarted {
                sync_id,
                side,
                peer,
            } => {
                e.sync_id = Some(*sync_id);
                e.side = Some(match side {
                    crate::replication::Side::Master => SideName::Master,
                    crate::replication::Side::Replica => SideName::Replica,
                });
                e.peer = Some(peer.clone());
            }
            Event::PhaseChanged { sync_id, phase } => {
                e.sync_id = Some(*sync_id);
                e.phase = Some(phase.as_str().to_string());
            }
            Event::SyncKindDecided {
                sync_id,
                kind,
                reason,
            } => {
                e.sync_id = Some(*sync_id);
                e.sync_kind = Some(kind.as_str().to_string());
                e.reason = reason.clone();
            }
            Event::SyncProgress {
                sync_id,
                received_bytes,
                total_bytes,
                load,
            } => {
                e.sync_id = Some(*sync_id);
                e.received_bytes = Some(*received_bytes);
                e.total_bytes = *total_bytes;
                e.load = load.as_ref().map(|f| LoadProgress::of(f, at_ms));
            }
            Event::SyncQueued { sync_id, reason } => {
                e.sync_id = Some(*sync_id);
                e.reason = Some(reason.to_string());
                e.reason_code = Some(reason.code().to_string());
            }
            Event::LoadMemoryFallback {
                sync_id,
                used_bytes,
                limit_bytes,
            } => {
                e.sync_id = Some(*sync_id);
                e.reason = Some(format!(
                    "the load used {used_bytes} bytes, over replica-load-memory-limit {limit_bytes}: the old dataset was freed"
                ));
            }
            Event::SyncFinished {
                sync_id,
                ok,
                error,
                error_code,
            } => {
                e.sync_id = Some(*sync_id);
                e.ok = Some(*ok);
                e.error = error.clone();
                e.error_code = error_code.map(|c| c.as_str().to_string());
            }
            Event::RoleChanged { role } => e.role = Some((*role).into()),
            Event::FailoverStep { state, detail } => {
                e.failover_state = Some(state.clone());
                e.reason = (!detail.is_empty()).then(|| detail.clone());
            }
        }
        e
    }

    /// The notice sent when a slow subscriber missed events.
    pub fn lagged(missed: u64, at_ms: i64) -> ReplicationEvent {
        let mut e = ReplicationEvent::blank("lagged", at_ms);
        e.reason = Some(format!(
            "{missed} events were dropped because this stream fell behind"
        ));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_may_be_written_as_integral_floats() {
        let m: MasterAddress = serde_json::from_str(r#"{"host":"h","port":6379.0}"#).unwrap();
        assert_eq!(m.port, 6379);
        assert!(serde_json::from_str::<MasterAddress>(r#"{"host":"h","port":6379.5}"#).is_err());
        assert!(serde_json::from_str::<MasterAddress>(r#"{"host":"h","port":70000}"#).is_err());
        assert!(serde_json::from_str::<MasterAddress>(r#"{"host":"h","port":-1}"#).is_err());
        assert!(serde_json::from_str::<MasterAddress>(r#"{"host":"h","port":"1"}"#).is_err());
        let f: FailoverBody = serde_json::from_str(r#"{"timeout_ms": 5.0}"#).unwrap();
        assert_eq!(f.timeout_ms, Some(5));
        let f: FailoverBody = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(f.timeout_ms, None);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        // Every timestamp has the same width, trailing zeros kept.
        assert_eq!(rfc3339_ms(1_700_000_000_500), "2023-11-14T22:13:20.500Z");
        assert_eq!(rfc3339_ms(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn events_keep_their_names_and_fields() {
        let e = ReplicationEvent::of(
            &Event::PhaseChanged {
                sync_id: 4,
                phase: crate::replication::Phase::Load,
            },
            0,
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "phase_changed");
        assert_eq!(v["sync_id"], 4);
        assert_eq!(v["phase"], "load");
        assert!(v.get("host").is_none());
    }
}
