//! Request bodies: read with a size limit and parsed as JSON, so that oversized and malformed
//! bodies get clear errors in the wire shape (the original answered a raw 500 and a raw 400).

use actix_web::web;
use serde_json::Value;

use crate::error::ApiError;

/// The text of `400` for a body that is not JSON.
pub(crate) const INVALID_JSON: &str = "Invalid JSON format";

/// Reads the whole body (at most `limit` bytes) as JSON. An empty body is `null`.
pub(crate) async fn read_json(payload: web::Payload, limit: usize) -> Result<Value, ApiError> {
    let bytes = match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(ApiError::new(400, "Could not read the request body.")),
        Err(_) => return Err(ApiError::new(413, format!("Request body is too large (max {limit} bytes)."))),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|_| ApiError::new(400, INVALID_JSON))
}
