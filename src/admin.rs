//! `fal-studio admin …`: account and database chores from the command line, on the same
//! configuration as the server (`.env` and the environment).
//!
//! Exit codes: 0 done, 1 the command failed (say, the account exists), 2 a usage or
//! configuration error. Passwords are read from stdin, never from the command line (where `ps`
//! and shell history would keep them).

use std::{
    io::{BufRead, IsTerminal, Write},
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

mod migrate_to_postgres;
mod node_list;

use crate::{
    Config, auth,
    db::{self, Db, Engine},
    users::{self, Role},
};

/// Shown under `fal-studio admin --help`.
pub const AFTER_HELP: &str = "\
Settings come from .env and the environment, as for the server (see .env.example).
Exit codes: 0 done, 1 the command failed, 2 usage or configuration error.";

/// The `admin` subcommands. Doc comments are their `--help` text.
#[derive(Debug, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Creates an account. The password is read from stdin (one line); on a terminal it is
    /// asked for twice, without echo.
    CreateUser {
        #[arg(value_name = "email")]
        email: String,
        /// Read the password from stdin (what the command does anyway; accepted for scripts
        /// that say so).
        #[arg(long)]
        password_stdin: bool,
        /// Make the account an admin (the studio's first account is one anyway).
        #[arg(long)]
        admin: bool,
    },
    /// Makes an account an admin or a member. The studio keeps at least one enabled admin.
    SetRole {
        #[arg(value_name = "email")]
        email: String,
        #[arg(value_name = "role", value_parser = ["admin", "member"])]
        role: String,
    },
    /// Sets a new password (read like create-user's) and signs the account out everywhere.
    ResetPassword {
        #[arg(value_name = "email")]
        email: String,
        /// Read the password from stdin (as create-user).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Makes a single-use sign-up link for SIGNUP_MODE=invite and prints it. Hand it to one
    /// person; it stops working once they have signed up.
    Invite {
        /// How many days the link is valid for (1 to 365).
        #[arg(
            long,
            value_name = "N",
            default_value_t = auth::invites::DEFAULT_VALID_FOR.as_secs() / 86_400,
            value_parser = clap::value_parser!(u64).range(1..=365),
        )]
        days: u64,
    },
    /// Writes a consistent copy of the database to <path> (SQLite VACUUM INTO), safe while the
    /// server runs. Refuses to overwrite an existing file. Keep APP_SECRET (or
    /// DATA_DIR/app_secret) with it: saved fal keys cannot be read without it. SQLite only: back
    /// up a Postgres database with pg_dump.
    Backup {
        #[arg(value_name = "path")]
        path: PathBuf,
    },
    /// Copies this studio's SQLite database (DATABASE_URL/DATA_DIR as configured) into an empty
    /// Postgres database, in one transaction, for running several nodes; prints the rows per
    /// table and the next steps. Stop the studio first. The URL's password is never printed.
    MigrateToPostgres {
        #[arg(value_name = "postgres-url")]
        url: String,
    },
    /// Lists the studio's nodes on this database (live ones, and those gone in the last day)
    /// with the jobs each holds and how long its leases run. Read-only; works while the
    /// servers run, on SQLite and Postgres.
    Nodes,
}

#[derive(Debug)]
enum Failure {
    /// Exit 2: the command line or the configuration is wrong.
    Usage(String),
    /// Exit 1: the command was understood but could not be done.
    Failed(String),
}

impl Failure {
    fn failed(what: &str, e: impl std::fmt::Display) -> Self {
        Failure::Failed(format!("{what}: {e}"))
    }
}

/// Runs one `fal-studio admin` command (clap has parsed the command line) and returns the
/// process's exit code.
pub async fn main(command: Command) -> i32 {
    match run(command).await {
        Ok(message) => {
            println!("{message}");
            0
        }
        Err(Failure::Usage(message)) => {
            eprintln!("fal-studio admin: {message}");
            eprintln!("Run `fal-studio admin --help` for usage.");
            2
        }
        Err(Failure::Failed(message)) => {
            eprintln!("fal-studio admin: {message}");
            1
        }
    }
}

async fn run(command: Command) -> Result<String, Failure> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env().map_err(|e| Failure::Usage(e.to_string()))?;
    match command {
        Command::CreateUser { email, admin, .. } => create_user(&config, &email, admin).await,
        Command::SetRole { email, role } => set_role(&config, &email, &role).await,
        Command::ResetPassword { email, .. } => reset_password(&config, &email).await,
        Command::Invite { days } => invite(&config, days).await,
        Command::Backup { path } => backup(&config, &path).await,
        Command::MigrateToPostgres { url } => migrate_to_postgres::run(&config, &url).await,
        Command::Nodes => node_list::run(&config).await,
    }
}

