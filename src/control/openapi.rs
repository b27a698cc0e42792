//! The OpenAPI document: the [`ApiDoc`] header (info, tags, the bearer security scheme)
//! merged with the paths the router registers, so the document cannot drift from the
//! routes. It is committed at `openapi/replikv.json`, printed by `replikv --openapi`, and
//! served at `/openapi.json`; a test fails when the committed copy is stale.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Where the document is committed, relative to the repository root.
pub const COMMITTED_PATH: &str = "openapi/replikv.json";

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "replikv control plane",
        description = "Operate replikv's replication over HTTP: read the role, offsets, replicas, backlog and sync history; follow syncs live as Server-Sent Events; point a node at a master, promote it, force resyncs and coordinated failovers; scrape Prometheus metrics.\n\nErrors are `application/problem+json` documents whose `type` (`urn:replikv:problem:<kind>`) is stable. When `http-auth-token` (or `REPLIKV_HTTP_AUTH_TOKEN`) is set, mutating calls need `Authorization: Bearer <token>`, and reads too with `http-auth-reads yes`; `/healthz`, `/readyz`, `/metrics` and this document stay open. Times are RFC 3339 (UTC), byte counts and offsets integers.",
        license(name = "BSD-3-Clause", identifier = "BSD-3-Clause"),
    ),
    tags(
        (name = "replication", description = "Replication state, replicas, backlog, sync history, live events, and the operations that steer them."),
        (name = "failover", description = "Coordinated failover (the FAILOVER command)."),
        (name = "server", description = "Server identity and configuration."),
        (name = "health", description = "Liveness, readiness and metrics for orchestrators and scrapers."),
    ),
    modifiers(&BearerToken),
)]
pub struct ApiDoc;

/// Declares the `bearer_token` security scheme the operations refer to.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The value of `http-auth-token` (or REPLIKV_HTTP_AUTH_TOKEN).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    super::api_router().into_openapi()
}

/// The document as committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    match document().to_pretty_json() {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Serializing our own document cannot fail short of a bug in utoipa.
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}
