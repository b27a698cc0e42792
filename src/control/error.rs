//! The control plane's one error type: every refusal is an RFC 9457 problem document
//! (`application/problem+json`) whose `type` URI names the kind of error and never changes,
//! so scripts branch on `type`, not on the human-readable `detail`.
//!
//! Bad input is always a 4xx with the offending field named; a 5xx only ever means a bug,
//! whose cause is logged, never sent to the caller.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "type": "urn:replikv:problem:unknown-replica",
    "title": "Unknown replica",
    "status": 404,
    "detail": "no replica with id 7 is connected"
}))]
pub struct Problem {
    /// Stable identifier of the error kind (`urn:replikv:problem:<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The request field (body property, path or query parameter) that was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The credential a 401 asks for (its `WWW-Authenticate` challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// `http-auth-token`, as a bearer token.
    Bearer,
    /// The server's `requirepass`, as HTTP Basic (user `default`) or a bearer token.
    Password,
}

/// Everything a control-plane call can refuse with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad path or query syntax).
    BadRequest {
        /// What was wrong.
        detail: String,
        /// The field, when known.
        field: Option<String>,
    },
    /// 401: a credential is required and was missing or wrong.
    Unauthorized(Challenge),
    /// 403: the call is not allowed from here (protected mode without a token).
    Forbidden {
        /// Why.
        detail: String,
    },
    /// 404: no such route.
    NotFound,
    /// 404: no replica has this id.
    UnknownReplica {
        /// The id asked for.
        id: u64,
    },
    /// 409: the current role or state forbids the action.
    Conflict {
        /// Why.
        detail: String,
    },
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the request reads fine but a value is refused.
    Invalid {
        /// The field.
        field: String,
        /// Why.
        detail: String,
    },
    /// 429: too many failed credentials from this address; retry after that many seconds.
    TooManyRequests {
        /// Seconds until the address may try again.
        retry_after: u64,
    },
    /// 500: a bug; the cause was logged.
    Internal,
}

impl ApiError {
    /// The error's status code.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::UnknownReplica { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable kind (last part of the `type` URI) and its title.
    pub fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "Malformed request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::TooManyRequests { .. } => {
                ("too-many-failures", "Too many failed authentications")
            }
            ApiError::Forbidden { .. } => ("forbidden", "Not allowed"),
            ApiError::NotFound => ("not-found", "No such resource"),
            ApiError::UnknownReplica { .. } => ("unknown-replica", "Unknown replica"),
            ApiError::Conflict { .. } => ("conflict", "Not allowed in the current state"),
            ApiError::UnsupportedMediaType => {
                ("unsupported-media-type", "Body must be application/json")
            }
            ApiError::Invalid { .. } => ("invalid-field", "Invalid value"),
            ApiError::Internal => ("internal", "Internal error"),
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind();
        let (detail, field) = match self {
            ApiError::BadRequest { detail, field } => (detail.clone(), field.clone()),
            ApiError::Unauthorized(Challenge::Bearer) => (
                "this call needs `Authorization: Bearer <token>` with the configured http-auth-token".into(),
                None,
            ),
            ApiError::Unauthorized(Challenge::Password) => (
                "the server has a password (requirepass) and no http-auth-token: this call needs it, as `Authorization: Basic` with user `default` or `Authorization: Bearer <password>`".into(),
                None,
            ),
            ApiError::TooManyRequests { retry_after } => (
                format!("too many failed authentications from this address; retry in {retry_after} s"),
                None,
            ),
            ApiError::Forbidden { detail }
            | ApiError::Conflict { detail } => (detail.clone(), None),
            ApiError::NotFound => ("no such resource".into(), None),
            ApiError::UnknownReplica { id } => (format!("no replica with id {id} is connected"), None),
            ApiError::UnsupportedMediaType => {
                ("send the body with `Content-Type: application/json`".into(), None)
            }
            ApiError::Invalid { field, detail } => (detail.clone(), Some(field.clone())),
            ApiError::Internal => ("internal error; the server log has the cause".into(), None),
        };
        Problem {
            kind: format!("urn:replikv:problem:{kind}"),
            title: title.into(),
            status: self.status().as_u16(),
            detail,
            field,
        }
    }

    /// A 400 for an unreadable body, path or query, naming the field when serde did.
    fn unreadable(what: &str, text: String) -> ApiError {
        ApiError::BadRequest {
            field: field_of(&text),
            detail: format!("{what}: {text}"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Unauthorized(Challenge::Bearer) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unauthorized(Challenge::Password) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"replikv\", charset=\"UTF-8\""),
                );
            }
            ApiError::TooManyRequests { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            _ => {}
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonDataError(e) => {
                let text = strip_prefix(&e.body_text());
                match field_of(&text) {
                    Some(field) => ApiError::Invalid {
                        field,
                        detail: text,
                    },
                    None => ApiError::unreadable("invalid body", text),
                }
            }
            other => ApiError::unreadable("unreadable body", strip_prefix(&other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::unreadable("invalid query", strip_prefix(&rejection.body_text()))
    }
}

impl ApiError {
    /// A 400 for a path parameter that does not parse, naming the parameter (never its
    /// value): the key serde reports, else the route's only parameter.
    pub fn from_path(rejection: PathRejection, names: &[String]) -> ApiError {
        use axum::extract::path::ErrorKind;
        let detail = format!("invalid path: {}", strip_prefix(&rejection.body_text()));
        let field = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::ParseErrorAtKey { key, .. } => Some(key.clone()),
                _ if names.len() == 1 => Some(names[0].clone()),
                _ => None,
            },
            _ => None,
        };
        ApiError::BadRequest { field, detail }
    }
}

