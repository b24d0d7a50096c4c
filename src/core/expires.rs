//! The `expires` parser: seconds (fractions allowed) from a number or a string
//! such as `"10s"`, `"2 minutes"`, `"1_000ms"`, `"1.5h"`.
//!
//! Lenient mode follows polystore 0.27 exactly, since drop-in apps depend on it:
//! lower-case, drop `,` and `_`, then `<number><spaces?><unit>`, a trailing `s` on
//! the unit ignored, the result rounded to 3 decimals, and anything unparseable
//! means "never expire" (`None`). Strict mode turns that last case into an error,
//! after also accepting compound durations humantime understands (`"1h 30m"`), and
//! refuses what lenient mode reads only by accident: a `,` or `_` that is not between
//! two digits (`"_1s"`), a plural `s` after a one-letter unit (`"10ss"`).
//!
//! Neither mode bounds the result (`"1e400ms"` is infinite seconds): the facade
//! refuses any `expires` over its documented maximum with a `RangeError`, numbers
//! and strings alike (`MAX_EXPIRES` in lib/rules.js).

use crate::core::error::{Error, ErrorKind};

/// Seconds per unit, as polystore defines them (a year is 365.25 days and a
/// month is a twelfth of it).
fn unit_seconds(unit: &str) -> Option<f64> {
    const DAY: f64 = 86_400.0;
    const YEAR: f64 = DAY * 365.25;
    Some(match unit {
        "ms" | "msec" | "millisecond" => 0.001,
        "" | "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hr" | "hour" => 3_600.0,
        "d" | "day" => DAY,
        "w" | "wk" | "week" => DAY * 7.0,
        "y" | "yr" | "year" => YEAR,
        "b" | "month" => YEAR / 12.0,
        _ => return None,
    })
}

/// JavaScript's `Math.round(x * 1000) / 1000` (halves round towards +∞).
fn round3(x: f64) -> f64 {
    (x * 1000.0 + 0.5).floor() / 1000.0
}

/// Splits `"<number><spaces?><letters>"`; the number accepts what the polystore
/// pattern accepts: optional `-`, digits with an optional `.`, optional exponent.
fn split_number_unit(text: &str) -> Option<(f64, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i += 1;
    }
    let digits_start = i;
    let mut digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    let mut number_end = i;
    // An exponent only counts when digits follow it; otherwise the `e` is a unit letter.
    if i < bytes.len() && bytes[i] == b'e' {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        let exp_digits_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_digits_start {
            number_end = j;
        }
    }
    let number: f64 = text[..number_end].parse().ok().or_else(|| {
        // "5." and "-.5" are valid for JS parseFloat but not for Rust's parser.
        let t = &text[digits_start..number_end];
        let fixed = format!("{}0{}", &text[..digits_start], t);
        fixed.replacen(".e", ".0e", 1).trim_end_matches('.').parse().ok()
    })?;
    let unit = text[number_end..].trim_start();
    if !unit.chars().all(char::is_alphabetic) {
        return None;
    }
    Some((number, unit))
}

/// Parses polystore's string form. `None` means "not understood".
pub fn parse_lenient(input: &str) -> Option<f64> {
    let cleaned: String = input
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let (number, unit) = split_number_unit(&cleaned)?;
    let factor = unit_seconds(unit).or_else(|| unit_seconds(unit.strip_suffix('s')?))?;
    Some(round3(factor * number))
}

/// Why a strict parse failed, worded for the person who wrote the value.
#[derive(Debug, PartialEq)]
pub struct InvalidExpires(pub String);

impl InvalidExpires {
    /// The message without the `[polykv] ` tag.
    pub fn reason(&self) -> String {
        format!(
            "invalid expires {:?}: use seconds (a number) or a duration such as \"10s\", \"5min\", \"2h\", \"1d\", \"1h 30m\"",
            self.0
        )
    }
}

impl std::fmt::Display for InvalidExpires {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[polykv] {}", self.reason())
    }
}

