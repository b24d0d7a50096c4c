//! polykv's tagged record (lib/record.js): a value with metadata, or bytes on a store
//! that holds only text, is stored as one JSON object
//! `{"$polykv":1,"value":…,"metadata":…}` / `{"$polykv":1,"bytes":"<base64>",…}`.
//! JS writes and opens them; Rust only reads the metadata out of one, so a `list()`
//! page never carries values across the boundary.

use crate::backend::ValueRef;
use serde_json::value::RawValue;
use std::collections::HashMap;

const TAG: &str = "\"$polykv\"";

/// The metadata's JSON text of a tagged record, or `None` (no tag, no metadata,
/// bytes, or text that is not a JSON object: a plain value carries no metadata).
pub fn metadata_of(value: ValueRef<'_>) -> Option<String> {
    let ValueRef::Text(text) = value else {
        return None;
    };
    // The cheap test first: JS writes the tag as the object's first key, and a
    // plain value (most records) is never parsed.
    if !text.trim_start().starts_with('{') || !text.contains(TAG) {
        return None;
    }
    let fields: HashMap<&str, &RawValue> = serde_json::from_str(text).ok()?;
    fields.get("$polykv")?;
    fields
        .get("metadata")
        .map(|raw| raw.get())
        .filter(|raw| *raw != "null")
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata_of_tagged_records_only() {
        let meta = |text: &str| metadata_of(ValueRef::Text(text));
        assert_eq!(
            meta(r#"{"$polykv":1,"value":{"big":[1,2]},"metadata":{"m":true}}"#).as_deref(),
            Some(r#"{"m":true}"#)
        );
        assert_eq!(
            meta(r#"{"$polykv":1,"bytes":"AAE=","metadata":"x"}"#).as_deref(),
            Some(r#""x""#)
        );
        assert_eq!(meta(r#"{"$polykv":1,"value":{"$polykv":2}}"#), None);
        assert_eq!(meta(r#"{"metadata":1}"#), None, "not tagged");
        assert_eq!(meta(r#""{\"$polykv\":1,\"metadata\":1}""#), None, "a string value");
        assert_eq!(meta("[1]"), None);
        assert_eq!(meta(r#"{"$polykv":1,"value":"#), None, "not JSON");
        assert_eq!(metadata_of(ValueRef::Bytes(br#"{"$polykv":1,"metadata":1}"#)), None);
    }
}
