//! The `assets` and `pending_deletions` tables: the one place their SQL lives.

use std::sync::{
    LazyLock,
    atomic::{AtomicU64, Ordering},
};

use serde_json::{Map, Value};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type, types::Json};

use crate::{
    db::{Db, Engine, Tx, with_db, with_tx},
    error::Result,
};

#[derive(Debug, Clone, FromRow)]
pub struct AssetRow {
    pub id: String,
    pub user_id: String,
    pub job_id: Option<String>,
    pub endpoint_id: String,
    pub model: String,
    pub prompt: Option<String>,
    pub result_kind: String,
    pub storage_mode: String,
    pub storage_key: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub output_duration: Option<f64>,
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    /// The job's parameters, as the job ran with them.
    #[sqlx(rename = "params_json")]
    pub params: Json<Map<String, Value>>,
    pub file_name: String,
    /// Its place among its job's outputs, from 0.
    pub output_index: i64,
    pub created_at: String,
    pub thumb_status: ThumbStatus,
    /// Where the thumbnail lies, once `thumb_status` is `ready`.
    pub thumb_key: Option<String>,
    pub thumb_content_type: Option<String>,
    pub thumb_byte_size: Option<i64>,
    pub thumb_sha256: Option<String>,
    /// The batch (generation request) its job belonged to.
    pub group_id: Option<String>,
    /// When its owner starred it; none when it is not starred.
    pub starred_at: Option<String>,
}

/// Where an asset's thumbnail stands (see `thumbnail_worker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbStatus {
    /// Not made yet: the thumbnailer will (new outputs, and the backfill of older ones).
    Pending,
    Ready,
    /// This kind of file has none (audio, other files).
    None,
    /// The file could not be read, 3 times.
    Failed,
}

impl ThumbStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThumbStatus::Pending => "pending",
            ThumbStatus::Ready => "ready",
            ThumbStatus::None => "none",
            ThumbStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Ready, Self::None, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

crate::text_column::text_column!(ThumbStatus, "thumbnail status");

pub(crate) const COLUMNS: &str = "id, user_id, job_id, endpoint_id, model, prompt, result_kind, storage_mode, \
    storage_key, content_type, byte_size, sha256, width, height, output_duration, inference_time, \
    seed, params_json, file_name, output_index, created_at, thumb_status, thumb_key, \
    thumb_content_type, thumb_byte_size, thumb_sha256, group_id, starred_at";

/// One stored output of a job, as the runner hands it over.
pub struct NewOutput<'a> {
    pub user_id: &'a str,
    pub job_id: &'a str,
    pub group_id: &'a str,
    pub output_index: i64,
    pub endpoint_id: &'a str,
    pub model: &'a str,
    pub prompt: Option<&'a str>,
    pub result_kind: &'a str,
    pub storage_mode: &'a str,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub byte_size: i64,
    pub sha256: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub output_duration: Option<f64>,
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    pub params: &'a Map<String, Value>,
    pub file_name: &'a str,
}

/// Counts this process's changes to `assets`, so a copy of a page (the gallery's page cache)
/// can tell it may be stale. A writer notes a change when it starts and again once its
/// transaction has committed ([`changed`]): a page read between the two is never kept as
/// current.
static CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many times `assets` changed in this process; compare two readings.
pub fn changes() -> u64 {
    CHANGES.load(Ordering::Acquire)
}

/// Notes a change to `assets`: called by this module's writers, and by their callers once the
/// transaction they wrote in has committed.
pub fn changed() {
    CHANGES.fetch_add(1, Ordering::AcqRel);
}

