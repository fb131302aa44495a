//! `fal-studio admin migrate-to-postgres <url>`: copies a studio's SQLite database into an empty
//! Postgres database, the step from one node to several.
//!
//! Generic over the schema rather than a list of the studio's tables, so a table added by a
//! later migration is copied without touching this file: the tables come from SQLite's own
//! catalogue (`pragma_table_list`, `pragma_table_info`), each is matched with its Postgres twin
//! by name (`information_schema.columns`), and every value is converted as the Postgres column's
//! type says (0/1 to BOOLEAN, JSON text to JSONB, INTEGER to BIGINT, REAL to DOUBLE PRECISION).
//! A SQLite table or column with no twin stops the copy before anything is written.
//!
//! The copy is all or nothing: the SQLite side is read in one read transaction (one consistent
//! snapshot, on a read-only connection, as `admin backup` reads it) and written into one Postgres
//! transaction, in foreign-key order, in batches of rows bound as arrays (`UNNEST`), so memory
//! stays bounded by one batch whatever the size of the database. Row counts are compared per
//! table before the commit.
//!
//! Statements here name tables only known at run time; they cannot be prepared ahead against a
//! fixed schema, so they are tagged `/* … table named at run time */` rather than with an engine
//! tag (tests/api/architecture.rs prepares the tagged, fixed ones).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    path::Path,
    str::FromStr,
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use sqlx::{
    PgPool, Row, SqlitePool, TypeInfo, ValueRef,
    postgres::PgConnection,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow},
};

use super::Failure;
use crate::{
    Config,
    config::redact_url,
    db::{self, Db, Engine},
};

/// Tables that are copied by no one: what they hold means nothing in another database.
const NOT_COPIED: &[(&str, &str)] = &[
    (
        "_sqlx_migrations",
        "each engine keeps its own migration record; Postgres's was written just now",
    ),
    (
        "nodes",
        "the running studio processes: each node announces itself when it starts (a copied row would show the stopped SQLite node as running)",
    ),
    (
        "job_events",
        "live-update events, numbered per database and kept for minutes; open pages catch up by reading their jobs afresh",
    ),
    (
        "throttles",
        "sign-in and sign-up counters over windows of an hour at most; they start afresh",
    ),
];

/// Rows per batch: one INSERT of this many rows (one array per column) per round trip.
const BATCH_ROWS: usize = 1_000;
/// A batch is also sent once its text reaches this size, so wide rows (logs, parameters) keep
/// memory bounded too.
const BATCH_BYTES: usize = 8 << 20;
/// How long the copy waits for a lock on the target tables: a studio node still running on the
/// target holds them, and waiting for it would look like a hang.
const LOCK_TIMEOUT: &str = "10s";

/// Runs the command: copies the SQLite database of `config` into the Postgres database at
/// `target_url` and returns the summary and next steps to print.
pub(super) async fn run(config: &Config, target_url: &str) -> Result<String, Failure> {
    let source_url = config.database_url.as_str();
    if Engine::of_url(source_url) != Some(Engine::Sqlite) {
        return Err(Failure::Usage(format!(
            "DATABASE_URL names a Postgres database ({}); migrate-to-postgres copies from SQLite: run it with the SQLite studio's settings (DATABASE_URL unset or sqlite://…, and its DATA_DIR)",
            redact_url(source_url)
        )));
    }
    if Engine::of_url(target_url) != Some(Engine::Postgres) {
        return Err(Failure::Usage(format!(
            "'{}' is not a Postgres URL; give the target as postgres://user:password@host:5432/database",
            redact_url(target_url)
        )));
    }
    let started = Instant::now();
    let source = open_source(source_url).await?;
    let outcome = copy(config, &source, target_url, started).await;
    source.close().await;
    outcome
}

async fn copy(
    config: &Config,
    source: &SqlitePool,
    target_url: &str,
    started: Instant,
) -> Result<String, Failure> {
    check_source_migrations(source).await?;
    check_source_stopped(source).await?;
    let tables = source_tables(source).await?;
    // db::connect applies the Postgres migrations first (under sqlx's advisory lock), so the
    // target has the schema this binary expects before anything is compared with it.
    let target = match db::connect(target_url).await {
        Ok(Db::Postgres(pool)) => pool,
        Ok(other) => {
            other.close().await;
            return Err(Failure::Usage("the target is not a Postgres URL".into()));
        }
        Err(e) => return Err(Failure::Failed(format!("{e:#}"))),
    };
    let outcome = copy_into(config, source, &target, target_url, &tables, started).await;
    target.close().await;
    outcome
}

