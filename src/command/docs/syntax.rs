//! Our compact argument syntax, and the parser that turns it into the argument tree COMMAND
//! DOCS reports.
//!
//! The catalog describes a command's arguments the way a reader would write them, close to
//! the synopsis redis-cli prints, so a row stays one readable line:
//!
//! ```text
//! key value condition=[NX | XX]@2.6.12 [GET]@6.2.0 [EX seconds:integer | KEEPTTL@6.0.0]
//! ```
//!
//! - a word in capitals is a pure token (`NX`); any other word is an argument, `name:type`
//!   with type `key`, `string`, `integer`, `double`, `pattern` or `unix-time` (default
//!   `string`, except that the name `key` alone means a key);
//! - `[ ... ]` is optional, `( ... )` is required; `a | b` inside either is a choice (oneof);
//! - a bracketed sequence that starts with a token followed by arguments gives that token to
//!   what follows: `[COUNT count:integer]` is one argument with the token COUNT, and
//!   `[LIMIT offset:integer count:integer]` a block with the token LIMIT; a sequence made only
//!   of tokens (`NO ONE`) stays a plain block;
//! - `( ... )` around one sequence always makes a block, even of a single argument, because
//!   Redis reports some repeated arguments that way (`(key value)...`, `(parameter)...`);
//!   the exception is a token and one argument, `(COUNT count:integer)`: that argument with
//!   the token, required, where it could not start a sequence otherwise;
//! - after an element: `...` repeats it (on a bracket whose token came from inside, the token
//!   repeats too: `multiple_token`), `@x.y.z` is the version it appeared in, `!x.y.z` the
//!   version that deprecated it; they come in that order;
//! - `name=` before a bracket names a choice or block (otherwise a name is derived);
//! - `name='x'` is a pure token that is not a word in capitals (`equal='='`, `auto_id='*'`):
//!   the token is what stands between the quotes (possibly nothing: MIGRATE's `""` key),
//!   the name what comes before.
//!
//! Key arguments are numbered in the order they appear (`key_spec_index`), as Redis numbers
//! its key specs for the commands replikv implements; `name:key+` is a key of the same spec
//! as the key before it (one range spec over both, as LCS's). `name:keypattern` is a
//! pattern whose expansions are keys, numbered like a key (SORT's BY), and
//! `name:keypattern+` one of the previous spec (SORT's GET).

use std::fmt;

/// What an argument is, as COMMAND DOCS names it in `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A key name.
    Key,
    /// Any string.
    Str,
    /// An integer.
    Integer,
    /// A floating point number.
    Double,
    /// A glob-style pattern.
    Pattern,
    /// A Unix timestamp.
    UnixTime,
    /// A literal word with nothing after it (`NX`).
    PureToken,
    /// Exactly one of the nested arguments.
    OneOf(Vec<Arg>),
    /// All nested arguments, in order.
    Block(Vec<Arg>),
}

impl Kind {
    /// The `type` value Redis reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::Str => "string",
            Kind::Integer => "integer",
            Kind::Double => "double",
            Kind::Pattern => "pattern",
            Kind::UnixTime => "unix-time",
            Kind::PureToken => "pure-token",
            Kind::OneOf(_) => "oneof",
            Kind::Block(_) => "block",
        }
    }

    /// Nested arguments of a choice or block.
    pub fn children(&self) -> Option<&[Arg]> {
        match self {
            Kind::OneOf(v) | Kind::Block(v) => Some(v),
            _ => None,
        }
    }

    fn children_mut(&mut self) -> Option<&mut Vec<Arg>> {
        match self {
            Kind::OneOf(v) | Kind::Block(v) => Some(v),
            _ => None,
        }
    }
}

/// One argument of a command, as COMMAND DOCS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// `name`.
    pub name: String,
    /// `type` and, for choices and blocks, the nested `arguments`.
    pub kind: Kind,
    /// `key_spec_index`, for key arguments.
    pub key_spec_index: Option<usize>,
    /// A key of the same key spec as the key before it (`name:key+`), as LCS's two keys
    /// are one range spec in Redis.
    pub same_spec_as_previous: bool,
    /// A pattern whose expansions are key names, with a key spec of its own (SORT's BY
    /// and GET: `name:keypattern`, or `name:keypattern+` for the previous one's spec).
    pub pattern_of_keys: bool,
    /// `token`: the literal word that introduces the argument.
    pub token: Option<&'static str>,
    /// `since`: the version that added the argument.
    pub since: Option<&'static str>,
    /// `deprecated_since`.
    pub deprecated_since: Option<&'static str>,
    /// `optional` flag.
    pub optional: bool,
    /// `multiple` flag.
    pub multiple: bool,
    /// `multiple_token` flag: the token repeats with each repetition.
    pub multiple_token: bool,
}