/// Stars (or unstars) those of `ids` that are `user_id`'s assets, in one statement; how many
/// of them changed. Starring one already starred keeps its first date.
pub async fn set_starred(db: &Db, user_id: &str, ids: &[String], starred: bool) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = db.engine().now();
    // Only rows not yet as asked change, so the count says what this call did.
    changed();
    let done = match db {
        Db::Sqlite(pool) => sqlx::query(&format!(
            "/* sqlite */ UPDATE assets SET starred_at = CASE WHEN $3 THEN {now} END \
                 WHERE user_id = $1 AND (starred_at IS NULL) = $3 \
                 AND id IN (SELECT value FROM json_each($2))"
        ))
        .bind(user_id)
        .bind(json_array(ids))
        .bind(starred)
        .execute(pool)
        .await?
        .rows_affected(),
        Db::Postgres(pool) => sqlx::query(&format!(
            "/* postgres */ UPDATE assets SET starred_at = CASE WHEN $3 THEN {now} END \
                 WHERE user_id = $1 AND (starred_at IS NULL) = $3 AND id = ANY($2)"
        ))
        .bind(user_id)
        .bind(ids)
        .bind(starred)
        .execute(pool)
        .await?
        .rows_affected(),
    };
    changed();
    Ok(done)
}

/// Inserts a job's outputs inside the transaction that completes the job. An output already
/// stored (the same job and index, from an earlier attempt) is kept as it is: exactly once.
pub async fn insert_outputs(tx: &mut Tx, outputs: &[NewOutput<'_>]) -> Result<()> {
    changed();
    with_tx!(tx, conn => {
        for o in outputs {
            sqlx::query(
                "INSERT INTO assets (id, user_id, job_id, output_index, endpoint_id, model, prompt, result_kind, \
                 storage_mode, storage_key, content_type, byte_size, sha256, width, height, output_duration, \
                 inference_time, seed, params_json, file_name, thumb_status, group_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
                 ON CONFLICT (job_id, output_index) DO NOTHING",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(o.user_id)
            .bind(o.job_id)
            .bind(o.output_index)
            .bind(o.endpoint_id)
            .bind(o.model)
            .bind(o.prompt)
            .bind(o.result_kind)
            .bind(o.storage_mode)
            .bind(o.storage_key)
            .bind(o.content_type)
            .bind(o.byte_size)
            .bind(o.sha256)
            .bind(o.width)
            .bind(o.height)
            .bind(o.output_duration)
            .bind(o.inference_time)
            .bind(o.seed)
            .bind(Json(o.params))
            .bind(o.file_name)
            .bind(if matches!(o.result_kind, "image" | "video") {
                ThumbStatus::Pending
            } else {
                ThumbStatus::None
            })
            .bind(o.group_id)
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

/// The outputs of every job in `job_ids`, in one statement (the ids travel as one parameter: a
/// JSON array on SQLite, an array on Postgres), by job and output order.
pub async fn of_jobs(db: &Db, job_ids: &[&str]) -> Result<Vec<AssetRow>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "/* sqlite */ SELECT {COLUMNS} FROM assets \
                 WHERE job_id IN (SELECT value FROM json_each($1)) ORDER BY job_id, output_index"
            ))
            .bind(json_array(job_ids))
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                "/* postgres */ SELECT {COLUMNS} FROM assets \
                 WHERE job_id = ANY($1) ORDER BY job_id, output_index"
            ))
            .bind(job_ids)
            .fetch_all(pool)
            .await?
        }
    })
}

/// The user's assets among `ids`, in the order asked for, in one statement; ids of other
/// users or of nothing are left out.
pub async fn assets_of(db: &Db, user_id: &str, ids: &[String]) -> Result<Vec<AssetRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                // json_each has an `id` column too: pick the asset's columns inside, order outside.
                "/* sqlite */ SELECT {COLUMNS} FROM (SELECT assets.*, wanted.key AS wanted_position \
                 FROM assets JOIN json_each($1) AS wanted ON assets.id = wanted.value \
                 WHERE assets.user_id = $2) \
                 ORDER BY wanted_position"
            ))
            .bind(json_array(ids))
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                // The list's columns are named apart from the asset's, so {COLUMNS} stays
                // unambiguous.
                "/* postgres */ SELECT {COLUMNS} FROM assets \
                 JOIN unnest($1::text[]) WITH ORDINALITY AS wanted (wanted_id, wanted_position) \
                 ON assets.id = wanted.wanted_id \
                 WHERE assets.user_id = $2 ORDER BY wanted.wanted_position"
            ))
            .bind(ids)
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }
    })
}

