//! The stored record `{ "expires": <unix ms or null>, "value": <any JSON> }` that
//! polystore's JSON file and folder stores use (docs/behaviour.md §21–22), kept as raw JSON
//! text: the value is never turned into a tree in Rust, only checked and copied.

use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt::Write;
use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the same clock as JS `Date.now()`.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether a record with deadline `expires` (Unix ms, `None` never) is live at
/// `now`: polystore's `expires > Date.now()`, so a record dies at its deadline.
/// SQLite states the same rule in SQL (`backend::sqlite`, `LIVE`).
#[inline]
pub fn is_live_at(expires: Option<i64>, now: i64) -> bool {
    expires.is_none_or(|deadline| deadline > now)
}

/// A deadline in Unix ms as the whole ms the stores keep, rounded up: polystore
/// computes `Date.now() + seconds * 1000`, which may have a fraction, and rounding
/// up keeps "expired when now >= deadline" exactly as it was.
#[inline]
pub fn whole_ms(deadline: f64) -> i64 {
    deadline.ceil() as i64
}

/// Checks that `value` is one JSON value, as every write does before it stores it:
/// one bad write would make a JSON file unreadable, or a record file foreign.
pub fn check_value(value: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<&RawValue>(value).map(|_| ())
}

/// Appends the record `{"expires":<ms or null>,"value":<value>}` (compact, the
/// key order polystore writes) for `value`, JSON text, and returns where the value
/// sits in `out`, so a caller can hand it back later without parsing the record.
pub fn write_envelope(out: &mut String, value: &str, expires: Option<i64>) -> Range<usize> {
    out.push_str("{\"expires\":");
    match expires {
        // Writing to a String cannot fail.
        Some(deadline) => {
            let _ = write!(out, "{deadline}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"value\":");
    let start = out.len();
    out.push_str(value);
    let end = out.len();
    out.push('}');
    start..end
}

/// The record's JSON text for `value` (JSON text), as `write_envelope` writes it.
pub fn envelope_text(value: &str, expires: Option<i64>) -> String {
    let mut out = String::with_capacity(value.len() + 32);
    write_envelope(&mut out, value, expires);
    out
}

#[derive(Debug)]
pub struct Envelope {
    /// Absolute deadline in Unix ms; `None` never expires.
    pub expires: Option<i64>,
    /// The value as JSON text, exactly as it was written.
    pub value: Box<RawValue>,
}

impl Envelope {
    /// `value` must be valid JSON text (the JS side made it with `JSON.stringify`).
    pub fn new(value: &str, expires: Option<i64>) -> Result<Self, serde_json::Error> {
        Ok(Envelope {
            expires,
            value: RawValue::from_string(value.to_owned())?,
        })
    }

    /// Reads one record. `Ok(None)` for JSON that is not a record of ours (no `value`
    /// field, a `null` value, or an `expires` that is not a number): polystore reads
    /// those as missing, and so do we. `Err` only for text that is not JSON at all.
    pub fn parse(text: &str) -> Result<Option<Self>, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text)?;
        Ok(Self::from_raw(&raw))
    }

    /// Same as `parse`, for a record already cut out of a larger document.
    pub fn from_raw(raw: &RawValue) -> Option<Self> {
        let mut fields: HashMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
        let value = fields.remove("value")?;
        if value.get() == "null" {
            return None;
        }
        let expires = match fields.remove("expires") {
            None => None,
            Some(raw) => serde_json::from_str::<Option<f64>>(raw.get()).ok()?.map(whole_ms),
        };
        Some(Envelope { expires, value })
    }

    /// Live means no deadline or a deadline still ahead (`is_live_at`).
    pub fn is_live(&self, now: i64) -> bool {
        is_live_at(self.expires, now)
    }

    /// The record as compact JSON text (`envelope_text`).
    pub fn to_json(&self) -> String {
        envelope_text(self.value.get(), self.expires)
    }
}

/// Appends `text` as a JSON string literal.
pub fn write_json_string(out: &mut String, text: &str) {
    // serde_json's escaping, without building a Value.
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_compact_and_keeps_value_text() {
        let e = Envelope::new(r#"{"a":[1,2]}"#, Some(1700000000123)).unwrap();
        assert_eq!(e.to_json(), r#"{"expires":1700000000123,"value":{"a":[1,2]}}"#);
        let back = Envelope::parse(&e.to_json()).unwrap().unwrap();
        assert_eq!(back.expires, Some(1700000000123));
        assert_eq!(back.value.get(), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn reads_polystore_pretty_records() {
        let text = "{\n  \"expires\": null,\n  \"value\": {\n    \"name\": \"x\"\n  }\n}";
        let e = Envelope::parse(text).unwrap().unwrap();
        assert_eq!(e.expires, None);
        let v: serde_json::Value = serde_json::from_str(e.value.get()).unwrap();
        assert_eq!(v["name"], "x");
    }

    #[test]
    fn fractional_deadline_rounds_up() {
        let e = Envelope::parse(r#"{"expires":1004.9999999,"value":1}"#)
            .unwrap()
            .unwrap();
        assert_eq!(e.expires, Some(1005));
        assert!(e.is_live(1004));
        assert!(!e.is_live(1005));
    }

    #[test]
    fn foreign_json_reads_as_missing_and_bad_text_errors() {
        assert!(Envelope::parse(r#"{"other":1}"#).unwrap().is_none());
        assert!(Envelope::parse(r#"{"expires":null,"value":null}"#).unwrap().is_none());
        assert!(Envelope::parse(r#"{"expires":"soon","value":1}"#).unwrap().is_none());
        assert!(Envelope::parse("[1,2]").unwrap().is_none());
        assert!(Envelope::parse(r#"{"expires":null,"val"#).is_err());
    }

    #[test]
    fn expiry_is_exclusive_at_the_deadline() {
        let e = Envelope::new("1", Some(100)).unwrap();
        assert!(e.is_live(99));
        assert!(!e.is_live(100));
        assert!(Envelope::new("1", None).unwrap().is_live(i64::MAX));
    }

    #[test]
    fn escapes_keys() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\n\u{0}");
        assert_eq!(out, r#""a\"b\n\u0000""#);
    }
}