/// An `ERR_POLYKV_EXPIRES` error with the same text.
impl From<InvalidExpires> for Error {
    fn from(invalid: InvalidExpires) -> Self {
        Error::new(ErrorKind::Expires, "", invalid.reason())
    }
}

/// Whether `input`, which lenient mode read, also reads the same to a person: digit
/// separators only between digits, and a plural `s` only after a unit word.
fn strict_shape(input: &str) -> bool {
    let bytes = input.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        if byte == b',' || byte == b'_' {
            let before = i > 0 && bytes[i - 1].is_ascii_digit();
            let after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(before && after) {
                return false;
            }
        }
    }
    let cleaned: String = input
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    match split_number_unit(&cleaned) {
        Some((_, unit)) if unit_seconds(unit).is_none() => {
            // Only the plural of a word ("mins", "hrs", "days"): not "ss", "hs", "mss".
            unit.strip_suffix('s')
                .is_some_and(|one| one.len() >= 2 && one != "ms" && unit_seconds(one).is_some())
        }
        _ => true,
    }
}

/// Strict parse: polystore's forms, then humantime's compound durations, else an error.
pub fn parse_strict(input: &str) -> Result<f64, InvalidExpires> {
    if let Some(seconds) = parse_lenient(input) {
        return match strict_shape(input) {
            true => Ok(seconds),
            false => Err(InvalidExpires(input.to_string())),
        };
    }
    humantime::parse_duration(input.trim())
        .map(|d| round3(d.as_secs_f64()))
        .map_err(|_| InvalidExpires(input.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_units() {
        let cases: &[(&str, Option<f64>)] = &[
            ("10", Some(10.0)),
            ("10s", Some(10.0)),
            ("0.01", Some(0.01)),
            (".5s", Some(0.5)),
            ("5.", Some(5.0)),
            ("-5s", Some(-5.0)),
            ("1e3", Some(1000.0)),
            ("1e3ms", Some(1.0)),
            ("100ms", Some(0.1)),
            ("1 msec", Some(0.001)),
            ("2minutes", Some(120.0)),
            ("2 Minutes", Some(120.0)),
            ("1h", Some(3600.0)),
            ("3hrs", Some(10_800.0)),
            ("2days", Some(172_800.0)),
            ("1w", Some(604_800.0)),
            ("1wk", Some(604_800.0)),
            ("1y", Some(31_557_600.0)),
            ("1b", Some(2_629_800.0)),
            ("2months", Some(5_259_600.0)),
            ("1_000", Some(1000.0)),
            ("1,000s", Some(1000.0)),
            ("0.0004s", Some(0.0)),
            ("0.0005s", Some(0.001)),
            ("potato", None),
            ("5potato", None),
            ("", None),
            ("1h 30m", None),
            ("5 s s", None),
            ("e5", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_lenient(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn strict_accepts_compound_and_rejects_nonsense() {
        assert_eq!(parse_strict("10s"), Ok(10.0));
        assert_eq!(parse_strict("1h 30m"), Ok(5400.0));
        for ok in [
            "1_000",
            "1,000s",
            "2mins",
            "3hrs",
            "2 days",
            "5ms",
            "1 msecs",
            "10 seconds",
            "2months",
        ] {
            assert!(parse_strict(ok).is_ok(), "{ok:?}");
        }
        for bad in ["10ss", "_1s", "1_s", "1__0", "1s_", "5hs", "5mss", ",5"] {
            assert!(parse_lenient(bad).is_some(), "lenient reads {bad:?}");
            assert!(parse_strict(bad).is_err(), "strict refuses {bad:?}");
        }
        // Out of range is the facade's call (a RangeError for every backend), not the parser's.
        assert_eq!(parse_strict("1e400ms"), Ok(f64::INFINITY));
        let err = parse_strict("5potato").unwrap_err();
        assert!(err.to_string().contains("\"5potato\""));
        let error = Error::from(err);
        assert_eq!(error.kind, ErrorKind::Expires);
        assert!(error
            .to_string()
            .starts_with("[polykv] invalid expires \"5potato\": use seconds"));
    }
}
