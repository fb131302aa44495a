//! The gallery: a user's assets newest first, keyset-paginated (stable while new assets
//! arrive), filtered by kind, model and dates, searched through the full-text index over prompts
//! and models (FTS5 on SQLite, a tsvector column on Postgres).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AssetView, store};
use crate::{
    db::Db,
    error::{AppError, Result},
};

pub const DEFAULT_LIMIT: i64 = 60;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GalleryQuery {
    /// Words in the prompt (each matched as a prefix).
    pub q: Option<String>,
    /// image, video, audio or other.
    pub kind: Option<String>,
    /// An endpoint id.
    pub model: Option<String>,
    /// First day, YYYY-MM-DD (UTC).
    #[param(example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC).
    #[param(example = "2026-11-25")]
    pub to: Option<String>,
    /// `true`: only starred assets.
    pub starred: Option<bool>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 60).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GalleryPage {
    pub assets: Vec<AssetView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GalleryModel {
    pub endpoint_id: String,
    pub model: String,
    /// How many of the user's assets came from it.
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct GalleryModels {
    pub models: Vec<GalleryModel>,
}

/// Position after which the next page starts: the last row's `(created_at, id)`.
fn encode_cursor(created_at: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let bad = || {
        AppError::invalid_request("The page cursor is not valid; start again from the first page.")
            .with_field_problem("cursor", "not a cursor from this server")
    };
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((at.to_owned(), id.to_owned()))
}

/// `YYYY-MM-DD` checked, so it can bound the ISO timestamps as text.
fn day(value: &str, field: &str) -> Result<String> {
    let ok = value.len() == 10
        && value.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(
            AppError::invalid_request(format!("'{field}' must be a date like 2026-11-25."))
                .with_field_problem(field, "not a YYYY-MM-DD date"),
        )
    }
}

/// The words of a search, as both engines' queries take them: runs of letters and digits, at
/// most 12. Everything else, quotes and operators included, only separates words.
fn search_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
}

/// Free text to an FTS5 query: every word must appear (as a prefix), quotes neutralised, so no
/// user input can be FTS syntax.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = search_words(text).map(|w| format!("\"{w}\"*")).collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Free text to a Postgres tsquery (for `to_tsquery`): the same words as [`fts_query`], each a
/// quoted prefix term (`'red':*`), all required (`&`). Every word is quoted, with `'` doubled
/// and `\` escaped inside, so no user input can be tsquery syntax.
pub fn pg_ts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = search_words(text)
        .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// A gallery page as the JSON text the API sends: the shape of [`GalleryPage`], written by
/// the database (see `store::page`) rather than built and serialised here.
#[derive(Clone)]
pub struct PageJson(Bytes);

impl PageJson {
    pub fn text(&self) -> &[u8] {
        &self.0
    }
}

