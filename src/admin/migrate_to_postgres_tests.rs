//! Unit tests of `migrate_to_postgres`: table classification, column matching, foreign-key
//! order and value conversion (the whole command is tested end to end in tests/api/migrate.rs).

use super::*;

fn target(columns: &[(&str, &str, bool, bool, bool, bool)]) -> Vec<TargetColumn> {
    columns
        .iter()
        .map(
            |&(name, data_type, nullable, has_default, generated, identity)| TargetColumn {
                name: name.into(),
                data_type: data_type.into(),
                nullable,
                has_default,
                generated,
                identity,
            },
        )
        .collect()
}

fn source(columns: &[(&str, i64)]) -> Vec<SourceColumn> {
    columns
        .iter()
        .map(|&(name, pk)| SourceColumn {
            name: name.into(),
            pk,
        })
        .collect()
}

#[test]
fn tables_are_copied_skipped_or_ignored_from_the_catalogue_alone() {
    let cases = [
        ("users", "table", false, "copy"),
        ("model_favorites", "table", true, "copy"),
        ("assets_fts", "virtual", false, "skip"),
        ("assets_fts_data", "shadow", false, "skip"),
        ("_sqlx_migrations", "table", false, "skip"),
        ("nodes", "table", false, "skip"),
        ("job_events", "table", false, "skip"),
        ("throttles", "table", true, "skip"),
        ("sessions", "table", false, "copy"),
        ("sqlite_sequence", "table", false, "ignore"),
        ("sqlite_schema", "table", false, "ignore"),
        ("some_view", "view", false, "ignore"),
        ("a_table_added_later", "table", false, "copy"),
    ];
    for (name, kind, wr, want) in cases {
        let got = match fate_of(name, kind, wr) {
            Fate::Copy { without_rowid } => {
                assert_eq!(without_rowid, wr, "{name}");
                "copy"
            }
            Fate::Skip(_) => "skip",
            Fate::Ignore => "ignore",
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_plan_maps_each_column_by_the_target_type_and_leaves_generated_ones_to_postgres() {
    let plan = plan(
        "assets",
        false,
        &source(&[
            ("id", 1),
            ("hidden", 0),
            ("params_json", 0),
            ("size", 0),
            ("at", 0),
        ]),
        Some(&target(&[
            ("id", "text", false, false, false, false),
            ("hidden", "boolean", false, true, false, false),
            ("params_json", "jsonb", false, false, false, false),
            ("size", "bigint", true, false, false, false),
            ("at", "double precision", true, false, false, false),
            ("search", "tsvector", true, false, true, false),
            ("seq", "bigint", false, false, false, true),
        ])),
    )
    .expect("a plan");
    let kinds: Vec<Kind> = plan.columns.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Text,
            Kind::Flag,
            Kind::Json,
            Kind::Integer,
            Kind::Float
        ]
    );
    assert_eq!(plan.key, [0]);
    let insert = insert_sql(&plan);
    assert!(
        insert.contains("CAST(u.c2 AS jsonb)")
            && insert.contains("$2::boolean[]")
            && !insert.contains("search")
            && !insert.contains("OVERRIDING"),
        "{insert}"
    );
    assert!(select_sql(&plan).ends_with("ORDER BY rowid"));
}

#[test]
fn a_plan_refuses_what_has_nowhere_to_go() {
    let twin = target(&[
        ("id", "text", false, false, false, false),
        ("note", "text", false, false, false, false),
    ]);
    type Case<'a> = (&'a [(&'a str, i64)], Option<&'a Vec<TargetColumn>>, &'a str);
    let cases: [Case; 4] = [
        (
            &[("id", 1), ("note", 0)],
            None,
            "no twin in the Postgres schema",
        ),
        (
            &[("id", 1), ("note", 0), ("extra", 0)],
            Some(&twin),
            "`t.extra` has no twin",
        ),
        (&[("id", 1)], Some(&twin), "`t.note` needs a value"),
        (
            &[("id", 1), ("note", 0)],
            Some(&target(&[
                ("id", "text", false, false, false, false),
                ("note", "tsvector", false, false, false, false),
            ])),
            "of type tsvector",
        ),
    ];
    for (columns, twin, want) in cases {
        let error = plan("t", false, &source(columns), twin).expect_err(want);
        assert!(error.contains(want), "{error}");
    }
}

#[test]
fn tables_come_after_the_tables_they_reference() {
    let tables: BTreeSet<String> = ["assets", "jobs", "shares", "users", "sessions"]
        .map(String::from)
        .into();
    let edges = [
        ("jobs", "users"),
        ("assets", "users"),
        ("assets", "jobs"),
        ("shares", "assets"),
        ("shares", "users"),
        ("sessions", "users"),
        ("users", "users"),
        // A table that is not copied does not hold anything up.
        ("jobs", "nodes"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    let order = foreign_key_order(&tables, &edges).expect("an order");
    assert_eq!(order, ["users", "jobs", "sessions", "assets", "shares"]);

    let cycle = [("a", "b"), ("b", "a")].map(|(a, b)| (a.to_owned(), b.to_owned()));
    let tables: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let error = foreign_key_order(&tables, &cycle).expect_err("a cycle");
    assert!(error.contains("tables a, b reference"), "{error}");
}

#[test]
fn values_convert_as_the_column_says_or_say_what_they_hold() {
    let ok: [(Kind, Value); 7] = [
        (Kind::Flag, Value::Integer(0)),
        (Kind::Flag, Value::Integer(1)),
        (Kind::Integer, Value::Integer(-3)),
        (Kind::Float, Value::Integer(2)),
        (Kind::Json, Value::Text("{\"a\":[1]}".into())),
        (Kind::Text, Value::Null),
        (Kind::Flag, Value::Null),
    ];
    for (kind, value) in ok {
        let mut buffer = Buffer::new(kind);
        buffer
            .push(kind, value.clone())
            .unwrap_or_else(|e| panic!("{kind:?} {value:?}: {e}"));
    }
    let refused: [(Kind, Value, &str); 5] = [
        (Kind::Flag, Value::Integer(7), "the integer 7"),
        (Kind::Integer, Value::Text("12".into()), "the text '12'"),
        (Kind::Json, Value::Text("{not json".into()), "not JSON"),
        (Kind::Text, Value::Blob(3), "a 3-byte blob"),
        (Kind::Float, Value::Text("x".into()), "the text 'x'"),
    ];
    for (kind, value, want) in refused {
        let error = Buffer::new(kind).push(kind, value).expect_err(want);
        assert!(error.contains(want), "{error}");
    }
}

#[test]
fn identifiers_are_quoted() {
    assert_eq!(quoted("users"), "\"users\"");
    assert_eq!(quoted("we\"ird"), "\"we\"\"ird\"");
}
