//! MIGRATE's connections to target instances, cached as Redis caches them.
//!
//! MIGRATE is synchronous in Redis: the server sends the keys and waits for the target's
//! replies, within the command's timeout, before it answers or runs anything else. replikv
//! keeps that contract (the keys are deleted only once the target acknowledged them, with
//! nothing in between), so these sockets are blocking, with every connect, write and read
//! bounded by the timeout. A connection stays open for reuse by later MIGRATEs to the same
//! `host:port` (at most [`CACHE_ITEMS`] of them) until it has been idle for
//! [`CACHE_TTL_SECS`] (INFO `migrate_cached_sockets`). With `tls-cluster yes` the
//! connections speak TLS, as Redis's MIGRATE connects with the cluster bus's connection type.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most connections kept; past it, one is dropped to make room.
pub const CACHE_ITEMS: usize = 64;
/// Seconds a connection may stay unused before the cron closes it.
pub const CACHE_TTL_SECS: i64 = 10;
/// Longest reply line read from a target (Redis reads into a 1 KB buffer).
const MAX_LINE: usize = 1024;
/// Writes go out in chunks of this size, each within the timeout (as Redis writes them).
const WRITE_CHUNK: usize = 64 * 1024;

/// The byte stream to a target: plain TCP, or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// The socket under the stream, whose timeouts bound every read and write (the TLS
    /// handshake's included).
    fn socket(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Plain(_) => "Stream::Plain",
            Stream::Tls(_) => "Stream::Tls",
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One connection to a target.
#[derive(Debug)]
pub struct TargetLink {
    stream: Stream,
    /// Bytes read past the last reply line.
    unread: Vec<u8>,
    /// The database selected on the target, when known (SELECT is sent only on change).
    pub selected_db: Option<i64>,
    last_use_secs: i64,
}

impl TargetLink {
    /// Writes all of `buf`, each chunk within `timeout`.
    pub fn write_all(&mut self, buf: &[u8], timeout: Duration) -> io::Result<()> {
        // Writing TLS may read too (the handshake, the first time).
        self.stream.socket().set_write_timeout(Some(timeout))?;
        self.stream.socket().set_read_timeout(Some(timeout))?;
        for chunk in buf.chunks(WRITE_CHUNK) {
            self.stream.write_all(chunk)?;
        }
        // What TLS still holds goes out now.
        self.stream.flush()
    }

    /// Reads one reply line (without its CRLF) within `timeout`.
    pub fn read_line(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.unread.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.unread.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.unread.len() >= MAX_LINE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply line too long",
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream.socket().set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 512];
            match self.stream.read(&mut chunk)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => self.unread.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// True for an I/O error that is the timeout running out (no retry then, as in Redis).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// The cache, keyed by `host:port` as the client wrote them.
#[derive(Debug, Default)]
pub struct MigrateSockets {
    links: HashMap<String, TargetLink>,
}

impl MigrateSockets {
    /// Connections open.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when none is open.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Takes the cached connection to `host:port` out of the cache, or makes a new one
    /// within `timeout`, over TLS with `tls` (its handshake runs with the first write, within
    /// the same timeout). The caller gives it back with [`MigrateSockets::put_back`] once
    /// it is known to be healthy; a connection not given back is closed.
    pub fn take_or_connect(
        &mut self,
        host: &str,
        port: &str,
        timeout: Duration,
        now_secs: i64,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<TargetLink, ConnectError> {
        if let Some(mut link) = self.links.remove(&format!("{host}:{port}")) {
            link.last_use_secs = now_secs;
            return Ok(link);
        }
        let socket = connect(host, port, timeout)?;
        let stream = match tls {
            None => Stream::Plain(socket),
            Some(config) => {
                let session = rustls::ClientConnection::new(config, crate::tls::server_name(host))
                    .map_err(|_| ConnectError::Unreachable)?;
                Stream::Tls(Box::new(rustls::StreamOwned::new(session, socket)))
            }
        };
        Ok(TargetLink {
            stream,
            unread: Vec::new(),
            selected_db: None,
            last_use_secs: now_secs,
        })
    }

    /// Caches `link` for later MIGRATEs to `host:port`, dropping another connection when
    /// the cache is full.
    pub fn put_back(&mut self, host: &str, port: &str, link: TargetLink) {
        let name = format!("{host}:{port}");
        if !self.links.contains_key(&name) && self.links.len() >= CACHE_ITEMS {
            if let Some(victim) = self.links.keys().next().cloned() {
                self.links.remove(&victim);
            }
        }
        self.links.insert(name, link);
    }

    /// Closes connections unused for more than [`CACHE_TTL_SECS`] (the cron calls it).
    pub fn close_idle(&mut self, now_secs: i64) {
        self.links
            .retain(|_, link| now_secs - link.last_use_secs <= CACHE_TTL_SECS);
    }
}

/// How a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The host did not resolve, or the connection did not complete within the timeout.
    Unreachable,
    /// The target refused (or reset) the connection. Redis connects without blocking and
    /// learns of a refusal only when it writes, so it reports (and retries) it as a write
    /// error; MIGRATE does the same.
    Refused,
}

/// A blocking connection to `host:port` within `timeout`, with Nagle off. The port is read
/// as C's `atoi` reads it (leading digits, else 0), as Redis reads it.
fn connect(host: &str, port: &str, timeout: Duration) -> Result<TcpStream, ConnectError> {
    let port = atoi_port(port);
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|_| ConnectError::Unreachable)?;
    let mut outcome = ConnectError::Unreachable;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) if is_timeout(&e) => outcome = ConnectError::Unreachable,
            Err(_) => outcome = ConnectError::Refused,
        }
    }
    Err(outcome)
}

