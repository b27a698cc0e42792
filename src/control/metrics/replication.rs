//! Replication series: redis_exporter's (ECOSYSTEM §1.2, with its types — three sync
//! counters are gauges there, and stay gauges here) and replikv's own: lag in bytes per
//! replica, sync progress, failover state, and the sync history folded into cumulative
//! per-phase histograms and per-outcome counters.

use std::collections::HashSet;
use std::fmt::Error;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::encode::{Labels, Out};
use super::ScrapeSlot;
use crate::replication::abort::AbortCode;
use crate::replication::admission::WaitReason;
use crate::replication::history::SyncKind;
use crate::replication::history::SyncOutcome;
use crate::replication::psync::FullReason;
use crate::replication::status::FailoverState;
use crate::replication::{Phase, Side};
use crate::replication::{Role, SyncRecord};

/// Status-derived replication series.
#[derive(Debug)]
pub struct ReplicationCollector(pub Arc<ScrapeSlot>);

impl Collector for ReplicationCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let Some(scrape) = self.0.current() else {
            return Ok(());
        };
        let r = &scrape.repl;
        let b = &r.backlog;
        let mut out = Out(&mut encoder);
        out.gauge(
            "redis_connected_slaves",
            "Connected replicas.",
            r.replicas.len() as u64,
        )?;
        out.gauge(
            "redis_master_repl_offset",
            "Offset of our replication stream.",
            r.master_repl_offset,
        )?;
        out.gauge(
            "redis_second_repl_offset",
            "Last offset valid for the previous replication id, plus one (-1 = none).",
            r.second_repl_offset,
        )?;
        out.gauge(
            "redis_replication_backlog_bytes",
            "Configured backlog size.",
            b.size,
        )?;
        out.gauge(
            "redis_repl_backlog_is_active",
            "1 when a backlog exists.",
            i64::from(b.active),
        )?;
        out.gauge(
            "redis_repl_backlog_first_byte_offset",
            "Offset of the oldest byte in the backlog.",
            b.first_byte_offset,
        )?;
        out.gauge(
            "redis_repl_backlog_history_bytes",
            "Bytes held in the backlog.",
            b.histlen,
        )?;
        out.gauge(
            "redis_replica_resyncs_full",
            "Full syncs served.",
            r.counters.sync_full,
        )?;
        let causes: Vec<(Labels, u64)> = FullReason::ALL
            .iter()
            .map(|cause| {
                (
                    vec![("cause", cause.code().to_string())],
                    r.counters.full_by_cause[cause.index()],
                )
            })
            .collect();
        out.counters(
            "replikv_full_resyncs",
            "Full syncs served since start, by cause (docs/metrics.md lists the causes and what to do about each).",
            &causes,
        )?;
        let aborts: Vec<(Labels, u64)> = [Side::Master, Side::Replica]
            .iter()
            .enumerate()
            .flat_map(|(i, side)| {
                AbortCode::ALL.iter().map(move |code| {
                    (
                        vec![
                            ("side", side.as_str().to_string()),
                            ("code", code.as_str().to_string()),
                        ],
                        r.counters.link_aborts[i][code.index()],
                    )
                })
            })
            .collect();
        out.counters(
            "replikv_link_aborts",
            "Replication links that ended with an error since start, by our side and code (docs/metrics.md says what each code means and what to do).",
            &aborts,
        )?;
        let a = &r.admission;
        let by_reason = |counts: [u64; 3]| -> Vec<(Labels, u64)> {
            WaitReason::CODES
                .iter()
                .zip(counts)
                .map(|(code, n)| (vec![("reason", code.to_string())], n))
                .collect()
        };
        out.gauges(
            "replikv_full_syncs_waiting",
            "Replicas waiting now for a full-sync snapshot, by the rule holding them (diskless_delay, disk_snapshot_busy, concurrency_cap).",
            &by_reason(a.waiting),
        )?;
        out.counters(
            "replikv_full_syncs_held",
            "Full syncs held for admission since start, by rule (a sync held by two rules in turn counts under each).",
            &by_reason(a.held_total),
        )?;
        out.gauge(
            "replikv_full_syncs_transferring",
            "Full-sync transfers running now (each holds an admission slot).",
            a.transfers,
        )?;
        out.gauge(
            "replikv_full_syncs_max_concurrent",
            "repl-max-concurrent-full-syncs (0: no cap).",
            a.cap,
        )?;
        out.gauge(
            "redis_replica_partial_resync_accepted",
            "Partial resyncs accepted.",
            r.counters.sync_partial_ok,
        )?;
        out.gauge(
            "redis_replica_partial_resync_denied",
            "Partial resyncs refused.",
            r.counters.sync_partial_err,
        )?;
        out.gauge(
            "redis_slave_priority",
            "replica-priority.",
            scrape.settings.replica_priority,
        )?;
        out.gauge(
            "redis_slave_expires_tracked_keys",
            "Keys with an expiry written on a writable replica.",
            0i64,
        )?;
        out.counter(
            "redis_net_repl_input_bytes",
            "Replication bytes read from the master.",
            scrape.traffic.input_bytes,
        )?;
        out.counter(
            "redis_net_repl_output_bytes",
            "Replication bytes written to replicas.",
            scrape.traffic.output_bytes,
        )?;
        out.gauge(
            "redis_mem_replication_backlog_bytes",
            "Memory used by the backlog.",
            b.memory_bytes,
        )?;
        out.gauge(
            "redis_mem_clients_slaves",
            "Memory used by replica connections beyond the shared replication buffer.",
            scrape.traffic.replica_clients_memory,
        )?;
        out.gauge(
            "redis_mem_total_replication_buffers_bytes",
            "Memory of the replication buffer shared by the backlog and the replicas.",
            b.memory_bytes,
        )?;

        let slave = |ip: &str, port: u16, state: &str| -> Labels {
            vec![
                ("slave_ip", ip.to_string()),
                ("slave_port", port.to_string()),
                ("slave_state", state.to_string()),
            ]
        };
        let offsets: Vec<(Labels, u64)> = r
            .replicas
            .iter()
            .map(|x| (slave(&x.ip, x.port, x.state.as_str()), x.ack_offset))
            .collect();
        let lags: Vec<(Labels, u64)> = r
            .replicas
            .iter()
            .map(|x| (slave(&x.ip, x.port, x.state.as_str()), x.lag_seconds))
            .collect();
        out.gauges(
            "redis_connected_slave_offset_bytes",
            "Offset each replica acknowledged.",
            &offsets,
        )?;
        out.gauges(
            "redis_connected_slave_lag_seconds",
            "Seconds since each replica's last acknowledgement.",
            &lags,
        )?;
        let by_id =
            |f: fn(&crate::replication::status::ReplicaStatus) -> u64| -> Vec<(Labels, u64)> {
                r.replicas
                    .iter()
                    .map(|x| (vec![("replica", x.id.to_string())], f(x)))
                    .collect()
            };
        out.gauges(
            "replikv_replica_lag_bytes",
            "Our offset minus the offset each replica acknowledged.",
            &by_id(|x| x.lag_bytes),
        )?;
        out.gauges(
            "replikv_replica_ack_age_seconds",
            "Seconds since each replica's last acknowledgement.",
            &by_id(|x| x.lag_seconds),
        )?;
        let ms = |v: u64| v as f64 / 1000.0;
        let lag_time: Vec<(Labels, f64)> = r
            .replicas
            .iter()
            .map(|x| (vec![("replica", x.id.to_string())], ms(x.lag_ms)))
            .collect();
        out.gauges(
            "replikv_replica_lag_time_seconds",
            "How stale each replica was at its last acknowledgement: the age of the oldest write it had not confirmed (1 ms resolution; 0 when it had them all).",
            &lag_time,
        )?;
        let horizons: Vec<(Labels, f64)> = r
            .replicas
            .iter()
            .filter_map(|x| {
                x.resume_horizon_ms
                    .map(|h| (vec![("replica", x.id.to_string())], ms(h)))
            })
            .collect();
        out.gauges(
            "replikv_replica_resume_horizon_seconds",
            "How long each replica could stay disconnected from now and still resume with a partial resync, at the current write rate (absent while nothing is written).",
            &horizons,
        )?;
        let active = |v: f64| -> Vec<(Labels, f64)> {
            if b.active {
                vec![(Vec::new(), v)]
            } else {
                Vec::new()
            }
        };
        out.gauges(
            "replikv_repl_backlog_covered_seconds",
            "Age of the oldest byte in the backlog: how far back a partial resync can reach now.",
            &active(ms(b.covered_ms)),
        )?;
        out.gauges(
            "replikv_repl_write_rate_bytes_per_second",
            "Bytes per second written to the replication stream over the last minute.",
            &active(b.write_rate as f64),
        )?;
        out.gauges(
            "replikv_repl_backlog_capacity_seconds",
            "Seconds of writes repl-backlog-size holds at the current write rate (absent while nothing is written).",
            &b.capacity_ms
                .filter(|_| b.active)
                .map(|c| vec![(Vec::new(), ms(c))])
                .unwrap_or_default(),
        )?;
        out.gauges(
            "replikv_replica_output_buffer_bytes",
            "Bytes held for each replica that it has not received yet.",
            &by_id(|x| x.output_buffer_bytes),
        )?;

        // Replica side: the exporter emits these only on a replica, labelled by master.
        let link = r.master_link.as_ref().filter(|_| r.role == Role::Replica);
        let master: Option<Labels> = link.map(|m| {
            vec![
                ("master_host", m.host.clone()),
                ("master_port", m.port.to_string()),
            ]
        });
        let rows = |v: Option<i64>| -> Vec<(Labels, i64)> {
            match (&master, v) {
                (Some(l), Some(v)) => vec![(l.clone(), v)],
                _ => Vec::new(),
            }
        };
        out.gauges(
            "redis_master_link_up",
            "1 when the link to the master is up.",
            &rows(link.map(|m| i64::from(m.link_up))),
        )?;
        out.gauges(
            "redis_master_last_io_seconds_ago",
            "Seconds since the master was last heard from.",
            &rows(link.map(|m| m.last_io_seconds_ago)),
        )?;
        out.gauges(
            "redis_master_sync_in_progress",
            "1 while a full sync from the master runs.",
            &rows(link.map(|m| i64::from(m.sync_in_progress))),
        )?;
        out.gauges(
            "redis_slave_repl_offset",
            "Offset of the master's stream processed so far.",
            &rows(link.map(|m| m.repl_offset)),
        )?;
        let info: Vec<(Labels, i64)> = match &master {
            Some(l) => {
                let mut l = l.clone();
                l.push((
                    "read_only",
                    if scrape.settings.replica_read_only {
                        "1"
                    } else {
                        "0"
                    }
                    .into(),
                ));
                vec![(l, 1)]
            }
            None => Vec::new(),
        };
        out.gauges("redis_slave_info", "Present (1) on a replica.", &info)?;
        out.gauges(
            "replikv_master_link_down_since_seconds",
            "Seconds since the link to the master went down (0 when up, -1 never up).",
            &rows(link.map(|m| m.link_down_since_seconds)),
        )?;
        out.gauges(
            "replikv_master_sync_read_bytes",
            "Snapshot bytes received in the current full sync.",
            &rows(link.map(|m| m.sync_read_bytes as i64)),
        )?;
        out.gauges(
            "replikv_master_sync_buffered_bytes",
            "Stream bytes held until the snapshot is loaded, in a dual-channel full sync.",
            &rows(link.map(|m| m.sync_buffered_bytes as i64)),
        )?;
        let now = crate::replication::history::unix_ms();
        let load = link.and_then(|m| m.load);
        out.gauges(
            "replikv_master_sync_loaded_bytes",
            "Snapshot bytes loaded so far by the load running now (absent when none runs).",
            &rows(load.map(|f| f.loaded_bytes as i64)),
        )?;
        out.gauges(
            "replikv_master_sync_loaded_keys",
            "Keys loaded so far by the load running now (absent when none runs).",
            &rows(load.map(|f| f.keys as i64)),
        )?;
        out.gauges(
            "replikv_master_sync_eta_seconds",
            "Seconds the running load has left at its pace so far, as INFO loading_eta_seconds (absent when none runs).",
            &rows(load.map(|f| f.eta_seconds(now) as i64)),
        )?;
        out.gauges(
            "replikv_master_sync_total_bytes",
            "Snapshot bytes expected in the current full sync (-1 unknown).",
            &rows(link.map(|m| m.sync_total_bytes)),
        )?;

        let failover: Vec<(Labels, i64)> = [
            FailoverState::NoFailover,
            FailoverState::WaitingForSync,
            FailoverState::InProgress,
        ]
        .iter()
        .map(|s| {
            (
                vec![("state", s.as_str().to_string())],
                i64::from(*s == r.failover),
            )
        })
        .collect();
        out.gauges(
            "replikv_failover_state",
            "1 for the coordinated failover's current state, 0 for the others.",
            &failover,
        )?;
        out.counters(
            "replikv_failovers",
            "Coordinated failovers this node ran, by outcome.",
            &[
                (
                    vec![("outcome", "completed".to_string())],
                    r.failover_counts.completed,
                ),
                (
                    vec![("outcome", "aborted".to_string())],
                    r.failover_counts.aborted,
                ),
            ],
        )?;
        out.gauges(
            "replikv_fencing_epoch",
            "Promotions of this node so far: a higher epoch is a newer master.",
            &[(Vec::new(), r.epoch as i64)],
        )?;

        let mut running: Vec<(Labels, u64)> = ["master", "replica"]
            .iter()
            .map(|side| (vec![("side", side.to_string())], 0u64))
            .collect();
        for rec in scrape
            .history
            .iter()
            .filter(|h| h.outcome == SyncOutcome::InProgress)
        {
            let i = usize::from(rec.side.as_str() == "replica");
            running[i].1 += 1;
        }
        out.gauges(
            "replikv_sync_in_progress",
            "Sync sessions running, by our side.",
            &running,
        )?;
        Ok(())
    }
}