impl Arg {
    fn new(name: String, kind: Kind) -> Arg {
        Arg {
            name,
            kind,
            key_spec_index: None,
            same_spec_as_previous: false,
            pattern_of_keys: false,
            token: None,
            since: None,
            deprecated_since: None,
            optional: false,
            multiple: false,
            multiple_token: false,
        }
    }

    /// The flags COMMAND DOCS lists, in Redis's order.
    pub fn flags(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.optional, "optional"),
            (self.multiple, "multiple"),
            (self.multiple_token, "multiple_token"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// Why a syntax string does not parse (found by the catalog's unit tests, never at run time
/// in a released build).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The offending string.
    pub source: &'static str,
    /// Byte offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {} of {:?}",
            self.reason, self.at, self.source
        )
    }
}

/// Parses a syntax string into the argument list of a command, with key spec indexes set.
pub fn parse(source: &'static str) -> Result<Vec<Arg>, SyntaxError> {
    let tokens = lex(source)?;
    let mut parser = Parser {
        source,
        tokens,
        pos: 0,
    };
    let elems = parser.sequence()?;
    if let Some(t) = parser.peek() {
        return Err(parser.error(t.at, "unbalanced bracket or stray '|'"));
    }
    let mut args = Vec::with_capacity(elems.len());
    for elem in elems {
        args.push(parser.elem_to_arg(elem)?);
    }
    let mut next_key = 0;
    number_keys(&mut args, &mut next_key);
    Ok(args)
}

fn number_keys(args: &mut [Arg], next: &mut usize) {
    for arg in args {
        if arg.kind == Kind::Key || arg.pattern_of_keys {
            if arg.same_spec_as_previous && *next > 0 {
                arg.key_spec_index = Some(*next - 1);
            } else {
                arg.key_spec_index = Some(*next);
                *next += 1;
            }
        }
        if let Some(children) = arg.kind.children_mut() {
            number_keys(children, next);
        }
    }
}

