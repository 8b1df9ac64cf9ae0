//! Object paths (spec §9.2): `<projectId>/<uuid v4>_<sanitised filename>`, and the check of a
//! client-given path (delete, confirm): percent-decoded, refused when it has a NUL, a control
//! character, a backslash, a `.`/`..` segment or an empty segment, and required to lie inside the
//! caller's project prefix. Every refusal is [`StorageError::AccessDenied`] (`403 Access denied.`).
//!
//! A [`Scope`] is where a caller acts: the whole project (secret key), or, when the project lets
//! users upload (off by default), one user's folder `<projectId>/users/<userId>/`: new paths are
//! made inside it and client paths outside it are refused the same way.
//!
//! Names keep letters, digits, `.`, `-`, `_`, `(`, `)`; whitespace runs become `_` (as the
//! original) and every other character becomes `_`, so a stored path never needs escaping and
//! decoding it again is the identity.

use object_store::path::Path;

use crate::error::StorageError;

/// The longest kept file name, in characters.
const MAX_NAME_CHARS: usize = 128;

/// A file name made safe for an object path (never empty, no separator, no leading or trailing
/// dot).
pub fn sanitise_filename(name: &str) -> String {
    let mut out = String::new();
    let mut in_space = false;
    for c in name.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push('_');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        let keep = c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '(' | ')');
        out.push(if keep { c } else { '_' });
    }
    let trimmed: String = out.trim_matches(|c| c == '.' || c == '_').chars().take(MAX_NAME_CHARS).collect();
    let trimmed = trimmed.trim_end_matches('.');
    if trimmed.is_empty() { "file".to_owned() } else { trimmed.to_owned() }
}

/// A fresh object path for an upload: `<projectId>/<uuid v4>_<sanitised name>`.
pub fn new_object_path(project_id: &str, filename: &str) -> Result<String, StorageError> {
    Ok(format!("{project_id}/{}_{}", uuid_v4()?, sanitise_filename(filename)))
}

/// Where a caller's files are: the project's whole tree, or one user's folder in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The project (its quota, its prefix).
    pub project_id: &'a str,
    /// The user whose folder this is (`None`: the whole project).
    pub user_id: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// The whole project (a secret-key caller).
    pub fn project(project_id: &'a str) -> Scope<'a> {
        Scope { project_id, user_id: None }
    }

    /// One user's folder `<projectId>/users/<userId>/`.
    pub fn user(project_id: &'a str, user_id: &'a str) -> Scope<'a> {
        Scope { project_id, user_id: Some(user_id) }
    }

    /// The segments every path of the scope starts with.
    fn prefix(&self) -> Result<Vec<&'a str>, StorageError> {
        match self.user_id {
            None => Ok(vec![self.project_id]),
            // A user id that would not be one segment as it is has no folder.
            Some(user) if !user.is_empty() && sanitise_filename(user) == user => {
                Ok(vec![self.project_id, USERS_FOLDER, user])
            }
            Some(_) => Err(StorageError::AccessDenied),
        }
    }

    /// A fresh object path for an upload in this scope.
    pub fn new_path(&self, filename: &str) -> Result<String, StorageError> {
        let prefix = self.prefix()?.join("/");
        Ok(format!("{prefix}/{}_{}", uuid_v4()?, sanitise_filename(filename)))
    }

    /// The object path a client names, checked as [`client_path`] does and to lie inside this
    /// scope.
    pub fn check(&self, raw: &str) -> Result<Path, StorageError> {
        let path = client_path(self.project_id, raw)?;
        let prefix = self.prefix()?;
        let parts: Vec<String> = path.parts().map(|part| part.as_ref().to_owned()).collect();
        let inside = parts.len() > prefix.len() && parts.iter().zip(&prefix).all(|(part, want)| part == want);
        if !inside {
            return Err(StorageError::AccessDenied);
        }
        Ok(path)
    }
}

/// The folder of the users' own files inside a project.
pub const USERS_FOLDER: &str = "users";

/// A random UUID v4 in its hyphenated form.
fn uuid_v4() -> Result<String, StorageError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StorageError::Internal(format!("random: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default().to_owned();
    Ok(format!("{}-{}-{}-{}-{}", part(0..8), part(8..12), part(12..16), part(16..20), part(20..32)))
}

/// The object path a client names, checked to lie inside `project_id`'s prefix.
pub fn client_path(project_id: &str, raw: &str) -> Result<Path, StorageError> {
    let decoded = percent_decode(raw).ok_or(StorageError::AccessDenied)?;
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return Err(StorageError::AccessDenied);
    }
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    if segments.len() < 2 || segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
        return Err(StorageError::AccessDenied);
    }
    if segments.first() != Some(&project_id) || project_id.is_empty() {
        return Err(StorageError::AccessDenied);
    }
    // Every segment must be one we could have made: then object_store stores it verbatim.
    if segments.iter().skip(1).any(|s| sanitise_filename(s) != *s) {
        return Err(StorageError::AccessDenied);
    }
    Ok(Path::from_iter(segments))
}

