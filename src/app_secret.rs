//! `APP_SECRET`: taken from the configuration, or generated once into `DATA_DIR/app_secret`
//! (mode 0600) so a default install encrypts keys without any setup, and keeps them readable
//! across restarts.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

use crate::config::{MIN_APP_SECRET_LEN, Secret};

/// A 32-byte key for one purpose, derived from `APP_SECRET` (HKDF-SHA256), so every node that
/// shares the secret derives the same key and no purpose's key stands in for another's.
pub fn subkey(secret: &Secret, purpose: &str) -> [u8; 32] {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"fal-studio"), secret.expose().as_bytes());
    let mut key = [0u8; 32];
    hk.expand(purpose.as_bytes(), &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

pub fn secret_file(data_dir: &Path) -> PathBuf {
    data_dir.join("app_secret")
}

pub fn load_or_create(configured: Option<&Secret>, data_dir: &Path) -> anyhow::Result<Secret> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = secret_file(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let text = text.trim().to_owned();
            anyhow::ensure!(
                text.len() >= MIN_APP_SECRET_LEN,
                "{} is shorter than {MIN_APP_SECRET_LEN} characters; restore it from a backup or set APP_SECRET",
                path.display()
            );
            Ok(Secret::new(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<Secret> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "could not create {} (set APP_SECRET, or make DATA_DIR writable)",
            path.display()
        )
    })?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new APP_SECRET; back this file up with the database");
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(None, dir.path()).unwrap();
        let second = load_or_create(None, dir.path()).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert!(first.expose().len() >= MIN_APP_SECRET_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_file(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_secret_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let configured = Secret::new("x".repeat(40));
        let got = load_or_create(Some(&configured), dir.path()).unwrap();
        assert_eq!(got.expose(), configured.expose());
        assert!(!secret_file(dir.path()).exists());
    }
}
