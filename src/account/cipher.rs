//! Encryption of fal keys at rest: XChaCha20-Poly1305 with a key derived from `APP_SECRET` by
//! HKDF-SHA256, a random 192-bit nonce per encryption, and the user's id as associated data so a
//! ciphertext copied onto another user's row does not decrypt.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};

use crate::config::Secret;

const VERSION_PREFIX: &str = "v1.";

#[derive(Clone)]
pub struct KeyCipher {
    aead: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("encryption failed")]
    Encrypt,
    #[error("the stored key cannot be decrypted with this APP_SECRET")]
    Decrypt,
}

impl KeyCipher {
    pub fn new(app_secret: &Secret) -> Self {
        let key = crate::app_secret::subkey(app_secret, "fal-key-encryption v1");
        KeyCipher {
            aead: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub fn encrypt(&self, plaintext: &str, user_id: &str) -> Result<String, CipherError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: user_id.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Encrypt)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD_NO_PAD.encode(blob)))
    }

    pub fn decrypt(&self, stored: &str, user_id: &str) -> Result<String, CipherError> {
        let encoded = stored
            .strip_prefix(VERSION_PREFIX)
            .ok_or(CipherError::Decrypt)?;
        let blob = STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| CipherError::Decrypt)?;
        if blob.len() < 24 {
            return Err(CipherError::Decrypt);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        let plaintext = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: user_id.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Decrypt)?;
        String::from_utf8(plaintext).map_err(|_| CipherError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(secret: &str) -> KeyCipher {
        KeyCipher::new(&Secret::new(secret.repeat(8)))
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let c = cipher("abcd");
        let stored = c.encrypt("key-id:key-secret", "user-1").unwrap();
        assert!(!stored.contains("key-secret"));
        assert_eq!(c.decrypt(&stored, "user-1").unwrap(), "key-id:key-secret");
    }

    #[test]
    fn two_encryptions_differ() {
        let c = cipher("abcd");
        assert_ne!(c.encrypt("k", "u").unwrap(), c.encrypt("k", "u").unwrap());
    }

    #[test]
    fn another_user_or_another_secret_cannot_decrypt() {
        let c = cipher("abcd");
        let stored = c.encrypt("k", "user-1").unwrap();
        assert!(c.decrypt(&stored, "user-2").is_err());
        assert!(cipher("wxyz").decrypt(&stored, "user-1").is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let c = cipher("abcd");
        for stored in ["", "v1.", "v1.!!!", "v2.AAAA", "v1.AAAA"] {
            assert!(c.decrypt(stored, "u").is_err(), "{stored:?}");
        }
    }
}
