//! The code's shape, checked: each table's SQL lives in one store module, its owner.

use std::{fs, path::Path};

use fal_studio::db::Engine;

/// Every file (or folder, ending in `/`: a store split in files) that may hold SQL, with the
/// tables it owns (and so alone writes).
const OWNERS: &[(&str, &[&str])] = &[
    ("src/users.rs", &["users"]),
    ("src/auth/session_store.rs", &["sessions"]),
    ("src/auth/invites.rs", &["invites"]),
    (
        "src/catalog/store.rs",
        &["model_meta", "model_favorites", "model_recents"],
    ),
    ("src/jobs/store/", &["jobs", "job_references"]),
    ("src/jobs/event_log.rs", &["job_events"]),
    (
        "src/assets/store.rs",
        &["assets", "assets_fts", "pending_deletions"],
    ),
    ("src/shares/store.rs", &["shares"]),
    // The studio key and the studio's settings (teams).
    ("src/team/settings.rs", &["studio_settings"]),
    // The studio's nodes: each process's row and heartbeat.
    ("src/nodes.rs", &["nodes"]),
    // Guessing and sign-up limits, counted for every node.
    ("src/auth/throttle_store.rs", &["throttles"]),
    // Whole-database chores: the health check's ping and the backup copy.
    ("src/db.rs", &[]),
    // `admin migrate-to-postgres`: copies every table, named at run time from SQLite's catalogue.
    ("src/admin/migrate_to_postgres.rs", &[]),
];

/// Reads across a table's border, each with its reason: a store may join another table to
/// answer its own question in one round trip, but never writes it.
const READS_ACROSS: &[(&str, &str)] = &[
    // A share's page shows its asset.
    ("src/shares/store.rs", "assets"),
    // The model list shows each favourite's and recent's name.
    ("src/catalog/store.rs", "model_meta"),
    // A request's session and its signed-in user in one round trip (the hot read path).
    ("src/auth/session_store.rs", "users"),
    // On Postgres the per-user queue cap locks the user's row, so parallel requests count
    // (and add jobs) one after another.
    ("src/jobs/store/", "users"),
];

/// Whether the owner `owner` (a file, or a folder ending in `/`) covers the file `name`.
fn owns_file(owner: &str, name: &str) -> bool {
    owner == name || (owner.ends_with('/') && name.starts_with(owner))
}

/// The source of an owner: its file, or every file of its folder, as one text (so a constant
/// one file defines and another uses is found).
fn store_source(root: &Path, owner: &str) -> String {
    if !owner.ends_with('/') {
        return fs::read_to_string(root.join(owner)).expect("store source");
    }
    let mut files = Vec::new();
    rust_files(&root.join(owner), &mut files);
    files.sort();
    files
        .iter()
        .map(|f| fs::read_to_string(f).expect("store source"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The tables a file's SQL names after `keyword` (upper-case SQL keywords only, so prose
/// like "read from the queue" is not taken for SQL).
fn tables_after(text: &str, keywords: &[&str]) -> Vec<String> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = Vec::new();
    for pair in words.windows(2) {
        if keywords.contains(&pair[0])
            && pair[1].chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            found.push(pair[1].to_owned());
        }
    }
    found
}

#[test]
fn sql_lives_only_in_the_store_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut strays = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(&file).expect("source");
        if (text.contains("sqlx::query") || text.contains("QueryBuilder"))
            && !OWNERS.iter().any(|(owner, _)| owns_file(owner, &name))
        {
            strays.push(name);
        }
    }
    assert!(
        strays.is_empty(),
        "SQL outside the store modules: {strays:?}. Move it into the owning table's store (see OWNERS)."
    );
}

#[test]
fn each_table_is_written_by_its_owner_and_read_across_only_where_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let owner_of = |table: &str| {
        OWNERS
            .iter()
            .find(|(_, tables)| tables.contains(&table))
            .map(|(file, _)| *file)
    };
    for (file, _) in OWNERS {
        let text = store_source(root, file);
        for table in tables_after(&text, &["INTO", "UPDATE"]) {
            // Words that are no table (`VACUUM INTO ?` in prose) have no owner to check.
            if let Some(owner) = owner_of(&table) {
                assert_eq!(owner, *file, "{file} writes `{table}`, which {owner} owns");
            }
        }
        for table in tables_after(&text, &["FROM", "JOIN"]) {
            let Some(owner) = owner_of(&table) else {
                continue; // a subquery's alias or a table function
            };
            assert!(
                owner == *file || READS_ACROSS.contains(&(*file, table.as_str())),
                "{file} reads `{table}`, owned by {owner}; ask {owner} or list the join in READS_ACROSS with its reason"
            );
        }
    }
}

/// The string literals of a Rust source, as the compiler reads them: escapes resolved and
/// `\` + newline + indentation removed (how long SQL is continued over lines here).
fn string_literals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = source.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        // `'"'` is a char, not a string; `b"…"`/`r"…"` are not used for SQL.
        if c != '"' || previous == '\'' || previous.is_alphanumeric() {
            previous = c;
            continue;
        }
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\n') => {
                        while chars.peek().is_some_and(|c| c.is_whitespace()) {
                            chars.next();
                        }
                    }
                    Some('n') => text.push('\n'),
                    Some('0') => text.push('\0'),
                    Some(other) => text.push(other),
                    None => break,
                },
                other => text.push(other),
            }
        }
        out.push(text);
        previous = '"';
    }
    out
}

