//! Keys for `add()`: 24 characters from `[A-Za-z0-9]`, cryptographically random and
//! uniform over all 62 characters (nanoid's masked rejection sampling), about 143
//! bits of entropy.

pub const KEY_LENGTH: usize = 24;

const ALPHABET: [char; 62] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',
    'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't',
    'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
];

pub fn generate() -> String {
    nanoid::nanoid!(KEY_LENGTH, &ALPHABET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let key = generate();
        assert_eq!(key.len(), KEY_LENGTH);
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(generate(), generate());
    }

    #[test]
    fn every_character_appears_roughly_evenly() {
        let mut counts = std::collections::HashMap::new();
        for _ in 0..5_000 {
            for c in generate().chars() {
                *counts.entry(c).or_insert(0u32) += 1;
            }
        }
        // 120 000 draws over 62 symbols: ~1935 each; a biased generator (such as
        // masking bytes with 61) leaves whole characters out.
        assert_eq!(counts.len(), 62);
        assert!(counts.values().all(|&n| (1_600..2_300).contains(&n)), "{counts:?}");
    }
}
