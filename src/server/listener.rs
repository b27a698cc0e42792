//! The accept loops: binds the `bind` addresses (and `unixsocket`), enforces `maxclients`,
//! and starts one task per connection.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream, UnixListener};

use crate::command::error;
use crate::engine::{ClientInfo, State};
use crate::replication::{LinkRead, LinkWrite};

/// A `bind` entry: the socket address it names on `port`, and whether it may fail (a
/// leading `-`, as in redis.conf: `-::1` when IPv6 is off). `*` and `::*` are every IPv4
/// and every IPv6 address.
pub fn bind_address(raw: &str, port: u16) -> (Result<SocketAddr, std::io::Error>, bool) {
    let (optional, addr) = match raw.strip_prefix('-') {
        Some(a) => (true, a),
        None => (false, raw),
    };
    let host = match addr {
        "*" => "0.0.0.0",
        "::*" => "::",
        other => other,
    };
    let parsed = format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad bind address {raw}: {e}"),
            )
        });
    (parsed, optional)
}

/// Binds every `bind` address on `port` (0 = one ephemeral port shared by all). Addresses
/// prefixed with `-` may fail; an empty `bind` listens on no TCP address (Unix socket only,
/// as Redis allows).
pub async fn bind_all(
    binds: &[String],
    port: u16,
    backlog: u32,
) -> std::io::Result<(Vec<TcpListener>, u16)> {
    let mut listeners = Vec::new();
    let mut port = port;
    for raw in binds {
        let sock_addr = match bind_address(raw, port) {
            (Ok(a), _) => a,
            (Err(_), true) => continue,
            (Err(e), false) => return Err(e),
        };
        match bind_one(sock_addr, backlog) {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr()?.port();
                }
                listeners.push(l);
            }
            Err(e) if raw.starts_with('-') => {
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
    if listeners.is_empty() && !binds.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no bind address could be used",
        ));
    }
    Ok((listeners, port))
}

/// Listens on `addr` (SO_REUSEADDR, as Redis).
pub fn bind_one(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(1))
}

/// What a listener speaks: plain RESP (`port`) or RESP over TLS (`tls-port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP.
    Plain,
    /// TLS, with the server's current TLS context.
    Tls,
}