/// The source, read-only and without migrations, as `admin backup` opens it: the copy never
/// changes the database it reads.
async fn open_source(url: &str) -> Result<SqlitePool, Failure> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Failure::Usage(format!("DATABASE_URL is not a SQLite URL: {e}")))?
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let path = options.get_filename().display().to_string();
    SqlitePoolOptions::new()
        // One connection: the whole copy reads inside one transaction on it.
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| {
            Failure::failed(
                &format!(
                    "could not open the SQLite database {path} (is DATA_DIR the studio's, and has it run there?)"
                ),
                e,
            )
        })
}

/// The copy assumes the SQLite schema is the one this binary's migrations make, as the Postgres
/// one is: a database a version behind (or ahead) would not match its twin column for column.
async fn check_source_migrations(source: &SqlitePool) -> Result<(), Failure> {
    let applied: BTreeSet<i64> = sqlx::query_scalar(
        "/* sqlite */ SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(source)
    .await
    .map_err(|e| {
        Failure::failed(
            "the SQLite database has no migration record; is it a fal-studio database?",
            e,
        )
    })?
    .into_iter()
    .collect();
    let known: BTreeSet<i64> = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    let missing: Vec<String> = known.difference(&applied).map(i64::to_string).collect();
    if !missing.is_empty() {
        return Err(Failure::Failed(format!(
            "the SQLite database lacks migration(s) {} of this fal-studio version: start the studio (this version) on it once, so that it applies them, stop it, and run this again",
            missing.join(", ")
        )));
    }
    let unknown: Vec<String> = applied.difference(&known).map(i64::to_string).collect();
    if !unknown.is_empty() {
        return Err(Failure::Failed(format!(
            "the SQLite database has migration(s) {} that this fal-studio does not know: it was written by a newer version; run migrate-to-postgres with that version",
            unknown.join(", ")
        )));
    }
    Ok(())
}

/// Refuses a studio that is still running on the SQLite database: what it wrote after the copy
/// read its snapshot would be lost, and the Postgres nodes would start without it.
async fn check_source_stopped(source: &SqlitePool) -> Result<(), Failure> {
    let running = crate::nodes::live_count(&Db::Sqlite(source.clone()))
        .await
        .map_err(|e| Failure::failed("could not read the studio's nodes", e))?;
    if running > 0 {
        return Err(Failure::Failed(format!(
            "the studio is running on this SQLite database ({running} live node{} by its heartbeat): stop it first, since what it writes after the copy would not be copied, then run this again (a studio that was killed rather than stopped counts as running for a few seconds more)",
            if running == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// What becomes of one SQLite table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Copy {
        without_rowid: bool,
    },
    /// Not copied, for this reason (shown in the summary).
    Skip(String),
    /// SQLite's own bookkeeping (`sqlite_sequence`, `sqlite_stat1`) and views: not data.
    Ignore,
}

#[derive(Debug, Clone)]
struct SourceTable {
    name: String,
    fate: Fate,
}

/// Decides from SQLite's catalogue alone what happens to a table: `kind` is
/// `pragma_table_list`'s type (`table`, `view`, `virtual`, `shadow`).
fn fate_of(name: &str, kind: &str, without_rowid: bool) -> Fate {
    if name.starts_with("sqlite_") || kind == "view" {
        return Fate::Ignore;
    }
    if kind == "virtual" || kind == "shadow" {
        return Fate::Skip(
            "SQLite's full-text index (a virtual table and its shadow tables); Postgres computes its own search column".into(),
        );
    }
    if let Some((_, why)) = NOT_COPIED.iter().find(|(table, _)| *table == name) {
        return Fate::Skip((*why).into());
    }
    Fate::Copy { without_rowid }
}

async fn source_tables(source: &SqlitePool) -> Result<Vec<SourceTable>, Failure> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "/* sqlite */ SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' ORDER BY name",
    )
    .fetch_all(source)
    .await
    .map_err(|e| Failure::failed("could not list the SQLite tables", e))?;
    Ok(rows
        .into_iter()
        .map(|(name, kind, wr)| SourceTable {
            fate: fate_of(&name, &kind, wr != 0),
            name,
        })
        .collect())
}

/// How a Postgres column takes SQLite values, from its `information_schema` data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    /// SQLite's 0/1 flags.
    Flag,
    Float,
    /// JSON text, checked here so that a bad value names its row.
    Json,
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "text" | "character varying" | "character" => Kind::Text,
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "boolean" => Kind::Flag,
            "double precision" | "real" => Kind::Float,
            "jsonb" | "json" => Kind::Json,
            _ => return None,
        })
    }

    /// The array type a batch of this column is bound as.
    fn array_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::Json => "text[]",
            Kind::Integer => "bigint[]",
            Kind::Flag => "boolean[]",
            Kind::Float => "double precision[]",
        }
    }
}

