//! Who may call the control plane, and from where.
//!
//! The control plane honours the same credentials as the data plane, so that a server
//! protected by `requirepass` is not wide open on its HTTP port:
//! - with `http-auth-token` (or `REPLIKV_HTTP_AUTH_TOKEN`, read once at start so a secret
//!   need not sit in a file CONFIG REWRITE persists), calls present
//!   `Authorization: Bearer <token>`;
//! - without a token but with `requirepass`, calls present the server's password, as a
//!   RESP client does with AUTH: `Authorization: Basic` with user `default`, or
//!   `Authorization: Bearer <password>`;
//! - with neither, changes are accepted from loopback callers only while `protected-mode`
//!   is on, the rule Redis applies to RESP clients without a password.
//!
//! Changes always need the credential; reads need it with `http-auth-reads yes`, and
//! `GET /v1/config` (which reveals the configuration) needs it whenever a password protects
//! the server. `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs` stay open for
//! probes, scrapers and people.
//!
//! Browsers are kept out of changes they did not mean: a request whose `Host` is neither an
//! IP literal, `localhost`, nor a name listed in `http-allowed-hosts` is refused (DNS
//! rebinding); a change carrying an `Origin` other than the server's own, or a
//! `Sec-Fetch-Site` other than same-origin/none, is refused (cross-site requests); a change
//! with a body must send it as `application/json`, which no HTML form can (CSRF). Failed
//! credentials are logged and, past `http-auth-max-failures` a minute from one address,
//! answered with 429 until the minute is over.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use subtle::ConstantTimeEq;

use super::error::{ApiError, Challenge};
use super::ApiState;
use crate::config::Settings;

/// Environment variable holding the token when `http-auth-token` is empty.
pub const TOKEN_ENV: &str = "REPLIKV_HTTP_AUTH_TOKEN";

/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (older windows are dropped first).
const MAX_TRACKED: usize = 4096;

/// Paths that never need a credential.
const OPEN_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Open,
    /// A read: needs the credential with `http-auth-reads yes`.
    Read,
    /// A read of the configuration: also needs it whenever a password protects the server.
    ConfigRead,
    /// A change.
    Mutate,
}

/// What callers must present, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `http-auth-token`: `Bearer <token>`.
    Token(&'a str),
    /// No token, and the default user needs a password (`requirepass`, or ACL rules): a
    /// user's credentials, `Basic <user>:<password>` or `Bearer <default user's password>`,
    /// of a user the ACL allows the operation's command (see [`acl_command`]).
    Users,
    /// Neither: changes only from loopback under protected mode.
    Nothing,
}

/// How a request was let in: a request extension handlers read (changing the token itself
/// needs the token; changing `dir` needs a local caller unless enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// What the caller proved.
    pub proved: Proved,
    /// The peer is on loopback.
    pub loopback: bool,
}

/// What a caller proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    /// The configured `http-auth-token`.
    Token,
    /// The server's password.
    Password,
    /// Nothing (an open path, or no credential configured).
    Nothing,
}

/// Classifies a request by path and method.
pub fn access_of(method: &Method, path: &str) -> Access {
    if OPEN_PATHS.contains(&path) || path == "/docs" || path.starts_with("/docs/") {
        return Access::Open;
    }
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        if path == "/v1/config" {
            Access::ConfigRead
        } else {
            Access::Read
        }
    } else {
        Access::Mutate
    }
}

/// The credential the configuration asks for (`env_token` is `REPLIKV_HTTP_AUTH_TOKEN`;
/// `default_open`: the default user is on and needs no password).
pub fn credential<'a>(
    settings: &'a Settings,
    env_token: Option<&'a str>,
    default_open: bool,
) -> Credential<'a> {
    if !settings.http_auth_token.is_empty() {
        Credential::Token(&settings.http_auth_token)
    } else if let Some(t) = env_token {
        Credential::Token(t)
    } else if !default_open {
        Credential::Users
    } else {
        Credential::Nothing
    }
}

