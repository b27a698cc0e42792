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
        description = "Operate replikv's replication over HTTP: read the role, offsets, replicas, backlog and sync history; follow syncs live as Server-Sent Events; point a node at a master, promote it, force resyncs and coordinated failovers; scrape Prometheus metrics.\n\nErrors are `application/problem+json` documents whose `type` (`urn:replikv:problem:<kind>`) is stable. When `http-auth-token` (or `REPLIKV_HTTP_AUTH_TOKEN`) is set, mutating calls need `Authorization: Bearer <token>`, and reads too with `http-auth-reads yes`; `/healthz`, `/readyz`, `/metrics` and this document stay open. While a long command holds the engine, reads answer within about 50 ms with the figures it last published, marked by an `Age` header; changes wait for it. Times are RFC 3339 (UTC), byte counts and offsets integers.",
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
    let mut doc = super::api_router().into_openapi();
    add_guard_responses(&mut doc);
    doc
}

/// Documents the refusals the auth layer adds in front of every handler, so no handler has
/// to repeat them: 403 for a foreign `Host` (and, on changes, a cross-site `Origin`), 429
/// after too many failed credentials, 415 for a change whose body is not JSON. Open paths
/// (probes, metrics) only get the `Host` rule.
fn add_guard_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                super::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let open =
            super::auth::access_of(&axum::http::Method::GET, path) == super::auth::Access::Open;
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (operation, mutates) in operations {
            let Some(op) = operation.as_mut() else {
                continue;
            };
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| problem(description).into());
            };
            add("403", "The `Host` header names neither an IP address, `localhost`, nor a name in `http-allowed-hosts`; or, for a change, the request came from another site (`Origin`, `Sec-Fetch-Site`).");
            if open {
                continue;
            }
            add("429", "Too many failed credentials from this address within a minute (`http-auth-max-failures`); `Retry-After` says when to try again.");
            if mutates {
                add(
                    "415",
                    "The request has a body that is not `application/json`.",
                );
            }
        }
    }
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
