//! Prefix queries as key ranges: `key.starts_with(prefix)` is exactly
//! `prefix <= key < prefix_upper_bound(prefix)`, so a sorted index (SQLite's
//! primary key) answers it as a range scan.
//!
//! The order is code-point order, which for Rust strings is their UTF-8 byte order:
//! SQLite compares TEXT with memcmp, `BTreeMap<String, _>` and `sort` compare bytes.
//! So no Rust backend needs a separate byte-order bound (lib/rules.js has one,
//! `prefixEndBytes`, for byte-keyed JS stores such as etcd and level).

/// The smallest string greater than every string that starts with `prefix`, or
/// `None` when there is no such bound (an empty prefix, or only U+10FFFF chars).
/// The last character that can grow is incremented (skipping the surrogate gap,
/// which no string can hold) and what follows it dropped.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let (at, last) = prefix.char_indices().rev().find(|&(_, c)| c != char::MAX)?;
    let next = match last {
        '\u{D7FF}' => '\u{E000}',
        c => char::from_u32(c as u32 + 1)?,
    };
    let mut bound = String::with_capacity(at + next.len_utf8());
    bound.push_str(&prefix[..at]);
    bound.push(next);
    Some(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_brackets_exactly_the_prefixed_keys() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("a:").as_deref(), Some("a;"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
        let bound = prefix_upper_bound("user:").unwrap();
        for key in ["user:", "user:1", "user:\u{10FFFF}\u{10FFFF}", "user:zzz"] {
            assert!(key >= "user:" && key < bound.as_str(), "{key}");
        }
        for key in ["user", "user;", "users", "user;a", "v"] {
            assert!(!(key >= "user:" && key < bound.as_str()), "{key}");
        }
    }

    #[test]
    fn code_point_order_is_byte_order() {
        // Why one bound serves SQLite, BTreeMap and sorted listings alike.
        let mut keys = ["\u{E000}", "\u{D7FF}", "z", "\u{10FFFF}", "é", "\u{FFFF}"];
        keys.sort();
        let mut by_bytes = keys;
        by_bytes.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(keys, by_bytes);
    }
}
