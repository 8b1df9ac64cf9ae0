//! Validated names: [`FieldPath`] (a dotted document path that can never be an operator) and
//! [`ObjectIdHex`] (a MongoDB ObjectId as 24 lowercase hexadecimal characters).

use std::fmt;
use std::str::FromStr;

use crate::limits::{MAX_PATH_BYTES, MAX_PATH_DEPTH};

/// Why a text is not a valid [`FieldPath`]. The `Display` text is a lowercase clause that the
/// parser embeds into its client-facing error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is the empty string.
    #[error("field name is empty")]
    Empty,
    /// The path is longer than [`MAX_PATH_BYTES`].
    #[error("field path exceeds {MAX_PATH_BYTES} bytes")]
    TooLong,
    /// The path has more than [`MAX_PATH_DEPTH`] segments.
    #[error("field path exceeds {MAX_PATH_DEPTH} segments")]
    TooDeep,
    /// A segment is empty (`a..b`, `.a`, `a.`).
    #[error("field path has an empty segment")]
    EmptySegment,
    /// A segment starts with `$` (`$where`, `a.$ne`): that would be an operator.
    #[error("field names must not start with \"$\"")]
    Operator,
    /// The path contains `[` or `]` (`a[$ne]`, `a[gt]`): bracket syntax is not a thing here.
    #[error("bracket syntax is not supported")]
    Bracket,
    /// The path contains a NUL or another control character.
    #[error("field names must not contain control characters")]
    Control,
    /// A segment consists of digits only (`a.0`): positional array paths are not supported,
    /// because their meaning differs between document and relational backends.
    #[error("numeric path segments are not supported")]
    Numeric,
}

/// A validated dotted field path such as `price` or `address.city`.
///
/// Guarantees: non-empty, at most [`MAX_PATH_BYTES`] bytes and [`MAX_PATH_DEPTH`] segments, no
/// empty segment, no segment starting with `$`, no segment made of digits only, no `[`/`]`, no
/// control character. A `FieldPath` can therefore always be used as a plain field name, never as
/// an operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    /// Validates `path`.
    ///
    /// # Errors
    /// The [`PathError`] describing the first rule the text breaks.
    pub fn new(path: &str) -> Result<Self, PathError> {
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        if path.chars().any(char::is_control) {
            return Err(PathError::Control);
        }
        if path.contains(['[', ']']) {
            return Err(PathError::Bracket);
        }
        let mut depth = 0usize;
        for segment in path.split('.') {
            depth += 1;
            if segment.is_empty() {
                return Err(PathError::EmptySegment);
            }
            if segment.starts_with('$') {
                return Err(PathError::Operator);
            }
            if segment.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PathError::Numeric);
            }
        }
        if depth > MAX_PATH_DEPTH {
            return Err(PathError::TooDeep);
        }
        Ok(Self(path.to_owned()))
    }

    /// A path the crate itself names (`_id`, `createdAt`): valid by construction.
    pub(crate) fn known(path: &'static str) -> Self {
        Self(path.to_owned())
    }

    /// The path as written (`a.b.c`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The dot-separated segments, in order (never empty, none empty).
    pub fn segments(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.split('.')
    }

    /// Number of segments.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.segments().count()
    }

    /// Whether this is the document id `_id`.
    #[must_use]
    pub fn is_id(&self) -> bool {
        self.0 == "_id"
    }

    /// Whether `self` equals `other` or is an ancestor of it (`a` covers `a` and `a.b`, not `ab`).
    #[must_use]
    pub fn covers(&self, other: &FieldPath) -> bool {
        match other.0.strip_prefix(self.0.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('.'),
            None => false,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FieldPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for FieldPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for FieldPath {
    type Error = PathError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

/// A MongoDB ObjectId in its canonical text form: exactly 24 lowercase hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectIdHex(String);

impl ObjectIdHex {
    /// Accepts exactly 24 hexadecimal characters in any case (as `ObjectId.isValid` does for
    /// strings) and normalises them to lowercase; anything else is `None`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(text.to_ascii_lowercase()))
    }

    /// The 24 lowercase hexadecimal characters.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ObjectIdHex {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
