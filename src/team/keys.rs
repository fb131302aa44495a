//! Which fal key runs a user's jobs: their own when they saved one, else the studio key when an
//! admin allowed them to use it and one is saved, else none. Decided when a job is queued and
//! kept with it (`jobs.key_source`), so a budget is charged to the key that really runs it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settings::{STUDIO_KEY_OWNER, StudioSettings};
use crate::{
    AppState,
    account::user_fal_key,
    error::{AppError, Category, Result},
    fal::FalKey,
    users::UserRow,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The user's own key.
    Own,
    /// The studio key, which an admin saved and lets this user use.
    Studio,
    /// No key: the user cannot generate until they save one or are allowed the studio key.
    /// Never stored with a job.
    None,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Own => "own",
            KeySource::Studio => "studio",
            KeySource::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<KeySource> {
        [KeySource::Own, KeySource::Studio, KeySource::None]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// The key a user's new jobs would run on.
    pub fn for_user(user: &UserRow, settings: &StudioSettings) -> KeySource {
        if user.fal_key_ciphertext.is_some() {
            KeySource::Own
        } else if user.may_use_studio_key && settings.key_ciphertext.is_some() {
            KeySource::Studio
        } else {
            KeySource::None
        }
    }
}

crate::text_column::text_column!(KeySource, "key source");

/// The name of the line of jobs that share one key's slots at fal: everyone on the studio key
/// shares `studio`; a personal key is its user's, `own:<user id>`.
pub const STUDIO_LINE: &str = "studio";

pub fn key_line(source: Option<KeySource>, user_id: &str) -> String {
    match source {
        Some(KeySource::Studio) => STUDIO_LINE.to_owned(),
        _ => format!("own:{user_id}"),
    }
}

/// The key a user's new jobs run on, decrypted, where it came from, and the settings it was
/// chosen by (their budget and unpriced rules apply to the jobs too).
pub struct ChosenKey {
    pub key: FalKey,
    pub source: KeySource,
    pub settings: StudioSettings,
}

/// Chooses the key for a user's new jobs, reading the studio's settings once.
pub async fn key_for(state: &AppState, user: &UserRow) -> Result<ChosenKey> {
    let settings = super::settings::load(&state.db).await?;
    let (key, source) = match KeySource::for_user(user, &settings) {
        KeySource::None if user.may_use_studio_key => {
            return Err(AppError::conflict(
                "No fal key is saved for your account, and the studio key is not set up yet. Add your own key in Settings, or ask the studio's admin to save the studio key.",
            ));
        }
        // The personal-key message, as before studio keys existed.
        KeySource::Own | KeySource::None => (user_fal_key(state, user)?, KeySource::Own),
        KeySource::Studio => (studio_key(state, &settings)?, KeySource::Studio),
    };
    Ok(ChosenKey {
        key,
        source,
        settings,
    })
}

/// The key a queued job runs on: the one its source names now (a user who replaced their key
/// runs on the new one; a job queued on the studio key fails, saying why, if an admin removed
/// it meanwhile).
pub fn key_of_source(
    state: &AppState,
    user: &UserRow,
    settings: &StudioSettings,
    source: Option<KeySource>,
) -> Result<FalKey> {
    match source {
        Some(KeySource::Studio) => studio_key(state, settings),
        _ => user_fal_key(state, user),
    }
}

/// The studio key, decrypted. Its errors never say more than that it is missing or unreadable.
pub fn studio_key(state: &AppState, settings: &StudioSettings) -> Result<FalKey> {
    let stored = settings.key_ciphertext.as_deref().ok_or_else(|| {
        AppError::conflict(
            "The studio key was removed. Add your own key in Settings, or ask the studio's admin to save the studio key again.",
        )
    })?;
    let key = state
        .cipher
        .decrypt(stored, STUDIO_KEY_OWNER)
        .map_err(|_| {
            tracing::error!("the studio key does not decrypt; APP_SECRET changed?");
            AppError::new(
                Category::InvalidKey,
                "The studio key can no longer be read (the server's APP_SECRET changed). Ask the studio's admin to save it again.",
            )
        })?;
    Ok(FalKey::new(key))
}
