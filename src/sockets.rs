//! The server's listening sockets, kept by the composition root so that CONFIG SET `bind`,
//! `port` and `http-*` can move them while the server runs, as Redis 7.0 does for `bind`
//! and `port`. Each listener is shared with its accept task; moving a listener means binding
//! the new addresses first (an address already listened on keeps its listener, so `bind`
//! can add an address on the same port), then aborting the tasks of those no longer wanted.
//! Connections already accepted stay open. A failure changes nothing.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use crate::config::{HttpEnabled, Settings};
use crate::engine::State;
use crate::server::listener::Transport;
use crate::{control, server};

/// One listener and the task accepting on it.
#[derive(Debug)]
struct Bound {
    addr: SocketAddr,
    task: AbortHandle,
    /// The RESP listener itself, so that a shutdown can stop it taking connections at
    /// once (its task, which owns it too, ends on its own schedule). None for HTTP.
    listener: Option<Arc<TcpListener>>,
}

impl Drop for Bound {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The RESP listeners (plain and TLS) and the control plane's.
#[derive(Debug)]
pub struct Sockets {
    state: Weak<State>,
    resp: Mutex<Vec<Bound>>,
    tls: Mutex<Vec<Bound>>,
    http: Mutex<Option<Bound>>,
}

impl Sockets {
    /// Sockets for `state`, none bound yet.
    pub fn new(state: &Arc<State>) -> Sockets {
        Sockets {
            state: Arc::downgrade(state),
            resp: Mutex::new(Vec::new()),
            tls: Mutex::new(Vec::new()),
            http: Mutex::new(None),
        }
    }

    /// Takes the RESP listeners bound at start-up and starts accepting on them.
    pub fn adopt(&self, state: &Arc<State>, listeners: Vec<TcpListener>, transport: Transport) {
        let mut list = self.list(transport).lock();
        for listener in listeners {
            if let Ok(addr) = listener.local_addr() {
                list.push(spawn_resp(state, Arc::new(listener), addr, transport));
            }
        }
    }

    fn list(&self, transport: Transport) -> &Mutex<Vec<Bound>> {
        match transport {
            Transport::Plain => &self.resp,
            Transport::Tls => &self.tls,
        }
    }

    /// Starts the control plane at start-up: `http-enabled optional` lets a failed bind
    /// start the server without it. Returns its port (0: off).
    pub fn start_http(&self, settings: &Settings, resp_port: u16) -> std::io::Result<u16> {
        match self.move_http(settings, resp_port) {
            Ok(port) => Ok(port),
            Err(e) if settings.http_enabled == HttpEnabled::Optional => {
                tracing::warn!(
                    bind = %settings.http_bind,
                    error = %e,
                    "Could not bind the HTTP control plane; starting without it (http-enabled optional)"
                );
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn move_http(&self, settings: &Settings, resp_port: u16) -> std::io::Result<u16> {
        let Some(state) = self.state.upgrade() else {
            return Err(std::io::Error::other("the server is stopping"));
        };
        let mut http = self.http.lock();
        let Some(addr) = control::http_address(settings, resp_port)? else {
            *http = None;
            state.ports.lock().http = 0;
            return Ok(0);
        };
        if let Some(current) = http.as_ref().filter(|b| addr.port() != 0 && b.addr == addr) {
            return Ok(current.addr.port());
        }
        let listener = Arc::new(control::bind(addr)?);
        let bound_addr = listener.local_addr()?;
        let task = control::serve(state.clone(), listener)?.abort_handle();
        *http = Some(Bound {
            addr: bound_addr,
            task,
            listener: None,
        });
        state.ports.lock().http = bound_addr.port();
        Ok(bound_addr.port())
    }
}

fn spawn_resp(
    state: &Arc<State>,
    listener: Arc<TcpListener>,
    addr: SocketAddr,
    transport: Transport,
) -> Bound {
    let task = tokio::spawn(server::listener::accept_loop(
        state.clone(),
        listener.clone(),
        transport,
    ))
    .abort_handle();
    Bound {
        addr,
        task,
        listener: Some(listener),
    }
}

impl Sockets {
    /// Moves the listeners of `transport` to `binds` on `port` (see the trait's methods).
    fn rebind(
        &self,
        transport: Transport,
        binds: &[String],
        port: u16,
        backlog: u32,
    ) -> Result<u16, String> {
        let state = self
            .state
            .upgrade()
            .ok_or_else(|| "the server is stopping".to_string())?;
        let mut current = self.list(transport).lock();
        let mut kept: Vec<Bound> = Vec::new();
        let mut opened: Vec<(SocketAddr, TcpListener)> = Vec::new();
        let mut port = port;
        for raw in binds {
            let (addr, optional) = server::listener::bind_address(raw, port);
            let addr = match addr {
                Ok(a) => a,
                Err(_) if optional => continue,
                Err(e) => return Err(e.to_string()),
            };
            if port != 0 {
                if let Some(i) = current.iter().position(|b| b.addr == addr) {
                    kept.push(current.remove(i));
                    continue;
                }
            }
            match server::listener::bind_one(addr, backlog) {
                Ok(listener) => {
                    let addr = listener.local_addr().map_err(|e| e.to_string())?;
                    port = addr.port();
                    opened.push((addr, listener));
                }
                Err(_) if optional => continue,
                Err(e) => {
                    // Nothing changes: what was kept goes back, what was opened closes.
                    current.append(&mut kept);
                    return Err(format!("could not bind {addr}: {e}"));
                }
            }
        }
        let mut next = kept;
        for (addr, listener) in opened {
            next.push(spawn_resp(&state, Arc::new(listener), addr, transport));
        }
        // The listeners no longer wanted close with their tasks.
        *current = next;
        let mut ports = state.ports.lock();
        let bound = match transport {
            Transport::Plain => &mut ports.resp,
            Transport::Tls => &mut ports.tls,
        };
        if !current.is_empty() {
            *bound = port;
        } else if binds.is_empty() && port == 0 {
            // Turned off (`tls-port 0`, or `port 0` beside a TLS port).
            *bound = 0;
        } else {
            tracing::warn!("No TCP address is listened on (bind is empty)");
        }
        Ok(port)
    }
}

impl crate::engine::state::Sockets for Sockets {
    fn rebind_resp(&self, binds: &[String], port: u16, backlog: u32) -> Result<u16, String> {
        self.rebind(Transport::Plain, binds, port, backlog)
    }

    fn rebind_tls(&self, binds: &[String], port: u16, backlog: u32) -> Result<u16, String> {
        self.rebind(Transport::Tls, binds, port, backlog)
    }

    fn rebind_http(&self, settings: &Settings, resp_port: u16) -> Result<u16, String> {
        self.move_http(settings, resp_port)
            .map_err(|e| e.to_string())
    }

    fn refuse_clients(&self) {
        for list in [&self.resp, &self.tls] {
            for bound in list.lock().iter() {
                if let Some(listener) = &bound.listener {
                    // On Linux, shutting down a listening socket's read side empties its
                    // queue and moves it out of LISTEN: new connections are refused.
                    let _ = socket2::SockRef::from(&**listener).shutdown(std::net::Shutdown::Read);
                }
            }
        }
    }
}
