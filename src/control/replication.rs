//! Replication endpoints: state, replicas, backlog, the master to follow, resyncs and
//! failover. Reads render one status snapshot; mutations call the replication handle
//! ([`super::repl_handle`]) exactly as the RESP commands do.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::error::{ApiError, Problem};
use super::extract::{ApiJson, ApiJsonOrEmpty, ApiPath};
use super::freshness::Freshness;
use super::model::{
    Accepted, Backlog, FailoverBody, FailoverCandidate, FailoverPlan, FailoverStatus,
    FailoverTarget, MasterAddress, Replica, ReplicaList, ReplicationState,
};
use super::repl_handle::FailoverRequest;
use super::ApiState;

/// Role, ids, offsets, master link, replicas and failover state.
#[utoipa::path(
    get,
    path = "/v1/replication",
    tag = "replication",
    operation_id = "get_replication",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Replication state at one instant.", body = ReplicationState),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_replication(State(api): State<ApiState>) -> (Freshness, Json<ReplicationState>) {
    let view = api.repl.view().await;
    (
        Freshness::of(&view),
        Json(ReplicationState::from(&view.status)),
    )
}

/// Connected replicas.
#[utoipa::path(
    get,
    path = "/v1/replication/replicas",
    tag = "replication",
    operation_id = "list_replicas",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Every connected replica with its state, offset and lag.", body = ReplicaList),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_replicas(State(api): State<ApiState>) -> (Freshness, Json<ReplicaList>) {
    let view = api.repl.view().await;
    (
        Freshness::of(&view),
        Json(ReplicaList {
            replicas: view.status.replicas.iter().map(Replica::from).collect(),
        }),
    )
}

/// One replica.
#[utoipa::path(
    get,
    path = "/v1/replication/replicas/{id}",
    tag = "replication",
    operation_id = "get_replica",
    security((), ("bearer_token" = [])),
    params(("id" = u64, Path, description = "Replica id (from the replica list).")),
    responses(
        (status = 200, description = "The replica.", body = Replica),
        (status = 400, description = "The id is not a non-negative integer.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No replica has this id.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_replica(
    State(api): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> Result<(Freshness, Json<Replica>), ApiError> {
    let view = api.repl.view().await;
    view.status
        .replicas
        .iter()
        .find(|r| r.id == id)
        .map(|r| (Freshness::of(&view), Json(Replica::from(r))))
        .ok_or(ApiError::UnknownReplica { id })
}

/// The replication backlog.
#[utoipa::path(
    get,
    path = "/v1/replication/backlog",
    tag = "replication",
    operation_id = "get_backlog",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Backlog size, contents and partial-resync counters.", body = Backlog),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_backlog(State(api): State<ApiState>) -> (Freshness, Json<Backlog>) {
    let view = api.repl.view().await;
    (Freshness::of(&view), Json(Backlog::of(&view.status)))
}

/// Become a replica of a master (REPLICAOF host port).
#[utoipa::path(
    put,
    path = "/v1/replication/master",
    tag = "replication",
    operation_id = "set_master",
    security(("bearer_token" = [])),
    request_body(content = MasterAddress, description = "The master to follow."),
    responses(
        (status = 202, description = "Accepted: the node now follows that master; follow the sync on /v1/events.", body = Accepted),
        (status = 400, description = "The body is not valid JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token configured and the caller is not on loopback (protected mode).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The current state forbids it (e.g. a failover is in progress).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is refused (`field` names it).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn set_master(
    State(api): State<ApiState>,
    ApiJson(body): ApiJson<MasterAddress>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    if body.host.trim().is_empty() {
        return Err(ApiError::Invalid {
            field: "host".into(),
            detail: "host must not be empty".into(),
        });
    }
    if body.port == 0 {
        return Err(ApiError::Invalid {
            field: "port".into(),
            detail: "port must be between 1 and 65535".into(),
        });
    }
    let target = format!("{}:{}", body.host, body.port);
    api.repl.set_master(body.host, body.port).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: format!("following {target}"),
        }),
    ))
}

/// Stop following the master and become a master (REPLICAOF NO ONE; history kept).
#[utoipa::path(
    delete,
    path = "/v1/replication/master",
    tag = "replication",
    operation_id = "promote",
    security(("bearer_token" = [])),
    responses(
        (status = 200, description = "The node is a master (it already was, or it was promoted).", body = ReplicationState),
        (status = 401, description = "Missing or wrong bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token configured and the caller is not on loopback (protected mode).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The current state forbids it (e.g. a failover is in progress).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn promote(
    State(api): State<ApiState>,
) -> Result<(Freshness, Json<ReplicationState>), ApiError> {
    api.repl.promote().await?;
    let view = api.repl.view().await;
    Ok((
        Freshness::of(&view),
        Json(ReplicationState::from(&view.status)),
    ))
}

/// On a replica: drop the link to the master and force a full sync.
#[utoipa::path(
    post,
    path = "/v1/replication/resync",
    tag = "replication",
    operation_id = "resync",
    security(("bearer_token" = [])),
    responses(
        (status = 202, description = "Accepted: the link was dropped and a full sync will follow.", body = Accepted),
        (status = 401, description = "Missing or wrong bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token configured and the caller is not on loopback (protected mode).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This node is a master: resync one of its replicas with /v1/replication/replicas/{id}/resync.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn resync(State(api): State<ApiState>) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    api.repl.resync().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "link dropped; a full sync follows".into(),
        }),
    ))
}