/// The RESP command an access is judged as, for a caller proving an ACL user: reads need
/// what INFO needs, the configuration CONFIG GET, changes CONFIG SET. A user with
/// `+@admin` may do everything; one limited to reads sees state but changes nothing.
pub fn acl_command(access: Access) -> &'static [&'static str] {
    match access {
        Access::Open | Access::Read => &["INFO"],
        Access::ConfigRead => &["CONFIG", "GET", "*"],
        Access::Mutate => &["CONFIG", "SET", "x", "y"],
    }
}

/// Compares a presented secret with the configured one in time that depends only on the
/// configured secret's length, never on where the first difference is.
pub fn secret_matches(presented: &[u8], configured: &[u8]) -> bool {
    if presented.len() != configured.len() {
        // Still spend a comparison's time, so a length mismatch is not faster to detect
        // than a content mismatch.
        let _ = configured.ct_eq(configured);
        return false;
    }
    presented.ct_eq(configured).into()
}

/// The decision for one request: what the caller proved, or why it is refused.
/// What a caller's ACL credentials amount to (used with [`Credential::Users`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// They open no user (401).
    Unknown,
    /// The user's rules do not allow this access (403).
    NotAllowed,
    /// Let in.
    Allowed,
}

/// `verify(user, password)` judges a caller's ACL credentials.
pub fn decide(
    access: Access,
    credential: Credential<'_>,
    auth_reads: bool,
    authorization: Option<&[u8]>,
    peer_is_loopback: bool,
    protected_mode: bool,
    verify: &dyn Fn(&[u8], &[u8]) -> Verdict,
) -> Result<Proved, ApiError> {
    let needs = match access {
        Access::Open => false,
        Access::Read => auth_reads,
        Access::ConfigRead => auth_reads || matches!(credential, Credential::Users),
        Access::Mutate => true,
    };
    if !needs {
        return Ok(Proved::Nothing);
    }
    match credential {
        Credential::Nothing => {
            if access == Access::Mutate && protected_mode && !peer_is_loopback {
                return Err(ApiError::Forbidden {
                    detail: "protected mode: with no http-auth-token and no requirepass, changes are only accepted from loopback clients".into(),
                });
            }
            Ok(Proved::Nothing)
        }
        Credential::Token(token) => match bearer(authorization) {
            Some(p) if secret_matches(p, token.as_bytes()) => Ok(Proved::Token),
            _ => Err(ApiError::Unauthorized(Challenge::Bearer)),
        },
        Credential::Users => {
            let presented = bearer(authorization)
                .map(|p| (b"default".to_vec(), p.to_vec()))
                .or_else(|| basic_user_password(authorization));
            let verdict = presented.map_or(Verdict::Unknown, |(user, password)| {
                verify(&user, &password)
            });
            match verdict {
                Verdict::Allowed => Ok(Proved::Password),
                Verdict::NotAllowed => Err(ApiError::Forbidden {
                    detail: "this user's ACL rules do not allow this operation".into(),
                }),
                Verdict::Unknown => Err(ApiError::Unauthorized(Challenge::Password)),
            }
        }
    }
}

/// The credentials of `Authorization: Bearer <x>` (scheme case-insensitive, RFC 9110).
fn bearer(authorization: Option<&[u8]>) -> Option<&[u8]> {
    let h = authorization?;
    let (scheme, rest) = h.split_at(h.len().min(7));
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
}

/// The user and password of `Authorization: Basic base64(<user>:<password>)`.
fn basic_user_password(authorization: Option<&[u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
    let h = authorization?;
    let (scheme, rest) = h.split_at(h.len().min(6));
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let decoded = base64_decode(rest.trim_ascii())?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// Standard base64 (RFC 4648, with padding), as HTTP Basic uses; `None` when malformed.
fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, quad) in text.chunks(4).enumerate() {
        let last = i == text.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// True when the `Host` header names this server in a way no other site can: an IP
/// literal, `localhost`, or a name the operator listed in `http-allowed-hosts`. A DNS
/// rebinding attack reaches a loopback port under the attacker's own host name, which this
/// refuses.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Why a change coming from a browser context is refused, if it is: an `Origin` other than
/// the server's own (`http(s)://<Host>`), or a `Sec-Fetch-Site` saying another site sent it.
pub fn cross_site(headers: &HeaderMap) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Some(format!(
                "cross-site request refused (Sec-Fetch-Site: {site})"
            ));
        }
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match authority {
        Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("cross-origin request refused (Origin: {origin})")),
    }
}