/// The prefix of every object of a project.
pub fn project_prefix(project_id: &str) -> Result<Path, StorageError> {
    if project_id.is_empty() || sanitise_filename(project_id) != project_id {
        return Err(StorageError::Internal(format!("unusable project id {project_id:?}")));
    }
    Ok(Path::from_iter([project_id]))
}

/// Percent-decoding to UTF-8; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "65a0c0de0000000a0000000b";

    #[test]
    fn sanitised_names() {
        assert_eq!(sanitise_filename("my  holiday photo.png"), "my_holiday_photo.png");
        assert_eq!(sanitise_filename("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitise_filename("..\\..\\win.ini"), "win.ini");
        assert_eq!(sanitise_filename("evil.html."), "evil.html");
        assert_eq!(sanitise_filename("a\0b"), "a_b");
        assert_eq!(sanitise_filename(""), "file");
        assert_eq!(sanitise_filename("..."), "file");
        assert_eq!(sanitise_filename("%2e%2e%2fx"), "2e_2e_2fx");
        assert_eq!(sanitise_filename(&"x".repeat(500)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(sanitise_filename("résumé.pdf"), "résumé.pdf");
    }

    #[test]
    fn new_paths_are_inside_the_project_and_accepted_back() {
        let path = new_object_path(P, "../../etc/passwd").unwrap();
        assert!(path.starts_with(&format!("{P}/")));
        assert_eq!(path.matches('/').count(), 1);
        assert_eq!(client_path(P, &path).unwrap().as_ref(), path);
        let uuid = path.split('/').nth(1).unwrap().get(..36).unwrap().to_owned();
        assert_eq!(uuid.get(14..15), Some("4"));
    }

    #[test]
    fn traversal_and_foreign_paths_are_refused() {
        for bad in [
            format!("{P}/../other/x.png"),
            format!("{P}/%2e%2e/other/x.png"),
            format!("{P}/%2E%2E%2Fother%2Fx.png"),
            format!("{P}/..%2fx.png"),
            format!("{P}\\..\\x.png"),
            format!("{P}/a\\b.png"),
            format!("{P}/a%5cb.png"),
            format!("{P}/x.png%00.html"),
            format!("{P}/x\0.png"),
            format!("{P}/./x.png"),
            format!("{P}//x.png"),
            format!("{P}/"),
            P.to_owned(),
            "/etc/passwd".to_owned(),
            "65a0c0de0000000a0000000c/x.png".to_owned(),
            format!("65a0c0de0000000a0000000c/{P}/x.png"),
            format!("{P}x/y.png"),
            format!("{P}/x%zz.png"),
            format!("{P}/x%ff.png"),
            format!("{P}/a b.png"),
            String::new(),
        ] {
            assert!(matches!(client_path(P, &bad), Err(StorageError::AccessDenied)), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_user_scope_makes_and_accepts_paths_in_its_folder_only() {
        const U: &str = "65a0c0de0000000a000000aa";
        const OTHER: &str = "65a0c0de0000000a000000bb";
        let mine = Scope::user(P, U);
        let path = mine.new_path("../x.png").unwrap();
        assert!(path.starts_with(&format!("{P}/users/{U}/")), "{path}");
        assert_eq!(mine.check(&path).unwrap().as_ref(), path);
        assert_eq!(Scope::project(P).check(&path).unwrap().as_ref(), path, "the secret key reaches every folder");
        for bad in [
            format!("{P}/x.png"),
            format!("{P}/users/{OTHER}/x.png"),
            format!("{P}/users/{U}"),
            format!("{P}/users/{U}/../{OTHER}/x.png"),
            format!("{P}/users/{U}/%2e%2e/{OTHER}/x.png"),
            format!("{P}/users/{U}x/y.png"),
            format!("{P}/users/x.png"),
            format!("65a0c0de0000000a0000000c/users/{U}/x.png"),
        ] {
            assert!(matches!(mine.check(&bad), Err(StorageError::AccessDenied)), "{bad:?} accepted");
        }
        for bad_user in ["", "a/b", "..", "x y"] {
            assert!(Scope::user(P, bad_user).new_path("x.png").is_err(), "{bad_user:?}");
        }
    }

    #[test]
    fn leading_slash_and_encoded_names_are_accepted() {
        assert_eq!(client_path(P, &format!("/{P}/x.png")).unwrap().as_ref(), format!("{P}/x.png"));
        assert_eq!(client_path(P, &format!("{P}%2Fx.png")).unwrap().as_ref(), format!("{P}/x.png"));
        assert_eq!(client_path(P, &format!("{P}/a/b.png")).unwrap().as_ref(), format!("{P}/a/b.png"));
    }
}
