//! The AOF manifest: which files, in which order, make the append-only file.
//!
//! Redis 7.0 keeps its append-only file as several files in `appenddirname`: one base (the
//! dataset at the last rewrite, an RDB or commands), the increment files written since, and
//! history files (a former base and increments, deleted once a rewrite completed). The
//! manifest `<appendfilename>.manifest` lists them one per line,
//! `file <name> seq <n> type <b|h|i>`, base first, then history, then increments in sequence
//! order. The format is Redis's so that either server, and `redis-check-aof`, reads the
//! other's directory.

use std::fmt;

/// What a file of the manifest holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The dataset at the last rewrite.
    Base,
    /// Commands written after the base.
    Incr,
    /// A former base or increment, waiting to be deleted.
    History,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::Incr => 'i',
            FileKind::History => 'h',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    /// File name inside the AOF directory (never a path).
    pub name: String,
    /// Sequence number: bases and increments are numbered separately.
    pub seq: u64,
    /// What it holds.
    pub kind: FileKind,
}

/// The files of an append-only file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base, if a rewrite ever produced one.
    pub base: Option<AofFile>,
    /// Increments, in sequence order.
    pub incrs: Vec<AofFile>,
    /// Files to delete.
    pub history: Vec<AofFile>,
}

/// Why a manifest does not parse (Redis's texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// No line at all.
    #[error("Found an empty AOF manifest")]
    Empty,
    /// A line Redis would not accept.
    #[error("Invalid AOF manifest file format (line {0})")]
    Format(usize),
    /// A name with a directory part.
    #[error("File can't be a path, just a filename (line {0})")]
    Path(usize),
    /// Two base lines.
    #[error("Found duplicate base file information (line {0})")]
    DuplicateBase(usize),
    /// Increments out of order.
    #[error("Found a non-monotonic sequence number (line {0})")]
    NonMonotonic(usize),
    /// A type letter other than b, i, h.
    #[error("Unknown AOF file type (line {0})")]
    UnknownType(usize),
    /// A line longer than Redis reads.
    #[error("The AOF manifest file contains too long line (line {0})")]
    LongLine(usize),
}

/// Redis reads manifest lines into a 1024-byte buffer.
const MAX_LINE: usize = 1024;

impl Manifest {
    /// Parses a manifest as Redis's `aofLoadManifestFromFile` does: `#` lines are comments,
    /// keys are case-insensitive, unknown key pairs are ignored (forward compatibility).
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest::default();
        let mut max_incr_seq = 0;
        let mut lines = 0;
        for (i, raw) in text.split_inclusive(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            lines = n;
            if raw.first() == Some(&b'#') {
                continue;
            }
            if raw.len() > MAX_LINE || !raw.ends_with(b"\n") {
                return Err(ManifestError::LongLine(n));
            }
            let line = raw.trim_ascii();
            if line.is_empty() {
                return Err(ManifestError::Format(n));
            }
            let args = crate::resp::parser::split_args(line).ok_or(ManifestError::Format(n))?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(ManifestError::Format(n));
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for pair in args.chunks(2) {
                let value = &pair[1];
                if pair[0].eq_ignore_ascii_case(b"file") {
                    let text =
                        String::from_utf8(value.clone()).map_err(|_| ManifestError::Format(n))?;
                    if text.contains('/') || text.is_empty() {
                        return Err(ManifestError::Path(n));
                    }
                    name = Some(text);
                } else if pair[0].eq_ignore_ascii_case(b"seq") {
                    // Redis reads it with atoll: leading digits, 0 when none.
                    seq = leading_number(value);
                } else if pair[0].eq_ignore_ascii_case(b"type") {
                    kind = value.first().copied();
                }
            }
            let (Some(name), Some(letter)) = (name, kind) else {
                return Err(ManifestError::Format(n));
            };
            if seq == 0 {
                return Err(ManifestError::Format(n));
            }
            match letter {
                b'b' => {
                    if manifest.base.is_some() {
                        return Err(ManifestError::DuplicateBase(n));
                    }
                    manifest.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileKind::Base,
                    });
                }
                b'h' => manifest.history.push(AofFile {
                    name,
                    seq,
                    kind: FileKind::History,
                }),
                b'i' => {
                    if seq <= max_incr_seq {
                        return Err(ManifestError::NonMonotonic(n));
                    }
                    max_incr_seq = seq;
                    manifest.incrs.push(AofFile {
                        name,
                        seq,
                        kind: FileKind::Incr,
                    });
                }
                _ => return Err(ManifestError::UnknownType(n)),
            }
        }
        if lines == 0 {
            return Err(ManifestError::Empty);
        }
        Ok(manifest)
    }

    /// Sequence number of the base (0 before the first rewrite).
    pub fn base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.seq)
    }

    /// Sequence number of the last increment (0 when none).
    pub fn last_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(0, |f| f.seq)
    }

    /// Files to read at load time, in order: the base, then every increment.
    pub fn load_order(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(self.incrs.iter())
    }

    /// True when the manifest names no base and no increment.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incrs.is_empty()
    }

    /// Adds a new increment after the last one.
    pub fn push_incr(&mut self, name: String) {
        let seq = self.last_incr_seq() + 1;
        self.incrs.push(AofFile {
            name,
            seq,
            kind: FileKind::Incr,
        });
    }

    /// A rewrite completed: `base` replaces the former base, and every increment up to
    /// `last_covered_seq` (the ones the new base contains) becomes history.
    pub fn install_base(&mut self, base: AofFile, last_covered_seq: u64) {
        if let Some(mut old) = self.base.replace(base) {
            old.kind = FileKind::History;
            self.history.push(old);
        }
        let (covered, kept): (Vec<_>, Vec<_>) = self
            .incrs
            .drain(..)
            .partition(|f| f.seq <= last_covered_seq);
        self.incrs = kept;
        self.history.extend(covered.into_iter().map(|mut f| {
            f.kind = FileKind::History;
            f
        }));
    }
}

