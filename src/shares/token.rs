//! Share tokens: 32 bytes from the operating system's RNG, base64url without padding (43
//! characters, 256 bits). They are not derived from any id, so knowing an asset or another link
//! says nothing about a token.
//!
//! Tokens are stored as is, not hashed. A hash would only matter to someone who can read the
//! database but not the files, and it would cost the owner's link list: the list must show each
//! link's URL again to copy it, which needs the token. Links are revocable at once, the database
//! already holds the prompts and the storage keys, and a lookup by a 256-bit random key leaks
//! nothing useful through timing.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};

pub const TOKEN_BYTES: usize = 32;
/// base64url of 32 bytes, without padding.
pub const TOKEN_CHARS: usize = 43;

pub fn generate() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `raw` could be a token at all; anything else is answered like an unknown token
/// without touching the database.
pub fn is_well_formed(raw: &str) -> bool {
    raw.len() == TOKEN_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "abc",
            &"a".repeat(42),
            &"a".repeat(44),
            &format!("{}/", "a".repeat(42)),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(!is_well_formed(bad), "{bad:?} must be refused");
        }
    }
}
