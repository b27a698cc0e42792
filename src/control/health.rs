//! Liveness and readiness, for orchestrators and load balancers.
//!
//! `/healthz` answers as long as the control plane's thread runs, whatever the server's
//! workers are doing. `/readyz` says whether the node is safe to read from: its dataset is
//! loaded and, on a replica, the link to the master is up and no full sync is replacing the
//! dataset; while a long command holds the engine it answers from the figures last
//! published, with an `Age` header.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::freshness::Freshness;
use super::model::{Health, Readiness};
use super::ApiState;
use crate::replication::{ReplicationStatus, Role};

/// Liveness.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "healthz",
    responses((status = 200, description = "The process is alive.", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Why the node is not ready, from the loading flag and a replication status snapshot.
pub fn not_ready_reasons(loading: bool, status: &ReplicationStatus) -> Vec<String> {
    let mut reasons = Vec::new();
    if loading {
        reasons.push("the dataset is being loaded".to_string());
    }
    if status.role == Role::Replica {
        match &status.master_link {
            Some(link) => {
                if !link.link_up {
                    reasons.push(format!(
                        "the link to the master {}:{} is down",
                        link.host, link.port
                    ));
                }
                if link.sync_in_progress {
                    reasons.push("a full sync from the master is in progress".to_string());
                }
            }
            None => reasons.push("no link to the master".to_string()),
        }
    }
    reasons
}

/// Readiness.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready: safe to read from.", body = Readiness),
        (status = 503, description = "Not ready: loading, or a replica whose link is down or which is in a full sync.", body = Readiness)
    )
)]
pub async fn readyz(State(api): State<ApiState>) -> (StatusCode, Freshness, Json<Readiness>) {
    let view = api.repl.view().await;
    let reasons = not_ready_reasons(view.loading, &view.status);
    let code = if reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Freshness::of(&view),
        Json(Readiness {
            ready: reasons.is_empty(),
            reasons,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::status::{
        BacklogStatus, FailoverState, MasterLinkStatus, SyncCounters,
    };

    fn status(link: Option<(bool, bool)>) -> ReplicationStatus {
        ReplicationStatus {
            role: if link.is_some() {
                Role::Replica
            } else {
                Role::Master
            },
            replid: "a".repeat(40),
            replid2: "0".repeat(40),
            master_repl_offset: 0,
            second_repl_offset: -1,
            backlog: BacklogStatus {
                active: false,
                size: 1 << 20,
                first_byte_offset: 0,
                histlen: 0,
                memory_bytes: 0,
                covered_ms: 0,
                write_rate: 0,
                capacity_ms: None,
            },
            replicas: Vec::new(),
            master_link: link.map(|(up, syncing)| MasterLinkStatus {
                host: "127.0.0.1".into(),
                port: 6379,
                link_up: up,
                state: if up { "connected" } else { "connect" },
                last_io_seconds_ago: 0,
                link_down_since_seconds: 0,
                sync_in_progress: syncing,
                sync_total_bytes: -1,
                sync_read_bytes: 0,
                sync_buffered_bytes: 0,
                phase: None,
                repl_offset: 0,
                read_repl_offset: 0,
                load: None,
            }),
            failover: FailoverState::NoFailover,
            epoch: 0,
            latest_failover: None,
            failover_counts: Default::default(),
            counters: SyncCounters::default(),
            admission: Default::default(),
        }
    }

    #[test]
    fn readiness_rules() {
        assert!(not_ready_reasons(false, &status(None)).is_empty());
        assert_eq!(not_ready_reasons(true, &status(None)).len(), 1);
        assert!(not_ready_reasons(false, &status(Some((true, false)))).is_empty());
        assert_eq!(
            not_ready_reasons(false, &status(Some((false, false)))).len(),
            1
        );
        assert_eq!(
            not_ready_reasons(false, &status(Some((false, true)))).len(),
            2
        );
    }
}