// ---- lexer ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Open(bool),
    Close(bool),
    Bar,
    Label(&'static str),
    Word(&'static str),
    Symbol(&'static str, &'static str),
    Repeat,
    Since(&'static str),
    Deprecated(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Lexeme {
    tok: Tok,
    at: usize,
}

fn is_word_byte(b: u8) -> bool {
    !b.is_ascii_whitespace() && !b"[]()|@!.=".contains(&b)
}

fn lex(source: &'static str) -> Result<Vec<Lexeme>, SyntaxError> {
    let bytes = source.as_bytes();
    let err = |at, reason| SyntaxError { source, at, reason };
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at = i;
        let b = bytes[i];
        let tok = match b {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'[' | b'(' => {
                i += 1;
                Tok::Open(b == b'[')
            }
            b']' | b')' => {
                i += 1;
                Tok::Close(b == b']')
            }
            b'|' => {
                i += 1;
                Tok::Bar
            }
            b'.' => {
                if !source[i..].starts_with("...") {
                    return Err(err(at, "'.' outside '...'"));
                }
                i += 3;
                Tok::Repeat
            }
            b'@' | b'!' => {
                i += 1;
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let version = &source[start..i];
                if !is_version(version) {
                    return Err(err(at, "a version is x.y.z"));
                }
                if b == b'@' {
                    Tok::Since(version)
                } else {
                    Tok::Deprecated(version)
                }
            }
            b'=' => return Err(err(at, "'=' must follow a name")),
            _ => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &source[at..i];
                if bytes.get(i) == Some(&b'=') && bytes.get(i + 1) == Some(&b'\'') {
                    let start = i + 2;
                    let Some(len) = source[start..].find('\'') else {
                        return Err(err(at, "unclosed quote"));
                    };
                    i = start + len + 1;
                    Tok::Symbol(word, &source[start..start + len])
                } else if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    if !matches!(bytes.get(i), Some(b'[' | b'(')) {
                        return Err(err(at, "a label names a bracket: name=[...]"));
                    }
                    Tok::Label(word)
                } else {
                    Tok::Word(word)
                }
            }
        };
        out.push(Lexeme { tok, at });
    }
    Ok(out)
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A word in capitals (letters, digits, `-`, `_`, starting with a letter) is a token.
fn is_token(word: &str) -> bool {
    word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

// ---- parser ----

#[derive(Debug)]
enum Atom {
    Word(&'static str),
    Symbol(&'static str, &'static str),
    Group {
        optional: bool,
        alts: Vec<Vec<Elem>>,
    },
}

#[derive(Debug)]
struct Elem {
    at: usize,
    label: Option<&'static str>,
    atom: Atom,
    repeat: bool,
    since: Option<&'static str>,
    deprecated: Option<&'static str>,
}

impl Elem {
    /// A token with nothing attached: the head of a tokened sequence.
    fn bare_token(&self) -> Option<&'static str> {
        match self.atom {
            Atom::Word(w)
                if is_token(w)
                    && self.label.is_none()
                    && !self.repeat
                    && self.since.is_none()
                    && self.deprecated.is_none() =>
            {
                Some(w)
            }
            _ => None,
        }
    }
}

struct Parser {
    source: &'static str,
    tokens: Vec<Lexeme>,
    pos: usize,
}

impl Parser {
    fn error(&self, at: usize, reason: &'static str) -> SyntaxError {
        SyntaxError {
            source: self.source,
            at,
            reason,
        }
    }

    fn peek(&self) -> Option<Lexeme> {
        self.tokens.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<Lexeme> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    /// Elements up to a closing bracket, a `|` or the end.
    fn sequence(&mut self) -> Result<Vec<Elem>, SyntaxError> {
        let mut elems = Vec::new();
        while let Some(t) = self.peek() {
            match t.tok {
                Tok::Close(_) | Tok::Bar => break,
                _ => elems.push(self.elem()?),
            }
        }
        Ok(elems)
    }

    fn elem(&mut self) -> Result<Elem, SyntaxError> {
        let Some(first) = self.bump() else {
            return Err(self.error(self.source.len(), "an argument is missing"));
        };
        let (label, head) = match first.tok {
            Tok::Label(l) => match self.bump() {
                Some(next) => (Some(l), next),
                None => return Err(self.error(first.at, "a label names a bracket")),
            },
            _ => (None, first),
        };
        let atom = match head.tok {
            Tok::Word(w) => Atom::Word(w),
            Tok::Symbol(name, token) if label.is_none() => Atom::Symbol(name, token),
            Tok::Open(optional) => {
                let mut alts = vec![self.sequence()?];
                loop {
                    match self.bump() {
                        Some(Lexeme { tok: Tok::Bar, .. }) => alts.push(self.sequence()?),
                        Some(Lexeme {
                            tok: Tok::Close(square),
                            at,
                        }) => {
                            if square != optional {
                                return Err(self.error(at, "mismatched brackets"));
                            }
                            break;
                        }
                        _ => return Err(self.error(head.at, "unclosed bracket")),
                    }
                }
                if alts.iter().any(Vec::is_empty) {
                    return Err(self.error(head.at, "empty bracket or choice"));
                }
                Atom::Group { optional, alts }
            }
            _ => return Err(self.error(head.at, "expected an argument")),
        };
        let mut elem = Elem {
            at: head.at,
            label,
            atom,
            repeat: false,
            since: None,
            deprecated: None,
        };
        if matches!(
            self.peek(),
            Some(Lexeme {
                tok: Tok::Repeat,
                ..
            })
        ) {
            self.pos += 1;
            elem.repeat = true;
        }
        if let Some(Lexeme {
            tok: Tok::Since(v), ..
        }) = self.peek()
        {
            self.pos += 1;
            elem.since = Some(v);
        }
        if let Some(Lexeme {
            tok: Tok::Deprecated(v),
            ..
        }) = self.peek()
        {
            self.pos += 1;
            elem.deprecated = Some(v);
        }
        if let Some(Lexeme {
            tok: Tok::Repeat | Tok::Since(_) | Tok::Deprecated(_),
            at,
        }) = self.peek()
        {
            return Err(self.error(at, "modifiers go in the order ... @since !deprecated"));
        }
        Ok(elem)
    }

    fn elem_to_arg(&self, elem: Elem) -> Result<Arg, SyntaxError> {
        let at = elem.at;
        let mut arg = match elem.atom {
            Atom::Word(w) => word_to_arg(w),
            Atom::Symbol(name, token) => {
                let mut arg = Arg::new(name.to_string(), Kind::PureToken);
                arg.token = Some(token);
                arg
            }
            Atom::Group { optional, mut alts } => {
                let mut arg = if alts.len() > 1 {
                    let mut choices = Vec::with_capacity(alts.len());
                    for alt in alts {
                        choices.push(self.seq_to_arg(alt, at)?);
                    }
                    let name = derived_name(&choices);
                    Arg::new(name, Kind::OneOf(choices))
                } else if optional {
                    let seq = alts.pop().unwrap_or_default();
                    let inner = self.seq_to_arg(seq, at)?;
                    if inner.optional {
                        return Err(self.error(at, "an optional argument inside [ ] alone"));
                    }
                    inner
                } else {
                    let seq = alts.pop().unwrap_or_default();
                    self.block(seq, at)?
                };
                arg.optional |= optional;
                arg
            }
        };
        if elem.repeat {
            if arg.multiple {
                return Err(self.error(at, "repeated twice"));
            }
            arg.multiple = true;
            arg.multiple_token = arg.token.is_some() && arg.kind != Kind::PureToken;
        }
        if let Some(v) = elem.since {
            if arg.since.replace(v).is_some() {
                return Err(self.error(at, "two versions for one argument"));
            }
        }
        if let Some(v) = elem.deprecated {
            if arg.deprecated_since.replace(v).is_some() {
                return Err(self.error(at, "two deprecations for one argument"));
            }
        }
        if let Some(label) = elem.label {
            arg.name = label.to_string();
        }
        Ok(arg)
    }

    /// One alternative of a choice, or the content of `[ ]`: a single element stays itself, a
    /// leading token is given to what follows, anything else is a block.
    fn seq_to_arg(&self, mut seq: Vec<Elem>, at: usize) -> Result<Arg, SyntaxError> {
        if seq.len() == 1 {
            let only = seq.pop().ok_or_else(|| self.error(at, "empty"))?;
            return self.elem_to_arg(only);
        }
        if let Some(token) = leading_token(&seq) {
            let mut rest: Vec<Elem> = seq.drain(1..).collect();
            if rest.len() == 1 {
                let only = rest.pop().ok_or_else(|| self.error(at, "empty"))?;
                let mut arg = self.elem_to_arg(only)?;
                if arg.token.is_none() {
                    arg.token = Some(token);
                    return Ok(arg);
                }
                let mut block = Arg::new(token.to_ascii_lowercase(), Kind::Block(vec![arg]));
                block.token = Some(token);
                return Ok(block);
            }
            let mut block = Arg::new(token.to_ascii_lowercase(), Kind::Block(self.args(rest)?));
            block.token = Some(token);
            return Ok(block);
        }
        let children = self.args(seq)?;
        Ok(Arg::new(derived_name(&children), Kind::Block(children)))
    }

    /// The content of `( )` with one alternative: a block, except `(TOKEN arg)`, which is
    /// that one argument with the token (Redis's `COUNT count` inside a block).
    fn block(&self, mut seq: Vec<Elem>, at: usize) -> Result<Arg, SyntaxError> {
        if seq.len() == 2 && leading_token(&seq).is_some() {
            return self.seq_to_arg(seq, at);
        }
        if let Some(token) = leading_token(&seq) {
            let rest: Vec<Elem> = seq.drain(1..).collect();
            let mut block = Arg::new(token.to_ascii_lowercase(), Kind::Block(self.args(rest)?));
            block.token = Some(token);
            return Ok(block);
        }
        if seq.is_empty() {
            return Err(self.error(at, "empty block"));
        }
        let children = self.args(seq)?;
        Ok(Arg::new(derived_name(&children), Kind::Block(children)))
    }

    fn args(&self, elems: Vec<Elem>) -> Result<Vec<Arg>, SyntaxError> {
        elems.into_iter().map(|e| self.elem_to_arg(e)).collect()
    }
}

/// The token heading a sequence, when what follows is more than tokens.
fn leading_token(seq: &[Elem]) -> Option<&'static str> {
    let token = seq.first()?.bare_token()?;
    let rest = &seq[1..];
    (!rest.is_empty() && !rest.iter().all(|e| e.bare_token().is_some())).then_some(token)
}

fn word_to_arg(word: &'static str) -> Arg {
    if is_token(word) {
        let mut arg = Arg::new(word.to_ascii_lowercase(), Kind::PureToken);
        arg.token = Some(word);
        return arg;
    }
    // `name:key+`: a key of the previous key's spec (a range spec covering both).
    if let Some(name) = word.strip_suffix(":key+") {
        let mut arg = Arg::new(name.to_string(), Kind::Key);
        arg.same_spec_as_previous = true;
        return arg;
    }
    // `name:keypattern[+]`: a pattern naming keys (SORT's BY and GET).
    for (suffix, same) in [(":keypattern+", true), (":keypattern", false)] {
        if let Some(name) = word.strip_suffix(suffix) {
            let mut arg = Arg::new(name.to_string(), Kind::Pattern);
            arg.pattern_of_keys = true;
            arg.same_spec_as_previous = same;
            return arg;
        }
    }
    let typed = word.rsplit_once(':').and_then(|(name, ty)| {
        let kind = match ty {
            "key" => Kind::Key,
            "string" => Kind::Str,
            "integer" => Kind::Integer,
            "double" => Kind::Double,
            "pattern" => Kind::Pattern,
            "unix-time" => Kind::UnixTime,
            _ => return None,
        };
        Some((name, kind))
    });
    match typed {
        Some((name, kind)) => Arg::new(name.to_string(), kind),
        None if word == "key" => Arg::new(word.to_string(), Kind::Key),
        None => Arg::new(word.to_string(), Kind::Str),
    }
}

/// A name for an unlabelled choice or block: its parts' names joined (`nx-xx`).
fn derived_name(parts: &[Arg]) -> String {
    parts
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join("-")
}

/// The synopsis redis-cli 7.0 builds from these arguments for `help` and hints (the same
/// rules: tokens before values, `[ ]` for optional, `|` between choices, `[x ...]` for
/// repeats). Used to check the catalog renders as a reader expects.
pub fn synopsis(args: &[Arg]) -> String {
    join(args, " ")
}

fn join(args: &[Arg], sep: &str) -> String {
    args.iter().map(render).collect::<Vec<_>>().join(sep)
}

fn render(arg: &Arg) -> String {
    let mut token = arg.token.map(str::to_string).unwrap_or_default();
    let repeat = match &arg.kind {
        Kind::OneOf(children) => join(children, "|"),
        Kind::Block(children) => join(children, " "),
        Kind::PureToken => String::new(),
        _ => arg.name.clone(),
    };
    if !token.is_empty() && arg.kind != Kind::PureToken {
        token.push(' ');
    }
    let mut out = String::new();
    if arg.optional {
        out.push('[');
    }
    out.push_str(&token);
    out.push_str(&repeat);
    if arg.multiple {
        out.push_str(" [");
        if arg.multiple_token {
            out.push_str(&token);
        }
        out.push_str(&repeat);
        out.push_str(" ...]");
    }
    if arg.optional {
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(s: &'static str) -> String {
        synopsis(&parse(s).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn set_renders_like_redis_cli() {
        let s = "key value condition=[NX | XX]@2.6.12 [GET]@6.2.0 expiration=[EX seconds:integer@2.6.12 \
                 | PX milliseconds:integer@2.6.12 | EXAT unix-time-seconds:unix-time@6.2.0 \
                 | PXAT unix-time-milliseconds:unix-time@6.2.0 | KEEPTTL@6.0.0]";
        assert_eq!(
            syn(s),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds\
             |PXAT unix-time-milliseconds|KEEPTTL]"
        );
        let args = parse(s).unwrap();
        assert_eq!(args[0].kind, Kind::Key);
        assert_eq!(args[0].key_spec_index, Some(0));
        assert_eq!(args[1].kind, Kind::Str);
        assert_eq!(args[2].name, "condition");
        assert_eq!(args[2].since, Some("2.6.12"));
        assert!(args[2].optional);
        let Kind::OneOf(choices) = &args[2].kind else {
            panic!("oneof expected")
        };
        assert_eq!(choices[0].kind, Kind::PureToken);
        assert_eq!(choices[0].token, Some("NX"));
        assert_eq!(choices[0].name, "nx");
        assert_eq!(args[3].token, Some("GET"));
        assert_eq!(args[3].since, Some("6.2.0"));
        assert!(args[3].optional);
        let Kind::OneOf(expiry) = &args[4].kind else {
            panic!("oneof expected")
        };
        assert_eq!(expiry[0].kind, Kind::Integer);
        assert_eq!(expiry[0].token, Some("EX"));
        assert_eq!(expiry[0].since, Some("2.6.12"));
        assert!(!expiry[0].optional);
        assert_eq!(expiry[2].kind, Kind::UnixTime);
    }

    #[test]
    fn repeats_tokens_and_blocks() {
        assert_eq!(syn("key..."), "key [key ...]");
        assert_eq!(
            syn("destination:key numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)]"),
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"
        );
        assert_eq!(syn("(key value)..."), "key value [key value ...]");
        assert_eq!(
            syn("[GET pattern:pattern]..."),
            "[GET pattern [GET pattern ...]]"
        );
        assert_eq!(
            syn("[TO host port:integer [FORCE]] [ABORT] [TIMEOUT milliseconds:integer]"),
            "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]"
        );
        assert_eq!(syn("(host port:integer | NO ONE)"), "host port|NO ONE");
        assert_eq!(syn("[count:integer [WITHSCORES]]"), "[count [WITHSCORES]]");
        assert_eq!(syn("(parameter)..."), "parameter [parameter ...]");

        let w = parse("[WEIGHTS weight:integer...]").unwrap();
        assert!(w[0].multiple && !w[0].multiple_token && w[0].optional);
        let g = parse("[GET pattern:pattern]...").unwrap();
        assert!(g[0].multiple && g[0].multiple_token && g[0].optional);
        assert_eq!(g[0].kind, Kind::Pattern);

        let b = parse("(parameter)...").unwrap();
        assert!(matches!(&b[0].kind, Kind::Block(c) if c.len() == 1));
        assert!(b[0].multiple);

        let no_one = parse("(host port:integer | NO ONE)").unwrap();
        let Kind::OneOf(alts) = &no_one[0].kind else {
            panic!("oneof expected")
        };
        assert!(matches!(&alts[1].kind, Kind::Block(c) if c.len() == 2));
        assert_eq!(alts[1].token, None);

        let limit = parse("[LIMIT offset:integer count:integer]").unwrap();
        assert_eq!(limit[0].token, Some("LIMIT"));
        assert!(matches!(&limit[0].kind, Kind::Block(c) if c.len() == 2));
    }

    #[test]
    fn keys_are_numbered_in_order_and_names_can_hold_colons() {
        let args = parse("source:key destination:key [ADDR ip:port] ip:port!2.8.12").unwrap();
        assert_eq!(args[0].key_spec_index, Some(0));
        assert_eq!(args[1].key_spec_index, Some(1));
        assert_eq!(args[2].name, "ip:port");
        assert_eq!(args[2].kind, Kind::Str);
        assert_eq!(args[3].deprecated_since, Some("2.8.12"));
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn quoted_tokens_name_symbols() {
        assert_eq!(
            syn("key [operator=[equal='=' | approximately='~'] threshold] (auto_id='*' | ID:string)"),
            "key [[=|~] threshold] *|ID"
        );
        let args = parse("(ID:string | new_id='$')").unwrap();
        let Kind::OneOf(alts) = &args[0].kind else {
            panic!("oneof expected")
        };
        assert_eq!(alts[1].name, "new_id");
        assert_eq!(alts[1].kind, Kind::PureToken);
        assert_eq!(alts[1].token, Some("$"));
        // MIGRATE's empty key: a token that is the empty string.
        let args = parse("(key | empty_string='')").unwrap();
        let Kind::OneOf(alts) = &args[0].kind else {
            panic!("oneof expected")
        };
        assert_eq!(alts[1].token, Some(""));
    }

    #[test]
    fn key_patterns_take_key_spec_indexes() {
        let args = parse(
            "key [BY pattern:keypattern] [GET pattern:keypattern+]... [STORE destination:key]",
        )
        .unwrap();
        let indexes: Vec<Option<usize>> = args.iter().map(|a| a.key_spec_index).collect();
        assert_eq!(indexes, vec![Some(0), Some(1), Some(1), Some(2)]);
        assert_eq!(args[1].kind, Kind::Pattern);
    }

    #[test]
    fn malformed_strings_are_errors_not_panics() {
        for bad in [
            "[key",
            "key]",
            "(key]",
            "[]",
            "[a | ]",
            "key@6.2",
            "key@6.2.0...",
            "key.",
            "x=key",
            "= [a]",
            "[[a]]",
            "a......",
            "equal='",
            "x=equal='='",
            "|",
            "a | b",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
