//! Reply encoder: every reply shape Redis 7.0 sends, in RESP2 and RESP3.
//!
//! Replies of a whole pipeline go into one [`ReplyBuf`], written to the socket once. Where RESP2
//! and RESP3 differ (null, map, set, double, push, verbatim) the buffer picks the form from the
//! protocol the client chose with `HELLO`.

/// The protocol a client speaks: 2 until it sends `HELLO 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proto {
    /// RESP2, the default.
    #[default]
    Resp2,
    /// RESP3, chosen with `HELLO 3`.
    Resp3,
}

/// An output buffer that knows the client's protocol.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    /// Encoded replies not yet written to the socket.
    pub buf: Vec<u8>,
    /// The protocol replies are encoded in.
    pub proto: Proto,
}

impl ReplyBuf {
    /// An empty buffer for a client speaking `proto`.
    pub fn new(proto: Proto) -> Self {
        Self::with_capacity(proto, 256)
    }

    /// An empty buffer with room for `bytes`: a frame made whole for a push queue, whose
    /// allocation is then what its bytes occupy (grown from the default, a 1 KB frame
    /// would sit in a 2 KB allocation that its length does not show).
    pub fn with_capacity(proto: Proto, bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            proto,
        }
    }

    /// True when the client speaks RESP3.
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    /// `+text\r\n`.
    pub fn simple(&mut self, text: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK\r\n`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `-message\r\n`; `message` starts with the error code (`ERR ...`, `WRONGTYPE ...`).
    /// Newlines in the message are replaced by spaces so the reply stays one line.
    pub fn error(&mut self, message: &str) {
        self.buf.push(b'-');
        for &b in message.as_bytes() {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-message\r\n` from bytes (messages that quote client input).
    pub fn error_bytes(&mut self, message: &[u8]) {
        self.buf.push(b'-');
        for &b in message {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `:n\r\n`.
    pub fn int(&mut self, n: i64) {
        self.buf.push(b':');
        self.push_decimal(n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `$len\r\nbytes\r\n`.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.buf.push(b'$');
        self.push_decimal(bytes.len() as i64);
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (as Redis does for e.g. ROLE's replica offsets).
    pub fn bulk_int(&mut self, n: i64) {
        let mut tmp = itoa::Buffer::new();
        self.bulk(tmp.format(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.buf
            .extend_from_slice(if self.resp3() { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.buf
            .extend_from_slice(if self.resp3() { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// Array header `*n`.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n);
    }

    /// Map header: `%n` in RESP3, `*2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n);
        } else {
            self.header(b'*', n * 2);
        }
    }

    /// Set header: `~n` in RESP3, `*n` in RESP2.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3() { b'~' } else { b'*' }, n);
    }

    /// Push header: `>n` in RESP3, `*n` in RESP2 (Pub/Sub messages).
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3() { b'>' } else { b'*' }, n);
    }

    /// A double: `,d` in RESP3, a bulk string in RESP2, formatted as Redis 7.0 (`%.17g`).
    /// Integral values (most sorted-set scores) are written without the general float
    /// formatter, which costs far more than the rest of a ZRANGE reply.
    pub fn double(&mut self, d: f64) {
        let mut int = itoa::Buffer::new();
        let owned;
        let text: &str = match integral_g17(d) {
            Some(n) => int.format(n),
            None => {
                owned = format_double(d);
                &owned
            }
        };
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A double already formatted by the caller: `,text` in RESP3, a bulk string in RESP2
    /// (GEOPOS's coordinates, which Redis prints in fixed notation, not `%.17g`).
    pub fn double_text(&mut self, text: &str) {
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string (`=len\r\ntxt:...`) in RESP3, a bulk string in RESP2; INFO and
    /// CLIENT LIST reply this way.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            self.buf.push(b'=');
            self.push_decimal(text.len() as i64 + 4);
            self.buf.extend_from_slice(b"\r\ntxt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Appends bytes already in RESP form.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Number of bytes buffered.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written after `len` (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    fn header(&mut self, kind: u8, n: usize) {
        self.buf.push(kind);
        self.push_decimal(n as i64);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn push_decimal(&mut self, n: i64) {
        let mut tmp = itoa::Buffer::new();
        self.buf.extend_from_slice(tmp.format(n).as_bytes());
    }
}

/// The integer `%.17g` prints for `d` when it is a whole number printed without exponent
/// (|d| < 1e17) and not -0.
fn integral_g17(d: f64) -> Option<i64> {
    (d.trunc() == d && d.abs() < 1e17 && !(d == 0.0 && d.is_sign_negative())).then_some(d as i64)
}

/// Formats a double as C's `printf("%.17g")` does, with `inf`/`-inf`/`nan` spelled as Redis
/// 7.0 spells them. Redis 7.0 uses this form for scores and every other double reply.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if let Some(n) = integral_g17(d) {
        return itoa::Buffer::new().format(n).to_string();
    }
    format_g(d, 17)
}

/// C's `%.<precision>g` for a finite double.
pub fn format_g(d: f64, precision: usize) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let mantissa = strip_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_fraction_zeros(&format!("{d:.decimals$}")).to_string()
    }
}

fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_printf() {
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(1.0), "1");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e-5), "1.5e-05");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(12345678901234567.0), "12345678901234568");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-42.0), "-42");
        assert_eq!(format_double(99999999999999999.0), "1e+17");
        assert_eq!(format_double(9999999999999998.0), "9999999999999998");
        let mut r = ReplyBuf::new(Proto::Resp2);
        r.double(-0.0);
        r.double(7.0);
        r.double(0.5);
        assert_eq!(r.buf, b"$2\r\n-0\r\n$1\r\n7\r\n$3\r\n0.5\r\n");
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut r2 = ReplyBuf::new(Proto::Resp2);
        r2.null();
        r2.map(1);
        r2.double(1.5);
        assert_eq!(r2.buf, b"$-1\r\n*2\r\n$3\r\n1.5\r\n");
        let mut r3 = ReplyBuf::new(Proto::Resp3);
        r3.null();
        r3.map(1);
        r3.double(1.5);
        r3.verbatim(b"x");
        assert_eq!(r3.buf, b"_\r\n%1\r\n,1.5\r\n=5\r\ntxt:x\r\n");
    }
}