/// A column of a Postgres table, from `information_schema.columns`.
#[derive(Debug, Clone)]
struct TargetColumn {
    name: String,
    data_type: String,
    nullable: bool,
    has_default: bool,
    generated: bool,
    identity: bool,
}

/// A column of a SQLite table, from `pragma_table_info`.
#[derive(Debug, Clone)]
struct SourceColumn {
    name: String,
    /// Position in the primary key (1-based), 0 when not part of it.
    pk: i64,
}

#[derive(Debug, Clone)]
struct CopiedColumn {
    name: String,
    kind: Kind,
    /// The Postgres type, which the INSERT casts each value to.
    data_type: String,
    identity: bool,
}

/// How one table is copied.
#[derive(Debug, Clone)]
struct Plan {
    table: String,
    without_rowid: bool,
    columns: Vec<CopiedColumn>,
    /// Indexes into `columns` of the primary key, to name a row in an error.
    key: Vec<usize>,
    /// Whether the table records stored files (`storage_mode`), for the next steps.
    has_storage_mode: bool,
}

/// Matches a SQLite table with its Postgres twin, column by column. Postgres columns the
/// SQLite table lacks must be generated, identities, nullable or defaulted; SQLite columns the
/// Postgres table lacks stop the copy.
fn plan(
    table: &str,
    without_rowid: bool,
    source: &[SourceColumn],
    target: Option<&Vec<TargetColumn>>,
) -> Result<Plan, String> {
    let Some(target) = target else {
        return Err(format!(
            "the SQLite table `{table}` has no twin in the Postgres schema, so its rows would have nowhere to go; nothing was copied. Is the table from a newer or older fal-studio, or added by hand? Drop it from the SQLite database (after a backup) or run the fal-studio version whose migrations made it"
        ));
    };
    let mut columns = Vec::new();
    let mut keyed = Vec::new();
    for column in source {
        let Some(twin) = target.iter().find(|t| t.name == column.name) else {
            return Err(format!(
                "the SQLite column `{table}.{}` has no twin in the Postgres table `{table}`; the two schemas are out of step, so nothing was copied",
                column.name
            ));
        };
        if twin.generated {
            // Postgres computes it (as `assets.search`).
            continue;
        }
        let kind = Kind::of(&twin.data_type).ok_or_else(|| {
            format!(
                "the Postgres column `{table}.{}` is of type {}, and migrate-to-postgres knows no conversion to it from SQLite; nothing was copied",
                column.name, twin.data_type
            )
        })?;
        if column.pk > 0 {
            keyed.push((column.pk, columns.len()));
        }
        columns.push(CopiedColumn {
            name: column.name.clone(),
            kind,
            data_type: twin.data_type.clone(),
            identity: twin.identity,
        });
    }
    for twin in target {
        let filled = twin.generated || twin.identity || twin.nullable || twin.has_default;
        if !filled && !source.iter().any(|c| c.name == twin.name) {
            return Err(format!(
                "the Postgres column `{table}.{}` needs a value (NOT NULL, no default) that the SQLite table does not have; the two schemas are out of step, so nothing was copied",
                twin.name
            ));
        }
    }
    keyed.sort_unstable();
    Ok(Plan {
        table: table.to_owned(),
        without_rowid,
        has_storage_mode: columns.iter().any(|c| c.name == "storage_mode"),
        key: keyed.into_iter().map(|(_, i)| i).collect(),
        columns,
    })
}