/// `const NAME: &str = "…";` of a source, by name.
fn string_consts(source: &str) -> Vec<(String, String)> {
    source
        .split("const ")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(": &str =")?;
            let literal = string_literals(rest.split_once(';')?.0)
                .into_iter()
                .next()?;
            Some((name.trim().to_owned(), literal))
        })
        .collect()
}

/// `sql` with its `format!` placeholders filled the way the code fills them: a constant by
/// its name (this file's first, then a named argument's path, then any file's), a status
/// list with one status, and an optional fragment with nothing (or `1` after `AND`).
fn fill(
    sql: &str,
    own: &[(String, String)],
    file: &str,
    all: &[(String, Vec<(String, String)>)],
    engine: Engine,
) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + end];
        let lookup = |consts: &[(String, String)], wanted: &str| {
            consts
                .iter()
                .find(|(n, _)| n == wanted)
                .map(|(_, v)| v.clone())
        };
        // `columns = users::COLUMNS`: the constant of that module's file.
        let named_arg = file
            .split(&format!("{name} = "))
            .nth(1)
            .and_then(|r| r.split([',', '\n', ')']).next())
            .map(str::trim)
            .and_then(|path| path.rsplit_once("::"));
        let of_module = |(module, target): (&str, &str)| {
            let module = module.rsplit("::").next().unwrap_or(module);
            all.iter()
                .filter(|(path, _)| {
                    path.ends_with(&format!("/{module}.rs"))
                        || path.ends_with(&format!("/{module}/mod.rs"))
                })
                .find_map(|(_, consts)| lookup(consts, target))
        };
        let value = if name.is_empty() {
            "'queued'".to_owned()
        } else if name == "now" {
            engine.now().to_owned()
        } else if let Some(v) = lookup(own, name) {
            fill(&v, own, file, all, engine)
        } else if let Some(v) = named_arg.and_then(of_module) {
            v
        } else if let Some(v) = all.iter().find_map(|(_, consts)| lookup(consts, name)) {
            v
        } else if out.trim_end().ends_with("AND") {
            // A condition built at run time: any boolean both engines accept.
            "TRUE".to_owned()
        } else {
            String::new()
        };
        out.push_str(&value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every statement the stores send is prepared against the migrated schema of each engine it is
/// for, so a misspelt column or table fails here, not in front of a user. A statement tagged
/// `/* sqlite */` or `/* postgres */` is for that engine alone; an untagged one is portable and
/// must prepare on both. Postgres is checked when the suite runs on it (`TEST_POSTGRES_URL`).
#[tokio::test]
async fn every_store_statement_prepares_against_the_schema() {
    use sqlx::Executor;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let all: Vec<(String, Vec<(String, String)>)> = files
        .iter()
        .map(|f| {
            let text = fs::read_to_string(f).expect("source");
            (f.display().to_string(), string_consts(&text))
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let mut engines = vec![(Engine::Sqlite, connect(&sqlite_url).await)];
    if crate::helpers::on_postgres() {
        let app = crate::helpers::spawn_app().await;
        engines.push((Engine::Postgres, connect(&app.database_url).await));
    }
    let mut prepared = 0;
    let mut broken = Vec::new();
    for (file, _) in OWNERS {
        let text = store_source(root, file);
        let own = string_consts(&text);
        for literal in string_literals(&text) {
            let (only, body) = if let Some(rest) = literal.trim_start().strip_prefix("/* sqlite */")
            {
                (Some(Engine::Sqlite), rest)
            } else if let Some(rest) = literal.trim_start().strip_prefix("/* postgres */") {
                (Some(Engine::Postgres), rest)
            } else {
                (None, literal.as_str())
            };
            let head = body.trim_start().to_ascii_uppercase();
            let statement = [
                "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH ", "VACUUM ",
            ]
            .iter()
            .any(|k| head.starts_with(k));
            // A builder's opening fragment (the gallery page) is completed at run time.
            if !statement || literal.trim_end().ends_with('=') {
                continue;
            }
            for (engine, db) in &engines {
                if only.is_some_and(|only| only != *engine) {
                    continue;
                }
                let sql = fill(&literal, &own, &text, &all, *engine);
                let outcome = match db {
                    fal_studio::db::Db::Sqlite(pool) => {
                        pool.prepare(sql.as_str()).await.map(|_| ())
                    }
                    fal_studio::db::Db::Postgres(pool) => {
                        pool.prepare(sql.as_str()).await.map(|_| ())
                    }
                };
                match outcome {
                    Ok(()) => prepared += 1,
                    Err(e) => broken.push(format!("{file} ({engine:?}): {e}\n    {sql}")),
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "statements that do not prepare:\n{}",
        broken.join("\n")
    );
    assert!(
        prepared > 50,
        "only {prepared} statements found: is the extraction still right?"
    );
}

async fn connect(url: &str) -> fal_studio::db::Db {
    fal_studio::db::connect(url)
        .await
        .expect("migrated database")
}
