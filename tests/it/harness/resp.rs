//! A minimal RESP client for tests: sends commands, reads one reply at a time, and keeps the
//! reply's exact bytes so differential tests can compare servers byte for byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` bulk
    Bulk(Vec<u8>),
    /// `$-1`, `*-1`, `_`
    Nil,
    /// `*n`, `~n`, `>n`
    Array(Vec<Value>),
    /// `%n`
    Map(Vec<(Value, Value)>),
    /// `,d`
    Double(String),
    /// `#t` / `#f`
    Bool(bool),
    /// `=n` verbatim (format, text)
    Verbatim(String, Vec<u8>),
}

impl Value {
    /// The bulk or simple string as text.
    pub fn text(&self) -> String {
        match self {
            Value::Simple(s) | Value::Error(s) | Value::Double(s) => s.clone(),
            Value::Bulk(b) | Value::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            Value::Int(n) => n.to_string(),
            other => format!("{other:?}"),
        }
    }

    /// The integer.
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    /// The elements of an array.
    pub fn array(&self) -> Vec<Value> {
        match self {
            Value::Array(v) => v.clone(),
            other => panic!("expected an array, got {other:?}"),
        }
    }

    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }
}

/// Parses one reply from the front of `buf`: `Some((value, bytes used))` when complete.
pub fn parse(buf: &[u8]) -> Option<(Value, usize)> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = &buf[1..line_end];
    let text = String::from_utf8_lossy(line).into_owned();
    let after = line_end + 2;
    let kind = *buf.first()?;
    match kind {
        b'+' => Some((Value::Simple(text), after)),
        b'-' => Some((Value::Error(text), after)),
        b':' => Some((Value::Int(text.parse().ok()?), after)),
        b',' => Some((Value::Double(text), after)),
        b'#' => Some((Value::Bool(text == "t"), after)),
        b'_' => Some((Value::Nil, after)),
        b'$' | b'=' => {
            let n: i64 = text.parse().ok()?;
            if n < 0 {
                return Some((Value::Nil, after));
            }
            let n = n as usize;
            if buf.len() < after + n + 2 {
                return None;
            }
            let data = buf[after..after + n].to_vec();
            if kind == b'=' {
                let fmt = String::from_utf8_lossy(&data[..3.min(data.len())]).into_owned();
                let body = data.get(4..).unwrap_or(&[]).to_vec();
                return Some((Value::Verbatim(fmt, body), after + n + 2));
            }
            Some((Value::Bulk(data), after + n + 2))
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n: i64 = text.parse().ok()?;
            if n < 0 {
                return Some((Value::Nil, after));
            }
            let count = if kind == b'%' {
                n as usize * 2
            } else {
                n as usize
            };
            let mut pos = after;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let (v, used) = parse(&buf[pos..])?;
                items.push(v);
                pos += used;
            }
            if kind == b'%' {
                let mut pairs = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                return Some((Value::Map(pairs), pos));
            }
            Some((Value::Array(items), pos))
        }
        _ => None,
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A blocking connection to a server.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to {port}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects and sends one command, or `None` when the server refused the connection or
    /// closed it before replying: for polls of a node that others may reconfigure (Sentinel
    /// kills every normal client when it repoints a node), where that is "not yet".
    pub fn try_cmd(port: u16, args: &[&str]) -> Option<Value> {
        let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
        };
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        conn.stream.write_all(&encode(&args)).ok()?;
        conn.try_read()
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends raw bytes to a server that may close the connection part way (a limit test):
    /// a write error is not a failure here, what the server did is checked afterwards.
    pub fn send_raw_until_closed(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Sends one command.
    pub fn send(&mut self, args: &[&[u8]]) {
        self.send_raw(&encode(args));
    }

    /// Reads one reply: its decoded value and its exact bytes.
    pub fn read_raw(&mut self) -> (Value, Vec<u8>) {
        loop {
            if let Some((v, used)) = parse(&self.buf) {
                let raw: Vec<u8> = self.buf.drain(..used).collect();
                return (v, raw);
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).unwrap_or_else(|e| {
                panic!(
                    "read: {e}; buffered {:?}",
                    String::from_utf8_lossy(&self.buf)
                )
            });
            if n == 0 {
                panic!(
                    "connection closed; buffered {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads one reply, or `None` if the server closed the connection first.
    pub fn try_read(&mut self) -> Option<Value> {
        loop {
            if let Some((v, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Some(v);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// True when the server closed the connection (waits up to `timeout`).
    pub fn is_closed(&mut self, timeout: Duration) -> bool {
        self.stream
            .set_read_timeout(Some(timeout))
            .expect("timeout");
        let mut chunk = [0u8; 1024];
        let closed = loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    break false
                }
                Err(_) => break true,
            }
        };
        self.stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        closed
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Value {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&bytes);
        self.read_raw().0
    }

    /// Like [`Conn::cmd`], returning the exact bytes too.
    pub fn cmd_raw(&mut self, args: &[&[u8]]) -> (Value, Vec<u8>) {
        self.send(args);
        self.read_raw()
    }

    /// Changes the read timeout.
    pub fn set_timeout(&mut self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).expect("timeout");
    }
}