/// `tables` ordered so that every table comes after the tables it references (`edges` are
/// (child, parent) pairs). Ties go alphabetically, so the order is the same on every run.
fn foreign_key_order(
    tables: &BTreeSet<String>,
    edges: &[(String, String)],
) -> Result<Vec<String>, String> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in edges {
        if child != parent
            && tables.contains(parent)
            && let Some(set) = parents.get_mut(child.as_str())
        {
            set.insert(parent.as_str());
        }
    }
    let mut order = Vec::with_capacity(tables.len());
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, waiting)| waiting.is_empty())
            .map(|(table, _)| *table)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = parents.keys().copied().collect();
            return Err(format!(
                "the tables {} reference each other in a cycle, so no order inserts them one after another; nothing was copied",
                stuck.join(", ")
            ));
        }
        for table in ready {
            parents.remove(table);
            for waiting in parents.values_mut() {
                waiting.remove(table);
            }
            order.push(table.to_owned());
        }
    }
    Ok(order)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn source_columns(source: &SqlitePool, table: &str) -> Result<Vec<SourceColumn>, Failure> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("/* sqlite */ SELECT name, pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(source)
            .await
            .map_err(|e| Failure::failed(&format!("could not read the columns of `{table}`"), e))?;
    Ok(rows
        .into_iter()
        .map(|(name, pk)| SourceColumn { name, pk })
        .collect())
}

type ColumnRow = (String, String, String, bool, bool, bool, bool);