/// The port `text` names for C's `atoi` truncated to 16 bits: its leading digits, 0 when
/// there are none.
fn atoi_port(text: &str) -> u16 {
    let digits: String = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u64>().map_or(0, |n| n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reads_lines_across_chunks_and_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut cache = MigrateSockets::default();
        let timeout = Duration::from_millis(300);
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"+O").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(b"K\r\n-ERR no\r\n").unwrap();
            // Keep the socket open, silent, until the client gives up.
            std::thread::sleep(Duration::from_millis(800));
        });
        let mut link = cache
            .take_or_connect("127.0.0.1", &port, timeout, 100, None)
            .unwrap();
        assert_eq!(link.read_line(timeout).unwrap(), b"+OK");
        assert_eq!(link.read_line(timeout).unwrap(), b"-ERR no");
        let err = link.read_line(timeout).unwrap_err();
        assert!(is_timeout(&err), "{err:?}");
        assert!(cache.is_empty());
        cache.put_back("127.0.0.1", &port, link);
        assert_eq!(cache.len(), 1);
        let link = cache
            .take_or_connect("127.0.0.1", &port, timeout, 100, None)
            .unwrap();
        assert!(cache.is_empty(), "the cached link is reused, not a new one");
        cache.put_back("127.0.0.1", &port, link);
        cache.close_idle(100 + CACHE_TTL_SECS);
        assert_eq!(cache.len(), 1);
        cache.close_idle(101 + CACHE_TTL_SECS);
        assert!(cache.is_empty());
        server.join().unwrap();
    }

    #[test]
    fn a_refused_or_malformed_target_is_an_error() {
        let mut cache = MigrateSockets::default();
        let timeout = Duration::from_millis(300);
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port().to_string()
        };
        assert!(matches!(
            cache.take_or_connect("127.0.0.1", &closed, timeout, 0, None),
            Err(ConnectError::Refused)
        ));
        assert!(matches!(
            cache.take_or_connect("", "1", timeout, 0, None),
            Err(ConnectError::Unreachable)
        ));
        assert!(cache.is_empty());
        assert_eq!(atoi_port("6379"), 6379);
        assert_eq!(atoi_port("80abc"), 80);
        assert_eq!(atoi_port("notaport"), 0);
    }
}
