//! Deleting assets: the rows go at once (the user sees them gone); the stored objects are
//! removed right after, and any removal storage refuses is kept in `pending_deletions` and
//! retried in the background until it succeeds, so nothing is left behind for good.

use std::time::Duration;

use crate::{AppState, error::Result};

/// Deletes the user's assets among `ids`; how many there were.
pub async fn delete(state: &AppState, user_id: &str, ids: &[String]) -> Result<u64> {
    let mut tx = crate::db::begin_write(&state.db).await?;
    let mut keys = Vec::new();
    for id in ids {
        let found: Option<(String, String)> = sqlx::query_as(
            "DELETE FROM assets WHERE id = ? AND user_id = ? RETURNING storage_key, storage_mode",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((key, mode)) = found {
            sqlx::query(
                "INSERT INTO pending_deletions (storage_key, storage_mode) VALUES (?, ?) \
                 ON CONFLICT (storage_key) DO NOTHING",
            )
            .bind(&key)
            .bind(&mode)
            .execute(&mut *tx)
            .await?;
            keys.push(key);
        }
    }
    tx.commit().await?;
    for key in &keys {
        remove_object(state, key).await?;
    }
    Ok(keys.len() as u64)
}

async fn remove_object(state: &AppState, key: &str) -> Result<()> {
    match state.storage.delete(key).await {
        Ok(()) => {
            sqlx::query("DELETE FROM pending_deletions WHERE storage_key = ?")
                .bind(key)
                .execute(&state.db)
                .await?;
        }
        Err(e) => {
            tracing::warn!(key, error = %e, "could not remove a deleted asset's object; will retry");
            sqlx::query(
                "UPDATE pending_deletions SET attempts = attempts + 1, last_error = ? WHERE storage_key = ?",
            )
            .bind(e.to_string())
            .bind(key)
            .execute(&state.db)
            .await?;
        }
    }
    Ok(())
}

/// Retries pending removals for the storage in use, every `every`, forever.
pub async fn sweep_forever(state: AppState, every: Duration) {
    loop {
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "pending deletions sweep failed");
        }
        tokio::time::sleep(every).await;
    }
}

pub async fn sweep(state: &AppState) -> Result<()> {
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT storage_key FROM pending_deletions WHERE storage_mode = ? ORDER BY created_at LIMIT 500",
    )
    .bind(state.storage.mode())
    .fetch_all(&state.db)
    .await?;
    for key in keys {
        remove_object(state, &key).await?;
    }
    Ok(())
}
