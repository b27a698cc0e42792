//! Redis's glob-style pattern matching (`stringmatchlen`), used by KEYS, SCAN MATCH,
//! CONFIG GET, PSUBSCRIBE, PUBSUB CHANNELS and CLIENT KILL: `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
//!
//! Why compiled and iterative: a backtracking matcher that retries every split for every
//! star takes exponential time on patterns such as `a*a*a*…b`, and it runs under the engine
//! lock, so one `KEYS` would freeze every client. Here the pattern is first cut into tokens
//! (every token but `*` consumes exactly one byte), then matched with the classic
//! "remember the last star" walk: when a later token fails, only the most recent star takes
//! one more byte, because whatever an earlier star could absorb the later one can too. That
//! is O(pattern × text) in the worst case and needs no recursion.
//!
//! The answers are Redis 7.0's, quirks included (each has a unit test): an empty text
//! matches only the empty pattern (even `*` does not match it); an unclosed `[` class ends
//! at the end of the pattern; `[^` at the very end matches any byte; a trailing `\` is a
//! literal backslash; an escaped byte inside a class compares case-sensitively even for the
//! case-insensitive matching CONFIG GET uses.

/// True when `text` matches `pattern`. `nocase` folds ASCII case (CONFIG GET does).
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    Pattern::new(pattern, nocase).matches(text)
}

/// A pattern cut into tokens once, to match many texts (KEYS, SCAN MATCH).
#[derive(Debug, Clone)]
pub struct Pattern {
    tokens: Vec<Token>,
    nocase: bool,
    /// The pattern was empty (matches only the empty text).
    empty: bool,
}

#[derive(Debug, Clone)]
enum Token {
    /// `*`, runs of stars collapsed into one.
    Star,
    /// `?`.
    AnyByte,
    /// A byte, compared with the pattern's case rule.
    Byte(u8),
    /// `[...]` or `[^...]`.
    Class { negate: bool, items: Vec<ClassItem> },
}

#[derive(Debug, Clone)]
enum ClassItem {
    /// A plain byte, compared with the pattern's case rule.
    Byte(u8),
    /// `\x`: compared exactly, whatever the case rule (Redis does).
    Escaped(u8),
    /// `a-z` (bounds in either order).
    Range(u8, u8),
}

impl Pattern {
    /// Cuts `pattern` into tokens.
    pub fn new(pattern: &[u8], nocase: bool) -> Pattern {
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < pattern.len() {
            match pattern[i] {
                b'*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                b'?' => {
                    tokens.push(Token::AnyByte);
                    i += 1;
                }
                b'[' => {
                    let (token, next) = parse_class(pattern, i + 1);
                    tokens.push(token);
                    i = next;
                }
                b'\\' if i + 1 < pattern.len() => {
                    tokens.push(Token::Byte(pattern[i + 1]));
                    i += 2;
                }
                c => {
                    tokens.push(Token::Byte(c));
                    i += 1;
                }
            }
        }
        Pattern {
            tokens,
            nocase,
            empty: pattern.is_empty(),
        }
    }

    /// True when `text` matches.
    pub fn matches(&self, text: &[u8]) -> bool {
        if text.is_empty() {
            return self.empty;
        }
        let tokens = &self.tokens;
        let (mut t, mut s) = (0usize, 0usize);
        // The token after the last star seen, and the text position that star's match
        // currently ends at.
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            if s == text.len() {
                // Trailing stars match the empty rest.
                while matches!(tokens.get(t), Some(Token::Star)) {
                    t += 1;
                }
                if t == tokens.len() {
                    return true;
                }
            } else if t < tokens.len() {
                if let Token::Star = tokens[t] {
                    if t + 1 == tokens.len() {
                        return true;
                    }
                    backtrack = Some((t + 1, s));
                    t += 1;
                    continue;
                }
                if self.token_matches(&tokens[t], text[s]) {
                    t += 1;
                    s += 1;
                    continue;
                }
            }
            // Mismatch (or text left over, or text used up with tokens left): the last
            // star absorbs one more byte, if there is one to absorb.
            match backtrack {
                Some((after_star, star_end)) if star_end < text.len() => {
                    backtrack = Some((after_star, star_end + 1));
                    t = after_star;
                    s = star_end + 1;
                }
                _ => return false,
            }
        }
    }

    fn token_matches(&self, token: &Token, c: u8) -> bool {
        match token {
            Token::Star => true,
            Token::AnyByte => true,
            Token::Byte(p) => eq(*p, c, self.nocase),
            Token::Class { negate, items } => {
                let hit = items.iter().any(|item| match *item {
                    ClassItem::Byte(p) => eq(p, c, self.nocase),
                    ClassItem::Escaped(p) => p == c,
                    ClassItem::Range(a, b) => in_range(a, b, c, self.nocase),
                });
                hit != *negate
            }
        }
    }
}

