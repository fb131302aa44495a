//! Deleting assets: the rows go at once (the user sees them gone); the stored objects are
//! removed right after, and any removal storage refuses is kept in `pending_deletions` and
//! retried in the background until it succeeds, so nothing is left behind for good.

use std::time::Duration;

use super::store;
use crate::{AppState, error::Result};

/// Deletes the user's assets among `ids`; how many there were.
pub async fn delete(state: &AppState, user_id: &str, ids: &[String]) -> Result<u64> {
    let mut tx = crate::db::begin_write(&state.db).await?;
    let mut keys = Vec::new();
    let mut deleted = 0;
    for id in ids {
        let objects = store::delete_of_user(&mut tx, user_id, id).await?;
        if !objects.is_empty() {
            deleted += 1;
        }
        keys.extend(objects);
    }
    tx.commit().await?;
    store::changed();
    for key in &keys {
        remove_object(state, key).await?;
    }
    Ok(deleted)
}

async fn remove_object(state: &AppState, key: &str) -> Result<()> {
    match state.storage.delete(key).await {
        Ok(()) => store::deletion_done(&state.db, key).await?,
        Err(e) => {
            tracing::warn!(key, error = %e, "could not remove a deleted asset's object; will retry");
            store::deletion_failed(&state.db, key, &e.to_string()).await?;
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
    for key in store::pending_deletions(&state.db, state.storage.mode()).await? {
        remove_object(state, &key).await?;
    }
    Ok(())
}
