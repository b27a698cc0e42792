//! `GET /v1/server`, `GET /v1/config` and `PATCH /v1/config`.
//!
//! PATCH goes through [`crate::command::server::apply_config_set`], the function CONFIG SET
//! calls, so both accept the same directives and values and refuse the rest with the same
//! reasons. Secrets (passwords, the HTTP token) are never shown.

use axum::extract::State;
use axum::{Extension, Json};

use super::auth::{Caller, Proved};
use super::error::{ApiError, Problem};
use super::extract::ApiJson;
use super::freshness::Freshness;
use super::model::{
    ConfigDirective, ConfigPatch, ConfigView, Dataset, Ports, RoleName, ServerInfo,
};
use super::ApiState;
use crate::config::{self, Settings};
use crate::engine::published;
use crate::engine::settings::{apply_config_set, may_change_protected, ConfigSetError};
use crate::engine::snapshot::ServerSnapshot;
use crate::engine::REDIS_COMPAT_VERSION;

/// Server identity and size.
#[utoipa::path(
    get,
    path = "/v1/server",
    tag = "server",
    operation_id = "get_server",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Version, uptime, role, ports and dataset size.", body = ServerInfo),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_server(State(api): State<ApiState>) -> (Freshness, Json<ServerInfo>) {
    let snap = published::observe(
        &api.state,
        &api.state.observed.server,
        ServerSnapshot::capture,
    )
    .await;
    let view = api.repl.view().await;
    let role = view.status.role;
    let freshness = Freshness::of(&snap).max(Freshness::of(&view));
    let started_ms = crate::keyspace::now_ms() - api.state.started.elapsed().as_millis() as i64;
    let info = ServerInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        redis_version: REDIS_COMPAT_VERSION.into(),
        run_id: api.state.run_id.clone(),
        process_id: std::process::id(),
        started_at: super::model::rfc3339_ms(started_ms),
        uptime_seconds: snap.uptime_secs,
        role: RoleName::from(role),
        ports: Ports {
            resp: snap.ports.resp,
            http: snap.ports.http,
        },
        dataset: Dataset {
            keys: snap.total_keys(),
            expires: snap.total_expires(),
            used_memory_bytes: snap.memory.used,
            loading: snap.persistence.loading,
        },
        connected_clients: snap.clients.connected,
    };
    (freshness, Json(info))
}

/// The configuration as the control plane shows it.
fn view(settings: &Settings, only: Option<&[&str]>) -> ConfigView {
    let defaults = Settings::defaults();
    let directives = config::DIRECTIVES
        .iter()
        .filter(|d| only.is_none_or(|names| names.contains(&d.name)))
        .map(|d| {
            // Secrets (Redis's sensitive directives, and our token) are shown as `null`.
            let secret = config::directives::SENSITIVE_CONFIGS.contains(&d.name);
            ConfigDirective {
                name: d.name.to_string(),
                value: (!secret).then(|| (d.get)(settings)),
                default: (!secret).then(|| (d.get)(&defaults)),
                mutable: d.mutable,
                secret,
                description: d.doc.to_string(),
            }
        })
        .collect();
    ConfigView { directives }
}

/// Every directive.
#[utoipa::path(
    get,
    path = "/v1/config",
    tag = "server",
    operation_id = "get_config",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Every directive with its value, default and whether it may change at run time.", body = ConfigView),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_config(State(api): State<ApiState>) -> Json<ConfigView> {
    Json(view(&api.state.settings(), None))
}

/// Changes run-time directives.
///
/// The body maps directive names to values in redis.conf syntax (`{"maxclients": "500",
/// "save": "900 1 300 10"}`). All are applied or none: the same checks and the same code
/// path as `CONFIG SET`.
#[utoipa::path(
    patch,
    path = "/v1/config",
    tag = "server",
    operation_id = "patch_config",
    security(("bearer_token" = [])),
    request_body(
        content = ConfigPatch,
        description = "Directive name to new value, in redis.conf syntax."
    ),
    responses(
        (status = 200, description = "Applied; the changed directives with their new values.", body = ConfigView),
        (status = 400, description = "The body is not a JSON object of strings.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No token configured and the caller is not on loopback (protected mode).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown directive, one that cannot change at run time, a repeated one, or a value refused; `field` names it and nothing was applied.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn patch_config(
    State(api): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiJson(ConfigPatch(changes)): ApiJson<ConfigPatch>,
) -> Result<Json<ConfigView>, ApiError> {
    let pairs: Vec<(String, String)> = changes.into_iter().collect();
    let sets_token = pairs
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("http-auth-token"));
    if sets_token && caller.proved != Proved::Token {
        // Otherwise a caller could lock the operators out, or set the first token of a
        // server that relies on its password.
        return Err(ApiError::Forbidden {
            detail: "http-auth-token can be changed over HTTP only by a caller presenting the current token; set it in the configuration file or with CONFIG SET".into(),
        });
    }
    let names: Vec<&str> = pairs
        .iter()
        .filter_map(|(n, _)| config::find(n).map(|d| d.name))
        .collect();
    let loopback = caller.loopback;
    let settings = api
        .repl
        .on_server(move |state, engine| {
            let allow_protected = may_change_protected(&engine.settings, loopback);
            apply_config_set(state, engine, &pairs, allow_protected, false)
        })
        .await?
        .map_err(config_error)?;
    Ok(Json(view(&settings, Some(&names))))
}

/// A refused change as a 422 naming the directive.
fn config_error(e: ConfigSetError) -> ApiError {
    let detail = match &e {
        ConfigSetError::Unknown { name } => format!("unknown directive '{name}'"),
        ConfigSetError::Immutable { name } => {
            format!("'{name}' cannot change while the server runs")
        }
        ConfigSetError::Protected { name } => {
            format!("'{name}' is a protected directive: enable-protected-configs does not allow changing it from here")
        }
        ConfigSetError::Duplicate { name } => format!("'{name}' is given twice"),
        ConfigSetError::Loading { name } => {
            format!("'{name}' cannot change while a dataset is loading")
        }
        ConfigSetError::Invalid { name, reason } => format!("'{name}': {reason}"),
    };
    ApiError::Invalid {
        field: e.name().to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_shown() {
        let mut s = Settings::defaults();
        s.requirepass = "hunter2".into();
        s.http_auth_token = "tok".into();
        let v = view(&s, None);
        let text = serde_json::to_string(&v).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("\"tok\""),
            "{text}"
        );
        let pass = v
            .directives
            .iter()
            .find(|d| d.name == "requirepass")
            .unwrap();
        assert!(pass.secret && pass.value.is_none());
        let port = v.directives.iter().find(|d| d.name == "port").unwrap();
        assert_eq!(port.value.as_deref(), Some("6379"));
        assert!(port.mutable, "the listeners move at run time");
        let databases = v.directives.iter().find(|d| d.name == "databases").unwrap();
        assert!(!databases.mutable);
    }

    #[test]
    fn refusals_name_the_field() {
        let e = config_error(ConfigSetError::Invalid {
            name: "maxclients".into(),
            reason: "argument couldn't be parsed into an integer".into(),
        });
        assert_eq!(e.problem().field.as_deref(), Some("maxclients"));
        assert_eq!(e.status().as_u16(), 422);
    }
}
