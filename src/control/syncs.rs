//! The sync history (`GET /v1/replication/syncs`) and the live event stream
//! (`GET /v1/events`, Server-Sent Events).
//!
//! The stream opens with one `status` event carrying the whole replication state, taken
//! after subscribing, so a dashboard starts from a state and applies every later event to
//! it without a gap. A subscriber too slow to keep up gets a `lagged` event saying how many
//! events it missed (replication never waits for it), and the stream ends when the server
//! shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::error::{ApiError, Problem};
use super::extract::ApiQuery;
use super::model::{
    ReplicationEvent, ReplicationState, SideName, SseMessage, SyncList, SyncQuery, SyncSession,
};
use super::ApiState;
use crate::replication::history::unix_ms;
use crate::replication::Side;

/// Largest `limit` (the largest `sync-history-size`).
const MAX_LIMIT: u32 = 100_000;

/// Recent sync sessions.
#[utoipa::path(
    get,
    path = "/v1/replication/syncs",
    tag = "replication",
    operation_id = "list_syncs",
    security((), ("bearer_token" = [])),
    params(SyncQuery),
    responses(
        (status = 200, description = "Sync sessions on either side, newest first (the server keeps `sync-history-size` of them).", body = SyncList),
        (status = 400, description = "A query parameter does not parse.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is out of range (`field` names it).", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_syncs(
    State(api): State<ApiState>,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> Result<Json<SyncList>, ApiError> {
    if query.limit.is_some_and(|l| !(1..=MAX_LIMIT).contains(&l)) {
        return Err(ApiError::Invalid {
            field: "limit".into(),
            detail: format!("limit must be between 1 and {MAX_LIMIT}"),
        });
    }
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let syncs = api
        .repl
        .history()
        .iter()
        .rev()
        .filter(|r| match query.side {
            None => true,
            Some(SideName::Master) => r.side == Side::Master,
            Some(SideName::Replica) => r.side == Side::Replica,
        })
        .take(limit)
        .map(SyncSession::from)
        .collect();
    Ok(Json(SyncList { syncs }))
}

/// Live replication events.
///
/// A `text/event-stream` that never ends by itself. Each message's `event:` is the event's
/// type and its `data:` one `ReplicationEvent`: first a `status` event carrying the whole
/// replication state in `state`, then events as they happen (`link_up`, `link_down`,
/// `sync_started`, `phase_changed`, `sync_kind_decided`, `sync_finished`, `role_changed`,
/// `failover_step`, and `lagged` when this stream fell behind and missed some).
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "replication",
    operation_id = "stream_events",
    security((), ("bearer_token" = [])),
    responses(
        (status = 200, description = "Server-Sent Events: a `status` event, then replication events as they happen.", body = SseMessage, content_type = "text/event-stream"),
        (status = 401, description = "`http-auth-reads yes` and no valid token.", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn stream_events(
    State(api): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Subscribe first, then read the state: an event raised in between shows up both in
    // the state and as an event, never in neither.
    let rx = api.repl.subscribe();
    let first = ReplicationEvent::status(
        ReplicationState::from(&api.repl.view().await.status),
        unix_ms(),
    );
    let first = stream::once(async move { Ok(json_event(&first.kind, &first)) });
    let repl = api.repl.clone();
    let events = BroadcastStream::new(rx).map(move |item| {
        let now = unix_ms();
        let mut e = match item {
            Ok(event) => ReplicationEvent::of(&event, now),
            Err(BroadcastStreamRecvError::Lagged(missed)) => ReplicationEvent::lagged(missed, now),
        };
        e.trace_id = e.sync_id.and_then(|id| repl.trace_id(id));
        Ok(json_event(&e.kind, &e))
    });
    let mut shutdown = api.state.shutdown.subscribe();
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    Sse::new(first.chain(events).take_until(stop))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One SSE message with a JSON body.
fn json_event<T: serde::Serialize>(kind: &str, body: &T) -> SseEvent {
    let data = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    SseEvent::default().event(kind).data(data)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::Request;
    use futures_util::StreamExt;
    use tower::Service;

    use crate::config::Settings;
    use crate::engine::State;
    use crate::replication::{Event, Phase};

    /// Reads body chunks until one contains `needle`; returns everything read.
    async fn read_until(
        body: &mut (impl futures_util::Stream<Item = Result<bytes::Bytes, axum::Error>> + Unpin),
        needle: &str,
    ) -> String {
        let mut text = String::new();
        while !text.contains(needle) {
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .unwrap_or_else(|_| panic!("no {needle} within 5 s; got {text}"))
                .expect("stream ended")
                .expect("chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    }

    #[tokio::test]
    async fn events_reach_subscribers_in_order_after_the_status() {
        let state = State::new(
            Settings::defaults(),
            None,
            crate::command::run_command,
            crate::command::describe_command,
        );
        let mut app = super::super::app(super::super::Control::new(state.clone()));
        let request = Request::get("/v1/events").body(Body::empty()).unwrap();
        let response = app.call(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body().into_data_stream();
        let first = read_until(&mut body, "\n\n").await;
        assert!(
            first.starts_with("event: status\ndata: {\"type\":\"status\""),
            "{first}"
        );

        state.repl.events.publish(Event::SyncStarted {
            sync_id: 9,
            side: crate::replication::Side::Replica,
            peer: "127.0.0.1:6379".into(),
        });
        state.repl.events.publish(Event::PhaseChanged {
            sync_id: 9,
            phase: Phase::Receive,
        });
        let text = read_until(&mut body, "\"phase\":\"receive\"").await;
        let started = text.find("event: sync_started").expect(&text);
        let phase = text.find("event: phase_changed").expect(&text);
        assert!(started < phase, "{text}");
        assert!(text.contains("\"phase\":\"receive\""), "{text}");
        assert!(text.contains("\"peer\":\"127.0.0.1:6379\""), "{text}");

        // Shutdown ends the stream.
        state.request_shutdown();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(chunk) = body.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(end.is_ok(), "the stream did not end at shutdown");
    }
}
