//! Mapping the driver's errors onto [`StoreError`]: a duplicate key (server code 11000) becomes
//! [`StoreError::DuplicateKey`] with the field read from the index name, an unreachable server
//! becomes [`StoreError::Unavailable`] (503 upstream), a server that refuses the request for what
//! it asks becomes [`StoreError::InvalidInput`] where the operation says so, and anything else is
//! [`StoreError::Internal`], whose text is for logs only.

use mongodb::error::{Error, ErrorKind, WriteFailure};
use store::StoreError;

/// Server code of a duplicate key (also 11001 on old servers).
pub(crate) const DUPLICATE_KEY: [i32; 2] = [11000, 11001];
/// Server code `MaxTimeMSExpired`.
const MAX_TIME_EXPIRED: i32 = 50;

/// Server codes that mean "the request itself is malformed" for an update: `BadValue`,
/// `FailedToParse`, `TypeMismatch`, `PathNotViable`, `ConflictingUpdateOperators`,
/// `DollarPrefixedFieldName`, `EmptyFieldName`, `DottedFieldName`, `ImmutableField`, and a few
/// older codes for invalid field names.
const BAD_UPDATE: [i32; 11] = [2, 9, 14, 28, 40, 52, 56, 57, 66, 16837, 17419];

/// Server codes that mean an aggregation stage or operator is not implemented
/// (`NotImplemented` 238 is jongodb's).
const UNSUPPORTED_STAGE: [i32; 5] = [40324, 168, 31325, 115, 238];
/// Server code `CommandNotFound`.
pub(crate) const COMMAND_NOT_FOUND: i32 = 59;

/// The server's code and message when the error is a server's answer (a command or write error).
pub(crate) fn server_code(err: &Error) -> Option<(i32, &str)> {
    match err.kind.as_ref() {
        ErrorKind::Command(e) => Some((e.code, e.message.as_str())),
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some((e.code, e.message.as_str())),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => Some((e.code, e.message.as_str())),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| (e.code, e.message.as_str()))
            .or_else(|| e.write_concern_error.as_ref().map(|e| (e.code, e.message.as_str()))),
        _ => None,
    }
}

/// For an `insert_many` that failed on one document: the index of that document.
pub(crate) fn failed_insert_index(err: &Error) -> Option<usize> {
    match err.kind.as_ref() {
        ErrorKind::InsertMany(e) => e.write_errors.as_ref()?.iter().map(|e| e.index).min(),
        _ => None,
    }
}

/// Server codes of a server that is shutting down, stepping down or not (yet) primary: the
/// operation may succeed on a retry, so these are 503s, not 500s.
const TRANSIENT: [i32; 11] = [6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436];

/// Whether the error says the server could not be reached or went away.
fn is_unavailable(err: &Error) -> bool {
    if server_code(err).is_some_and(|(code, _)| TRANSIENT.contains(&code)) {
        return true;
    }
    matches!(
        err.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Authentication { .. }
            | ErrorKind::Shutdown
    )
}

/// The general mapping (see the module docs).
pub(crate) fn map(err: &Error) -> StoreError {
    if is_unavailable(err) {
        return StoreError::Unavailable(unavailable_text(err));
    }
    match server_code(err) {
        Some((code, message)) if DUPLICATE_KEY.contains(&code) => {
            StoreError::DuplicateKey { field: duplicate_field(message) }
        }
        Some((MAX_TIME_EXPIRED, _)) => StoreError::InvalidInput(
            "The query took too long (a regular expression is bounded to 2 seconds); narrow the filter.".to_owned(),
        ),
        _ => StoreError::Internal(err.to_string()),
    }
}

/// The mapping for updates: malformed `$set` paths are the client's (400).
pub(crate) fn map_update(err: &Error) -> StoreError {
    match server_code(err) {
        Some((code, message)) if BAD_UPDATE.contains(&code) => StoreError::InvalidInput(message.to_owned()),
        _ => map(err),
    }
}

/// The mapping for inserts: a document the server refuses for its shape is the client's (400).
pub(crate) fn map_insert(err: &Error) -> StoreError {
    map_update(err)
}

/// The mapping for aggregations: an unknown stage is [`StoreError::Unsupported`], any other error
/// the server raises about the pipeline is the client's (400); unreachable stays 503.
pub(crate) fn map_aggregate(err: &Error) -> StoreError {
    if is_unavailable(err) {
        return StoreError::Unavailable(unavailable_text(err));
    }
    match server_code(err) {
        Some((code, message)) if UNSUPPORTED_STAGE.contains(&code) => StoreError::Unsupported(message.to_owned()),
        Some((code, _)) if DUPLICATE_KEY.contains(&code) || code == MAX_TIME_EXPIRED => map(err),
        Some((_, message)) => StoreError::InvalidInput(message.to_owned()),
        None => map(err),
    }
}

fn unavailable_text(err: &Error) -> String {
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. } => "no MongoDB server could be selected in time".to_owned(),
        ErrorKind::Authentication { .. } => "authentication to MongoDB failed".to_owned(),
        _ => err.kind.to_string(),
    }
}

/// The field of a duplicate key error, read from the index name in the server's message:
/// `… index: unique_<field>_1 dup key: …` gives `<field>`, `_id_` gives `_id`, any other index
/// name `<field>_1` gives `<field>`.
pub(crate) fn duplicate_field(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("index: ")?;
    let name = rest.split_whitespace().next()?;
    if name == "_id_" {
        return Some("_id".to_owned());
    }
    let name = name.strip_prefix("unique_").unwrap_or(name);
    let field = name.strip_suffix("_1")?;
    (!field.is_empty()).then(|| field.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_field_is_read_from_the_index_name() {
        let message =
            "E11000 duplicate key error collection: db.p_users index: unique_email_1 dup key: { email: \"a\" }";
        assert_eq!(duplicate_field(message).as_deref(), Some("email"));
        let message = "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: ObjectId('…') }";
        assert_eq!(duplicate_field(message).as_deref(), Some("_id"));
        assert_eq!(duplicate_field("E11000 index: sku_1 dup key").as_deref(), Some("sku"));
        assert_eq!(duplicate_field("E11000 index: unique_snake_case_1").as_deref(), Some("snake_case"));
        assert_eq!(duplicate_field("E11000 duplicate key error"), None);
        assert_eq!(duplicate_field("E11000 index: weird"), None);
    }
}
