//! The Rust copies of polykv's rules against `__test__/fixtures/rules.json`, the case
//! table `lib/rules.js` passes too, so the two cannot drift apart. Rust implements
//! the sections `live`, `envelope`, `envelopeText`, `prefixEnd` and `expires` (which
//! `lib/expires.js` passes too); the others
//! (`deadline`, `remainingMs`, `prefixEndBytes`, `scanPattern`) are rules of JS
//! drivers only.

use super::envelope::{envelope_text, Envelope};
use super::expires::{parse_lenient, parse_strict};
use super::prefix::prefix_upper_bound;
use serde_json::Value;

const FIXTURE: &str = include_str!("../../__test__/fixtures/rules.json");

fn section(name: &str) -> Vec<Value> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("rules.json is JSON");
    let cases = fixture[name]
        .as_array()
        .unwrap_or_else(|| panic!("rules.json has no section {name:?}"));
    assert!(!cases.is_empty(), "section {name:?} is empty");
    cases.clone()
}

fn optional_string(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| {
        assert!(value.is_null(), "{value} is neither a string nor null");
        None
    })
}

#[test]
fn live() {
    for case in section("live") {
        // A deadline is read the way the file and folder stores read it: from a record
        // (a fractional deadline rounds up to the next whole ms), then checked at `now`.
        let record = format!("{{\"expires\":{},\"value\":1}}", case["expires"]);
        let envelope = Envelope::parse(&record).unwrap().expect("a record");
        let now = case["now"].as_i64().expect("now is whole ms");
        assert_eq!(envelope.is_live(now), case["live"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn envelope() {
    for case in section("envelope") {
        let text = case["text"].as_str().unwrap();
        let parsed = Envelope::parse(text).unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = &case["record"];
        match parsed {
            None => assert!(expected.is_null(), "{case}: read as not ours"),
            Some(envelope) => {
                assert!(!expected.is_null(), "{case}: read as a record");
                assert_eq!(envelope.expires, expected["expires"].as_i64(), "{case}");
                // The value as JSON text: the stores hand back the text as it was written.
                assert_eq!(envelope.value.get(), expected["value"].as_str().unwrap(), "{case}");
            }
        }
    }
}

#[test]
fn envelope_text_cases() {
    for case in section("envelopeText") {
        let value = case["value"].as_str().unwrap();
        let expires = case["expiresAt"].as_i64();
        assert!(expires.is_some() || case["expiresAt"].is_null(), "{case}");
        assert_eq!(envelope_text(value, expires), case["text"].as_str().unwrap(), "{case}");
    }
}

#[test]
fn prefix_end() {
    for case in section("prefixEnd") {
        let prefix = case["prefix"].as_str().unwrap();
        assert_eq!(
            prefix_upper_bound(prefix).as_deref(),
            optional_string(&case["end"]),
            "{case}"
        );
    }
}

#[test]
fn expires() {
    for case in section("expires") {
        let input = case["input"].as_str().unwrap();
        assert_eq!(parse_lenient(input), case["lenient"].as_f64(), "{case}");
        match parse_strict(input) {
            Ok(seconds) => assert_eq!(Some(seconds), case["strict"].as_f64(), "{case}"),
            Err(invalid) => {
                assert!(case["strict"].is_null(), "{case}: refused in strict mode");
                assert_eq!(invalid.to_string(), case["message"].as_str().unwrap(), "{case}");
            }
        }
    }
}
