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

/// Progress inside a multibulk request that has not fully arrived yet.
#[derive(Debug, Default)]
struct Multibulk {
    /// Arguments still expected.
    remaining: usize,
    /// Byte ranges of the arguments seen so far, relative to the start of the buffer.
    args: SmallVec<[(usize, usize); 4]>,
    /// Where the next unparsed byte of this request is.
    pos: usize,
    /// Length of the bulk argument whose header was parsed but whose payload has not arrived.
    bulk_len: Option<usize>,
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

    /// Parses the next request from `buf`. `Ok(None)` means more bytes are needed; consumed
    /// bytes are removed from `buf` only when a request is complete.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
    ) -> Result<Option<Parsed>, ParseError> {
        Ok(self.next_raw(buf, limits)?.map(|(p, _)| p))
    }

    /// Like [`RequestParser::next`], also returning the exact bytes the request occupied
    /// (a replica forwards its master's stream byte for byte).
    pub fn next_raw(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
    ) -> Result<Option<(Parsed, Bytes)>, ParseError> {
        if self.multibulk.is_none() {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => return parse_inline(buf),
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
                return Ok(None);
            }
            mb.args.push((mb.pos, mb.pos + len));
            // Like Redis, the two bytes after the payload are skipped without being checked.
            mb.pos += len + 2;
            mb.bulk_len = None;
            mb.remaining -= 1;
        }
        let Some(mb) = self.multibulk.take() else {
            return Ok(None);
        };
        let frame = buf.split_to(mb.pos).freeze();
        let argv = mb
            .args
            .iter()
            .map(|&(start, end)| frame.slice(start..end))
            .collect();
        Ok(Some((Parsed::Command(argv), frame)))
    }
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

    fn feed(input: &[u8], cuts: &[usize], limits: ParseLimits) -> Outcome {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut edges: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        edges.push(input.len());
        let mut start = 0;
        for end in edges {
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
}