/// Accepts clients on `listener` until shutdown (or until the task is aborted: CONFIG SET
/// bind/port closes listeners it no longer wants).
pub async fn accept_loop(state: Arc<State>, listener: Arc<TcpListener>, transport: Transport) {
    let mut shutdown = state.shutdown.subscribe();
    let mut failures = AcceptFailures::default();
    loop {
        // Shutdown first: it also shuts the listener, whose accept then fails.
        let accepted = tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                failures.failed(&e, "").await;
                continue;
            }
        };
        let is_local = peer.ip().to_canonical().is_loopback();
        let admitted = admit(&state, is_local);
        if let Ok(settings) = &admitted {
            configure(&stream, settings.tcp_keepalive);
        }
        let local = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        match transport {
            Transport::Plain => match admitted {
                Ok(_) => {
                    let fd = stream.as_raw_fd();
                    let (rd, wr) = stream.into_split();
                    start_client(
                        &state,
                        (Box::new(rd), Box::new(wr), fd),
                        peer.to_string(),
                        local,
                        is_local,
                    );
                }
                Err(text) => {
                    tokio::spawn(refuse(stream, text));
                }
            },
            // The handshake runs on the connection's own task, so a slow or hostile peer
            // never holds the accept loop; a refusal is sent over TLS, where the client
            // can read it.
            Transport::Tls => {
                let state = state.clone();
                tokio::spawn(async move {
                    let fd = stream.as_raw_fd();
                    let Some(tls) = handshake(&state, stream, &peer, &local).await else {
                        return;
                    };
                    match admitted {
                        Ok(_) => {
                            let (rd, wr) = tokio::io::split(tls);
                            start_client(
                                &state,
                                (Box::new(rd), Box::new(wr), fd),
                                peer.to_string(),
                                local,
                                is_local,
                            );
                        }
                        Err(text) => refuse(tls, text).await,
                    }
                });
            }
        }
    }
}

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The server side of a TLS handshake, with the current context and a time limit; a
/// failure is logged as Redis logs it (verbose) and drops the connection.
async fn handshake(
    state: &State,
    stream: TcpStream,
    peer: &SocketAddr,
    local: &str,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = state.tls.read().as_ref().map(|c| c.acceptor.clone())?;
    let outcome = tokio::time::timeout(crate::tls::HANDSHAKE_TIMEOUT, async {
        // A peer that does not open with a TLS handshake record (plain RESP on the TLS
        // port) is closed without an answer, as OpenSSL does: a TLS alert would reach a
        // plain client as a reply of type `\x15`.
        let mut first = [0u8; 1];
        if stream.peek(&mut first).await? == 0 || first[0] != TLS_HANDSHAKE_RECORD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a TLS handshake (plain text on the TLS port?)",
            ));
        }
        acceptor.accept(stream).await
    })
    .await;
    match outcome {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!("Error accepting a client connection: {e} (addr={peer} laddr={local})");
            None
        }
        Err(_) => {
            tracing::debug!("Error accepting a client connection: TLS handshake timed out (addr={peer} laddr={local})");
            None
        }
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
    let mut failures = AcceptFailures::default();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                failures.failed(&e, " on the Unix socket").await;
                continue;
            }
        };
        if let Err(text) = admit(&state, true) {
            tokio::spawn(refuse(stream, text));
            continue;
        }
        let fd = stream.as_raw_fd();
        let (rd, wr) = stream.into_split();
        // Redis shows Unix-socket clients as `addr=<path>:0`.
        start_client(
            &state,
            (Box::new(rd), Box::new(wr), fd),
            format!("{path}:0"),
            format!("{path}:0"),
            true,
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Failed accepts (out of descriptors, most likely): logged once a second with how many
/// failed meanwhile, and followed by a short pause so the loop does not spin.
#[derive(Default)]
struct AcceptFailures {
    last_logged: Option<std::time::Instant>,
    unlogged: u64,
}

impl AcceptFailures {
    async fn failed(&mut self, e: &std::io::Error, where_: &str) {
        self.unlogged += 1;
        if self
            .last_logged
            .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1))
        {
            tracing::warn!(error = %e, failures = self.unlogged, "Accepting client connection{where_} failed");
            self.last_logged = Some(std::time::Instant::now());
            self.unlogged = 0;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Counts a new connection and decides whether it may become a client: refused (with the
/// error it is sent, and counted in `rejected_connections`) when `maxclients` clients are
/// connected, or when protected mode is on, no password is set and the peer is not local.
fn admit(state: &State, is_local: bool) -> Result<Arc<crate::config::Settings>, &'static str> {
    state
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let settings = state.settings();
    let default_nopass = || state.engine.default_user().has_nopass();
    let refusal = if protected_mode_refuses(&settings, default_nopass, is_local) {
        Some(error::PROTECTED_MODE_DENIED)
    } else if state.clients.count() as u64 >= settings.maxclients {
        Some(error::MAX_CLIENTS)
    } else {
        None
    };
    match refusal {
        Some(text) => {
            state
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            Err(text)
        }
        None => Ok(settings),
    }
}

/// Protected mode, as Redis 7.0: with `protected-mode yes` and no password for the default
/// user (`nopass`, as without `requirepass`), only loopback and Unix-socket peers may
/// connect.
fn protected_mode_refuses(
    settings: &crate::config::Settings,
    default_nopass: impl FnOnce() -> bool,
    is_local: bool,
) -> bool {
    settings.protected_mode && !is_local && default_nopass()
}

/// Registers a client and serves it on its own task. `conn` is the connection's halves
/// and the descriptor of its socket (which the halves own).
fn start_client(
    state: &Arc<State>,
    conn: (LinkRead, LinkWrite, RawFd),
    peer: String,
    local: String,
    is_local: bool,
) {
    let (rd, wr, fd) = conn;
    let mut info = ClientInfo::new(state.clients.next_id(), peer, local);
    info.raw_fd = Some(fd);
    let info = Arc::new(info);
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

/// Sends a refused connection its error line, then closes it.
async fn refuse(mut stream: impl tokio::io::AsyncWrite + Unpin, text: &'static str) {
    let _ = stream.write_all(format!("-{text}\r\n").as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn protected_mode_refuses_remote_peers_only_without_a_password() {
        let mut s = Settings::defaults();
        assert!(
            s.protected_mode,
            "protected mode is on by default, as in Redis"
        );
        assert!(protected_mode_refuses(&s, || true, false));
        assert!(
            !protected_mode_refuses(&s, || true, true),
            "loopback and Unix socket peers"
        );
        assert!(
            !protected_mode_refuses(&s, || false, false),
            "a password on the default user opens the door"
        );
        s.protected_mode = false;
        assert!(!protected_mode_refuses(&s, || true, false));
    }

    #[test]
    fn the_denied_text_is_one_resp_error_line() {
        assert!(error::PROTECTED_MODE_DENIED.starts_with("DENIED "));
        assert!(!error::PROTECTED_MODE_DENIED.contains('\r'));
        assert!(!error::PROTECTED_MODE_DENIED.contains('\n'));
    }
}