impl fmt::Display for Manifest {
    /// Redis's order: base, history, increments; names quoted only when they need it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in self.base.iter().chain(&self.history).chain(&self.incrs) {
            writeln!(
                f,
                "file {} seq {} type {}",
                quoted(&file.name),
                file.seq,
                file.kind.letter()
            )?;
        }
        Ok(())
    }
}

fn leading_number(bytes: &[u8]) -> u64 {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&bytes[..digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A name as Redis writes it in the manifest: bare when it is plain, otherwise quoted
/// with escapes (Redis's `sdscatrepr`), which the parser's splitter reads back.
fn quoted(name: &str) -> String {
    crate::resp::parser::quote_if_needed(name.as_bytes())
}

/// File names Redis gives the parts of an append-only file named `stem`
/// (`appendfilename`).
pub mod names {
    /// `<stem>.manifest`.
    pub fn manifest(stem: &str) -> String {
        format!("{stem}.manifest")
    }

    /// `<stem>.<seq>.base.rdb` or `.base.aof`.
    pub fn base(stem: &str, seq: u64, rdb: bool) -> String {
        let format = if rdb { "rdb" } else { "aof" };
        format!("{stem}.{seq}.base.{format}")
    }

    /// `<stem>.<seq>.incr.aof`.
    pub fn incr(stem: &str, seq: u64) -> String {
        format!("{stem}.{seq}.incr.aof")
    }

    /// `temp-<name>`: a file being written, renamed when complete.
    pub fn temp(name: &str) -> String {
        format!("temp-{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_redis_writes_and_writes_it_back() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\n\
                     file appendonly.aof.1.incr.aof seq 1 type h\n\
                     file appendonly.aof.2.incr.aof seq 2 type i\n\
                     file appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base_seq(), 2);
        assert_eq!(m.last_incr_seq(), 3);
        assert_eq!(m.history.len(), 1);
        let order: Vec<_> = m.load_order().map(|f| f.name.as_str()).collect();
        assert_eq!(
            order,
            [
                "appendonly.aof.2.base.rdb",
                "appendonly.aof.2.incr.aof",
                "appendonly.aof.3.incr.aof"
            ]
        );
        assert_eq!(m.to_string().as_bytes(), text);
    }

    #[test]
    fn comments_case_and_extra_pairs_are_accepted() {
        let text = b"# written by hand\nFILE a.1.base.rdb SEQ 1 TYPE b extra 7\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.unwrap().name, "a.1.base.rdb");
    }

    #[test]
    fn refuses_what_redis_refuses() {
        assert_eq!(Manifest::parse(b""), Err(ManifestError::Empty));
        assert_eq!(Manifest::parse(b"\n"), Err(ManifestError::Format(1)));
        assert_eq!(
            Manifest::parse(b"file a seq 1\n"),
            Err(ManifestError::Format(1))
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type b"),
            Err(ManifestError::LongLine(1))
        );
        assert_eq!(
            Manifest::parse(b"file ../a seq 1 type b\n"),
            Err(ManifestError::Path(1))
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type b\nfile b seq 2 type b\n"),
            Err(ManifestError::DuplicateBase(2))
        );
        assert_eq!(
            Manifest::parse(b"file a seq 2 type i\nfile b seq 2 type i\n"),
            Err(ManifestError::NonMonotonic(2))
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type x\n"),
            Err(ManifestError::UnknownType(1))
        );
        assert_eq!(
            Manifest::parse(b"file a seq 0 type i\n"),
            Err(ManifestError::Format(1))
        );
        let long = format!("file {} seq 1 type b\n", "a".repeat(1100));
        assert_eq!(
            Manifest::parse(long.as_bytes()),
            Err(ManifestError::LongLine(1))
        );
    }

    #[test]
    fn odd_names_are_quoted_and_read_back() {
        let mut m = Manifest::default();
        m.push_incr("my file \"x\".1.incr.aof".into());
        let text = m.to_string();
        assert_eq!(text, "file \"my file \\\"x\\\".1.incr.aof\" seq 1 type i\n");
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn a_rewrite_moves_what_the_base_covers_to_history() {
        let mut m = Manifest {
            base: Some(AofFile {
                name: "a.1.base.rdb".into(),
                seq: 1,
                kind: FileKind::Base,
            }),
            ..Manifest::default()
        };
        m.push_incr("a.1.incr.aof".into());
        m.push_incr("a.2.incr.aof".into());
        m.install_base(
            AofFile {
                name: "a.2.base.rdb".into(),
                seq: 2,
                kind: FileKind::Base,
            },
            1,
        );
        assert_eq!(m.base_seq(), 2);
        assert_eq!(m.incrs.iter().map(|f| f.seq).collect::<Vec<_>>(), [2]);
        assert_eq!(
            m.history
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["a.1.base.rdb", "a.1.incr.aof"]
        );
        assert!(m.history.iter().all(|f| f.kind == FileKind::History));
    }
}