async fn target_columns(target: &PgPool) -> Result<BTreeMap<String, Vec<TargetColumn>>, Failure> {
    let rows: Vec<ColumnRow> = sqlx::query_as(
        "/* postgres */ SELECT CAST(table_name AS text), CAST(column_name AS text), \
         CAST(data_type AS text), is_nullable = 'YES', column_default IS NOT NULL, \
         is_generated = 'ALWAYS', is_identity = 'YES' \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(target)
    .await
    .map_err(|e| Failure::failed("could not read the Postgres schema", e))?;
    let mut tables: BTreeMap<String, Vec<TargetColumn>> = BTreeMap::new();
    for (table, name, data_type, nullable, has_default, generated, identity) in rows {
        tables.entry(table).or_default().push(TargetColumn {
            name,
            data_type,
            nullable,
            has_default,
            generated,
            identity,
        });
    }
    Ok(tables)
}

/// (child, parent) for every foreign key of the target's schema: the constraints the inserts
/// must satisfy, so the order comes from them rather than from SQLite's.
async fn target_foreign_keys(target: &PgPool) -> Result<Vec<(String, String)>, Failure> {
    sqlx::query_as(
        "/* postgres */ SELECT CAST(child.relname AS text), CAST(parent.relname AS text) \
         FROM pg_constraint c \
         JOIN pg_class child ON child.oid = c.conrelid \
         JOIN pg_class parent ON parent.oid = c.confrelid \
         WHERE c.contype = 'f' \
         AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
    )
    .fetch_all(target)
    .await
    .map_err(|e| Failure::failed("could not read the Postgres foreign keys", e))
}

/// One table's outcome, for the summary.
#[derive(Debug)]
struct Copied {
    table: String,
    rows: u64,
    /// Rows whose `storage_mode` is `local`: files under DATA_DIR/files.
    local_files: u64,
}

async fn copy_into(
    config: &Config,
    source: &SqlitePool,
    target: &PgPool,
    target_url: &str,
    tables: &[SourceTable],
    started: Instant,
) -> Result<String, Failure> {
    let where_ = redact_url(target_url);
    let target_schema = target_columns(target).await?;
    let mut plans = BTreeMap::new();
    for table in tables {
        if let Fate::Copy { without_rowid } = table.fate {
            let columns = source_columns(source, &table.name).await?;
            let plan = plan(
                &table.name,
                without_rowid,
                &columns,
                target_schema.get(&table.name),
            )
            .map_err(Failure::Failed)?;
            plans.insert(table.name.clone(), plan);
        }
    }
    let names: BTreeSet<String> = plans.keys().cloned().collect();
    let order =
        foreign_key_order(&names, &target_foreign_keys(target).await?).map_err(Failure::Failed)?;

    let mut write = target
        .begin()
        .await
        .map_err(|e| Failure::failed(&format!("could not begin a transaction on {where_}"), e))?;
    lock_and_check_empty(&mut write, &order, &where_).await?;

    // One read transaction: every table is read from the same snapshot of the SQLite file.
    let mut read = source
        .begin()
        .await
        .map_err(|e| Failure::failed("could not begin a read of the SQLite database", e))?;
    let mut copied = Vec::with_capacity(order.len());
    for table in &order {
        let plan = &plans[table];
        let outcome = copy_table(&mut read, &mut write, plan).await?;
        eprintln!(
            "copied {table}: {} row{} ({:.1} s)",
            outcome.rows,
            if outcome.rows == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        );
        copied.push(outcome);
    }
    drop(read);
    write.commit().await.map_err(|e| {
        Failure::failed(
            &format!("could not commit the copy into {where_} (nothing was written)"),
            e,
        )
    })?;
    Ok(summary(config, &where_, tables, &copied, started.elapsed()))
}

/// Takes the target tables for the copy and refuses a database that already holds any rows:
/// a copy merged into existing data would collide on keys half-way or mix two studios.
async fn lock_and_check_empty(
    write: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    order: &[String],
    where_: &str,
) -> Result<(), Failure> {
    sqlx::query(&format!(
        "/* postgres */ SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
    ))
    .execute(&mut **write)
    .await
    .map_err(|e| Failure::failed("could not set a lock timeout", e))?;
    if !order.is_empty() {
        // EXCLUSIVE: a studio node still running on the target can read but not write until the
        // copy commits, and a second copy started meanwhile waits, then finds the rows.
        let tables: Vec<String> = order.iter().map(|t| quoted(t)).collect();
        sqlx::query(&format!(
            "/* postgres, tables named at run time */ LOCK TABLE {} IN EXCLUSIVE MODE",
            tables.join(", ")
        ))
        .execute(&mut **write)
        .await
        .map_err(|e| {
            let busy = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| code == "55P03");
            if busy {
                Failure::Failed(format!(
                    "the Postgres database at {where_} is in use (a lock was not granted within {LOCK_TIMEOUT}): stop every studio node that runs on it, then run this again"
                ))
            } else {
                Failure::failed(&format!("could not lock the tables of {where_}"), e)
            }
        })?;
    }
    let mut holding = Vec::new();
    for table in order {
        let any: bool = sqlx::query_scalar(&format!(
            "/* postgres, table named at run time */ SELECT EXISTS (SELECT 1 FROM {})",
            quoted(table)
        ))
        .fetch_one(&mut **write)
        .await
        .map_err(|e| Failure::failed(&format!("could not read `{table}` on {where_}"), e))?;
        if any {
            holding.push(table.as_str());
        }
    }
    if !holding.is_empty() {
        return Err(Failure::Failed(format!(
            "the Postgres database at {where_} already holds studio data (rows in {}), and migrate-to-postgres copies only into an empty database; nothing was changed. To start over, drop and re-create that database (e.g. `dropdb` then `createdb`, or DROP DATABASE and CREATE DATABASE in psql) and run this again: the studio's tables are made anew on the empty one",
            holding.join(", ")
        )));
    }
    Ok(())
}

/// A SQLite value as stored: its storage class decides how it may be converted.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(usize),
}

impl Value {
    fn read(row: &SqliteRow, index: usize) -> Result<Value, sqlx::Error> {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        // The value's own storage class, which in a table that is not STRICT may differ from
        // the column's declared type.
        let class = raw.type_info().name().to_owned();
        Ok(match class.as_str() {
            "INTEGER" => Value::Integer(row.try_get_unchecked(index)?),
            "REAL" => Value::Real(row.try_get_unchecked(index)?),
            "TEXT" => Value::Text(row.try_get_unchecked(index)?),
            _ => Value::Blob(row.try_get_unchecked::<Vec<u8>, _>(index)?.len()),
        })
    }

    fn describe(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Integer(i) => format!("the integer {i}"),
            Value::Real(f) => format!("the real number {f}"),
            Value::Text(t) if t.chars().count() > 40 => {
                format!("the text '{}…'", t.chars().take(40).collect::<String>())
            }
            Value::Text(t) => format!("the text '{t}'"),
            Value::Blob(n) => format!("a {n}-byte blob"),
        }
    }

    fn key_text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            other => other.describe(),
        }
    }
}

