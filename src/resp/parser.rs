//! Incremental request parser: RESP multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The parser keeps its position inside a partially received multibulk request, so a command
//! that arrives in many reads (a large `MSET`, a 500 MB value) is scanned once, not once per
//! read. A complete command is split off the buffer as one frozen [`Bytes`] and its arguments
//! are slices of it: no copy per argument.
//!
//! Limits and error texts follow Redis 7.0 `networking.c` (`processInlineBuffer`,
//! `processMultibulkBuffer`); every error closes the connection after the reply, as Redis does.

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use std::fmt;

/// The arguments of one command. Most commands have few arguments, so they live inline.
pub type Argv = SmallVec<[Bytes; 4]>;

/// Longest inline command, or count/length header, Redis accepts without a newline.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Before authentication Redis refuses multibulk requests with more than this many arguments.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// Before authentication Redis refuses bulk arguments longer than this.
const UNAUTH_MAX_BULK: i64 = 16384;
/// A bulk argument at least this long that has not fully arrived is read into a buffer of
/// its own, allocated at its length (Redis's `PROTO_MBULK_BIG_ARG`): the command then holds
/// the value in a buffer nothing else shares, which the keyspace can keep instead of copying.
pub const BIG_ARG: usize = 32 * 1024;

/// Limits that come from the configuration (`proto-max-bulk-len`).
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Longest accepted bulk argument, in bytes.
    pub max_bulk_len: i64,
    /// Whether the client still has to authenticate (tighter limits apply then).
    pub unauthenticated: bool,
    /// The connection is our master's replication link: no bulk length limit applies.
    pub from_master: bool,
}

/// A malformed request. The connection gets `-ERR Protocol error: <text>` and is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Inline request longer than 64 KiB without a newline.
    TooBigInline,
    /// Inline request with an unterminated quote.
    UnbalancedQuotes,
    /// `*` header longer than 64 KiB.
    TooBigMbulkCount,
    /// `*` header that is not a number, or too large.
    InvalidMultibulkLength,
    /// `$` header longer than 64 KiB.
    TooBigBulkCount,
    /// A multibulk element that does not start with `$`.
    ExpectedDollar(u8),
    /// `$` header that is not a number, negative, or above `proto-max-bulk-len`.
    InvalidBulkLength,
    /// More than 10 arguments before authentication.
    UnauthenticatedMultibulkLength,
    /// A bulk argument above 16 KiB before authentication.
    UnauthenticatedBulkLength,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooBigInline => f.write_str("Protocol error: too big inline request"),
            ParseError::UnbalancedQuotes => {
                f.write_str("Protocol error: unbalanced quotes in request")
            }
            ParseError::TooBigMbulkCount => {
                f.write_str("Protocol error: too big mbulk count string")
            }
            ParseError::InvalidMultibulkLength => {
                f.write_str("Protocol error: invalid multibulk length")
            }
            ParseError::TooBigBulkCount => f.write_str("Protocol error: too big bulk count string"),
            ParseError::ExpectedDollar(c) => {
                write!(f, "Protocol error: expected '$', got '{}'", *c as char)
            }
            ParseError::InvalidBulkLength => f.write_str("Protocol error: invalid bulk length"),
            ParseError::UnauthenticatedMultibulkLength => {
                f.write_str("Protocol error: unauthenticated multibulk length")
            }
            ParseError::UnauthenticatedBulkLength => {
                f.write_str("Protocol error: unauthenticated bulk length")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// An argument of a request being received.
#[derive(Debug)]
enum Arg {
    /// A byte range relative to the start of the buffer.
    InBuf(usize, usize),
    /// Split off the buffer already: the arguments before a big one, and big ones.
    Apart(Bytes),
}

/// Progress inside a multibulk request that has not fully arrived yet.
#[derive(Debug, Default)]
struct Multibulk {
    /// Arguments still expected.
    remaining: usize,
    /// The arguments seen so far.
    args: SmallVec<[Arg; 4]>,
    /// Where the next unparsed byte of this request is.
    pos: usize,
    /// Length of the bulk argument whose header was parsed but whose payload has not arrived.
    bulk_len: Option<usize>,
    /// The bulk being read is big and the buffer was given to it alone (see [`BIG_ARG`]).
    big: bool,
}

/// What [`RequestParser::next`] found in the buffer.
#[derive(Debug)]
pub enum Parsed {
    /// A complete command.
    Command(Argv),
    /// An empty inline line or `*0`: nothing to run; the bytes were consumed.
    Empty,
}

/// Parses requests out of a connection's input buffer; one per connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    multibulk: Option<Multibulk>,
    /// The buffer is a whole allocation the parser made for big arguments: it starts where
    /// the allocation starts and nothing was split off it since, so the next big argument
    /// can take it over in place.
    owns_buffer: bool,
}

