//! Reading an append-only file's commands back.
//!
//! An AOF file is a sequence of RESP arrays of bulk strings (one per command), possibly
//! with `#` annotation lines between them (Redis writes `#TS:<unix>` ones with
//! `aof-timestamp-enabled`). A file cut in the middle of a command (a crash while
//! writing) is *truncated*, which the loader may forgive for the last file
//! (`aof-load-truncated`); anything else that is not a command is a format error. Memory
//! grows with the bytes actually read, never with a length the file announces.

use std::io::{BufRead, Read};

use bytes::Bytes;

/// What the reader found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// One complete command.
    Command(Vec<Bytes>),
    /// The end of the file, after a complete command (or at its start).
    End,
    /// The file ends in the middle of a command; [`CommandReader::valid_up_to`] is where
    /// the last complete one ended.
    Truncated,
}

/// Not an append-only file (Redis: "Bad file format reading the append only file").
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Something other than a command where one should start, or a malformed header.
    #[error("Bad file format reading the append only file at byte {offset}: {reason}")]
    Bad {
        /// Where the bad bytes start.
        offset: u64,
        /// What was expected.
        reason: &'static str,
    },
    /// The file could not be read.
    #[error("Unrecoverable error reading the append only file: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads commands from an AOF file (or what follows an RDB preamble in one).
pub struct CommandReader<R> {
    inner: R,
    /// Bytes consumed so far.
    offset: u64,
    /// End of the last complete command (or annotation).
    valid: u64,
}

/// Longest header line (`*<n>` or `$<n>`) accepted.
const MAX_HEADER: usize = 64;

impl<R: BufRead> CommandReader<R> {
    /// A reader whose input starts at byte `start` of the file (after a preamble).
    pub fn new(inner: R, start: u64) -> CommandReader<R> {
        CommandReader {
            inner,
            offset: start,
            valid: start,
        }
    }

    /// Where the last complete command ended: a truncated file is cut there.
    pub fn valid_up_to(&self) -> u64 {
        self.valid
    }

    /// The next command.
    pub fn next_command(&mut self) -> Result<Next, FormatError> {
        loop {
            let Some(first) = self.peek()? else {
                return Ok(Next::End);
            };
            if first == b'#' {
                // An annotation line: skipped whole; a cut one is a truncation.
                let mut line = Vec::new();
                let n = (&mut self.inner)
                    .take(1 << 20)
                    .read_until(b'\n', &mut line)?;
                self.offset += n as u64;
                if !line.ends_with(b"\n") {
                    return Ok(Next::Truncated);
                }
                self.valid = self.offset;
                continue;
            }
            if first != b'*' {
                return Err(FormatError::Bad {
                    offset: self.offset,
                    reason: "a command must start with '*'",
                });
            }
            return self.command();
        }
    }

    fn command(&mut self) -> Result<Next, FormatError> {
        let Some(argc) = self.header(b'*')? else {
            return Ok(Next::Truncated);
        };
        if argc < 1 {
            return Err(FormatError::Bad {
                offset: self.offset,
                reason: "a command has at least one argument",
            });
        }
        let mut argv = Vec::with_capacity(argc.min(1024) as usize);
        for _ in 0..argc {
            if self.peek()?.is_none() {
                return Ok(Next::Truncated);
            }
            let Some(len) = self.header(b'$')? else {
                return Ok(Next::Truncated);
            };
            let mut arg = Vec::new();
            let n = (&mut self.inner).take(len + 2).read_to_end(&mut arg)?;
            self.offset += n as u64;
            if (n as u64) < len + 2 {
                return Ok(Next::Truncated);
            }
            if !arg.ends_with(b"\r\n") {
                return Err(FormatError::Bad {
                    offset: self.offset,
                    reason: "an argument must end with CRLF",
                });
            }
            arg.truncate(len as usize);
            argv.push(Bytes::from(arg));
        }
        self.valid = self.offset;
        Ok(Next::Command(argv))
    }

    /// Reads `<prefix><number>\r\n`; `None` when the file ends first.
    fn header(&mut self, prefix: u8) -> Result<Option<u64>, FormatError> {
        let start = self.offset;
        let mut line = Vec::new();
        let n = (&mut self.inner)
            .take(MAX_HEADER as u64)
            .read_until(b'\n', &mut line)?;
        self.offset += n as u64;
        if !line.ends_with(b"\n") {
            if n == MAX_HEADER {
                return Err(FormatError::Bad {
                    offset: start,
                    reason: "header line too long",
                });
            }
            return Ok(None);
        }
        let (count, header) = if prefix == b'*' {
            ("bad argument count", "expected '*'")
        } else {
            ("bad argument length", "expected '$'")
        };
        let body = line
            .strip_prefix(&[prefix])
            .and_then(|l| l.strip_suffix(b"\r\n"))
            .ok_or(FormatError::Bad {
                offset: start,
                reason: header,
            })?;
        std::str::from_utf8(body)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or(FormatError::Bad {
                offset: start,
                reason: count,
            })
    }

    fn peek(&mut self) -> Result<Option<u8>, FormatError> {
        Ok(self.inner.fill_buf()?.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (Vec<Vec<Bytes>>, Result<Next, String>, u64) {
        let mut r = CommandReader::new(bytes, 0);
        let mut out = Vec::new();
        loop {
            match r.next_command() {
                Ok(Next::Command(c)) => out.push(c),
                Ok(other) => return (out, Ok(other), r.valid_up_to()),
                Err(e) => return (out, Err(e.to_string()), r.valid_up_to()),
            }
        }
    }

    #[test]
    fn reads_commands_and_skips_annotations() {
        let file = b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
        let (cmds, end, valid) = read_all(file);
        assert_eq!(end, Ok(Next::End));
        assert_eq!(valid, file.len() as u64);
        assert_eq!(cmds.len(), 2);
        assert_eq!(
            cmds[1],
            vec![Bytes::from("SET"), Bytes::from("k"), Bytes::new()]
        );
    }

    #[test]
    fn a_cut_command_is_a_truncation_at_the_last_complete_one() {
        let whole = b"*1\r\n$4\r\nPING\r\n";
        let next = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
        for cut in 1..next.len() {
            let mut file = whole.to_vec();
            file.extend_from_slice(&next[..cut]);
            let (cmds, end, valid) = read_all(&file);
            assert_eq!(cmds.len(), 1, "cut at {cut}");
            assert_eq!(end, Ok(Next::Truncated), "cut at {cut}");
            assert_eq!(valid, whole.len() as u64);
        }
    }

    #[test]
    fn garbage_is_a_format_error() {
        let (_, end, _) = read_all(b"*1\r\n$4\r\nPING\r\nhello\r\n");
        assert!(end.unwrap_err().contains("at byte 14"));
        let (_, end, _) = read_all(b"*x\r\n");
        assert!(end.unwrap_err().contains("bad argument count"));
        let (_, end, _) = read_all(b"*1\r\n$4\r\nPINGxx");
        assert!(end.unwrap_err().contains("CRLF"));
        let (_, end, _) = read_all(b"*0\r\n");
        assert!(end.is_err());
    }

    #[test]
    fn a_huge_announced_length_reads_only_what_is_there() {
        let (cmds, end, valid) = read_all(b"*1\r\n$99999999999\r\nabc");
        assert!(cmds.is_empty());
        assert_eq!(end, Ok(Next::Truncated));
        assert_eq!(valid, 0);
    }
}