fn json_array<S: AsRef<str>>(items: &[S]) -> String {
    serde_json::Value::from(items.iter().map(|s| s.as_ref()).collect::<Vec<_>>()).to_string()
}

/// An asset of this user; another user's asset is simply not found.
pub async fn asset_of(db: &Db, user_id: &str, id: &str) -> Result<Option<AssetRow>> {
    let sql = format!("SELECT {COLUMNS} FROM assets WHERE id = $1 AND user_id = $2");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)?)
}

/// Deletes the user's asset `id` and notes its objects (the file, and its thumbnail if any) for
/// removal, inside `tx`; the objects' keys, empty when there was no such asset.
pub async fn delete_of_user(tx: &mut Tx, user_id: &str, id: &str) -> Result<Vec<String>> {
    changed();
    Ok(with_tx!(tx, conn => {
        let found: Option<(String, String, Option<String>)> = sqlx::query_as(
            "DELETE FROM assets WHERE id = $1 AND user_id = $2 RETURNING storage_key, storage_mode, thumb_key",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
        let mut keys = Vec::new();
        if let Some((key, mode, thumb)) = found {
            for key in std::iter::once(key).chain(thumb) {
                sqlx::query(
                    "INSERT INTO pending_deletions (storage_key, storage_mode) VALUES ($1, $2) \
                     ON CONFLICT (storage_key) DO NOTHING",
                )
                .bind(&key)
                .bind(&mode)
                .execute(&mut *conn)
                .await?;
                keys.push(key);
            }
        }
        keys
    }))
}

/// The object is gone: nothing left to retry.
pub async fn deletion_done(db: &Db, key: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query("DELETE FROM pending_deletions WHERE storage_key = $1")
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Storage refused the removal: count it and keep why, for the next sweep.
pub async fn deletion_failed(db: &Db, key: &str, error: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query(
        "UPDATE pending_deletions SET attempts = attempts + 1, last_error = $1 WHERE storage_key = $2",
    )
    .bind(error)
    .bind(key)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Up to 500 objects of `storage_mode` still to remove, oldest first.
pub async fn pending_deletions(db: &Db, storage_mode: &str) -> Result<Vec<String>> {
    Ok(with_db!(db, pool => sqlx::query_scalar(
        "SELECT storage_key FROM pending_deletions WHERE storage_mode = $1 ORDER BY created_at LIMIT 500",
    )
    .bind(storage_mode)
    .fetch_all(pool)
    .await)?)
}

/// An asset whose thumbnail is to be made: which file, and where its thumbnail goes.
#[derive(Debug, Clone, FromRow)]
pub struct ThumbWork {
    pub id: String,
    pub user_id: String,
    pub job_id: Option<String>,
    pub output_index: i64,
    pub result_kind: String,
    pub storage_key: String,
    pub byte_size: i64,
    /// Tries so far, this one included.
    pub thumb_tries: i64,
}

const THUMB_WORK: &str =
    "id, user_id, job_id, output_index, result_kind, storage_key, byte_size, thumb_tries";

/// Claims up to `limit` pending thumbnails of the kinds in `kinds` for `hold_secs`, newest
/// first (a fresh output before the backfill of old ones), in one statement; each claim counts
/// a try. A claim that lapses (the node died, or the try failed) frees the asset for any node.
/// On Postgres the rows are locked with `SKIP LOCKED`, so nodes claiming together never take
/// the same asset.
pub async fn claim_thumbnails(
    db: &Db,
    kinds: &[&str],
    hold_secs: f64,
    limit: i64,
) -> Result<Vec<ThumbWork>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "/* sqlite */ UPDATE assets SET thumb_tries = thumb_tries + 1, \
                 thumb_claimed_until = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $1 || ' seconds') \
                 WHERE id IN (SELECT id FROM assets WHERE thumb_status = 'pending' \
                 AND result_kind IN (SELECT value FROM json_each($2)) \
                 AND (thumb_claimed_until IS NULL OR thumb_claimed_until < strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
                 ORDER BY created_at DESC LIMIT $3) RETURNING {THUMB_WORK}"
            ))
            .bind(hold_secs)
            .bind(json_array(kinds))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                "/* postgres */ UPDATE assets SET thumb_tries = thumb_tries + 1, \
                 thumb_claimed_until = studio_now_plus($1) \
                 WHERE id IN (SELECT id FROM assets WHERE thumb_status = 'pending' \
                 AND result_kind = ANY($2) \
                 AND (thumb_claimed_until IS NULL OR thumb_claimed_until < studio_now()) \
                 ORDER BY created_at DESC LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING {THUMB_WORK}"
            ))
            .bind(hold_secs)
            .bind(kinds)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    })
}