impl RequestParser {
    /// A parser at the start of a request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes at the front of `buf` that belong to a request still being received; the rest is
    /// unparsed. Used to check `client-query-buffer-limit`.
    pub fn in_progress(&self) -> bool {
        self.multibulk.is_some()
    }

    /// Bytes the parser knows it still needs for the current bulk argument, if any; lets the
    /// connection reserve buffer space once for a large value instead of doubling repeatedly.
    pub fn bytes_wanted(&self, buf: &BytesMut) -> Option<usize> {
        let mb = self.multibulk.as_ref()?;
        let len = mb.bulk_len?;
        (mb.pos + len + 2).checked_sub(buf.len())
    }

    /// While a big bulk argument is read into a buffer of its own: the bytes it still needs.
    /// The connection must read exactly into that buffer (grown, if ever, to exactly this
    /// much more), so that the argument keeps an allocation of its own length.
    pub fn big_arg_wanted(&self, buf: &BytesMut) -> Option<usize> {
        if !self.multibulk.as_ref()?.big {
            return None;
        }
        self.bytes_wanted(buf)
    }

    /// Parses the next request from `buf`. `Ok(None)` means more bytes are needed; consumed
    /// bytes are removed from `buf` once a request is complete, and also, for a bulk argument
    /// of [`BIG_ARG`] or more that has not fully arrived, everything before it: `buf` is
    /// then replaced by a buffer sized for that argument alone (except on the master link,
    /// as in Redis, whose stream is forwarded as it came).
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
    ) -> Result<Option<Parsed>, ParseError> {
        Ok(self.parse(buf, limits, limits.from_master)?.map(|(p, _)| p))
    }

    /// Like [`RequestParser::next`], also returning the exact bytes the request occupied
    /// (a replica forwards its master's stream byte for byte); big arguments are never
    /// split off, so those bytes are one slice of the buffer.
    pub fn next_raw(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
    ) -> Result<Option<(Parsed, Bytes)>, ParseError> {
        self.parse(buf, limits, true)
    }

    /// The parser proper; `whole_frames` keeps every request in one piece of `buf`.
    fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
        whole_frames: bool,
    ) -> Result<Option<(Parsed, Bytes)>, ParseError> {
        if self.multibulk.is_none() {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => {
                    self.owns_buffer = false;
                    return parse_inline(buf);
                }
            }
            let Some(line_end) = find_cr(buf, 1) else {
                if buf.len() > PROTO_INLINE_MAX_SIZE {
                    return Err(ParseError::TooBigMbulkCount);
                }
                return Ok(None);
            };
            if line_end + 2 > buf.len() {
                return Ok(None);
            }
            let count = parse_i64(&buf[1..line_end]).ok_or(ParseError::InvalidMultibulkLength)?;
            if count > i32::MAX as i64 {
                return Err(ParseError::InvalidMultibulkLength);
            }
            if limits.unauthenticated && count > UNAUTH_MAX_MULTIBULK {
                return Err(ParseError::UnauthenticatedMultibulkLength);
            }
            if count <= 0 {
                self.owns_buffer = false;
                let raw = buf.split_to(line_end + 2).freeze();
                return Ok(Some((Parsed::Empty, raw)));
            }
            let count = count as usize;
            let mut args = SmallVec::new();
            // Do not trust a huge count for preallocation: it grows as arguments arrive.
            args.reserve(count.min(1024));
            self.multibulk = Some(Multibulk {
                remaining: count,
                args,
                pos: line_end + 2,
                bulk_len: None,
                big: false,
            });
        }
        let Some(mb) = self.multibulk.as_mut() else {
            return Ok(None);
        };
        while mb.remaining > 0 {
            let len = match mb.bulk_len {
                Some(len) => len,
                None => {
                    let Some(&first) = buf.get(mb.pos) else {
                        return Ok(None);
                    };
                    let Some(line_end) = find_cr(buf, mb.pos + 1) else {
                        if buf.len() - mb.pos > PROTO_INLINE_MAX_SIZE {
                            return Err(ParseError::TooBigBulkCount);
                        }
                        return Ok(None);
                    };
                    if line_end + 2 > buf.len() {
                        return Ok(None);
                    }
                    if first != b'$' {
                        return Err(ParseError::ExpectedDollar(first));
                    }
                    let len = parse_i64(&buf[mb.pos + 1..line_end])
                        .ok_or(ParseError::InvalidBulkLength)?;
                    if len < 0 || (!limits.from_master && len > limits.max_bulk_len) {
                        return Err(ParseError::InvalidBulkLength);
                    }
                    if limits.unauthenticated && len > UNAUTH_MAX_BULK {
                        return Err(ParseError::UnauthenticatedBulkLength);
                    }
                    mb.pos = line_end + 2;
                    let len = len as usize;
                    mb.bulk_len = Some(len);
                    len
                }
            };
            if buf.len() < mb.pos + len + 2 {
                if len >= BIG_ARG && !whole_frames && !mb.big {
                    give_buffer_to_big_arg(mb, buf, len, &mut self.owns_buffer);
                }
                return Ok(None);
            }
            if mb.big {
                // The buffer holds this argument alone (and nothing past it: it was read
                // exactly); its allocation becomes the argument's.
                let mut arg = buf.split_to(len + 2);
                arg.truncate(len);
                mb.args.push(Arg::Apart(arg.freeze()));
                // The remainder would share the argument's allocation. Like Redis, expect
                // another big argument: the next buffer is this one's size (the connection
                // shrinks a buffer that goes unused, as Redis's cron does).
                self.owns_buffer = buf.is_empty();
                if self.owns_buffer {
                    *buf = BytesMut::with_capacity(len + 2);
                }
                mb.pos = 0;
                mb.big = false;
            } else {
                mb.args.push(Arg::InBuf(mb.pos, mb.pos + len));
                // Like Redis, the two bytes after the payload are skipped without being
                // checked.
                mb.pos += len + 2;
            }
            mb.bulk_len = None;
            mb.remaining -= 1;
        }
        let Some(mb) = self.multibulk.take() else {
            return Ok(None);
        };
        let frame = if mb.pos == 0 {
            Bytes::new()
        } else {
            self.owns_buffer = false;
            buf.split_to(mb.pos).freeze()
        };
        let argv = mb
            .args
            .into_iter()
            .map(|arg| match arg {
                Arg::InBuf(start, end) => frame.slice(start..end),
                Arg::Apart(bytes) => bytes,
            })
            .collect();
        Ok(Some((Parsed::Command(argv), frame)))
    }
}