/// True when the content type is not `application/json` (an HTML form or a `text/plain`
/// fetch, which browsers send cross-site without asking).
fn not_json(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    !essence.eq_ignore_ascii_case("application/json")
}

/// Failed credential attempts per address, in fixed one-minute windows.
#[derive(Debug, Default)]
pub struct FailedAttempts {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedAttempts {
    /// Seconds until `ip` may try again, when it used up its `max` failures (0 = no limit).
    pub fn blocked_for(&self, ip: IpAddr, now: Instant, max: u32) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let windows = self.windows.lock();
        let (start, count) = windows.get(&ip)?;
        let elapsed = now.duration_since(*start);
        (elapsed < FAILURE_WINDOW && *count >= max)
            .then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    /// Counts a failure from `ip`; returns the failures in its current window.
    pub fn record(&self, ip: IpAddr, now: Instant) -> u32 {
        let mut windows = self.windows.lock();
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&ip) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < FAILURE_WINDOW);
            if windows.len() >= MAX_TRACKED {
                if let Some(oldest) = windows.iter().min_by_key(|(_, (s, _))| *s).map(|(k, _)| *k) {
                    windows.remove(&oldest);
                }
            }
        }
        let entry = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1
    }
}

/// The middleware: refuses the request (problem+json) or passes it on with a [`Caller`].
pub async fn require(State(api): State<ApiState>, mut request: Request, next: Next) -> Response {
    let settings = api.state.settings();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let loopback = peer.is_none_or(|ip| ip.is_loopback());
    let headers = request.headers();
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        if !host_allowed(host, &settings.http_allowed_hosts) {
            return ApiError::Forbidden {
                detail: format!(
                    "Host '{host}' is not this server's; add it to http-allowed-hosts to allow it"
                ),
            }
            .into_response();
        }
    }
    let access = access_of(request.method(), request.uri().path());
    if access == Access::Mutate {
        if let Some(detail) = cross_site(headers) {
            return ApiError::Forbidden { detail }.into_response();
        }
        // A change with a body must send JSON. The body is read here (the body-limit layer
        // outside bounds it) so that an empty one, however framed, is told apart.
        let not_json = not_json(headers);
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, super::BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                return ApiError::BadRequest {
                    detail: "the body could not be read (too large, or cut short)".into(),
                    field: None,
                }
                .into_response()
            }
        };
        if !bytes.is_empty() && not_json {
            return ApiError::UnsupportedMediaType.into_response();
        }
        request = Request::from_parts(parts, axum::body::Body::from(bytes));
    }
    let headers = request.headers();
    let now = Instant::now();
    if let Some(ip) = peer {
        if let Some(retry_after) =
            api.failed_auth
                .blocked_for(ip, now, settings.http_auth_max_failures)
        {
            if access != Access::Open {
                return ApiError::TooManyRequests { retry_after }.into_response();
            }
        }
    }
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let default_open = api.state.engine.default_user().is_open();
    let credential = credential(&settings, api.env_token.as_deref(), default_open);
    let decision = {
        // ACL credentials are judged under the engine lock, taken without parking the
        // control plane's thread for long (it serves /healthz meanwhile).
        let judges_users = access != Access::Open
            && matches!(credential, Credential::Users)
            && authorization.is_some();
        let engine = match judges_users {
            true => Some(api.state.engine.lock_async().await),
            false => None,
        };
        let verify = |user: &[u8], password: &[u8]| match engine.as_deref() {
            None => Verdict::Unknown,
            Some(engine) if !engine.acl.credentials_ok(user, password) => Verdict::Unknown,
            Some(engine)
                if crate::command::permissions::user_may(
                    &crate::command::table::TABLE,
                    engine,
                    user,
                    acl_command(access),
                ) =>
            {
                Verdict::Allowed
            }
            Some(_) => Verdict::NotAllowed,
        };
        decide(
            access,
            credential,
            settings.http_auth_reads,
            authorization,
            loopback,
            settings.protected_mode,
            &verify,
        )
    };
    match decision {
        Ok(proved) => {
            request.extensions_mut().insert(Caller { proved, loopback });
            next.run(request).await
        }
        Err(e) => {
            if let (ApiError::Unauthorized(_), Some(ip)) = (&e, peer) {
                let failures = api.failed_auth.record(ip, now);
                let max = settings.http_auth_max_failures;
                if max == 0 || failures <= max {
                    tracing::warn!(
                        peer = %ip,
                        failures,
                        path = %request.uri().path(),
                        "control plane: authentication failed"
                    );
                }
                if failures == max {
                    tracing::warn!(peer = %ip, "control plane: too many failed authentications; refusing this address for a minute");
                }
            }
            e.into_response()
        }
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
        assert_eq!(access_of(&Method::GET, "/v1/config"), Access::ConfigRead);
        assert_eq!(access_of(&Method::PATCH, "/v1/config"), Access::Mutate);
        assert_eq!(access_of(&Method::POST, "/healthz"), Access::Open);
    }

    fn basic(user_pass: &str) -> String {
        // A tiny encoder for the tests only.
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = user_pass.as_bytes();
        let mut out = String::from("Basic ");
        for chunk in b.chunks(3) {
            let n = (chunk[0] as u32) << 16
                | (*chunk.get(1).unwrap_or(&0) as u32) << 8
                | *chunk.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn tokens() {
        let token = Credential::Token("s3cret");
        let never = |_: &[u8], _: &[u8]| Verdict::Unknown;
        let ok = |h: &str| {
            decide(
                Access::Mutate,
                token,
                false,
                Some(h.as_bytes()),
                true,
                true,
                &never,
            )
        };
        assert_eq!(ok("Bearer s3cret"), Ok(Proved::Token));
        assert_eq!(ok("bearer s3cret"), Ok(Proved::Token));
        let refused = Err(ApiError::Unauthorized(Challenge::Bearer));
        assert_eq!(ok("Bearer s3cre"), refused);
        assert_eq!(ok("Bearer s3cretX"), refused);
        assert_eq!(ok("Basic s3cret"), refused);
        assert_eq!(ok("Bearer"), refused);
        assert_eq!(
            decide(Access::Mutate, token, false, None, true, true, &never),
            refused
        );
        // Reads are open unless asked otherwise, the configuration included.
        assert_eq!(
            decide(Access::Read, token, false, None, true, true, &never),
            Ok(Proved::Nothing)
        );
        assert_eq!(
            decide(Access::ConfigRead, token, false, None, true, true, &never),
            Ok(Proved::Nothing)
        );
        assert_eq!(
            decide(Access::Read, token, true, None, true, true, &never),
            refused
        );
    }

    #[test]
    fn the_server_password_protects_changes_and_the_configuration() {
        let pw = Credential::Users;
        // The server knows one user: default, password hunter2.
        // The server knows two users: default (hunter2) and viewer (v), who may only read.
        let verify = |u: &[u8], p: &[u8]| match (u, p) {
            (b"default", b"hunter2") => Verdict::Allowed,
            (b"viewer", b"v") => Verdict::NotAllowed,
            _ => Verdict::Unknown,
        };
        let with = |access, h: Option<&str>| {
            decide(access, pw, false, h.map(str::as_bytes), true, true, &verify)
        };
        let refused = Err(ApiError::Unauthorized(Challenge::Password));
        // Even from loopback: the password is what protects the server.
        assert_eq!(with(Access::Mutate, None), refused);
        assert_eq!(with(Access::ConfigRead, None), refused);
        assert_eq!(with(Access::Read, None), Ok(Proved::Nothing));
        assert_eq!(
            with(Access::Mutate, Some(&basic("default:hunter2"))),
            Ok(Proved::Password)
        );
        assert_eq!(
            with(Access::Mutate, Some("Bearer hunter2")),
            Ok(Proved::Password)
        );
        assert_eq!(
            with(Access::ConfigRead, Some(&basic("default:hunter2"))),
            Ok(Proved::Password)
        );
        assert_eq!(
            with(Access::Mutate, Some(&basic("default:hunter3"))),
            refused
        );
        assert_eq!(with(Access::Mutate, Some(&basic("admin:hunter2"))), refused);
        assert!(matches!(
            with(Access::Mutate, Some(&basic("viewer:v"))),
            Err(ApiError::Forbidden { .. })
        ));
        assert_eq!(with(Access::Mutate, Some("Basic !!!!")), refused);
    }

    #[test]
    fn protected_mode_without_credentials() {
        let none = Credential::Nothing;
        let never = |_: &[u8], _: &[u8]| Verdict::Unknown;
        assert_eq!(
            decide(Access::Mutate, none, false, None, true, true, &never),
            Ok(Proved::Nothing)
        );
        assert!(matches!(
            decide(Access::Mutate, none, false, None, false, true, &never),
            Err(ApiError::Forbidden { .. })
        ));
        assert_eq!(
            decide(Access::Mutate, none, false, None, false, false, &never),
            Ok(Proved::Nothing)
        );
        assert_eq!(
            decide(Access::Read, none, true, None, false, true, &never),
            Ok(Proved::Nothing)
        );
    }

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode(b"ZGVmYXVsdDpwdw==").as_deref(),
            Some(&b"default:pw"[..])
        );
        assert_eq!(base64_decode(b"YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode(b"YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode(b"").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode(b"YW=j"), None);
        assert_eq!(base64_decode(b"YWJ"), None);
        assert_eq!(base64_decode(b"Y===").as_deref(), None);
        assert_eq!(basic("default:pw"), "Basic ZGVmYXVsdDpwdw==");
    }

    #[test]
    fn hosts() {
        let none: Vec<String> = Vec::new();
        for ok in [
            "127.0.0.1:9379",
            "127.0.0.1",
            "localhost:9379",
            "LOCALHOST",
            "[::1]:9379",
            "10.1.2.3:80",
        ] {
            assert!(host_allowed(ok, &none), "{ok}");
        }
        for bad in [
            "evil.example:9379",
            "evil.example",
            "127.0.0.1.evil.example",
            "[evil]:1",
        ] {
            assert!(!host_allowed(bad, &none), "{bad}");
        }
        assert!(host_allowed(
            "ops.internal:9379",
            &["ops.internal".to_string()]
        ));
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:9379".parse().unwrap());
        assert_eq!(cross_site(&h), None, "curl sends no Origin");
        h.insert(header::ORIGIN, "http://127.0.0.1:9379".parse().unwrap());
        assert_eq!(cross_site(&h), None, "the /docs page on the same origin");
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(cross_site(&h).is_some());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h).is_some());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(cross_site(&h).is_some());
    }

    #[test]
    fn failures_are_counted_per_address_and_window() {
        let f = FailedAttempts::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for i in 1..=10 {
            assert_eq!(f.blocked_for(ip, t0, 10), None);
            assert_eq!(f.record(ip, t0), i);
        }
        assert!(f.blocked_for(ip, t0, 10).is_some());
        assert_eq!(f.blocked_for(ip, t0, 0), None, "0 = no limit");
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(f.blocked_for(other, t0, 10), None);
        assert_eq!(f.blocked_for(ip, t0 + FAILURE_WINDOW, 10), None);
        assert_eq!(f.record(ip, t0 + FAILURE_WINDOW), 1);
    }
}
