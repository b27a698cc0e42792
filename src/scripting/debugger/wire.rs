//! The debugger's side of the wire: the commands it reads (Redis's forgiving
//! `ldbReplParseCommand`) and command replies shown in human form
//! (`ldbRedisProtocolToHuman`).

use crate::resp::parser::repr;

/// Redis's `ldbRedisProtocolToHuman`: appends the first RESP value of `reply` in human
/// form; returns the bytes it used.
pub(super) fn human_reply(reply: &[u8], out: &mut Vec<u8>) -> usize {
    let Some(&kind) = reply.first() else {
        return 0;
    };
    let Some(cr) = reply.iter().position(|&b| b == b'\r') else {
        return reply.len();
    };
    let header = &reply[1..cr];
    let count = std::str::from_utf8(header)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    let mut used = (cr + 2).min(reply.len());
    match kind {
        b':' => out.extend_from_slice(header),
        b'$' if count < 0 => out.extend_from_slice(b"NULL"),
        b'$' => {
            let end = (used + count as usize).min(reply.len());
            out.extend_from_slice(repr(&reply[used..end]).as_bytes());
            used = (end + 2).min(reply.len());
        }
        b'+' | b'-' => out.extend_from_slice(repr(&reply[..cr]).as_bytes()),
        b'*' if count < 0 => out.extend_from_slice(b"NULL"),
        b'*' | b'~' => {
            out.extend_from_slice(if kind == b'*' { b"[" } else { b"~(" });
            for j in 0..count {
                used += human_reply(&reply[used..], out);
                if j != count - 1 {
                    out.push(b',');
                }
            }
            out.extend_from_slice(if kind == b'*' { b"]" } else { b")" });
        }
        b'%' => {
            out.push(b'{');
            for j in 0..count {
                used += human_reply(&reply[used..], out);
                out.extend_from_slice(b" => ");
                used += human_reply(&reply[used..], out);
                if j != count - 1 {
                    out.push(b',');
                }
            }
            out.push(b'}');
        }
        b'_' => out.extend_from_slice(b"(null)"),
        b'#' => out.extend_from_slice(if header == b"t" { b"#true" } else { b"#false" }),
        b',' => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(header);
        }
        _ => {}
    }
    used
}

/// C's `atoi`: the leading integer of `bytes`, 0 when there is none.
pub(super) fn leading_int(bytes: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

/// What the debugger's parser made of its input.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parse {
    Command(Vec<Vec<u8>>),
    Incomplete,
    Invalid,
}

/// Redis's `ldbReplParseCommand`: a RESP array of 1 to 1024 bulk strings of 1 to 1024
/// bytes (anything before the first `*` is skipped, as Redis skips it).
pub(super) fn parse_command(input: &[u8]) -> Parse {
    if input.is_empty() {
        return Parse::Incomplete;
    }
    let Some(star) = input.iter().position(|&b| b == b'*') else {
        return Parse::Invalid;
    };
    let mut p = star + 1;
    let Some((count, next)) = header_number(input, p) else {
        return Parse::Incomplete;
    };
    if !(1..=1024).contains(&count) {
        return Parse::Invalid;
    }
    p = next;
    let mut argv = Vec::with_capacity(count as usize);
    while argv.len() < count as usize {
        match input.get(p) {
            None => return Parse::Incomplete,
            Some(b'$') => {}
            Some(_) => return Parse::Invalid,
        }
        let Some((len, start)) = header_number(input, p + 1) else {
            return Parse::Incomplete;
        };
        if !(1..=1024).contains(&len) {
            return Parse::Invalid;
        }
        let end = start + len as usize;
        if end + 2 > input.len() {
            return Parse::Incomplete;
        }
        argv.push(input[start..end].to_vec());
        if &input[end..end + 2] != b"\r\n" {
            return Parse::Invalid;
        }
        p = end + 2;
    }
    Parse::Command(argv)
}

/// The number from `at` to the next CRLF (as `atoi` reads it) and where the data after
/// the CRLF starts; `None` until the CRLF arrived.
fn header_number(input: &[u8], at: usize) -> Option<(i64, usize)> {
    let rest = input.get(at..)?;
    let crlf = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((leading_int(&rest[..crlf]), at + crlf + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_as_redis_parses_them() {
        assert_eq!(
            parse_command(b"*2\r\n$1\r\nb\r\n$2\r\n10\r\n"),
            Parse::Command(vec![b"b".to_vec(), b"10".to_vec()])
        );
        assert_eq!(parse_command(b"*2\r\n$1\r\nb\r\n"), Parse::Incomplete);
        assert_eq!(parse_command(b"*2\r\n$1\r\nb\r"), Parse::Incomplete);
        assert_eq!(parse_command(b""), Parse::Incomplete);
        assert_eq!(parse_command(b"step\r\n"), Parse::Invalid);
        assert_eq!(parse_command(b"*0\r\n"), Parse::Invalid);
        assert_eq!(parse_command(b"*1\r\n$0\r\n\r\n"), Parse::Invalid);
        assert_eq!(parse_command(b"*1\r\n+s\r\n"), Parse::Invalid);
        assert_eq!(parse_command(b"*1025\r\n"), Parse::Invalid);
        assert_eq!(
            parse_command(b"junk*1\r\n$1\r\ns\r\n"),
            Parse::Command(vec![b"s".to_vec()])
        );
    }

    #[test]
    fn replies_read_as_redis_shows_them() {
        let human = |resp: &[u8]| {
            let mut out = Vec::new();
            human_reply(resp, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(human(b"+OK\r\n"), "\"+OK\"");
        assert_eq!(human(b"-ERR no\r\n"), "\"-ERR no\"");
        assert_eq!(human(b":12\r\n"), "12");
        assert_eq!(human(b"$-1\r\n"), "NULL");
        assert_eq!(human(b"$3\r\na\nb\r\n"), "\"a\\nb\"");
        assert_eq!(human(b"*2\r\n$1\r\na\r\n:1\r\n"), "[\"a\",1]");
        assert_eq!(human(b"*-1\r\n"), "NULL");
        assert_eq!(human(b"%1\r\n$1\r\nk\r\n#t\r\n"), "{\"k\" => #true}");
        assert_eq!(human(b"~1\r\n,1.5\r\n"), "~((double) 1.5)");
        assert_eq!(human(b"_\r\n"), "(null)");
    }
}
