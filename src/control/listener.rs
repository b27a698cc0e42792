//! The control plane's HTTP server. axum's own `serve` has no header-read timeout and no
//! connection cap, so a local process holding idle connections could use up the server's
//! descriptors (and with them the RESP clients'). Here hyper's HTTP/1 serves each
//! connection with a header-read timeout (a connection that sends no request head, or
//! sends one too slowly, including an idle keep-alive, is closed), at most
//! [`HTTP_MAX_CONNECTIONS`] are served at once (more wait in the accept queue, counted in
//! the descriptors reserved beside `maxclients`), and shutdown ends them gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::config::fdlimit::HTTP_MAX_CONNECTIONS;

/// How long a connection may take to send a request head (or sit idle between requests).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a new connection learns whether to speak HTTPS: the acceptor of the moment
/// (`http-tls-*` may change at run time), or none for plain HTTP.
pub type TlsSource = Arc<dyn Fn() -> Option<tokio_rustls::TlsAcceptor> + Send + Sync>;

/// Serves `app` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: Arc<TcpListener>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    tls: TlsSource,
) {
    let slots = Arc::new(Semaphore::new(HTTP_MAX_CONNECTIONS as usize));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut last_accept_warning: Option<tokio::time::Instant> = None;
    loop {
        // A free slot first: past the cap, connections wait in the kernel's accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, most likely: say so once a second, not per attempt.
                    if last_accept_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(error = %e, "HTTP control plane: accept failed");
                        last_accept_warning = Some(tokio::time::Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        };
        let app = app.clone();
        let closing = closing_rx.clone();
        match tls() {
            None => {
                tokio::spawn(serve_connection(stream, peer, app, closing, slot));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    // The handshake counts against the same time limit as a request head.
                    match tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => serve_connection(tls, peer, app, closing, slot).await,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "HTTPS handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "HTTPS handshake timed out"),
                    }
                });
            }
        }
    }
    let _ = closing_tx.send(true);
}

async fn serve_connection(
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    peer: SocketAddr,
    app: Router,
    mut closing: watch::Receiver<bool>,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // What axum's `into_make_service_with_connect_info` would add: the peer address.
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request.map(Body::new))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        }
        _ = async { let _ = closing.wait_for(|c| *c).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