/// One column's values of a batch, as the array they are bound as.
#[derive(Debug)]
enum Buffer {
    Text(Vec<Option<String>>),
    Integer(Vec<Option<i64>>),
    Flag(Vec<Option<bool>>),
    Float(Vec<Option<f64>>),
}

impl Buffer {
    fn new(kind: Kind) -> Buffer {
        match kind {
            Kind::Text | Kind::Json => Buffer::Text(Vec::new()),
            Kind::Integer => Buffer::Integer(Vec::new()),
            Kind::Flag => Buffer::Flag(Vec::new()),
            Kind::Float => Buffer::Float(Vec::new()),
        }
    }

    fn clear(&mut self) {
        match self {
            Buffer::Text(v) => v.clear(),
            Buffer::Integer(v) => v.clear(),
            Buffer::Flag(v) => v.clear(),
            Buffer::Float(v) => v.clear(),
        }
    }

    /// Adds `value` converted for a column of `kind`; the bytes it adds to the batch, or why it
    /// does not fit the column.
    fn push(&mut self, kind: Kind, value: Value) -> Result<usize, String> {
        let size = match &value {
            Value::Text(t) => t.len(),
            _ => 8,
        };
        match (self, kind, value) {
            (Buffer::Text(v), _, Value::Null) => v.push(None),
            (Buffer::Integer(v), _, Value::Null) => v.push(None),
            (Buffer::Flag(v), _, Value::Null) => v.push(None),
            (Buffer::Float(v), _, Value::Null) => v.push(None),
            (Buffer::Text(v), Kind::Text, Value::Text(t)) => v.push(Some(t)),
            (Buffer::Text(v), Kind::Json, Value::Text(t)) => {
                if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&t) {
                    return Err(format!("text that is not JSON ({e})"));
                }
                v.push(Some(t))
            }
            (Buffer::Integer(v), _, Value::Integer(i)) => v.push(Some(i)),
            (Buffer::Flag(v), _, Value::Integer(0)) => v.push(Some(false)),
            (Buffer::Flag(v), _, Value::Integer(1)) => v.push(Some(true)),
            (Buffer::Float(v), _, Value::Real(f)) => v.push(Some(f)),
            // SQLite keeps a whole number in a REAL column of a table that is not STRICT as
            // an integer.
            (Buffer::Float(v), _, Value::Integer(i)) => v.push(Some(i as f64)),
            (_, _, other) => return Err(other.describe()),
        }
        Ok(size)
    }

    fn bind<'q>(
        &'q self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        match self {
            Buffer::Text(v) => query.bind(v),
            Buffer::Integer(v) => query.bind(v),
            Buffer::Flag(v) => query.bind(v),
            Buffer::Float(v) => query.bind(v),
        }
    }
}

/// The SELECT that streams a table out of SQLite, in insertion order where there is one (so
/// identity columns Postgres fills, such as `shares.seq`, follow the original order).
fn select_sql(plan: &Plan) -> String {
    let columns: Vec<String> = plan.columns.iter().map(|c| quoted(&c.name)).collect();
    let order = if plan.without_rowid {
        ""
    } else {
        " ORDER BY rowid"
    };
    format!(
        "/* sqlite, table named at run time */ SELECT {} FROM {}{order}",
        columns.join(", "),
        quoted(&plan.table)
    )
}

/// The INSERT of one batch: one array parameter per column, zipped into rows by UNNEST and
/// cast to each column's type.
fn insert_sql(plan: &Plan) -> String {
    let names: Vec<String> = plan.columns.iter().map(|c| quoted(&c.name)).collect();
    let casts: Vec<String> = plan
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("CAST(u.c{i} AS {})", c.data_type))
        .collect();
    let arrays: Vec<String> = plan
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.kind.array_type()))
        .collect();
    let aliases: Vec<String> = (0..plan.columns.len()).map(|i| format!("c{i}")).collect();
    // Values copied into an identity column are the rows' own ids, kept as they were.
    let overriding = if plan.columns.iter().any(|c| c.identity) {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    format!(
        "/* postgres, table named at run time */ INSERT INTO {} ({}){overriding} SELECT {} FROM UNNEST({}) AS u({})",
        quoted(&plan.table),
        names.join(", "),
        casts.join(", "),
        arrays.join(", "),
        aliases.join(", ")
    )
}

