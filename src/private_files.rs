//! What only the server's own user may read: `DATA_DIR` (0700), the database with its `-wal`
//! and `-shm` (0600), and stored files (0600, see `storage::local`). Modes are set explicitly,
//! not left to the umask, and an existing install whose files are looser is tightened at start
//! with a log line saying so.

use std::{io, path::Path};

/// Creates `dir` (and missing parents) as 0700, or tightens an existing one to 0700.
pub fn create_private_dir(dir: &Path, what: &str) -> io::Result<()> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    restrict(dir, 0o700, what)
}

/// Creates an empty file at `path` readable by this user only, unless something is there.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => restrict(path, 0o600, "a new private file"),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Takes from `path` every permission bit beyond `mode` (a missing path is fine), logging when
/// it had more.
pub fn restrict(path: &Path, mode: u32, what: &str) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if current & !mode == 0 {
            return Ok(());
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode))?;
        tracing::info!(
            path = %path.display(),
            was = format!("{current:o}"),
            now = format!("{:o}", current & mode),
            "tightened the permissions of {what}: other users could read it"
        );
    }
    #[cfg(not(unix))]
    let _ = (path, mode, what);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_directory_and_file_are_private_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir, "test dir").unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("db");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn looser_existing_paths_are_tightened_and_stricter_ones_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let loose = tmp.path().join("loose");
        std::fs::write(&loose, b"x").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o664)).unwrap();
        restrict(&loose, 0o600, "test").unwrap();
        assert_eq!(mode(&loose), 0o600);
        let strict = tmp.path().join("strict");
        std::fs::write(&strict, b"x").unwrap();
        std::fs::set_permissions(&strict, std::fs::Permissions::from_mode(0o400)).unwrap();
        restrict(&strict, 0o600, "test").unwrap();
        assert_eq!(mode(&strict), 0o400);
        restrict(&tmp.path().join("missing"), 0o600, "test").unwrap();
    }
}
