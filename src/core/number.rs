//! JSON numbers for `increment`: read the stored text as V8's `JSON.parse` would, and
//! write the sum as text that parses back to the same number.

use crate::backend::ValueRef;

/// The number a record's JSON text holds, or `None` for anything else (a string, an
/// object, bytes, a tagged record: the JS side handles those).
pub fn plain_number(value: ValueRef<'_>) -> Option<f64> {
    let ValueRef::Text(text) = value else {
        return None;
    };
    let first = text.trim_start().as_bytes().first()?;
    if *first != b'-' && !first.is_ascii_digit() {
        return None;
    }
    serde_json::from_str::<f64>(text).ok().filter(|n| n.is_finite())
}

/// `n` (finite) as JSON text in its shortest round-trip form, with an exponent where
/// `JSON.stringify` uses one (from 1e21, below 1e-6), and `0` for `-0`.
pub fn json_number(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    if n.abs() >= 1e21 || n.abs() < 1e-6 {
        return format!("{n:e}");
    }
    format!("{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_only() {
        let read = |text: &str| plain_number(ValueRef::Text(text));
        assert_eq!(read("5"), Some(5.0));
        assert_eq!(read(" -2.5e3"), Some(-2500.0));
        assert_eq!(read("\"5\""), None);
        assert_eq!(read("[1]"), None);
        assert_eq!(read("true"), None);
        assert_eq!(read("5 6"), None);
        assert_eq!(plain_number(ValueRef::Bytes(b"5")), None);
    }

    #[test]
    fn writes_numbers_that_read_back_the_same() {
        for n in [6.0, -0.0, 0.1 + 0.2, 9.5, 1e21, 1e-7, -123456789.125, f64::MAX, 5e-324] {
            let text = json_number(n);
            assert_eq!(
                serde_json::from_str::<f64>(&text).unwrap(),
                if n == 0.0 { 0.0 } else { n },
                "{text}"
            );
        }
        assert_eq!(json_number(6.0), "6");
        assert_eq!(json_number(-0.0), "0");
        assert_eq!(json_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(json_number(1e21), "1e21");
        assert_eq!(json_number(123e-9), "1.23e-7");
    }
}