/// A stored thumbnail.
pub struct StoredThumbnail<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub byte_size: i64,
    pub sha256: &'a str,
}

/// Records the asset's thumbnail, if the asset is still there and still waits for one; whether
/// it did (when not, the caller's object belongs to nothing).
pub async fn thumbnail_ready(db: &Db, id: &str, thumb: &StoredThumbnail<'_>) -> Result<bool> {
    changed();
    let done = with_db!(db, pool => sqlx::query(
        "UPDATE assets SET thumb_status = $1, thumb_key = $2, thumb_content_type = $3, \
         thumb_byte_size = $4, thumb_sha256 = $5, thumb_claimed_until = NULL \
         WHERE id = $6 AND thumb_status = $7",
    )
    .bind(ThumbStatus::Ready)
    .bind(thumb.key)
    .bind(thumb.content_type)
    .bind(thumb.byte_size)
    .bind(thumb.sha256)
    .bind(id)
    .bind(ThumbStatus::Pending)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))?;
    changed();
    Ok(done)
}

/// The asset will have no thumbnail (`None`: nothing to make one from; `Failed`: unreadable).
pub async fn thumbnail_given_up(db: &Db, id: &str, status: ThumbStatus) -> Result<()> {
    with_db!(db, pool => sqlx::query(
        "UPDATE assets SET thumb_status = $1, thumb_claimed_until = NULL WHERE id = $2 AND thumb_status = $3",
    )
    .bind(status)
    .bind(id)
    .bind(ThumbStatus::Pending)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Whether the asset's recorded thumbnail is the object at `key` (another node's try that got
/// there first stored the same key).
pub async fn thumbnail_is(db: &Db, id: &str, key: &str) -> Result<bool> {
    let recorded: Option<Option<String>> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT thumb_key FROM assets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    Ok(recorded.flatten().as_deref() == Some(key))
}

/// How many assets still wait for a thumbnail.
pub async fn thumbnails_pending(db: &Db) -> Result<i64> {
    Ok(with_db!(db, pool => sqlx::query_scalar(
        "SELECT count(*) FROM assets WHERE thumb_status = $1",
    )
    .bind(ThumbStatus::Pending)
    .fetch_one(pool)
    .await)?)
}

/// The user's models with how many assets each made, most first.
pub async fn model_counts(db: &Db, user_id: &str) -> Result<Vec<(String, String, i64)>> {
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT endpoint_id, MAX(model), COUNT(*) FROM assets WHERE user_id = $1 \
         GROUP BY endpoint_id ORDER BY COUNT(*) DESC, endpoint_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)?)
}

