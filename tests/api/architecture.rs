//! The code's shape, checked: each table's SQL lives in one store module, its owner.

use std::{fs, path::Path};

/// Every file that may hold SQL, with the tables it owns (and so alone writes).
const OWNERS: &[(&str, &[&str])] = &[
    ("src/users.rs", &["users"]),
    ("src/auth/session_store.rs", &["sessions"]),
    ("src/auth/invites.rs", &["invites"]),
    (
        "src/catalog/store.rs",
        &["model_meta", "model_favorites", "model_recents"],
    ),
    ("src/jobs/store.rs", &["jobs", "job_references"]),
    (
        "src/assets/store.rs",
        &["assets", "assets_fts", "pending_deletions"],
    ),
    ("src/shares/store.rs", &["shares"]),
    // Whole-database chores: the health check's ping and the backup copy.
    ("src/db.rs", &[]),
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
];

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
            && !OWNERS.iter().any(|(owner, _)| *owner == name)
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
        let text = fs::read_to_string(root.join(file)).expect("store source");
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
