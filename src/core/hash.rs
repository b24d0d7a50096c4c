//! `hash()`: the content hash of Astro-style asset keys (`[hash].json`). BLAKE3 with
//! its default 256-bit output, as 64 lowercase hex digits: the same for the same bytes
//! in Node, Bun and every release (a changed algorithm would rename every cached asset,
//! so it is fixed here and by the test vectors below). Strings are hashed as UTF-8.

/// The lowercase hex BLAKE3-256 digest of `bytes`.
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::content_hash;

    // The BLAKE3 team's published digests (test_vectors.json: input byte i is i % 251).
    fn vector_input(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn matches_the_published_vectors() {
        assert_eq!(
            content_hash(&vector_input(0)),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            content_hash(&vector_input(1)),
            "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"
        );
        assert_eq!(
            content_hash(&vector_input(1024)),
            "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"
        );
    }

    #[test]
    fn text_is_hashed_as_utf8() {
        assert_eq!(content_hash("é".as_bytes()), content_hash(&[0xc3, 0xa9]));
        assert_eq!(content_hash(b"abc").len(), 64);
    }
}