/// On a master: force one replica into a full sync.
#[utoipa::path(
    post,
    path = "/v1/replication/replicas/{id}/resync",
    tag = "replication",
    operation_id = "resync_replica",
    security(("bearer_token" = [])),
    params(("id" = u64, Path, description = "Replica id (from the replica list).")),
    responses(
        (status = 202, description = "Accepted: the replica's link was dropped; its next sync is a full one.", body = Accepted),
        (status = 400, description = "The id is not a non-negative integer.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token configured and the caller is not on loopback (protected mode).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No replica has this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The current role or state forbids it.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn resync_replica(
    State(api): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    api.repl.resync_replica(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: format!("replica {id} will do a full sync"),
        }),
    ))
}

/// The coordinated failover in progress, else the last one: state, target, fencing epoch
/// and every step with its time.
#[utoipa::path(
    get,
    path = "/v1/replication/failover",
    tag = "failover",
    operation_id = "get_failover",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "The coordinated failover's state and steps.", body = FailoverStatus),
        (status = 401, description = "`http-auth-reads yes` and no valid credential.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_failover(State(api): State<ApiState>) -> (Freshness, Json<FailoverStatus>) {
    let view = api.repl.view().await;
    (
        Freshness::of(&view),
        Json(FailoverStatus::from(&view.status)),
    )
}

/// Start a coordinated failover (the FAILOVER command), or with `dry_run` say what it
/// would do.
///
/// Writes are held while the master waits for the target (given, or the first replica to
/// reach its offset) to catch up; then the master hands over and becomes the target's
/// replica. `max_lag_bytes` refuses unless the target is that close, and without a target
/// names the closest replica within it. Follow it on `GET /v1/replication/failover` or
/// `/v1/events` (`failover_step`).
#[utoipa::path(
    post,
    path = "/v1/replication/failover",
    tag = "failover",
    operation_id = "start_failover",
    security(("bearer_token" = [])),
    request_body(content = FailoverBody, description = "Target, timeout, force, data-loss budget, dry run; all optional."),
    responses(
        (status = 200, description = "`dry_run`: what would be done (nothing changed): the chosen target, why, and every replica weighed.", body = FailoverPlan),
        (status = 202, description = "Accepted: the failover started; the chosen target, why, and every replica weighed.", body = FailoverPlan),
        (status = 400, description = "The body is not valid JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong credential.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a master with replicas, or a failover is already in progress.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is refused: `force` without `timeout_ms` and `target`, a target that is not an online replica, no replica within `max_lag_bytes`.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn start_failover(
    State(api): State<ApiState>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<FailoverBody>,
) -> Result<(StatusCode, Json<FailoverPlan>), ApiError> {
    if body.force && (body.timeout_ms.is_none() || body.target.is_none()) {
        return Err(ApiError::Invalid {
            field: "force".into(),
            detail: "force needs both timeout_ms and target".into(),
        });
    }
    if body.timeout_ms == Some(0) {
        return Err(ApiError::Invalid {
            field: "timeout_ms".into(),
            detail: "timeout_ms must be positive".into(),
        });
    }
    if let Some(t) = &body.target {
        if t.host.trim().is_empty() || t.port == 0 {
            return Err(ApiError::Invalid {
                field: "target".into(),
                detail: "target needs a host and a port between 1 and 65535".into(),
            });
        }
    }
    let dry_run = body.dry_run;
    let planned = api
        .repl
        .failover(FailoverRequest {
            target: body.target.map(|t| (t.host, t.port)),
            timeout_ms: body.timeout_ms,
            force: body.force,
            max_lag_bytes: body.max_lag_bytes,
            dry_run,
        })
        .await?;
    let code = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((
        code,
        Json(FailoverPlan {
            dry_run,
            target: planned
                .target
                .map(|(host, port)| FailoverTarget { host, port }),
            reason: planned.reason,
            candidates: planned
                .candidates
                .into_iter()
                .map(|c| FailoverCandidate {
                    host: c.host,
                    port: c.port,
                    state: c.state.to_string(),
                    lag_bytes: c.lag_bytes,
                    eligible: c.reason.is_none(),
                    reason: c.reason,
                })
                .collect(),
        }),
    ))
}

/// Abort the failover in progress (FAILOVER ABORT): roles and writes as before it.
#[utoipa::path(
    delete,
    path = "/v1/replication/failover",
    tag = "failover",
    operation_id = "abort_failover",
    security(("bearer_token" = [])),
    responses(
        (status = 200, description = "Aborted; the node is a master, writes released.", body = FailoverStatus),
        (status = 401, description = "Missing or wrong credential.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No failover is in progress.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn abort_failover(
    State(api): State<ApiState>,
) -> Result<(Freshness, Json<FailoverStatus>), ApiError> {
    api.repl.abort_failover().await?;
    let view = api.repl.view().await;
    Ok((
        Freshness::of(&view),
        Json(FailoverStatus::from(&view.status)),
    ))
}
