//! The `studio_settings` table: the one place its SQL lives. One row at most; without it every
//! setting has its default, and the first change adds it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::{Db, with_db},
    error::Result,
};

/// What to do with a job whose cost cannot be estimated (fal's unit cannot be counted from its
/// settings, or fal's prices could not be read) when a budget applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unpriced {
    /// Refuse it, saying why.
    Refuse,
    /// Run it, counting the admin's worst case against the budget.
    Reserve,
}

impl Unpriced {
    pub fn as_str(self) -> &'static str {
        match self {
            Unpriced::Refuse => "refuse",
            Unpriced::Reserve => "reserve",
        }
    }

    pub fn parse(text: &str) -> Option<Unpriced> {
        [Unpriced::Refuse, Unpriced::Reserve]
            .into_iter()
            .find(|u| u.as_str() == text)
    }
}

crate::text_column::text_column!(Unpriced, "unpriced policy");

/// The studio's settings as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StudioSettings {
    /// The studio key, encrypted like personal keys (with [`STUDIO_KEY_OWNER`] as its owner).
    pub key_ciphertext: Option<String>,
    /// The key's public half (before the ':'), shown to admins.
    pub key_id: Option<String>,
    /// Requests the studio key may have at fal at once; none: `FAL_KEY_CONCURRENCY`.
    pub key_concurrency: Option<i64>,
    pub budget_monthly_micros: Option<i64>,
    /// `false`: every request to fal carries `X-Fal-Store-IO: 0`.
    pub store_io: bool,
    /// Sent as `X-Fal-Object-Lifecycle-Preference`; none: fal's default.
    pub media_expiry_seconds: Option<i64>,
    pub unpriced: Unpriced,
    pub unpriced_reserve_micros: i64,
}

impl StudioSettings {
    /// Requests the studio key may have at fal at once: the admin's setting, else `default`
    /// (`FAL_KEY_CONCURRENCY`).
    pub fn key_limit(&self, default: usize) -> usize {
        self.key_concurrency
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(default)
    }

    /// What fal may keep of the studio's requests.
    pub fn retention(&self) -> crate::fal::Retention {
        crate::fal::Retention {
            store_io: self.store_io,
            media_expiry_seconds: self.media_expiry_seconds,
        }
    }
}

/// The name the studio key is encrypted under (a user's id is a UUID, so never this).
pub const STUDIO_KEY_OWNER: &str = "studio-key";

impl Default for StudioSettings {
    fn default() -> Self {
        StudioSettings {
            key_ciphertext: None,
            key_id: None,
            key_concurrency: None,
            budget_monthly_micros: None,
            store_io: true,
            media_expiry_seconds: None,
            unpriced: Unpriced::Refuse,
            unpriced_reserve_micros: 1_000_000,
        }
    }
}

const COLUMNS: &str = "key_ciphertext, key_id, key_concurrency, budget_monthly_micros, \
    store_io, media_expiry_seconds, unpriced, unpriced_reserve_micros";

/// The settings now: one small read, so every node sees an admin's change at once.
pub async fn load(db: &Db) -> Result<StudioSettings> {
    let sql = format!("SELECT {COLUMNS} FROM studio_settings WHERE id = 1");
    let row: Option<StudioSettings> =
        with_db!(db, pool => sqlx::query_as(&sql).fetch_optional(pool).await)?;
    Ok(row.unwrap_or_default())
}

/// Saves every setting but the key (which only [`set_key`] changes, so a settings form loaded
/// before a key change cannot bring the old key back).
pub async fn save(db: &Db, s: &StudioSettings) -> Result<()> {
    let now = db.engine().now();
    let sql = format!(
        "INSERT INTO studio_settings (id, key_concurrency, budget_monthly_micros, store_io, \
         media_expiry_seconds, unpriced, unpriced_reserve_micros, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5, $6, {now}) \
         ON CONFLICT (id) DO UPDATE SET key_concurrency = excluded.key_concurrency, \
         budget_monthly_micros = excluded.budget_monthly_micros, store_io = excluded.store_io, \
         media_expiry_seconds = excluded.media_expiry_seconds, unpriced = excluded.unpriced, \
         unpriced_reserve_micros = excluded.unpriced_reserve_micros, updated_at = excluded.updated_at"
    );
    with_db!(db, pool => sqlx::query(&sql)
        .bind(s.key_concurrency)
        .bind(s.budget_monthly_micros)
        .bind(s.store_io)
        .bind(s.media_expiry_seconds)
        .bind(s.unpriced)
        .bind(s.unpriced_reserve_micros)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Sets only the studio key (and its public half), leaving every other setting as it is:
/// a key saved while another admin changes the budget loses neither change.
pub async fn set_key(db: &Db, ciphertext: Option<&str>, key_id: Option<&str>) -> Result<()> {
    let now = db.engine().now();
    let sql = format!(
        "INSERT INTO studio_settings (id, key_ciphertext, key_id, updated_at) \
         VALUES (1, $1, $2, {now}) ON CONFLICT (id) DO UPDATE SET \
         key_ciphertext = excluded.key_ciphertext, key_id = excluded.key_id, \
         updated_at = excluded.updated_at"
    );
    with_db!(db, pool => sqlx::query(&sql)
        .bind(ciphertext)
        .bind(key_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}