/// Starts reading a big bulk argument of `len` bytes into a buffer of its own, as Redis does
/// for arguments of `PROTO_MBULK_BIG_ARG` or more: `buf` becomes an allocation of about the
/// argument and its CRLF, holding what of it has arrived. When `buf` is the parser's own
/// allocation of about that size (left by the previous big argument, see `owns_buffer`), it
/// is taken over in place, the arguments before this one copied out and what arrived moved
/// to its front (Redis's `sdsrange`); otherwise the request's bytes before the argument are
/// split off (the arguments already seen keep them) and a new allocation takes the rest.
fn give_buffer_to_big_arg(mb: &mut Multibulk, buf: &mut BytesMut, len: usize, owned: &mut bool) {
    let need = len + 2;
    // jemalloc's size classes are a quarter apart: within that, the allocation is the size
    // Redis would give the argument.
    if *owned && (need..=need + need / 4).contains(&buf.capacity()) {
        for arg in mb.args.iter_mut() {
            if let Arg::InBuf(start, end) = *arg {
                *arg = Arg::Apart(Bytes::copy_from_slice(&buf[start..end]));
            }
        }
        let arrived = buf.len() - mb.pos;
        buf.copy_within(mb.pos.., 0);
        buf.truncate(arrived);
    } else {
        let head = buf.split_to(mb.pos).freeze();
        for arg in mb.args.iter_mut() {
            if let Arg::InBuf(start, end) = *arg {
                *arg = Arg::Apart(head.slice(start..end));
            }
        }
        let mut own = BytesMut::with_capacity(need);
        own.extend_from_slice(buf);
        *buf = own;
        *owned = true;
    }
    mb.pos = 0;
    mb.big = true;
}

