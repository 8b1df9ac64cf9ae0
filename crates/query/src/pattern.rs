//! `_regex` patterns: validated, bounded and compiled with the linear-time `regex` crate.
//!
//! A pattern is accepted only if it is at most [`MAX_REGEX_LEN`] UTF-16 code units, contains no
//! NUL, compiles with the `regex` crate within [`REGEX_SIZE_LIMIT`] (so PCRE-only features such
//! as backreferences and lookaround are refused) and avoids the few constructs whose meaning
//! differs between the `regex` crate and PCRE (MongoDB's engine): nested character classes,
//! class set operations (`&&`, `--`, `~~`) and the word-boundary forms `\<`, `\>`, `\b{…}`,
//! `\B{…}`. The Perl classes `\d`, `\w`, `\s`, their negations and `\b`/`\B` are compiled
//! ASCII-only, as PCRE reads them without `UCP`. So both backends read an accepted pattern the
//! same way.

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::limits::{MAX_REGEX_LEN, REGEX_SIZE_LIMIT};

/// Why a pattern was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternError {
    TooLong,
    Invalid,
}

/// A case-insensitive regular expression from `_regex`, with its source text.
///
/// Matching is always case-insensitive (MongoDB option `i`). Accepted patterns are at most 128
/// UTF-16 code units, contain no NUL, compile with the linear-time `regex` crate within
/// [`REGEX_SIZE_LIMIT`] (so backreferences and lookaround are refused) and avoid the constructs
/// PCRE reads differently: nested character classes (`[a[b]]`), class set operations (`&&`,
/// `--`, `~~` inside a class) and `\<`, `\>`, `\b{…}`, `\B{…}`. The Perl classes `\d`, `\w`,
/// `\s`, their negations and `\b`/`\B` are ASCII-only, as PCRE reads them without `UCP`.
///
/// Backends: MongoDB gets [`RegexPattern::source`] with option `i` (and a `maxTimeMS`, since
/// PCRE backtracks); others match with [`RegexPattern::regex`]. Two patterns are equal when their
/// sources are.
#[derive(Clone)]
pub struct RegexPattern {
    source: String,
    regex: Regex,
}

impl RegexPattern {
    pub(crate) fn new(source: &str) -> Result<Self, PatternError> {
        if source.encode_utf16().count() > MAX_REGEX_LEN {
            return Err(PatternError::TooLong);
        }
        if source.contains('\0') {
            return Err(PatternError::Invalid);
        }
        let rust_pattern = translate(source).ok_or(PatternError::Invalid)?;
        let regex = RegexBuilder::new(&rust_pattern)
            .case_insensitive(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map_err(|_| PatternError::Invalid)?;
        Ok(Self { source: source.to_owned(), regex })
    }

    /// The pattern as the client sent it (without flags; the `i` flag is implied).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled, case-insensitive expression, with PCRE's reading of the pattern: the Perl
    /// classes `\d`, `\w`, `\s` (and negations) and `\b`/`\B` are ASCII-only, as in MongoDB.
    #[must_use]
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether the pattern matches somewhere in `text` (unanchored, like `$regex`).
    #[must_use]
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for RegexPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for RegexPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/i", self.source)
    }
}

/// Checks that `source` stays within the portable subset (see the module docs) and rewrites it
/// for the `regex` crate so that it reads the way PCRE (without `UCP`, as MongoDB runs it) reads
/// it: `\d`, `\w`, `\s`, their negations and `\b`/`\B` are ASCII-only there. `None` when the
/// pattern is outside the subset. Runs only on short patterns.
fn translate(source: &str) -> Option<String> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = String::with_capacity(source.len() + 32);
    let mut in_class = false;
    let mut i = 0usize;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        if c == '\\' {
            let Some(e) = next else {
                out.push(c);
                i += 1;
                continue;
            };
            if !in_class && matches!(e, '<' | '>') {
                return None;
            }
            if matches!(e, 'b' | 'B') && at(i + 2) == Some('{') {
                return None;
            }
            match (in_class, ascii_class(e)) {
                (false, Some((_, false))) => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                (false, Some((set, true))) => {
                    out.push_str("(?-i:[^");
                    out.push_str(set);
                    out.push_str("])");
                }
                (true, Some((set, false))) => out.push_str(set),
                (true, Some((set, true))) => {
                    out.push_str("[^");
                    out.push_str(set);
                    out.push(']');
                }
                (false, None) if matches!(e, 'b' | 'B') => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                _ => {
                    out.push(c);
                    out.push(e);
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            match (c, next) {
                ('[', Some(':')) => {
                    // A POSIX class `[:name:]` inside a bracket expression: copy it whole.
                    let close = (i + 2..chars.len()).find(|&j| at(j) == Some(':') && at(j + 1) == Some(']'))?;
                    out.extend(chars.get(i..close + 2)?);
                    i = close + 2;
                    continue;
                }
                ('[', _) => return None,
                (']', _) => in_class = false,
                ('&', Some('&')) | ('-', Some('-')) | ('~', Some('~')) => return None,
                _ => {}
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if next == Some('^') {
                out.push('^');
                i += 1;
            }
            // A `]` right after `[` or `[^` is a literal in both dialects.
            if at(i) == Some(']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Some(out)
}

/// The ASCII set PCRE gives a Perl class escape, and whether the escape is the negated one.
fn ascii_class(escape: char) -> Option<(&'static str, bool)> {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = r"\t\n\x0B\x0C\r\x20";
    match escape {
        'd' => Some((DIGIT, false)),
        'D' => Some((DIGIT, true)),
        'w' => Some((WORD, false)),
        'W' => Some((WORD, true)),
        's' => Some((SPACE, false)),
        'S' => Some((SPACE, true)),
        _ => None,
    }
}