async fn invite(config: &Config, days: u64) -> Result<String, Failure> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        Failure::failed(
            &format!("could not create DATA_DIR {}", config.data_dir.display()),
            e,
        )
    })?;
    let db = open(config).await?;
    let token = auth::invites::create(&db, Duration::from_secs(days * 86_400))
        .await
        .map_err(|e| Failure::failed("could not save the invite", e))?;
    db.close().await;
    let base = config.effective_public_url();
    let mode = match config.signup.mode {
        crate::config::SignupMode::Invite => String::new(),
        other => format!(
            "\nNote: SIGNUP_MODE is {} here, so the link is {}.",
            other.name(),
            if other == crate::config::SignupMode::Open {
                "not needed"
            } else {
                "refused until SIGNUP_MODE=invite"
            }
        ),
    };
    Ok(format!(
        "Invite link (one sign-up, valid for {days} day{}):\n{}/signup?invite={token}{mode}",
        if days == 1 { "" } else { "s" },
        base.as_str().trim_end_matches('/'),
    ))
}

async fn create_user(config: &Config, email: &str, admin: bool) -> Result<String, Failure> {
    let email = auth::normalize_email(email).map_err(|e| Failure::Usage(e.to_string()))?;
    let password = new_password()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        Failure::failed(
            &format!("could not create DATA_DIR {}", config.data_dir.display()),
            e,
        )
    })?;
    let db = open(config).await?;
    let hash = auth::password::hash(password)
        .await
        .map_err(|e| Failure::failed("could not hash the password", e))?;
    let user = users::insert(&db, &email, &hash, admin.then_some(Role::Admin))
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    db.close().await;
    Ok(format!(
        "Created the account {} (id {}, {}).",
        user.email,
        user.id,
        user.role.as_str()
    ))
}

async fn set_role(config: &Config, email: &str, role: &str) -> Result<String, Failure> {
    let role = Role::parse(role).ok_or_else(|| Failure::Usage(format!("unknown role {role}")))?;
    let email = email.trim().to_lowercase();
    let db = open(config).await?;
    let user = users::find_by_email(&db, &email)
        .await
        .map_err(|e| Failure::failed("could not read the account", e))?
        .ok_or_else(|| Failure::Failed(format!("there is no account with the email {email}")))?;
    let change = users::AccountChange {
        role: Some(role),
        ..Default::default()
    };
    crate::team::change_account(&db, &user.id, &change)
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    db.close().await;
    Ok(format!("{email} is now {}.", role.as_str()))
}

async fn reset_password(config: &Config, email: &str) -> Result<String, Failure> {
    let email = email.trim().to_lowercase();
    let db = open(config).await?;
    let user = users::find_by_email(&db, &email)
        .await
        .map_err(|e| Failure::failed("could not read the account", e))?
        .ok_or_else(|| Failure::Failed(format!("there is no account with the email {email}")))?;
    let password = new_password()?;
    let hash = auth::password::hash(password)
        .await
        .map_err(|e| Failure::failed("could not hash the password", e))?;
    users::set_password_hash(&db, &user.id, &hash)
        .await
        .map_err(|e| Failure::failed("could not save the password", e))?;
    let signed_out = delete_sessions_of(&db, &user.id).await.map_err(|e| {
        Failure::failed(
            "the password was changed, but sessions could not be removed",
            e,
        )
    })?;
    db.close().await;
    Ok(format!(
        "Set a new password for {email}; signed out {signed_out} session(s)."
    ))
}

/// Deletes every session signed in as `user_id`; a server running on the same database sees
/// it within its streams' re-check interval and at once on the next request.
pub async fn delete_sessions_of(db: &Db, user_id: &str) -> anyhow::Result<u64> {
    Ok(auth::SqlSessionStore::new(db.clone())
        .end_all_of(user_id)
        .await?)
}

async fn backup(config: &Config, path: &Path) -> Result<String, Failure> {
    if Engine::of_url(&config.database_url) == Some(Engine::Postgres) {
        return Err(Failure::Usage(
            "backup copies a SQLite database, and DATABASE_URL names a Postgres one; back it up with pg_dump (e.g. `pg_dump --format=custom --file=studio.dump \"$DATABASE_URL\"`)".into(),
        ));
    }
    if path.exists() {
        return Err(Failure::Failed(format!(
            "{} already exists; choose a new file name (a backup never overwrites)",
            path.display()
        )));
    }
    let target = path
        .to_str()
        .ok_or_else(|| Failure::Usage(format!("{} is not a UTF-8 path", path.display())))?;
    // Read-only and without migrations: a backup never changes the database it copies.
    let options = SqliteConnectOptions::from_str(&config.database_url)
        .map_err(|e| Failure::Usage(format!("DATABASE_URL is not a SQLite URL: {e}")))?
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| Failure::failed("could not open the database (has the server run yet?)", e))?;
    db::copy_into(&db, target)
        .await
        .map_err(|e| Failure::failed(&format!("could not write {}", path.display()), e))?;
    db.close().await;
    // The copy holds what the database does (password hashes, sessions, encrypted keys).
    if let Err(e) = crate::private_files::restrict(path, 0o600, "the backup") {
        eprintln!(
            "warning: could not make {} private (0600): {e}",
            path.display()
        );
    }
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let secret = if config.app_secret.is_some() {
        "your APP_SECRET setting".to_owned()
    } else {
        crate::app_secret::secret_file(&config.data_dir)
            .display()
            .to_string()
    };
    Ok(format!(
        "Wrote a backup of the database to {} ({bytes} bytes). Keep {secret} with it: saved fal keys cannot be read without it. Stored files are not in it.",
        path.display()
    ))
}

