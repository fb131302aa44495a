use std::process::Command;

/// The real binary, started with a bad setting, stops at once and names the variable.
#[test]
fn a_bad_setting_stops_start_up_and_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("BIND_ADDR", "not-an-address"),
        ("STORAGE", "floppy"),
        ("APP_SECRET", "too-short"),
        ("PUBLIC_URL", "studio.example.com"),
    ];
    for (var, value) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_fal-studio"))
            .current_dir(dir.path())
            .env_clear()
            .env("DATA_DIR", dir.path().join("data"))
            .env(var, value)
            .output()
            .expect("binary runs");
        assert_eq!(output.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(var), "{var}: {stderr}");
        assert!(
            !dir.path().join("data").exists(),
            "{var}: nothing created before the check"
        );
    }
}

#[cfg(unix)]
mod private_files {
    use std::{os::unix::fs::PermissionsExt, path::Path};

    use reqwest::StatusCode;
    use serde_json::json;

    use crate::helpers::{Options, spawn_app_with};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    }

    /// Sets a umask that would leave everything readable by all, for this process.
    fn open_umask() {
        // SAFETY: umask only swaps the process's file-creation mask.
        unsafe {
            libc::umask(0o022);
        }
    }

    #[tokio::test]
    async fn data_dir_database_and_stored_files_are_private_to_the_server_user() {
        open_umask();
        let app = spawn_app_with(Options {
            vars: vec![("FAL_RETRY_BASE_MS", "1".into())],
            on_sqlite: true,
            ..Options::default()
        })
        .await;
        app.signed_up("ada@example.com").await;
        assert_eq!(
            app.set_key("fake-key-id:fake-secret").await.status(),
            StatusCode::OK
        );
        let id = app
            .start(
                "fal-ai/bytedance/seedream/v4/text-to-image",
                json!({ "prompt": "a fox" }),
                vec![],
            )
            .await;
        assert_eq!(app.finished(&id).await["status"], "completed");

        let data = app.dir.join("data");
        assert_eq!(mode(&data), 0o700, "DATA_DIR");
        for name in [
            "fal-studio.db",
            "fal-studio.db-wal",
            "fal-studio.db-shm",
            "app_secret",
        ] {
            assert_eq!(mode(&data.join(name)), 0o600, "{name}");
        }
        let stored = app.stored_files();
        assert!(!stored.is_empty());
        for file in stored {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[tokio::test]
    async fn an_existing_install_with_looser_permissions_is_tightened_at_start() {
        open_umask();
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = data.join("fal-studio.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();

        let _app = spawn_app_with(Options {
            dir: Some(tmp.path().to_path_buf()),
            on_sqlite: true,
            ..Options::default()
        })
        .await;
        assert_eq!(mode(&data), 0o700, "DATA_DIR");
        assert_eq!(mode(&db), 0o600, "the database");
    }
}