/// A gallery page's filters, already checked.
#[derive(Debug, Default)]
pub struct PageFilters {
    pub kind: Option<String>,
    pub endpoint_id: Option<String>,
    /// `created_at >= from`
    pub from: Option<String>,
    /// `created_at < before`
    pub before: Option<String>,
    /// Words to find in prompts and models, in the engine's own query language: an FTS5 query
    /// on SQLite (`gallery::fts_query`), a tsquery on Postgres (`gallery::pg_ts_query`).
    pub search: Option<String>,
    /// Only starred assets.
    pub starred: bool,
    /// After this `(created_at, id)`, newest first.
    pub after: Option<(String, String)>,
    /// Rows to return (one more is asked for, to know whether there is a next page).
    pub limit: i64,
}

/// A whole-valued `double precision` as JSON the way SQLite's `json_object` writes a REAL and
/// serde writes an `f64`: `5.0`, where Postgres writes `5`. Values of 15 digits and more
/// Postgres writes with an exponent (`1e+15`), which reads as a float already.
macro_rules! pg_float {
    ($column:literal) => {
        concat!(
            "CASE WHEN ",
            $column,
            " = trunc(",
            $column,
            ") AND abs(",
            $column,
            ") < 1e15 ",
            "THEN CAST(",
            $column,
            "::text || '.0' AS json) ELSE to_json(",
            $column,
            ") END"
        )
    };
}

/// How each asset of a page is written in SQL: the fields of `AssetView` in its order, as
/// `AssetRow::view` makes them, with the SQLite and the Postgres expression of each (the tests
/// `sqlite_writes_the_page_as_the_views_serialise` and `postgres_writes_…` hold them together).
/// On Postgres `params_json` is JSONB, which `json_build_object` embeds as JSON.
const VIEW: &[(&str, &str, &str)] = &[
    ("id", "id", "id"),
    ("jobId", "job_id", "job_id"),
    ("groupId", "group_id", "group_id"),
    ("endpointId", "endpoint_id", "endpoint_id"),
    ("model", "model", "model"),
    ("prompt", "prompt", "prompt"),
    ("resultKind", "result_kind", "result_kind"),
    ("storageMode", "storage_mode", "storage_mode"),
    ("url", "'/files/' || id", "'/files/' || id"),
    (
        "downloadUrl",
        "'/files/' || id || '?download=1'",
        "'/files/' || id || '?download=1'",
    ),
    (
        "thumbnailUrl",
        "CASE WHEN thumb_status = 'ready' THEN '/files/' || id || '/thumbnail' END",
        "CASE WHEN thumb_status = 'ready' THEN '/files/' || id || '/thumbnail' END",
    ),
    ("contentType", "content_type", "content_type"),
    ("byteSize", "byte_size", "byte_size"),
    ("width", "width", "width"),
    ("height", "height", "height"),
    (
        "outputDuration",
        "output_duration",
        pg_float!("output_duration"),
    ),
    (
        "inferenceTime",
        "inference_time",
        pg_float!("inference_time"),
    ),
    ("seed", "seed", "seed"),
    ("fileName", "file_name", "file_name"),
    ("params", "json(params_json)", "params_json"),
    (
        "starred",
        "json(CASE WHEN starred_at IS NULL THEN 'false' ELSE 'true' END)",
        "starred_at IS NOT NULL",
    ),
    ("createdAt", "created_at", "created_at"),
];

/// A page's query around the filters that [`page`] adds: the page's rows (one more than asked,
/// to know whether another follows), then in one result row the kept rows as the JSON array
/// the API sends, whether more follow, and the last kept row's position for the cursor.
///
/// The database writes the JSON. sqlx hands each result row from its SQLite thread to the
/// async side on its own (a wake-up and a context switch each), and reading rows into Rust,
/// building views and serialising them again was half of a page's CPU time; one row of
/// finished JSON is one hand-over and no re-serialising. `ORDER BY` inside the aggregate makes
/// the array's order SQL's promise, not the engine's habit. Only the aggregate differs between
/// the engines.
fn page_head(engine: Engine) -> &'static str {
    static SQLITE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "/* sqlite */ WITH page AS MATERIALIZED (SELECT {COLUMNS} FROM assets WHERE user_id = "
        )
    });
    static POSTGRES: LazyLock<String> = LazyLock::new(|| {
        format!(
            "/* postgres */ WITH page AS MATERIALIZED (SELECT {COLUMNS} FROM assets WHERE user_id = "
        )
    });
    match engine {
        Engine::Sqlite => &SQLITE,
        Engine::Postgres => &POSTGRES,
    }
}
const PAGE_KEPT: &str =
    "), kept AS MATERIALIZED (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT ";
