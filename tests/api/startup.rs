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