/// Parses a class whose body starts at `i` (just after `[`); returns the token and the
/// index after the closing `]` (or the pattern's end when there is none).
fn parse_class(pattern: &[u8], mut i: usize) -> (Token, usize) {
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut items = Vec::new();
    loop {
        match pattern.get(i) {
            None => return (Token::Class { negate, items }, pattern.len()),
            Some(b']') => return (Token::Class { negate, items }, i + 1),
            Some(b'\\') if i + 1 < pattern.len() => {
                items.push(ClassItem::Escaped(pattern[i + 1]));
                i += 2;
            }
            Some(&c) if i + 2 < pattern.len() && pattern[i + 1] == b'-' => {
                items.push(ClassItem::Range(c, pattern[i + 2]));
                i += 3;
            }
            Some(&c) => {
                items.push(ClassItem::Byte(c));
                i += 1;
            }
        }
    }
}

/// Redis compares range bounds as C `char`s, signed on the platforms it ships for: a bound
/// of 0x80 or above sorts below `'\0'`. Bounds are ordered first, then case-folded.
fn in_range(a: u8, b: u8, c: u8, nocase: bool) -> bool {
    let signed = |x: u8| x as i8;
    let fold = |x: i8| {
        if nocase {
            (x as u8).to_ascii_lowercase() as i8
        } else {
            x
        }
    };
    let (a, b) = (signed(a), signed(b));
    let (lo, hi) = if a > b { (b, a) } else { (a, b) };
    let (lo, hi, c) = (fold(lo), fold(hi), fold(signed(c)));
    lo <= c && c <= hi
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::matches;
    use proptest::prelude::*;

    #[test]
    fn globs() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h[b-a]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hello", false));
        assert!(matches(b"MAX*", b"maxclients", true));
        assert!(!matches(b"a", b"", false));
        assert!(matches(b"", b"", false));
        assert!(matches(b"a*", b"a", false));
        assert!(!matches(b"a*b", b"a", false));
        assert!(matches(b"*b*", b"b", false));
        assert!(matches(b"a*b*c", b"aXbYbZc", false));
        assert!(!matches(b"a*b*c", b"aXbYbZ", false));
    }

    #[test]
    fn redis_quirks() {
        // An empty text matches only the empty pattern.
        assert!(!matches(b"*", b"", false));
        assert!(!matches(b"**", b"", false));
        // An unclosed class ends at the pattern's end.
        assert!(matches(b"a[bc", b"ab", false));
        assert!(!matches(b"a[", b"ab", false));
        // `[^` at the end matches any byte.
        assert!(matches(b"a[^", b"az", false));
        // A trailing backslash is a literal.
        assert!(matches(b"a\\", b"a\\", false));
        // An escaped byte in a class compares exactly even without case.
        assert!(!matches(b"[\\A]", b"a", true));
        assert!(matches(b"[A]", b"a", true));
        assert!(matches(b"[A-C]", b"b", true));
        // Bounds are ordered before folding: `[[-A]` is `A..[`, which holds no lower case.
        assert!(!matches(b"[[-A]", b"a", true));
        // Bounds compare as signed C chars: 0xe9 sorts below 'a'.
        assert!(matches(b"[a-\xe9]", b"\x00", false));
        assert!(!matches(b"[a-\xe9]", b"b", false));
        // `]` right after `[` closes an empty class, which matches nothing.
        assert!(!matches(b"[]a", b"a", false));
        assert!(matches(b"[^]a", b"xa", false));
    }

    #[test]
    fn pathological_patterns_finish_at_once() {
        // Redis's regression "pattern matching long nested loops".
        let text = vec![b'a'; 50_000];
        let mut pattern = Vec::new();
        for _ in 0..20 {
            pattern.extend_from_slice(b"a*");
        }
        pattern.push(b'b');
        let started = std::time::Instant::now();
        assert!(!matches(&pattern, &text, false));
        let pattern = "*".repeat(10_000) + "b";
        assert!(!matches(pattern.as_bytes(), &text, false));
        // Bounded by pattern × text (10^6 steps each), far from exponential.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Redis 7.0's `stringmatchlen` transcribed as directly as Rust allows (recursive, with
    /// `skipLongerMatches`), as the reference for the property test.
    fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        fn get(p: &[u8], i: usize) -> u8 {
            p.get(i).copied().unwrap_or(0)
        }
        fn imp(
            p: &[u8],
            mut pi: usize,
            s: &[u8],
            mut si: usize,
            nc: bool,
            skip: &mut bool,
        ) -> bool {
            let lower = |c: u8| if nc { c.to_ascii_lowercase() } else { c };
            while pi < p.len() && si < s.len() {
                match p[pi] {
                    b'*' => {
                        while pi + 1 < p.len() && p[pi + 1] == b'*' {
                            pi += 1;
                        }
                        if pi + 1 == p.len() {
                            return true;
                        }
                        while si < s.len() {
                            if imp(p, pi + 1, s, si, nc, skip) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            si += 1;
                        }
                        *skip = true;
                        return false;
                    }
                    b'?' => si += 1,
                    b'[' => {
                        pi += 1;
                        let not = get(p, pi) == b'^';
                        if not {
                            pi += 1;
                        }
                        let mut hit = false;
                        loop {
                            if get(p, pi) == b'\\' && p.len() - pi >= 2 {
                                pi += 1;
                                if p[pi] == s[si] {
                                    hit = true;
                                }
                            } else if get(p, pi) == b']' {
                                break;
                            } else if pi == p.len() {
                                pi -= 1;
                                break;
                            } else if p.len() - pi >= 3 && p[pi + 1] == b'-' {
                                // C chars: signed.
                                let (mut a, mut b) = (p[pi] as i8, p[pi + 2] as i8);
                                if a > b {
                                    std::mem::swap(&mut a, &mut b);
                                }
                                let low = |x: i8| lower(x as u8) as i8;
                                let (a, b, c) = (low(a), low(b), low(s[si] as i8));
                                pi += 2;
                                if a <= c && c <= b {
                                    hit = true;
                                }
                            } else if lower(p[pi]) == lower(s[si]) {
                                hit = true;
                            }
                            pi += 1;
                        }
                        if not {
                            hit = !hit;
                        }
                        if !hit {
                            return false;
                        }
                        si += 1;
                    }
                    c => {
                        let c = if c == b'\\' && p.len() - pi >= 2 {
                            pi += 1;
                            p[pi]
                        } else {
                            c
                        };
                        if lower(c) != lower(s[si]) {
                            return false;
                        }
                        si += 1;
                    }
                }
                pi += 1;
                if si == s.len() {
                    while get(p, pi) == b'*' {
                        pi += 1;
                    }
                    break;
                }
            }
            pi >= p.len() && si == s.len()
        }
        imp(p, 0, s, 0, nocase, &mut false)
    }

    fn pattern_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(b"ab*?[]^-\\cA\xe9".to_vec()), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn agrees_with_redis(
            pattern in pattern_strategy(),
            text in prop::collection::vec(prop::sample::select(b"abcA-]^\\*\xe9\x00".to_vec()), 0..10),
            nocase in any::<bool>(),
        ) {
            prop_assert_eq!(
                matches(&pattern, &text, nocase),
                reference(&pattern, &text, nocase),
                "pattern {:?} text {:?}", String::from_utf8_lossy(&pattern), String::from_utf8_lossy(&text)
            );
        }
    }
}