impl axum::response::IntoResponse for PageJson {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// How long a page, once read, is answered again without asking the database. Within this
/// process every change to `assets` drops the copies at once (`store::changes`); this bounds
/// only changes made by another process.
const PAGE_FRESH_FOR: Duration = Duration::from_secs(1);

/// The copies kept, all pages together, at most: past it the stale ones go, then all.
const PAGE_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Pages read in the last [`PAGE_FRESH_FOR`], by user and filters. The gallery asks for the
/// same first pages again and again (every visit, every finished job, every open tab); under
/// load, reading one was two thirds of the server's CPU time, most of it in SQLite.
///
/// Only on SQLite, where this process is the only writer. On Postgres other nodes add and
/// delete assets without this process hearing of it, and a load balancer sends a user's next
/// request to any node: a deleted item would come back for up to a second.
pub struct PageCache {
    enabled: bool,
    pages: Mutex<CachedPages>,
}

#[derive(Default)]
struct CachedPages {
    pages: HashMap<String, CachedPage>,
    bytes: usize,
}

struct CachedPage {
    page: PageJson,
    read_at: Instant,
    /// `store::changes()` before the read.
    changes: u64,
}

impl PageCache {
    /// Copies kept on `engine`'s database (see the type's doc).
    pub fn for_engine(engine: crate::db::Engine) -> Self {
        PageCache {
            enabled: engine == crate::db::Engine::Sqlite,
            pages: Mutex::default(),
        }
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, CachedPages> {
        // Only copies: whatever a panic elsewhere left is still safe to use or drop.
        self.pages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str) -> Option<PageJson> {
        if !self.enabled {
            return None;
        }
        let pages = self.pages();
        let found = pages.pages.get(key)?;
        (found.read_at.elapsed() < PAGE_FRESH_FOR && found.changes == store::changes())
            .then(|| found.page.clone())
    }

    fn put(&self, key: String, page: PageJson, read_at: Instant, changes: u64) {
        if !self.enabled {
            return;
        }
        let mut cached = self.pages();
        let size = key.len() + page.0.len();
        if cached.bytes + size > PAGE_CACHE_BYTES {
            let now = store::changes();
            cached
                .pages
                .retain(|_, p| p.read_at.elapsed() < PAGE_FRESH_FOR && p.changes == now);
            if cached.bytes + size > PAGE_CACHE_BYTES {
                cached.pages.clear();
            }
            cached.bytes = cached
                .pages
                .iter()
                .map(|(k, p)| k.len() + p.page.0.len())
                .sum();
        }
        let key_len = key.len();
        let page = CachedPage {
            page,
            read_at,
            changes,
        };
        if let Some(old) = cached.pages.insert(key, page) {
            cached.bytes -= key_len + old.page.0.len();
        }
        cached.bytes += size;
    }
}

/// A page of the user's gallery: a copy read in the last second unless `fresh` (the client
/// sent `Cache-Control: no-cache`) or the assets changed since.
pub async fn list(
    db: &Db,
    cache: &PageCache,
    user_id: &str,
    query: &GalleryQuery,
    fresh: bool,
) -> Result<PageJson> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = given(&query.kind);
    if let Some(kind) = &kind
        && !matches!(kind.as_str(), "image" | "video" | "audio" | "other")
    {
        return Err(
            AppError::invalid_request("'kind' must be image, video, audio or other.")
                .with_field_problem("kind", "unknown kind"),
        );
    }
    let filters = store::PageFilters {
        kind,
        endpoint_id: given(&query.model),
        from: given(&query.from).map(|d| day(&d, "from")).transpose()?,
        // Inclusive of the whole day: everything before the next day's first instant.
        before: given(&query.to)
            .map(|d| day(&d, "to").map(|d| format!("{d}T99")))
            .transpose()?,
        search: query.q.as_deref().and_then(match db.engine() {
            crate::db::Engine::Sqlite => fts_query,
            crate::db::Engine::Postgres => pg_ts_query,
        }),
        starred: query.starred.unwrap_or(false),
        after: given(&query.cursor)
            .map(|c| decode_cursor(&c))
            .transpose()?,
        limit,
    };
    // The checked filters name the page: two spellings of one query share it.
    let key = format!("{user_id}\n{filters:?}");
    if !fresh && let Some(page) = cache.get(&key) {
        return Ok(page);
    }
    let (read_at, changes) = (Instant::now(), store::changes());
    let page = store::page(db, user_id, filters).await?;
    // A cursor is URL-safe base64: nothing in it needs escaping in JSON.
    let next = match page.continues_after {
        Some((at, id)) => format!("\"{}\"", encode_cursor(&at, &id)),
        None => "null".to_owned(),
    };
    let page = PageJson(Bytes::from(format!(
        r#"{{"assets":{},"nextCursor":{next}}}"#,
        page.assets_json
    )));
    cache.put(key, page.clone(), read_at, changes);
    Ok(page)
}

pub async fn models(db: &Db, user_id: &str) -> Result<GalleryModels> {
    let rows = store::model_counts(db, user_id).await?;
    Ok(GalleryModels {
        models: rows
            .into_iter()
            .map(|(endpoint_id, model, count)| GalleryModel {
                endpoint_id,
                model,
                count,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_cannot_be_fts_syntax() {
        assert_eq!(fts_query("red fox").as_deref(), Some("\"red\"* \"fox\"*"));
        assert_eq!(
            fts_query("\"a\" OR b* NEAR(c)").as_deref(),
            Some("\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*")
        );
        assert_eq!(fts_query("  ** ").as_deref(), None);
    }

    #[test]
    fn search_text_cannot_be_tsquery_syntax() {
        assert_eq!(pg_ts_query("red fox").as_deref(), Some("'red':* & 'fox':*"));
        assert_eq!(
            pg_ts_query("a & b | !c (d) e:* f<->g").as_deref(),
            Some("'a':* & 'b':* & 'c':* & 'd':* & 'e':* & 'f':* & 'g':*")
        );
        assert_eq!(
            pg_ts_query(r"o'brien \'x\\ 'quoted'").as_deref(),
            Some("'o':* & 'brien':* & 'x':* & 'quoted':*")
        );
        assert_eq!(
            pg_ts_query("Café 日本").as_deref(),
            Some("'Café':* & '日本':*")
        );
        assert_eq!(pg_ts_query(" &|!():*'\"\\ ").as_deref(), None);
        assert_eq!(pg_ts_query("").as_deref(), None);
        let many = pg_ts_query(&"w ".repeat(20)).unwrap_or_default();
        assert_eq!(many.matches("'w':*").count(), 12);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("2026-11-25T10:00:00.000Z", "0193-abc");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("2026-11-25T10:00:00.000Z".to_owned(), "0193-abc".to_owned())
        );
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-separator")).is_err());
    }

    #[test]
    fn dates_must_be_plain_days() {
        assert!(day("2026-11-25", "from").is_ok());
        for bad in ["2026-1-25", "yesterday", "2026-11-25T00", "2026/11/25"] {
            assert!(day(bad, "from").is_err(), "{bad}");
        }
    }
}
