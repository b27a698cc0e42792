//! A fault-injection TCP proxy for replication links: a replica points `replicaof` at the
//! proxy, which forwards to the master and can, on the master → replica direction, stall,
//! slow to a byte rate, corrupt one byte or cut the stream at an offset of a connection, or
//! close every connection at once. Threads and blocking sockets, so it behaves the same
//! whatever runtime the servers use; every thread ends when the proxy is dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What happens to the bytes from the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded as they come.
    None,
    /// Not read from the master at all (its socket buffers fill, as with a stuck replica).
    Stall,
    /// At most this many bytes per second.
    Rate(u64),
    /// The next connection gets the byte at this offset (counted from its first byte
    /// from the master) inverted; then the fault clears itself.
    CorruptAt(u64),
    /// The next connection is closed once this many bytes from the master went through;
    /// then the fault clears itself.
    TruncateAt(u64),
}

struct Shared {
    fault: Mutex<Fault>,
    /// Open connections (client side, master side), for `cut`.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
    /// Connections accepted so far.
    accepted: Mutex<u64>,
    stop: AtomicBool,
}

/// A proxy listening on 127.0.0.1:`port`, forwarding to `target`.
pub struct Proxy {
    /// Where replicas connect.
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts forwarding 127.0.0.1:<ephemeral> to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let shared = Arc::new(Shared {
            fault: Mutex::new(Fault::None),
            open: Mutex::new(Vec::new()),
            accepted: Mutex::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || accept_loop(listener, target, s));
        Proxy { port, shared }
    }

    /// Sets what happens to the master's bytes from now on (a one-shot fault waits for
    /// the next connection).
    pub fn set(&self, fault: Fault) {
        *self.shared.fault.lock().expect("fault") = fault;
    }

    /// The fault in force (a one-shot one reads `None` once used).
    pub fn fault(&self) -> Fault {
        *self.shared.fault.lock().expect("fault")
    }

    /// Closes every open connection, both ways (a network cut).
    pub fn cut(&self) {
        for (client, upstream) in self.shared.open.lock().expect("open").drain(..) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        *self.shared.accepted.lock().expect("accepted")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.cut();
    }
}

fn accept_loop(listener: TcpListener, target: u16, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::Relaxed) {
        let client = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => continue,
        };
        let _ = client.set_nonblocking(false);
        let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        *shared.accepted.lock().expect("accepted") += 1;
        // A one-shot fault belongs to this connection alone.
        let one_shot = {
            let mut fault = shared.fault.lock().expect("fault");
            match *fault {
                f @ (Fault::CorruptAt(_) | Fault::TruncateAt(_)) => {
                    *fault = Fault::None;
                    Some(f)
                }
                _ => None,
            }
        };
        if let (Ok(c), Ok(u)) = (client.try_clone(), upstream.try_clone()) {
            shared.open.lock().expect("open").push((c, u));
        }
        let (Ok(client_rd), Ok(upstream_wr)) = (client.try_clone(), upstream.try_clone()) else {
            continue;
        };
        std::thread::spawn(move || copy_up(client_rd, upstream_wr));
        let s = shared.clone();
        std::thread::spawn(move || copy_down(upstream, client, one_shot, s));
    }
}

/// Replica → master: forwarded as is.
fn copy_up(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Master → replica, through the fault in force.
fn copy_down(mut from: TcpStream, mut to: TcpStream, one_shot: Option<Fault>, shared: Arc<Shared>) {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0u64;
    let mut rate_base = (Instant::now(), 0u64);
    loop {
        let fault = one_shot.unwrap_or_else(|| *shared.fault.lock().expect("fault"));
        if fault == Fault::Stall {
            if shared.stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            rate_base = (Instant::now(), sent);
            continue;
        }
        let want = match fault {
            Fault::Rate(r) => (r as usize / 20).clamp(1, buf.len()),
            Fault::TruncateAt(at) => (at.saturating_sub(sent) as usize).min(buf.len()),
            _ => buf.len(),
        };
        if want == 0 {
            break;
        }
        let n = match from.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Fault::CorruptAt(at) = fault {
            if at >= sent && at < sent + n as u64 {
                buf[(at - sent) as usize] ^= 0xff;
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
        if let Fault::Rate(r) = fault {
            if r > 0 {
                let due = Duration::from_secs_f64((sent - rate_base.1) as f64 / r as f64);
                let spent = rate_base.0.elapsed();
                if due > spent {
                    std::thread::sleep(due - spent);
                }
            }
        } else {
            rate_base = (Instant::now(), sent);
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