async fn open(config: &Config) -> Result<Db, Failure> {
    db::connect(&config.database_url)
        .await
        .map_err(|e| Failure::Failed(format!("{e:#}")))
}

/// A new password from stdin: one line (its line ending removed), asked twice on a terminal.
fn new_password() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let password = read_line(interactive, "New password: ")?;
    if interactive && read_line(true, "Repeat it: ")? != password {
        return Err(Failure::Usage("the two passwords differ".into()));
    }
    if password.is_empty() {
        return Err(Failure::Usage(
            "no password on stdin; pipe one line, e.g. `printf '%s\\n' \"$PASSWORD\" | fal-studio admin ...`".into(),
        ));
    }
    auth::check_password(&password).map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(password)
}

fn read_line(interactive: bool, prompt: &str) -> Result<String, Failure> {
    if interactive {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        set_echo(false);
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if interactive {
        set_echo(true);
        eprintln!();
    }
    read.map_err(|e| Failure::failed("could not read the password from stdin", e))?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

/// Hides typed characters on a terminal (through `stty`, to need no terminal library).
fn set_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}

#[cfg(test)]
mod tests {
    use clap::{Parser, error::ErrorKind};

    use super::*;

    /// `fal-studio admin` as `main.rs` declares it.
    #[derive(Debug, Parser)]
    #[command(name = "admin", arg_required_else_help = true)]
    struct Admin {
        #[command(subcommand)]
        command: Command,
    }

    fn parse(words: &[&str]) -> Result<Command, clap::Error> {
        Admin::try_parse_from(std::iter::once("admin").chain(words.iter().copied()))
            .map(|admin| admin.command)
    }

    #[test]
    fn commands_parse() {
        let cases: &[(&[&str], Command)] = &[
            (
                &["create-user", "ada@example.com"],
                Command::CreateUser {
                    email: "ada@example.com".into(),
                    password_stdin: false,
                    admin: false,
                },
            ),
            (
                &["create-user", "--admin", "ada@example.com"],
                Command::CreateUser {
                    email: "ada@example.com".into(),
                    password_stdin: false,
                    admin: true,
                },
            ),
            (
                &["set-role", "ada@example.com", "member"],
                Command::SetRole {
                    email: "ada@example.com".into(),
                    role: "member".into(),
                },
            ),
            (
                &["create-user", "--password-stdin", "ada@example.com"],
                Command::CreateUser {
                    email: "ada@example.com".into(),
                    password_stdin: true,
                    admin: false,
                },
            ),
            (
                &["reset-password", "ada@example.com", "--password-stdin"],
                Command::ResetPassword {
                    email: "ada@example.com".into(),
                    password_stdin: true,
                },
            ),
            (&["invite"], Command::Invite { days: 7 }),
            (&["invite", "--days", "30"], Command::Invite { days: 30 }),
            (
                &["backup", "/tmp/b.db"],
                Command::Backup {
                    path: "/tmp/b.db".into(),
                },
            ),
            (&["nodes"], Command::Nodes),
        ];
        for (words, expected) in cases {
            let got = parse(words).unwrap_or_else(|e| panic!("case {words:?}: {e}"));
            assert_eq!(&got, expected, "case {words:?}");
        }
    }

    #[test]
    fn help_is_shown_when_asked_or_when_no_command_is_given() {
        for (words, kind) in [
            (&["--help"][..], ErrorKind::DisplayHelp),
            (&["backup", "-h"], ErrorKind::DisplayHelp),
            (&[], ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand),
        ] {
            let error = parse(words).expect_err("help, not a command");
            assert_eq!(error.kind(), kind, "case {words:?}");
        }
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        let cases: &[&[&str]] = &[
            &["frobnicate"],
            &["create-user"],
            &["create-user", "a@example.com", "b@example.com"],
            &["backup"],
            &["backup", "--password-stdin", "/tmp/b.db"],
            &["reset-password", "--force", "a@example.com"],
            &["invite", "--days", "0"],
            &["invite", "--days", "366"],
            &["invite", "--days", "a week"],
            &["invite", "7"],
            &["nodes", "--all"],
        ];
        for words in cases {
            let error = parse(words).expect_err("a usage error");
            assert_eq!(error.exit_code(), 2, "case {words:?}: {error}");
        }
    }
}
