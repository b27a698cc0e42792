//! Bearer-token authentication for the control plane.
//!
//! The token comes from `http-auth-token` or, when that is empty, from the environment
//! variable `REPLIKV_HTTP_AUTH_TOKEN` (read once at start, so a secret need not sit in a
//! config file that CONFIG REWRITE might persist). When a token is set, every mutating call
//! needs `Authorization: Bearer <token>`, and reads too when `http-auth-reads yes`.
//! `/healthz`, `/readyz` and `/metrics` stay open for probes and scrapers, and so do the API
//! document and its page (`/openapi.json`, `/docs`), which hold no state.
//!
//! Without a token, mutating calls are refused (403) from non-loopback peers while
//! `protected-mode` is on, the same rule Redis applies to RESP clients without a password.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::ApiState;

/// Environment variable holding the token when `http-auth-token` is empty.
pub const TOKEN_ENV: &str = "REPLIKV_HTTP_AUTH_TOKEN";

/// Paths that never need a token.
const OPEN_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Open,
    /// A read: open unless `http-auth-reads yes`.
    Read,
    /// A change.
    Mutate,
}

/// Classifies a request by path and method.
pub fn access_of(method: &Method, path: &str) -> Access {
    if OPEN_PATHS.contains(&path) || path == "/docs" || path.starts_with("/docs/") {
        return Access::Open;
    }
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        Access::Read
    } else {
        Access::Mutate
    }
}

/// Compares a presented token with the configured one in time that depends only on the
/// configured token's length, never on where the first difference is.
pub fn token_matches(presented: &[u8], configured: &[u8]) -> bool {
    if presented.len() != configured.len() {
        // Still spend a comparison's time, so a length mismatch is not faster to detect
        // than a content mismatch.
        let _ = configured.ct_eq(configured);
        return false;
    }
    presented.ct_eq(configured).into()
}

/// The decision for one request.
pub fn decide(
    access: Access,
    token: Option<&str>,
    auth_reads: bool,
    authorization: Option<&[u8]>,
    peer_is_loopback: bool,
    protected_mode: bool,
) -> Result<(), ApiError> {
    let needs_token = match access {
        Access::Open => false,
        Access::Read => auth_reads,
        Access::Mutate => true,
    };
    if !needs_token {
        return Ok(());
    }
    let Some(token) = token else {
        if access == Access::Mutate && protected_mode && !peer_is_loopback {
            return Err(ApiError::Forbidden {
                detail: "protected mode: without http-auth-token, changes are only accepted from loopback clients".into(),
            });
        }
        return Ok(());
    };
    let presented = authorization.and_then(|h| {
        let (scheme, rest) = h.split_at(h.len().min(7));
        scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
    });
    match presented {
        Some(p) if token_matches(p, token.as_bytes()) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The middleware: refuses the request with 401/403 or passes it on.
pub async fn require(State(api): State<ApiState>, request: Request, next: Next) -> Response {
    let access = access_of(request.method(), request.uri().path());
    if access == Access::Open {
        return next.run(request).await;
    }
    let settings = api.state.settings();
    let token = if settings.http_auth_token.is_empty() {
        api.env_token.as_deref()
    } else {
        Some(settings.http_auth_token.as_str())
    };
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_none_or(|c| c.0.ip().is_loopback());
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    match decide(
        access,
        token,
        settings.http_auth_reads,
        authorization,
        peer_is_loopback,
        settings.protected_mode,
    ) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(access_of(&Method::GET, "/metrics"), Access::Open);
        assert_eq!(access_of(&Method::GET, "/docs/index.css"), Access::Open);
        assert_eq!(access_of(&Method::GET, "/v1/replication"), Access::Read);
        assert_eq!(access_of(&Method::PATCH, "/v1/config"), Access::Mutate);
        assert_eq!(access_of(&Method::POST, "/healthz"), Access::Open);
    }

    #[test]
    fn tokens() {
        let ok = |h: &str| {
            decide(
                Access::Mutate,
                Some("s3cret"),
                false,
                Some(h.as_bytes()),
                true,
                true,
            )
        };
        assert_eq!(ok("Bearer s3cret"), Ok(()));
        assert_eq!(ok("bearer s3cret"), Ok(()));
        assert_eq!(ok("Bearer s3cre"), Err(ApiError::Unauthorized));
        assert_eq!(ok("Bearer s3cretX"), Err(ApiError::Unauthorized));
        assert_eq!(ok("Basic s3cret"), Err(ApiError::Unauthorized));
        assert_eq!(ok("Bearer"), Err(ApiError::Unauthorized));
        assert_eq!(
            decide(Access::Mutate, Some("t"), false, None, true, true),
            Err(ApiError::Unauthorized)
        );
        // Reads are open unless asked otherwise.
        assert_eq!(
            decide(Access::Read, Some("t"), false, None, true, true),
            Ok(())
        );
        assert_eq!(
            decide(Access::Read, Some("t"), true, None, true, true),
            Err(ApiError::Unauthorized)
        );
    }

    #[test]
    fn protected_mode_without_a_token() {
        assert_eq!(
            decide(Access::Mutate, None, false, None, true, true),
            Ok(())
        );
        assert!(matches!(
            decide(Access::Mutate, None, false, None, false, true),
            Err(ApiError::Forbidden { .. })
        ));
        assert_eq!(
            decide(Access::Mutate, None, false, None, false, false),
            Ok(())
        );
        assert_eq!(decide(Access::Read, None, true, None, false, true), Ok(()));
    }

    #[test]
    fn comparison() {
        assert!(token_matches(b"abc", b"abc"));
        assert!(!token_matches(b"abd", b"abc"));
        assert!(!token_matches(b"", b"abc"));
    }
}