async fn copy_table(
    read: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    write: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    plan: &Plan,
) -> Result<Copied, Failure> {
    let table = plan.table.as_str();
    let failed = |what: &str, e: sqlx::Error| Failure::failed(&format!("{what} `{table}`"), e);
    let expected: i64 = sqlx::query_scalar(&format!(
        "/* sqlite, table named at run time */ SELECT COUNT(*) FROM {}",
        quoted(table)
    ))
    .fetch_one(&mut **read)
    .await
    .map_err(|e| failed("could not count the SQLite rows of", e))?;
    let local_files = if plan.has_storage_mode {
        sqlx::query_scalar::<_, i64>(&format!(
            "/* sqlite, table named at run time */ SELECT COUNT(*) FROM {} WHERE storage_mode = 'local'",
            quoted(table)
        ))
        .fetch_one(&mut **read)
        .await
        .map_err(|e| failed("could not count the local files of", e))?
    } else {
        0
    };

    let insert = insert_sql(plan);
    let mut buffers: Vec<Buffer> = plan.columns.iter().map(|c| Buffer::new(c.kind)).collect();
    let (mut batch_rows, mut batch_bytes, mut rows) = (0usize, 0usize, 0u64);
    let select = select_sql(plan);
    let mut stream = sqlx::query(&select).fetch(&mut **read);
    while let Some(row) = stream
        .try_next()
        .await
        .map_err(|e| failed("could not read", e))?
    {
        for (i, column) in plan.columns.iter().enumerate() {
            let value = Value::read(&row, i).map_err(|e| failed("could not read", e))?;
            batch_bytes += buffers[i].push(column.kind, value).map_err(|found| {
                Failure::Failed(format!(
                    "`{table}.{}` holds {found} in the row with {}, where the Postgres column is {}; nothing was copied. Correct that row in the SQLite database (after a backup) and run this again",
                    column.name,
                    row_name(plan, &row),
                    column.data_type,
                ))
            })?;
        }
        batch_rows += 1;
        rows += 1;
        if batch_rows >= BATCH_ROWS || batch_bytes >= BATCH_BYTES {
            insert_batch(write, &insert, &mut buffers, table).await?;
            (batch_rows, batch_bytes) = (0, 0);
        }
    }
    drop(stream);
    if batch_rows > 0 {
        insert_batch(write, &insert, &mut buffers, table).await?;
    }

    for column in plan.columns.iter().filter(|c| c.identity) {
        // The next id Postgres hands out comes after the largest copied one.
        sqlx::query(&format!(
            "/* postgres, table named at run time */ SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({}), 0) + 1, false) FROM {}",
            quoted(&column.name),
            quoted(table)
        ))
        .bind(quoted(table))
        .bind(&column.name)
        .execute(&mut **write)
        .await
        .map_err(|e| failed("could not move the identity sequence of", e))?;
    }

    let written: i64 = sqlx::query_scalar(&format!(
        "/* postgres, table named at run time */ SELECT COUNT(*) FROM {}",
        quoted(table)
    ))
    .fetch_one(&mut **write)
    .await
    .map_err(|e| failed("could not count the Postgres rows of", e))?;
    if u64::try_from(expected).ok() != Some(rows) || u64::try_from(written).ok() != Some(rows) {
        return Err(Failure::Failed(format!(
            "`{table}`: SQLite counts {expected} rows, {rows} were read and Postgres holds {written}; the copy was rolled back and nothing was written"
        )));
    }
    Ok(Copied {
        table: table.to_owned(),
        rows,
        local_files: u64::try_from(local_files).unwrap_or(0),
    })
}

/// Names a row by its primary key (`id = …`), for an error message.
fn row_name(plan: &Plan, row: &SqliteRow) -> String {
    let parts: Vec<String> = plan
        .key
        .iter()
        .map(|&i| {
            let value = Value::read(row, i)
                .map(|v| v.key_text())
                .unwrap_or_else(|_| "?".into());
            format!("{} = {value}", plan.columns[i].name)
        })
        .collect();
    if parts.is_empty() {
        "no primary key to name it".into()
    } else {
        parts.join(", ")
    }
}

