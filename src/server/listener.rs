//! The accept loops: binds the `bind` addresses (and `unixsocket`), enforces `maxclients`,
//! and starts one task per connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream, UnixListener};

use crate::engine::{ClientInfo, State};
use crate::replication::{LinkRead, LinkWrite};

/// Binds every `bind` address on `port` (0 = one ephemeral port shared by all). Addresses
/// prefixed with `-` may fail (as in redis.conf, `-::1` when IPv6 is off).
pub async fn bind_all(
    binds: &[String],
    port: u16,
    backlog: u32,
) -> std::io::Result<(Vec<TcpListener>, u16)> {
    let mut listeners = Vec::new();
    let mut port = port;
    for raw in binds {
        let (optional, addr) = match raw.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, raw.as_str()),
        };
        let host = match addr {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        let sock_addr: SocketAddr = match format!("{host}:{port}")
            .parse()
            .or_else(|_| format!("[{host}]:{port}").parse())
        {
            Ok(a) => a,
            Err(_) if optional => continue,
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("bad bind address {raw}: {e}"),
                ))
            }
        };
        match bind_one(sock_addr, backlog) {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr()?.port();
                }
                listeners.push(l);
            }
            Err(e) if optional => {
                tracing::debug!(address = %raw, error = %e, "optional bind address skipped")
            }
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("could not bind {sock_addr}: {e}"),
                ))
            }
        }
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no bind address could be used",
        ));
    }
    Ok((listeners, port))
}

fn bind_one(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(1))
}

/// Accepts clients on `listener` until shutdown.
pub async fn accept_loop(state: Arc<State>, listener: TcpListener) {
    let mut shutdown = state.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(settings) = admit(&state) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        configure(&stream, settings.tcp_keepalive);
        let local = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let (rd, wr) = stream.into_split();
        start_client(
            &state,
            Box::new(rd),
            Box::new(wr),
            peer.to_string(),
            local,
            peer.ip().is_loopback(),
        );
    }
}

/// Binds the `unixsocket` path (replacing a stale socket file) with `unixsocketperm`.
pub fn bind_unix(path: &str, perm: u32) -> std::io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("Failed opening Unix socket: {e} ({path})"),
        )
    })?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    Ok(listener)
}

/// Accepts clients on the Unix-domain socket until shutdown (they count as local, as in
/// Redis), then removes the socket file.
pub async fn accept_unix_loop(state: Arc<State>, listener: UnixListener, path: String) {
    let mut shutdown = state.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed on the Unix socket");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if admit(&state).is_none() {
            tokio::spawn(refuse(stream));
            continue;
        }
        let (rd, wr) = stream.into_split();
        // Redis shows Unix-socket clients as `addr=<path>:0`.
        start_client(
            &state,
            Box::new(rd),
            Box::new(wr),
            format!("{path}:0"),
            format!("{path}:0"),
            true,
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Counts a new connection; `None` (and a rejected connection counted) when `maxclients`
/// is reached.
fn admit(state: &State) -> Option<Arc<crate::config::Settings>> {
    state
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let settings = state.settings();
    if state.clients.count() as u64 >= settings.maxclients {
        state
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        return None;
    }
    Some(settings)
}

/// Registers a client and serves it on its own task.
fn start_client(
    state: &Arc<State>,
    rd: LinkRead,
    wr: LinkWrite,
    peer: String,
    local: String,
    is_local: bool,
) {
    let info = Arc::new(ClientInfo::new(state.clients.next_id(), peer, local));
    state.clients.register(info.clone());
    let state = state.clone();
    tokio::spawn(async move {
        super::connection::serve(state.clone(), rd, wr, is_local, info.clone()).await;
        state.clients.unregister(info.id);
    });
}

/// Applies TCP_NODELAY and keepalive, as Redis does for clients.
fn configure(stream: &TcpStream, keepalive_secs: u64) {
    let _ = stream.set_nodelay(true);
    if keepalive_secs > 0 {
        let sock = socket2::SockRef::from(stream);
        let ka = socket2::TcpKeepalive::new()
            .with_time(std::time::Duration::from_secs(keepalive_secs))
            .with_interval(std::time::Duration::from_secs((keepalive_secs / 3).max(1)));
        let _ = sock.set_tcp_keepalive(&ka);
    }
}

async fn refuse(mut stream: impl tokio::io::AsyncWrite + Unpin) {
    let _ = stream
        .write_all(b"-ERR max number of clients reached\r\n")
        .await;
}
