//! SQL for `model_meta`, `model_favorites` and `model_recents`.

use serde::Serialize;

use crate::{
    db::{Db, with_db, with_tx},
    error::Result,
    fal::CatalogModel,
};

/// How many recently used models each user keeps.
pub const RECENT_LIMIT: i64 = 12;

/// A model as clients see it (prices are added by the caller).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub endpoint_id: String,
    pub display_name: String,
    pub category: Option<String>,
    pub description: Option<String>,
    pub thumbnail_url: Option<String>,
    pub status: Option<String>,
}

impl ModelInfo {
    pub fn from_catalog(m: &CatalogModel) -> Self {
        let meta = &m.metadata;
        ModelInfo {
            endpoint_id: m.endpoint_id.clone(),
            display_name: meta
                .display_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| m.endpoint_id.clone()),
            category: meta.category.clone(),
            description: meta.description.clone(),
            thumbnail_url: meta.thumbnail_url.clone().filter(|u| safe_image_url(u)),
            status: meta.status.clone(),
        }
    }

    /// The name to show for an endpoint: the catalog's, or its id when the studio never saw it.
    pub async fn display_name(db: &Db, endpoint_id: &str) -> Result<String> {
        Ok(known(db, endpoint_id)
            .await?
            .map(|m| m.display_name)
            .unwrap_or_else(|| endpoint_id.to_owned()))
    }

    /// For an endpoint the studio knows nothing about: its id is its name.
    pub fn unknown(endpoint_id: &str) -> Self {
        ModelInfo {
            endpoint_id: endpoint_id.to_owned(),
            display_name: endpoint_id.to_owned(),
            category: None,
            description: None,
            thumbnail_url: None,
            status: None,
        }
    }
}

/// Only https images and inline images reach an `<img src>`; anything else is dropped.
fn safe_image_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("data:image/")
}

pub async fn remember(db: &Db, models: &[ModelInfo]) -> Result<()> {
    let now = db.engine().now();
    let sql = format!(
        "INSERT INTO model_meta (endpoint_id, display_name, category, description, thumbnail_url, status)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (endpoint_id) DO UPDATE SET
           display_name = excluded.display_name, category = excluded.category,
           description = excluded.description, thumbnail_url = excluded.thumbnail_url,
           status = excluded.status,
           updated_at = {now}"
    );
    let mut tx = crate::db::begin_write(db).await?;
    for m in models {
        with_tx!(&mut tx, conn => sqlx::query(&sql)
            .bind(&m.endpoint_id)
            .bind(&m.display_name)
            .bind(&m.category)
            .bind(&m.description)
            .bind(&m.thumbnail_url)
            .bind(&m.status)
            .execute(conn)
            .await
            .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn known(db: &Db, endpoint_id: &str) -> Result<Option<ModelInfo>> {
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT endpoint_id, display_name, category, description, thumbnail_url, status
         FROM model_meta WHERE endpoint_id = $1",
    )
    .bind(endpoint_id)
    .fetch_optional(pool)
    .await)?)
}

const LIST_COLUMNS: &str = "l.endpoint_id AS endpoint_id,
    COALESCE(m.display_name, l.endpoint_id) AS display_name,
    m.category AS category, m.description AS description,
    m.thumbnail_url AS thumbnail_url, m.status AS status";

pub async fn favorites(db: &Db, user_id: &str) -> Result<Vec<ModelInfo>> {
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM model_favorites l
         LEFT JOIN model_meta m ON m.endpoint_id = l.endpoint_id
         WHERE l.user_id = $1 ORDER BY l.created_at DESC, l.endpoint_id"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?)
}

pub async fn add_favorite(db: &Db, user_id: &str, endpoint_id: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query(
        "INSERT INTO model_favorites (user_id, endpoint_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(endpoint_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn remove_favorite(db: &Db, user_id: &str, endpoint_id: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query("DELETE FROM model_favorites WHERE user_id = $1 AND endpoint_id = $2")
        .bind(user_id)
        .bind(endpoint_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn recents(db: &Db, user_id: &str) -> Result<Vec<ModelInfo>> {
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM model_recents l
         LEFT JOIN model_meta m ON m.endpoint_id = l.endpoint_id
         WHERE l.user_id = $1 ORDER BY l.used_at DESC LIMIT $2"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .bind(RECENT_LIMIT)
        .fetch_all(pool)
        .await)?)
}

/// Marks a model as just used and forgets the user's oldest beyond [`RECENT_LIMIT`].
pub async fn touch_recent(db: &Db, user_id: &str, endpoint_id: &str) -> Result<()> {
    let now = db.engine().now();
    let touch = format!(
        "INSERT INTO model_recents (user_id, endpoint_id) VALUES ($1, $2)
         ON CONFLICT (user_id, endpoint_id)
         DO UPDATE SET used_at = {now}"
    );
    let mut tx = crate::db::begin_write(db).await?;
    with_tx!(&mut tx, conn => {
        sqlx::query(&touch)
            .bind(user_id)
            .bind(endpoint_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "DELETE FROM model_recents WHERE user_id = $1 AND endpoint_id NOT IN (
               SELECT endpoint_id FROM model_recents WHERE user_id = $1 ORDER BY used_at DESC LIMIT $2)",
        )
        .bind(user_id)
        .bind(RECENT_LIMIT)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    tx.commit().await?;
    Ok(())
}