async fn insert_batch(
    write: &mut PgConnection,
    insert: &str,
    buffers: &mut [Buffer],
    table: &str,
) -> Result<(), Failure> {
    let mut query = sqlx::query(insert);
    for buffer in buffers.iter() {
        query = buffer.bind(query);
    }
    let outcome = query.execute(&mut *write).await;
    outcome.map_err(|e| {
        Failure::failed(
            &format!("could not write rows of `{table}` into Postgres (nothing was copied)"),
            e,
        )
    })?;
    for buffer in buffers.iter_mut() {
        buffer.clear();
    }
    Ok(())
}

fn summary(
    config: &Config,
    where_: &str,
    tables: &[SourceTable],
    copied: &[Copied],
    took: Duration,
) -> String {
    let mut out = String::new();
    let source = config
        .database_url
        .strip_prefix("sqlite://")
        .unwrap_or(&config.database_url);
    let _ = writeln!(
        out,
        "Copied the SQLite database {source} into the Postgres database at {where_} in {:.1} s, in one transaction:",
        took.as_secs_f64()
    );
    let width = copied
        .iter()
        .map(|c| c.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "  {:<width$}  {:>10}", "table", "rows");
    for c in copied {
        let _ = writeln!(out, "  {:<width$}  {:>10}", c.table, c.rows);
    }
    let skipped: Vec<&SourceTable> = tables
        .iter()
        .filter(|t| matches!(t.fate, Fate::Skip(_)))
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(out, "Not copied:");
        // Tables skipped for one reason (an index and its shadow tables) share a line.
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in &skipped {
            if let Fate::Skip(why) = &t.fate {
                by_reason.entry(why).or_default().push(&t.name);
            }
        }
        for (why, names) in by_reason {
            let _ = writeln!(out, "  {}: {why}", names.join(", "));
        }
    }
    if copied.iter().any(|c| c.table == "sessions" && c.rows > 0) {
        let _ = writeln!(
            out,
            "Sessions were copied: people stay signed in on the new database."
        );
    }

    let _ = writeln!(out, "\nNext steps:");
    let _ = writeln!(
        out,
        "  1. Start the studio with DATABASE_URL set to that Postgres URL (the same on every node). The SQLite file is unchanged: keep it as a backup, and do not start the studio on it again (what changes there is not copied; to copy again, start over with an empty Postgres database)."
    );
    let secret = if config.app_secret.is_some() {
        "  2. Keep APP_SECRET: saved fal keys are encrypted under it. Give every node the same APP_SECRET setting as this studio's.".to_owned()
    } else {
        format!(
            "  2. Keep APP_SECRET: saved fal keys are encrypted under it. This studio's is the file {}; set APP_SECRET to its contents on every node (a node without it generates a new one and cannot read the saved keys).",
            crate::app_secret::secret_file(&config.data_dir).display()
        )
    };
    let _ = writeln!(out, "{secret}");
    let local: Vec<String> = copied
        .iter()
        .filter(|c| c.local_files > 0)
        .map(|c| format!("{} {}", c.local_files, c.table))
        .collect();
    let files = config.data_dir.join("files");
    if local.is_empty() {
        let _ = writeln!(
            out,
            "  3. Stored files: no row names a file on local storage, so nothing has to move; several nodes need STORAGE=s3 (the same bucket for all)."
        );
    } else {
        let _ = writeln!(
            out,
            "  3. Stored files: {} name files on local storage, under {}. One node with STORAGE=local and this DATA_DIR serves them as before. Several nodes need STORAGE=s3, and the studio reads every file by its key from the storage it runs with, so copy the folder into the bucket under the same keys before the nodes start, e.g.:\n       aws s3 sync {}/ s3://$S3_BUCKET/ --exclude '.tmp/*'    (add --endpoint-url $S3_ENDPOINT for SeaweedFS, MinIO, R2, ...)",
            local.join(", "),
            files.display(),
            trimmed(&files),
        );
    }
    out.trim_end().to_owned()
}

fn trimmed(path: &Path) -> String {
    path.display().to_string().trim_end_matches('/').to_owned()
}

#[cfg(test)]
#[path = "migrate_to_postgres_tests.rs"]
mod tests;