/// Position of the first `\r` at or after `from`.
fn find_cr(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == b'\r')
        .map(|p| p + from)
}

/// Parses a decimal i64 exactly as Redis's `string2ll` does: optional `-`, no `+`, no leading
/// zeros (except "0" itself), no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses one inline request (`PING\r\n`, `set a "b c"\n`).
fn parse_inline(buf: &mut BytesMut) -> Result<Option<(Parsed, Bytes)>, ParseError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ParseError::TooBigInline);
        }
        return Ok(None);
    };
    let mut line_end = nl;
    if line_end > 0 && buf[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let args = split_args(&buf[..line_end]).ok_or(ParseError::UnbalancedQuotes)?;
    let raw = buf.split_to(nl + 1).freeze();
    if args.is_empty() {
        return Ok(Some((Parsed::Empty, raw)));
    }
    Ok(Some((
        Parsed::Command(args.into_iter().map(Bytes::from).collect()),
        raw,
    )))
}

/// `arg` in double quotes with escapes, as Redis's `sdscatrepr` writes it: what
/// [`split_args`] reads back as the same bytes (config files, the AOF manifest, errors
/// that show a command line).
pub fn repr(arg: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// `arg` bare when [`split_args`] reads it back unchanged (printable, no space, quote or
/// backslash), otherwise [`repr`].
pub fn quote_if_needed(arg: &[u8]) -> String {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if plain {
        String::from_utf8_lossy(arg).into_owned()
    } else {
        repr(arg)
    }
}

/// Splits a line into arguments the way Redis's `sdssplitargs` does: whitespace separated,
/// `"double quotes"` with `\n \r \t \b \a \\ \" \xHH` escapes, `'single quotes'` with `\'`.
/// A closing quote must be followed by whitespace or the end. `None` means unbalanced quotes.
/// Also used by the configuration file reader, which follows the same rules.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    current.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }

                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }

                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => current.push(c),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bulk_len: 512 * 1024 * 1024,
        unauthenticated: false,
        from_master: false,
    };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
        let mut buf = BytesMut::from(input);
        let mut parser = RequestParser::new();
        let mut out = Vec::new();
        while let Some(p) = parser.next(&mut buf, LIMITS)? {
            if let Parsed::Command(argv) = p {
                out.push(argv.iter().map(|a| a.to_vec()).collect());
            }
        }
        Ok(out)
    }

    #[test]
    fn multibulk_pipeline() {
        let cmds =
            parse_all(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$0\r\n\r\n").unwrap();
        assert_eq!(
            cmds,
            vec![
                vec![b"PING".to_vec()],
                vec![b"SET".to_vec(), b"a".to_vec(), b"".to_vec()]
            ]
        );
    }

    #[test]
    fn byte_by_byte_arrival() {
        let input = b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
        let mut buf = BytesMut::new();
        let mut parser = RequestParser::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(Parsed::Command(argv)) = parser.next(&mut buf, LIMITS).unwrap() {
                got = Some(argv);
            }
        }
        let argv = got.expect("command parsed");
        assert_eq!(&argv[1][..], b"hello world");
        assert!(buf.is_empty());
    }

    #[test]
    fn inline_with_quotes() {
        let cmds = parse_all(b"set k \"a b\\x41\\n\" 'it\\'s'\r\nPING\n").unwrap();
        assert_eq!(
            cmds[0],
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"a bA\n".to_vec(),
                b"it's".to_vec()
            ]
        );
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(parse_all(b"set \"a\r\n"), Err(ParseError::UnbalancedQuotes));
        assert_eq!(
            parse_all(b"*x\r\n"),
            Err(ParseError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n+PING\r\n"),
            Err(ParseError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n"),
            Err(ParseError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(&vec![b'a'; 70 * 1024]),
            Err(ParseError::TooBigInline)
        );
        assert_eq!(
            ParseError::ExpectedDollar(b'+').to_string(),
            "Protocol error: expected '$', got '+'"
        );
    }

    #[test]
    fn bulk_limit_applies_except_from_master() {
        let small = ParseLimits {
            max_bulk_len: 3,
            ..LIMITS
        };
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
        assert_eq!(
            RequestParser::new().next(&mut buf, small).unwrap_err(),
            ParseError::InvalidBulkLength
        );
        let master = ParseLimits {
            from_master: true,
            ..small
        };
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
        assert!(matches!(
            RequestParser::new().next(&mut buf, master),
            Ok(Some(Parsed::Command(_)))
        ));
    }

    #[test]
    fn unauthenticated_limits() {
        let unauth = ParseLimits {
            unauthenticated: true,
            ..LIMITS
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            RequestParser::new().next(&mut buf, unauth).unwrap_err(),
            ParseError::UnauthenticatedMultibulkLength
        );
        let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        assert_eq!(
            RequestParser::new().next(&mut buf, unauth).unwrap_err(),
            ParseError::UnauthenticatedBulkLength
        );
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b""), None);
    }

    /// What a parser makes of `input` delivered in pieces cut at `cuts` (sorted offsets):
    /// every command or `Empty` (as `None`) it returns with the bytes it consumed, then the
    /// error that stopped it, if any.
    type Outcome = (Vec<Frame>, Option<ParseError>);
    /// A command's arguments (`None`: an empty request) and the bytes it occupied.
    type Frame = (Option<Vec<Vec<u8>>>, Vec<u8>);

    /// Where reads of `input` cut at `cuts` end, the last at its end.
    fn read_ends(input: &[u8], cuts: &[usize]) -> Vec<usize> {
        let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        ends.push(input.len());
        ends
    }

    fn feed(input: &[u8], cuts: &[usize], limits: ParseLimits) -> Outcome {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut start = 0;
        for end in read_ends(input, cuts) {
            if end < start {
                continue;
            }
            buf.extend_from_slice(&input[start..end]);
            start = end;
            loop {
                match parser.next_raw(&mut buf, limits) {
                    Ok(Some((Parsed::Command(argv), raw))) => got.push((
                        Some(argv.iter().map(|a| a.to_vec()).collect()),
                        raw.to_vec(),
                    )),
                    Ok(Some((Parsed::Empty, raw))) => got.push((None, raw.to_vec())),
                    Ok(None) => break,
                    Err(e) => return (got, Some(e)),
                }
            }
        }
        (got, None)
    }

    fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", argv.len()).into_bytes();
        for a in argv {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    use proptest::prelude::*;

    /// Pieces of RESP and of junk, so random inputs reach every state of the parser.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"*".to_vec()),
            Just(b"$".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-1".to_vec()),
            Just(b"\"".to_vec()),
            (0u32..70).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    proptest! {
        /// The fuzz target's properties (fuzz/fuzz_targets/resp_parse.rs), run in CI: any
        /// bytes, cut anywhere, never panic, and the parser's answers do not depend on how
        /// the bytes were cut into reads.
        #[test]
        fn any_bytes_parse_the_same_however_they_are_cut(
            input in proptest::collection::vec(token(), 0..80).prop_map(|t| t.concat()),
            cuts in proptest::collection::vec(0usize..600, 0..12),
            from_master in any::<bool>(),
            unauthenticated in any::<bool>(),
        ) {
            let limits = ParseLimits { max_bulk_len: 64, unauthenticated, from_master };
            let mut cuts = cuts;
            cuts.sort_unstable();
            let whole = feed(&input, &[], limits);
            prop_assert_eq!(feed(&input, &cuts, limits), whole);
        }

        /// Well-formed commands (binary arguments, any number) come back exactly, with the
        /// exact bytes they occupied (what a replica forwards), whatever the cuts.
        #[test]
        fn encoded_commands_round_trip(
            commands in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6),
                1..6,
            ),
            cuts in proptest::collection::vec(0usize..2000, 0..12),
        ) {
            let mut input = Vec::new();
            for c in &commands {
                input.extend_from_slice(&encode(c));
            }
            let mut cuts = cuts;
            cuts.sort_unstable();
            let (got, error) = feed(&input, &cuts, LIMITS);
            prop_assert_eq!(error, None);
            let expected: Vec<Frame> = commands
                .iter()
                .map(|c| (Some(c.clone()), encode(c)))
                .collect();
            prop_assert_eq!(got, expected);
        }
    }

    /// Feeds `input` through [`RequestParser::next`] in pieces cut at `cuts`, the way a
    /// connection reads: into a buffer that only grows to what the parser wants while a big
    /// argument is read apart. Returns each command's arguments.
    fn feed_apart(input: &[u8], cuts: &[usize]) -> Vec<Argv> {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut start = 0;
        for end in read_ends(input, cuts) {
            let mut end = end.max(start);
            while start < end {
                // A big argument's buffer takes no more than it lacks.
                let room = parser.big_arg_wanted(&buf).unwrap_or(usize::MAX);
                let take = (end - start).min(room.max(1));
                if let Some(wanted) = parser.big_arg_wanted(&buf) {
                    assert!(
                        buf.capacity() - buf.len() >= wanted,
                        "room for the big argument"
                    );
                }
                buf.extend_from_slice(&input[start..start + take]);
                start += take;
                while let Some(p) = parser.next(&mut buf, LIMITS).unwrap() {
                    if let Parsed::Command(argv) = p {
                        got.push(argv);
                    }
                }
                end = end.max(start);
            }
        }
        got
    }

    fn big(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[test]
    fn a_big_argument_arriving_in_pieces_gets_a_buffer_of_its_own() {
        let value = big(BIG_ARG + 1000, 7);
        let input = encode(&[b"SET".to_vec(), b"k".to_vec(), value.clone()]);
        let got = feed_apart(&input, &[20, 5000, 40_000]);
        assert_eq!(got.len(), 1);
        let argv = &got[0];
        assert_eq!(&argv[0][..], b"SET");
        assert_eq!(&argv[1][..], b"k");
        assert_eq!(&argv[2][..], &value[..]);
        // Nothing else holds its allocation: not the request's other bytes, not the input
        // buffer. (Before, it was a slice of the request.)
        assert!(argv[2].is_unique());
    }

    #[test]
    fn consecutive_big_arguments_each_get_a_buffer_of_their_own() {
        // The same size (the buffer left by the previous one is taken over in place), a
        // smaller one (too, within a size class), a bigger one (a new allocation).
        let sizes = [2 * BIG_ARG, 2 * BIG_ARG, 2 * BIG_ARG - 100, 3 * BIG_ARG];
        let values: Vec<Vec<u8>> = sizes.iter().map(|&n| big(n, n as u8)).collect();
        let mut input = Vec::new();
        // Each request arrives with its header and a little of its value, as reads cut it.
        let mut cuts = Vec::new();
        for (i, v) in values.iter().enumerate() {
            cuts.push(input.len() + 30);
            let key = format!("k{i}").into_bytes();
            input.extend_from_slice(&encode(&[b"SET".to_vec(), key, v.clone()]));
        }
        let got = feed_apart(&input, &cuts);
        assert_eq!(got.len(), values.len());
        for (argv, v) in got.iter().zip(&values) {
            assert_eq!(argv[1][0], b'k');
            assert_eq!(&argv[2][..], &v[..]);
            assert!(argv[2].is_unique());
        }
    }

    #[test]
    fn a_big_argument_already_received_whole_stays_in_the_input_buffer() {
        let value = big(BIG_ARG, 3);
        let input = encode(&[b"SET".to_vec(), b"k".to_vec(), value.clone()]);
        let got = feed_apart(&input, &[]);
        assert_eq!(&got[0][2][..], &value[..]);
        assert!(!got[0][2].is_unique());
    }

    #[test]
    fn arguments_around_big_ones_and_the_next_commands_parse_as_before() {
        let (a, b) = (big(BIG_ARG + 5, 1), big(3 * BIG_ARG, 2));
        let mset = vec![
            b"MSET".to_vec(),
            b"k1".to_vec(),
            a.clone(),
            b"k2".to_vec(),
            b.clone(),
            b"k3".to_vec(),
            b"small".to_vec(),
        ];
        let set = vec![
            b"SET".to_vec(),
            b"k".to_vec(),
            a.clone(),
            b"EX".to_vec(),
            b"100".to_vec(),
        ];
        let mut input = encode(&mset);
        input.extend_from_slice(&encode(&set));
        input.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        for cuts in [
            vec![],
            vec![30],
            vec![10, 33_000, 70_000, 140_000, 150_000],
            vec![1; 1],
        ] {
            let got = feed_apart(&input, &cuts);
            let plain: Vec<Vec<Vec<u8>>> = got
                .iter()
                .map(|argv| argv.iter().map(|a| a.to_vec()).collect())
                .collect();
            assert_eq!(
                plain,
                vec![mset.clone(), set.clone(), vec![b"PING".to_vec()]]
            );
        }
        // Cut right after each big header: every big argument is read apart.
        let after = |header: String| {
            let h = header.as_bytes();
            input.windows(h.len()).position(|w| w == h).unwrap() + h.len()
        };
        let cuts = [
            after(format!("${}\r\n", a.len())),
            after(format!("${}\r\n", b.len())),
        ];
        let got = feed_apart(&input, &cuts);
        assert!(got[0][2].is_unique() && got[0][4].is_unique());
    }

    #[test]
    fn the_master_link_and_raw_frames_keep_big_arguments_in_the_stream() {
        let value = big(BIG_ARG + 10, 9);
        let input = encode(&[b"SET".to_vec(), b"k".to_vec(), value]);
        let master = ParseLimits {
            from_master: true,
            ..LIMITS
        };
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::from(&input[..40]);
        assert!(parser.next(&mut buf, master).unwrap().is_none());
        assert_eq!(parser.big_arg_wanted(&buf), None);
        assert_eq!(&buf[..], &input[..40], "nothing split off");
        // next_raw returns the request's bytes whole, whoever the client.
        let (got, _) = feed(&input, &[40, 1000], LIMITS);
        assert_eq!(got[0].1, input);
    }
}