/// Drops axum's "Failed to deserialize ...: " lead-in, keeping serde's own message.
fn strip_prefix(text: &str) -> String {
    match text.split_once(": ") {
        Some((lead, rest)) if lead.starts_with("Failed to") => rest.to_string(),
        _ => text.to_string(),
    }
}

/// The field serde's message is about: `port: invalid type...` (a path from
/// serde_path_to_error), ``missing field `host` ``, or a path/query parameter name.
fn field_of(text: &str) -> Option<String> {
    if let Some(rest) = text.split("missing field `").nth(1) {
        return rest.split('`').next().map(str::to_string);
    }
    if let Some(rest) = text.split("unknown field `").nth(1) {
        return rest.split('`').next().map(str::to_string);
    }
    if let Some(rest) = text.split("Cannot parse `").nth(1) {
        return rest.split('`').next().map(str::to_string);
    }
    let (path, _) = text.split_once(": ")?;
    let plausible = !path.is_empty()
        && path != "."
        && path.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '[' || c == ']'
        });
    plausible.then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_stable_type_and_matching_status() {
        let all = [
            ApiError::BadRequest {
                detail: "x".into(),
                field: None,
            },
            ApiError::Unauthorized(Challenge::Bearer),
            ApiError::TooManyRequests { retry_after: 3 },
            ApiError::Forbidden { detail: "x".into() },
            ApiError::NotFound,
            ApiError::UnknownReplica { id: 3 },
            ApiError::Conflict { detail: "x".into() },
            ApiError::UnsupportedMediaType,
            ApiError::Invalid {
                field: "port".into(),
                detail: "x".into(),
            },
            ApiError::Internal,
        ];
        let mut kinds = std::collections::HashSet::new();
        for e in &all {
            let p = e.problem();
            assert!(p.kind.starts_with("urn:replikv:problem:"), "{p:?}");
            assert_eq!(p.status, e.status().as_u16());
            assert!(kinds.insert(p.kind.clone()), "duplicate type {}", p.kind);
        }
        assert_eq!(
            ApiError::Invalid {
                field: "port".into(),
                detail: "x".into()
            }
            .problem()
            .field
            .as_deref(),
            Some("port")
        );
    }

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_of("port: invalid type: string \"x\", expected u16 at line 1 column 9"),
            Some("port".into())
        );
        assert_eq!(
            field_of("missing field `host` at line 1 column 2"),
            Some("host".into())
        );
        assert_eq!(field_of("expected value at line 1 column 1"), None);
        assert_eq!(
            field_of("target.host: invalid type: integer `1`"),
            Some("target.host".into())
        );
    }
}