fn page_tail(engine: Engine) -> &'static str {
    static SQLITE: LazyLock<String> = LazyLock::new(|| {
        let fields: Vec<String> = VIEW
            .iter()
            .map(|(name, expr, _)| format!("'{name}', {expr}"))
            .collect();
        format!(
            "), last AS (SELECT created_at, id FROM kept ORDER BY created_at, id LIMIT 1) \
             SELECT \
             (SELECT json_group_array(json_object({fields}) ORDER BY created_at DESC, id DESC) FROM kept), \
             (SELECT count(*) FROM page) > (SELECT count(*) FROM kept), \
             (SELECT created_at FROM last), (SELECT id FROM last)",
            fields = fields.join(", ")
        )
    });
    static POSTGRES: LazyLock<String> = LazyLock::new(|| {
        let fields: Vec<String> = VIEW
            .iter()
            .map(|(name, _, expr)| format!("'{name}', {expr}"))
            .collect();
        // `json`, not `jsonb`: it keeps the keys in the order written. Selected as text, as
        // SQLite's is.
        format!(
            "), last AS (SELECT created_at, id FROM kept ORDER BY created_at, id LIMIT 1) \
             SELECT \
             (SELECT COALESCE(json_agg(json_build_object({fields}) ORDER BY created_at DESC, id DESC), \
             '[]'::json)::text FROM kept), \
             (SELECT count(*) FROM page) > (SELECT count(*) FROM kept), \
             (SELECT created_at FROM last), (SELECT id FROM last)",
            fields = fields.join(", ")
        )
    });
    match engine {
        Engine::Sqlite => &SQLITE,
        Engine::Postgres => &POSTGRES,
    }
}

/// A gallery page as the database wrote it.
#[derive(Debug, PartialEq)]
pub struct PageText {
    /// The assets as a JSON array of `AssetView`s, newest first.
    pub assets_json: String,
    /// The last asset's `(created_at, id)` when more follow it.
    pub continues_after: Option<(String, String)>,
}

/// Up to `limit` of the user's assets matching `f`, newest first (keyset, never OFFSET).
pub async fn page(db: &Db, user_id: &str, f: PageFilters) -> Result<PageText> {
    let engine = db.engine();
    let (assets_json, more, last_at, last_id): (String, bool, Option<String>, Option<String>) = with_db!(db, pool => {
        let mut sql = page_query(engine, user_id, f);
        sql.build_query_as().fetch_one(pool).await
    })?;
    Ok(PageText {
        assets_json,
        continues_after: match (more, last_at, last_id) {
            (true, Some(at), Some(id)) => Some((at, id)),
            _ => None,
        },
    })
}