/// Label set of the per-phase histogram.
type PhaseLabels = Vec<(&'static str, String)>;

/// Folds finished phases and sessions of the (bounded) sync history into cumulative
/// metrics, so they only grow even as old sessions leave the history. A session that
/// starts and leaves the history between two scrapes is not counted (with the default 64
/// kept sessions and a scrape every few seconds, that takes a sync storm).
#[derive(Debug)]
pub struct SyncFold {
    phases: Family<PhaseLabels, Histogram>,
    syncs: Family<PhaseLabels, Counter>,
    bytes: Family<PhaseLabels, Counter>,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// (session id, phase index) already observed.
    phases: HashSet<(u64, usize)>,
    /// Finished sessions already counted.
    finished: HashSet<u64>,
}

/// Bucket bounds of phase durations in seconds: from a 1 ms PSYNC decision to a
/// multi-minute transfer of a large dataset.
const PHASE_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];

impl SyncFold {
    /// Registers the folded metrics.
    pub fn new(registry: &mut Registry) -> SyncFold {
        let phases = Family::<PhaseLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(PHASE_BUCKETS)) as fn() -> Histogram,
        );
        let phases_family: Family<PhaseLabels, Histogram> = phases;
        let syncs = Family::<PhaseLabels, Counter>::default();
        // The registry ends each help text with a period itself.
        registry.register(
            "replikv_sync_phase_duration_seconds",
            "Duration of finished sync phases, by side and phase (from the sync history)",
            phases_family.clone(),
        );
        registry.register(
            "replikv_sync",
            "Finished sync sessions by side, kind (full, partial, unknown) and result (ok, error)",
            syncs.clone(),
        );
        let bytes = Family::<PhaseLabels, Counter>::default();
        registry.register(
            "replikv_sync_phase_bytes",
            "Snapshot bytes moved by finished full syncs, by side and phase (transfer on a master, receive on a replica)",
            bytes.clone(),
        );
        SyncFold {
            phases: phases_family,
            syncs,
            bytes,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Observes whatever finished since the last fold.
    pub fn fold(&self, history: &[SyncRecord]) {
        let mut seen = self.seen.lock();
        for rec in history {
            for (i, p) in rec.phases.iter().enumerate() {
                let Some(ms) = p.duration_ms else { continue };
                if seen.phases.insert((rec.id, i)) {
                    let labels = vec![
                        ("side", rec.side.as_str().to_string()),
                        ("phase", p.phase.as_str().to_string()),
                    ];
                    self.phases
                        .get_or_create(&labels)
                        .observe(ms as f64 / 1000.0);
                }
            }
            let result = match rec.outcome {
                SyncOutcome::InProgress => continue,
                SyncOutcome::Succeeded => "ok",
                SyncOutcome::Failed(_) => "error",
            };
            if seen.finished.insert(rec.id) {
                let labels = vec![
                    ("side", rec.side.as_str().to_string()),
                    (
                        "kind",
                        rec.kind.map_or("unknown", |k| k.as_str()).to_string(),
                    ),
                    ("result", result.to_string()),
                ];
                self.syncs.get_or_create(&labels).inc();
                if rec.kind == Some(SyncKind::Full) {
                    let phase = match rec.side {
                        Side::Master => Phase::Transfer,
                        Side::Replica => Phase::Receive,
                    };
                    let labels = vec![
                        ("side", rec.side.as_str().to_string()),
                        ("phase", phase.as_str().to_string()),
                    ];
                    self.bytes.get_or_create(&labels).inc_by(rec.bytes);
                }
            }
        }
        // Forget sessions that left the history: ids only grow, so they never come back.
        let kept: HashSet<u64> = history.iter().map(|r| r.id).collect();
        seen.phases.retain(|(id, _)| kept.contains(id));
        seen.finished.retain(|id| kept.contains(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::SyncHistory;

    #[test]
    fn folding_counts_each_phase_and_session_once() {
        let mut registry = Registry::default();
        let fold = SyncFold::new(&mut registry);
        let mut h = SyncHistory::new(4);
        let a = h.start(Side::Master, "127.0.0.1:1".into());
        h.enter_phase(a, Phase::Psync);
        h.enter_phase(a, Phase::Snapshot);
        fold.fold(&h.records());
        fold.fold(&h.records());
        if let Some(r) = h.get_mut(a) {
            r.kind = Some(SyncKind::Full);
            r.bytes = 1234;
        }
        h.finish(a, SyncOutcome::Succeeded);
        fold.fold(&h.records());
        fold.fold(&h.records());
        let ok = vec![
            ("side", "master".to_string()),
            ("kind", "full".to_string()),
            ("result", "ok".to_string()),
        ];
        assert_eq!(fold.syncs.get_or_create(&ok).get(), 1);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("replikv_sync_total{side=\"master\",kind=\"full\",result=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "replikv_sync_phase_bytes_total{side=\"master\",phase=\"transfer\"} 1234"
            ),
            "{text}"
        );
        for phase in ["psync", "snapshot"] {
            let line = format!(
                "replikv_sync_phase_duration_seconds_count{{side=\"master\",phase=\"{phase}\"}} 1\n"
            );
            assert!(text.contains(&line), "{line} in {text}");
        }
    }
}