/// The statement [`page`] sends, with its binds. The builder numbers the placeholders (`?` on
/// SQLite, `$N` on Postgres), so the optional filters cannot get them wrong.
fn page_query<'a, DB>(engine: Engine, user_id: &str, f: PageFilters) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql: QueryBuilder<DB> = QueryBuilder::new(page_head(engine));
    sql.push_bind(user_id.to_owned());
    if let Some(kind) = f.kind {
        sql.push(" AND result_kind = ").push_bind(kind);
    }
    if let Some(endpoint_id) = f.endpoint_id {
        sql.push(" AND endpoint_id = ").push_bind(endpoint_id);
    }
    if f.starred {
        sql.push(" AND starred_at IS NOT NULL");
    }
    if let Some(from) = f.from {
        sql.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(before) = f.before {
        sql.push(" AND created_at < ").push_bind(before);
    }
    if let Some(q) = f.search {
        match engine {
            Engine::Sqlite => sql
                .push(" AND rowid IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ")
                .push_bind(q)
                .push(")"),
            // The generated `search` column and its GIN index; `studio_search` is the
            // configuration the column is built with (unaccent, then simple).
            Engine::Postgres => sql
                .push(" AND search @@ to_tsquery('studio_search', ")
                .push_bind(q)
                .push(")"),
        };
    }
    if let Some((at, id)) = f.after {
        sql.push(" AND (created_at, id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(f.limit + 1)
        .push(PAGE_KEPT)
        .push_bind(f.limit)
        .push(page_tail(engine));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The page SQLite writes is what serialising `AssetRow::view` gives: the same fields in the
    /// same order with the same values, nulls included, and pages
    /// that continue exactly where the previous one ended.
    #[tokio::test]
    async fn sqlite_writes_the_page_as_the_views_serialise() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let db = crate::db::connect(&url).await.expect("database");
        writes_the_page_as_the_views_serialise(&db).await;
    }

    /// The same page written by Postgres (`json_build_object`, `json_agg`), on a database of
    /// its own on the server `TEST_POSTGRES_URL` names (its admin database); skipped without it.
    #[tokio::test]
    async fn postgres_writes_the_page_as_the_views_serialise() {
        use sqlx::{Connection, PgConnection};

        let Some(admin_url) = std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            return;
        };
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test Postgres server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let (server, _) = admin_url
            .rsplit_once('/')
            .expect("TEST_POSTGRES_URL ends in /<database>");
        let db = crate::db::connect(&format!("{server}/{name}"))
            .await
            .expect("database");
        writes_the_page_as_the_views_serialise(&db).await;
        db.close().await;
        // Only tidying (the test server is disposable): a closed pool's sessions may linger a
        // moment, hence FORCE, and a failure here is no failure of the test.
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .ok();
    }

    async fn writes_the_page_as_the_views_serialise(db: &Db) {
        let user = crate::users::insert(db, "a@example.com", "x", None)
            .await
            .expect("user");
        type Case<'a> = (
            Option<&'a str>,
            Option<i64>,
            Option<f64>,
            Option<i64>,
            &'a str,
        );
        let cases: [Case; 5] = [
            (
                Some("a \"quoted\" <prompt>\n"),
                Some(1024),
                Some(5.0),
                Some(42),
                r#"{"b":1,"a":[true,null]}"#,
            ),
            (None, None, None, None, "{}"),
            (
                Some("émoji 🦊"),
                Some(7),
                Some(0.1),
                Some(i64::MAX),
                r#"{"nested":{"z":[]}}"#,
            ),
            (
                Some(""),
                None,
                Some(12.345678901234),
                Some(-1),
                r#"{"n":1.5e3,"s":"x\u00e9"}"#,
            ),
            (
                Some("last"),
                Some(1),
                Some(1e-7),
                None,
                r#"{ "spaced" : "out" }"#,
            ),
        ];
        // The parameters go in as the text above: SQLite keeps it as written, Postgres parses
        // it into JSONB.
        let insert = match db.engine() {
            Engine::Sqlite => {
                "/* sqlite */ INSERT INTO assets (id, user_id, output_index, endpoint_id, model, \
                 prompt, result_kind, storage_mode, storage_key, content_type, byte_size, sha256, \
                 width, height, output_duration, inference_time, seed, params_json, file_name, \
                 created_at) \
                 VALUES ($1, $2, 0, 'fal-ai/x', 'X', $3, 'image', 'local', 'k', 'image/png', 3, '', \
                 $4, $5, $6, $7, $8, $9, 'f.png', $10)"
            }
            Engine::Postgres => {
                "/* postgres */ INSERT INTO assets (id, user_id, output_index, endpoint_id, model, \
                 prompt, result_kind, storage_mode, storage_key, content_type, byte_size, sha256, \
                 width, height, output_duration, inference_time, seed, params_json, file_name, \
                 created_at) \
                 VALUES ($1, $2, 0, 'fal-ai/x', 'X', $3, 'image', 'local', 'k', 'image/png', 3, '', \
                 $4, $5, $6, $7, $8, $9::jsonb, 'f.png', $10)"
            }
        };
        for (i, (prompt, size, duration, seed, params)) in cases.iter().enumerate() {
            with_db!(db, pool => sqlx::query(insert)
                .bind(format!("asset-{i}"))
                .bind(&user.id)
                .bind(prompt)
                .bind(size)
                .bind(size)
                .bind(duration)
                .bind(duration)
                .bind(seed)
                .bind(params)
                // Two rows share a time: the id breaks the tie, in SQL and in the cursor.
                .bind(format!("2026-11-25T10:00:0{}.000Z", i % 3))
                .execute(pool)
                .await
                .map(|_| ()))
            .expect("insert");
        }
        // A starred one, so `starred` is written both ways.
        set_starred(db, &user.id, &["asset-1".to_owned()], true)
            .await
            .expect("star");
        let all = format!("SELECT {COLUMNS} FROM assets ORDER BY created_at DESC, id DESC");
        let rows: Vec<AssetRow> =
            with_db!(db, pool => sqlx::query_as(&all).fetch_all(pool).await).expect("rows");
        let views: Vec<Value> = rows
            .iter()
            .map(|r| serde_json::to_value(r.view()).expect("view"))
            .collect();

        let mut seen: Vec<Value> = Vec::new();
        let mut after = None;
        loop {
            let filters = PageFilters {
                limit: 2,
                after: after.take(),
                ..PageFilters::default()
            };
            let page = page(db, &user.id, filters).await.expect("page");
            let assets: Vec<Value> = serde_json::from_str(&page.assets_json).expect("JSON");
            assert!(assets.len() <= 2);
            seen.extend(assets);
            match page.continues_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), views.len());
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        for (got, want) in seen.iter().zip(&views) {
            // serde_json tells `5` (an integer) from `5.0` (a float): equal values are equal
            // types too.
            assert_eq!(got, want);
            assert_eq!(keys(got), keys(want), "field order of {}", want["id"]);
        }

        let nobody = page(
            db,
            "nobody",
            PageFilters {
                limit: 5,
                ..PageFilters::default()
            },
        )
        .await
        .expect("page");
        assert_eq!(nobody.assets_json, "[]");
        assert_eq!(nobody.continues_after, None);

        // Search: every word a prefix, diacritics folded, operators and quotes only text.
        let query = match db.engine() {
            Engine::Sqlite => crate::assets::gallery::fts_query,
            Engine::Postgres => crate::assets::gallery::pg_ts_query,
        };
        for (text, want) in [
            ("quot PROMPT", &["asset-0"][..]),
            ("EMOJI", &["asset-2"]),
            ("émo", &["asset-2"]),
            ("las x", &["asset-4"]),
            // Newest first: the model, X, is in every row.
            (
                "x",
                &["asset-2", "asset-4", "asset-1", "asset-3", "asset-0"],
            ),
            ("'a' & !b | (c:*) \\ \"d\" OR NEAR(e)", &[]),
            ("fox", &[]),
        ] {
            let filters = PageFilters {
                limit: 10,
                search: query(text),
                ..PageFilters::default()
            };
            let page = page(db, &user.id, filters).await.expect("search");
            let found: Vec<Value> = serde_json::from_str(&page.assets_json).expect("JSON");
            let ids: Vec<&str> = found.iter().filter_map(|a| a["id"].as_str()).collect();
            assert_eq!(ids, want, "search {text:?}");
        }
    }
}
