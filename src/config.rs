//! Every setting, read from the environment once at start-up. A wrong value stops start-up with
//! a message that names the variable and says what to put there. `.env.example` documents each.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use url::Url;

use crate::{client_addr::TrustedProxies, fal::outbound::HostPattern, telemetry::LogFormat};

#[derive(Debug, thiserror::Error)]
#[error("configuration error in {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct FalUrls {
    pub queue: Url,
    pub run: Url,
    pub api: Url,
    pub site: Url,
    pub rest: Url,
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: Option<Url>,
    /// `None`: the AWS configuration's region (`AWS_REGION`, the profile), else us-east-1.
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub force_path_style: bool,
}

#[derive(Debug, Clone)]
pub enum StorageConfig {
    Local,
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    /// The URL people use to reach the studio; `None` means `http://{bind_addr}`.
    pub public_url: Option<Url>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage: StorageConfig,
    /// `None`: generated into `DATA_DIR/app_secret` on first run.
    pub app_secret: Option<Secret>,
    pub fal: FalUrls,
    /// `OUTPUT_HOSTS`: where output files may be downloaded from, besides the fal origins.
    pub output_hosts: Vec<HostPattern>,
    /// `STATIC_DIR`: serve the web app from this folder instead of the copy built into the
    /// binary (`None`), e.g. to try a new build of `web/` without rebuilding the server.
    pub static_dir: Option<PathBuf>,
    /// First backoff step of fal's retry policy (1 s by fal's clients; tests shorten it).
    pub fal_retry_base: Duration,
    /// How long a catalog page or a model's spec is served from memory before asking fal again.
    pub catalog_cache_ttl: Duration,
    /// First backoff step when storage fails while a job stores its outputs.
    pub storage_retry_base: Duration,
    /// How often removals that storage refused are tried again.
    pub deletion_retry: Duration,
    pub upload_max_file_bytes: u64,
    pub upload_max_files: usize,
    pub upload_max_total_bytes: u64,
    pub jobs_max_running: usize,
    pub jobs_max_per_user: usize,
    /// Jobs one user may have waiting or running at once; more are refused with 429.
    pub jobs_max_queued_per_user: usize,
    /// `JOB_LEASE_SECONDS`: how long a node's hold on a job lasts without renewal; a node that
    /// dies loses its jobs to the others after this long.
    pub job_lease: Duration,
    /// `FAL_KEY_CONCURRENCY`: requests one fal key may have at fal at once, unless its owner set
    /// their key's own limit.
    pub fal_key_concurrency: usize,
    pub output_max_bytes: u64,
    /// Files one result may list; a result with more fails before anything is downloaded.
    pub output_max_files: usize,
    /// All outputs of one job together.
    pub output_max_job_bytes: u64,
    /// Timeouts and the connection cap of the HTTP server.
    pub http: HttpLimits,
    /// `LOG_FORMAT`: text lines (default) or JSON lines.
    pub log_format: LogFormat,
    /// On SIGTERM/SIGINT, how long outputs being stored may take to finish before the process
    /// exits anyway (they resume on the next start).
    pub shutdown_grace: Duration,
    /// `EVENTS_POLL_MS`: how often this node reads the job events other nodes log.
    pub events_poll: Duration,
    /// `USAGE_RECONCILE_SECS`: how often finished jobs' estimates are checked against fal's
    /// billing events (keys that may read them); `None` (0): never.
    pub usage_reconcile: Option<Duration>,
    /// Who may create an account, and whether that was chosen or defaulted.
    pub signup: SignupPolicy,
    /// New accounts per client address per hour.
    pub signup_limit_per_hour: u32,
    /// `TRUSTED_PROXIES`: whose `Forwarded`/`X-Forwarded-For` headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// `ALLOWED_HOSTS`: `Host` values accepted besides `PUBLIC_URL`'s.
    pub allowed_hosts: Vec<String>,
}

/// `SIGNUP_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    /// Anyone who can reach the studio may sign up.
    Open,
    /// Only with a single-use invite link from `fal-studio admin invite`.
    Invite,
    /// Nobody; accounts are made with `fal-studio admin create-user`.
    Closed,
}

impl SignupMode {
    pub fn name(self) -> &'static str {
        match self {
            SignupMode::Open => "open",
            SignupMode::Invite => "invite",
            SignupMode::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignupPolicy {
    pub mode: SignupMode,
    /// `SIGNUP_MODE` was unset, so the mode follows from `BIND_ADDR`.
    pub defaulted: bool,
}

pub const MIN_APP_SECRET_LEN: usize = 32;

/// `EVENTS_POLL_MS`' range: below it the polls are mostly empty queries; above it browsers on
/// other nodes would hear of changes a minute late.
pub const MIN_EVENTS_POLL_MS: u64 = 10;
pub const MAX_EVENTS_POLL_MS: u64 = 60_000;

/// `JOB_LEASE_SECONDS`' range: long enough to renew a few times per lease, short enough that a
/// dead node's jobs move on within the hour.
pub const MIN_JOB_LEASE_SECS: u64 = 2;
pub const MAX_JOB_LEASE_SECS: u64 = 3600;
/// The highest per-key concurrency accepted, in `FAL_KEY_CONCURRENCY` and a user's own setting.
pub const MAX_KEY_CONCURRENCY: u64 = 1000;

/// What one client connection may hold, so half-sent requests cannot pin the server
/// (slowloris).
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// From the moment the server waits for a request (a new connection, or the next request
    /// on a kept-alive one) until its whole head has arrived. So also how long an idle
    /// kept-alive connection stays open.
    pub header_timeout: Duration,
    /// Longest wait for the next piece of a request body once the handler asks for it; reset
    /// by every piece, so slow but steady uploads go through.
    pub body_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed (e.g. a client that
    /// stops reading a download). Live event streams send a heartbeat well within it.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

impl Config {
    /// Reads the process environment (after an optional `.env`, loaded by `main`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `get`, so tests can pass a map instead of the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let bind_addr = match var("BIND_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.parse().map_err(|_| {
                bad(
                    "BIND_ADDR",
                    format!(
                        "'{v}' is not an address and port; use e.g. 127.0.0.1:8080 or 0.0.0.0:8080"
                    ),
                )
            })?,
        };

        let public_url = match var("PUBLIC_URL") {
            None => None,
            Some(v) => Some(parse_http_url(
                "PUBLIC_URL",
                &v,
                "https://studio.example.com",
            )?),
        };

        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match var("DATABASE_URL") {
            None => format!("sqlite://{}", data_dir.join("fal-studio.db").display()),
            Some(v) if crate::db::Engine::of_url(&v).is_some() => v,
            Some(v) => {
                return Err(bad(
                    "DATABASE_URL",
                    format!(
                        "'{}' is neither a SQLite nor a Postgres URL; use e.g. sqlite://./data/fal-studio.db (or leave it unset) or postgres://user:password@host/db",
                        redact_url(&v)
                    ),
                ));
            }
        };

        let storage = match var("STORAGE").as_deref() {
            None | Some("local") => StorageConfig::Local,
            Some("s3") => StorageConfig::S3(s3_config(&var)?),
            Some(other) => {
                return Err(bad(
                    "STORAGE",
                    format!("'{other}' is not a storage mode; use 'local' (default) or 's3'"),
                ));
            }
        };

        let app_secret = match var("APP_SECRET") {
            None => None,
            Some(v) if v.len() < MIN_APP_SECRET_LEN => {
                return Err(bad(
                    "APP_SECRET",
                    format!(
                        "it is {} characters long; use at least {MIN_APP_SECRET_LEN} random characters (e.g. `openssl rand -base64 32`), or leave it unset to have one generated",
                        v.len()
                    ),
                ));
            }
            Some(v) => Some(Secret::new(v)),
        };

        let fal_url = |name: &'static str, default: &str| -> Result<Url, ConfigError> {
            match var(name) {
                None => Url::parse(default).map_err(|e| bad(name, e.to_string())),
                Some(v) => parse_http_url(name, &v, default),
            }
        };
        let fal = FalUrls {
            queue: fal_url("FAL_QUEUE_URL", "https://queue.fal.run")?,
            run: fal_url("FAL_RUN_URL", "https://fal.run")?,
            api: fal_url("FAL_API_URL", "https://api.fal.ai")?,
            site: fal_url("FAL_SITE_URL", "https://fal.ai")?,
            rest: fal_url("FAL_REST_URL", "https://rest.fal.ai")?,
        };

        let output_hosts = HostPattern::parse_list(
            var("OUTPUT_HOSTS")
                .as_deref()
                .unwrap_or(crate::fal::outbound::DEFAULT_OUTPUT_HOSTS),
        )
        .map_err(|e| {
            bad(
                "OUTPUT_HOSTS",
                format!("{e}; list host names separated by commas (default fal.media,*.fal.media)"),
            )
        })?;

        let static_dir = var("STATIC_DIR").map(PathBuf::from);

        let number = |name: &'static str, default: u64, what: &str| -> Result<u64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| {
                    bad(
                        name,
                        format!("'{v}' is not a whole number of {what}; default {default}"),
                    )
                }),
            }
        };
        let fal_retry_base =
            Duration::from_millis(number("FAL_RETRY_BASE_MS", 1000, "milliseconds")?);
        let catalog_cache_ttl = Duration::from_secs(number("CATALOG_CACHE_SECS", 300, "seconds")?);
        let storage_retry_base =
            Duration::from_millis(number("STORAGE_RETRY_BASE_MS", 500, "milliseconds")?);
        let deletion_retry =
            Duration::from_secs(number("DELETION_RETRY_SECS", 60, "seconds")?.max(1));
        let positive = |name: &'static str, default: u64, what: &str| -> Result<u64, ConfigError> {
            match number(name, default, what)? {
                0 => Err(bad(name, format!("must be at least 1 {what}"))),
                n => Ok(n),
            }
        };
        let mib = 1024 * 1024;
        let upload_max_file_bytes = positive("UPLOAD_MAX_FILE_MB", 50, "MiB")? * mib;
        let upload_max_files = positive("UPLOAD_MAX_FILES", 16, "files")? as usize;
        let upload_max_total_bytes = positive("UPLOAD_MAX_TOTAL_MB", 200, "MiB")? * mib;
        let jobs_max_running = positive("JOBS_MAX_RUNNING", 16, "jobs")? as usize;
        let jobs_max_per_user = positive("JOBS_MAX_PER_USER", 4, "jobs")? as usize;
        let jobs_max_queued_per_user = positive("JOBS_MAX_QUEUED_PER_USER", 50, "jobs")? as usize;
        let job_lease = match number("JOB_LEASE_SECONDS", 30, "seconds")? {
            n @ MIN_JOB_LEASE_SECS..=MAX_JOB_LEASE_SECS => Duration::from_secs(n),
            n => {
                return Err(bad(
                    "JOB_LEASE_SECONDS",
                    format!(
                        "{n} is out of range; use {MIN_JOB_LEASE_SECS} to {MAX_JOB_LEASE_SECS} seconds (default 30)"
                    ),
                ));
            }
        };
        let fal_key_concurrency = match number("FAL_KEY_CONCURRENCY", 2, "requests")? {
            n @ 1..=MAX_KEY_CONCURRENCY => n as usize,
            n => {
                return Err(bad(
                    "FAL_KEY_CONCURRENCY",
                    format!(
                        "{n} is out of range; use 1 to {MAX_KEY_CONCURRENCY} (fal starts accounts at 2 and raises it up to 40)"
                    ),
                ));
            }
        };
        let output_max_mib = positive("OUTPUT_MAX_MB", 4096, "MiB")?;
        let output_max_bytes = output_max_mib * mib;
        let output_max_files = positive("OUTPUT_MAX_FILES", 64, "files")? as usize;
        let output_max_job_bytes =
            positive("OUTPUT_MAX_JOB_MB", output_max_mib.saturating_mul(4), "MiB")?
                .saturating_mul(mib);
        let http_defaults = HttpLimits::default();
        let seconds = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(positive(
                name,
                default.as_secs(),
                "seconds",
            )?))
        };
        let http = HttpLimits {
            header_timeout: seconds("HTTP_HEADER_TIMEOUT_SECS", http_defaults.header_timeout)?,
            body_timeout: seconds("HTTP_BODY_TIMEOUT_SECS", http_defaults.body_timeout)?,
            idle_timeout: seconds("HTTP_IDLE_TIMEOUT_SECS", http_defaults.idle_timeout)?,
            max_connections: positive(
                "HTTP_MAX_CONNECTIONS",
                http_defaults.max_connections as u64,
                "connections",
            )? as usize,
        };
        let log_format = match var("LOG_FORMAT") {
            None => LogFormat::Text,
            Some(v) => LogFormat::parse(&v).ok_or_else(|| {
                bad(
                    "LOG_FORMAT",
                    format!("'{v}' is not a log format; use 'text' (default) or 'json'"),
                )
            })?,
        };
        let shutdown_grace = Duration::from_secs(number("SHUTDOWN_GRACE_SECS", 25, "seconds")?);
        let events_poll = match number("EVENTS_POLL_MS", 250, "milliseconds")? {
            n @ MIN_EVENTS_POLL_MS..=MAX_EVENTS_POLL_MS => Duration::from_millis(n),
            n => {
                return Err(bad(
                    "EVENTS_POLL_MS",
                    format!(
                        "{n} is out of range; use {MIN_EVENTS_POLL_MS} to {MAX_EVENTS_POLL_MS} milliseconds (default 250)"
                    ),
                ));
            }
        };
        let usage_reconcile = match number("USAGE_RECONCILE_SECS", 300, "seconds")? {
            0 => None,
            n => Some(Duration::from_secs(n)),
        };
        let signup = match var("SIGNUP_MODE").as_deref() {
            // Open sign-up is only a safe default where nobody else can reach the studio.
            None => SignupPolicy {
                mode: if bind_addr.ip().is_loopback() {
                    SignupMode::Open
                } else {
                    SignupMode::Invite
                },
                defaulted: true,
            },
            Some(v) => SignupPolicy {
                mode: match v.to_ascii_lowercase().as_str() {
                    "open" => SignupMode::Open,
                    "invite" => SignupMode::Invite,
                    "closed" => SignupMode::Closed,
                    _ => {
                        return Err(bad(
                            "SIGNUP_MODE",
                            format!("'{v}' is not a sign-up mode; use open, invite or closed"),
                        ));
                    }
                },
                defaulted: false,
            },
        };
        let signup_limit_per_hour =
            u32::try_from(positive("SIGNUP_LIMIT_PER_HOUR", 10, "sign-ups")?).unwrap_or(u32::MAX);
        let trusted_proxies = TrustedProxies::parse(&var("TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|e| {
                bad(
                    "TRUSTED_PROXIES",
                    format!(
                        "{e}; list your reverse proxies' addresses, e.g. 127.0.0.1/32,10.0.0.0/8"
                    ),
                )
            })?;
        let allowed_hosts = var("ALLOWED_HOSTS")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();

        Ok(Config {
            bind_addr,
            public_url,
            data_dir,
            database_url,
            storage,
            app_secret,
            fal,
            output_hosts,
            static_dir,
            fal_retry_base,
            catalog_cache_ttl,
            storage_retry_base,
            deletion_retry,
            upload_max_file_bytes,
            upload_max_files,
            upload_max_total_bytes,
            jobs_max_running,
            jobs_max_per_user,
            jobs_max_queued_per_user,
            job_lease,
            fal_key_concurrency,
            output_max_bytes,
            output_max_files,
            output_max_job_bytes,
            http,
            log_format,
            shutdown_grace,
            events_poll,
            usage_reconcile,
            signup,
            signup_limit_per_hour,
            trusted_proxies,
            allowed_hosts,
        })
    }

    /// The origin people use to reach the studio, for absolute links and the `Secure` flag.
    pub fn effective_public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{}", self.bind_addr)).unwrap_or_else(|_| {
                Url::parse("http://127.0.0.1:8080").expect("a constant URL parses")
            })
        })
    }

    pub fn cookies_secure(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

fn s3_config(var: &impl Fn(&str) -> Option<String>) -> Result<S3Config, ConfigError> {
    let bucket = var("S3_BUCKET").ok_or_else(|| {
        bad(
            "S3_BUCKET",
            "STORAGE=s3 needs a bucket name; set S3_BUCKET, or use STORAGE=local",
        )
    })?;
    let endpoint = match var("S3_ENDPOINT") {
        None => None,
        Some(v) => Some(parse_http_url("S3_ENDPOINT", &v, "http://127.0.0.1:9000")?),
    };
    let access_key_id = var("S3_ACCESS_KEY_ID");
    let secret_access_key = var("S3_SECRET_ACCESS_KEY").map(Secret::new);
    if access_key_id.is_some() != secret_access_key.is_some() {
        let missing = if access_key_id.is_some() {
            "S3_SECRET_ACCESS_KEY"
        } else {
            "S3_ACCESS_KEY_ID"
        };
        return Err(bad(
            missing,
            "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (to use the default AWS credential chain)",
        ));
    }
    let force_path_style = match var("S3_FORCE_PATH_STYLE").as_deref() {
        None => endpoint.is_some(),
        Some("true" | "1" | "yes") => true,
        Some("false" | "0" | "no") => false,
        Some(other) => {
            return Err(bad(
                "S3_FORCE_PATH_STYLE",
                format!("'{other}' is not a boolean; use true or false"),
            ));
        }
    };
    Ok(S3Config {
        bucket,
        endpoint,
        region: var("S3_REGION"),
        access_key_id,
        secret_access_key,
        force_path_style,
    })
}

fn parse_http_url(var: &'static str, value: &str, example: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| {
        bad(
            var,
            format!(
                "'{}' is not a URL ({e}); use e.g. {example}",
                redact_url(value)
            ),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad(
            var,
            format!(
                "'{}' must be an http(s) URL with a host, e.g. {example}",
                redact_url(value)
            ),
        ));
    }
    Ok(url)
}

/// Hides credentials in a URL before it goes into an error message.
pub(crate) fn redact_url(value: &str) -> String {
    match Url::parse(value) {
        Ok(mut url) if url.password().is_some() || !url.username().is_empty() => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        _ if value.contains('@') => "<redacted>".into(),
        _ => value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn no_configuration_gives_the_embedded_defaults() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.database_url, "sqlite://./data/fal-studio.db");
        assert!(matches!(c.storage, StorageConfig::Local));
        assert!(c.app_secret.is_none());
        assert_eq!(c.fal.queue.as_str(), "https://queue.fal.run/");
        assert_eq!(c.fal.api.as_str(), "https://api.fal.ai/");
        assert_eq!(c.effective_public_url().as_str(), "http://127.0.0.1:8080/");
        assert!(!c.cookies_secure());
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.shutdown_grace, Duration::from_secs(25));
        assert_eq!(c.jobs_max_queued_per_user, 50);
        assert_eq!(c.job_lease, Duration::from_secs(30));
        assert_eq!(c.fal_key_concurrency, 2);
        assert_eq!(c.output_max_files, 64);
        assert_eq!(c.output_max_job_bytes, 4 * c.output_max_bytes);
        assert_eq!(c.http.header_timeout, Duration::from_secs(10));
        assert_eq!(c.http.idle_timeout, Duration::from_secs(60));
        let hosts: Vec<String> = c.output_hosts.iter().map(ToString::to_string).collect();
        assert_eq!(hosts, ["fal.media", "*.fal.media"]);
    }

    #[test]
    fn sign_up_is_open_by_default_only_on_loopback() {
        let here = config(&[]).unwrap();
        assert_eq!(here.signup.mode, SignupMode::Open);
        assert!(here.signup.defaulted);
        let exposed = config(&[("BIND_ADDR", "0.0.0.0:8080")]).unwrap();
        assert_eq!(exposed.signup.mode, SignupMode::Invite);
        let chosen = config(&[("BIND_ADDR", "0.0.0.0:8080"), ("SIGNUP_MODE", "Open")]).unwrap();
        assert_eq!(
            chosen.signup,
            SignupPolicy {
                mode: SignupMode::Open,
                defaulted: false
            }
        );
        assert_eq!(here.signup_limit_per_hour, 10);
        assert!(here.trusted_proxies.is_empty() && here.allowed_hosts.is_empty());
        let set = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("ALLOWED_HOSTS", "Studio.LAN, *"),
        ])
        .unwrap();
        assert!(set.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
        assert_eq!(set.allowed_hosts, vec!["studio.lan", "*"]);
    }

    #[test]
    fn each_bad_setting_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("BIND_ADDR", "localhost")], "BIND_ADDR"),
            (&[("PUBLIC_URL", "not a url")], "PUBLIC_URL"),
            (&[("PUBLIC_URL", "ftp://example.com")], "PUBLIC_URL"),
            (&[("DATABASE_URL", "mysql://u:p@h/db")], "DATABASE_URL"),
            (&[("STORAGE", "gcs")], "STORAGE"),
            (&[("STORAGE", "s3")], "S3_BUCKET"),
            (
                &[
                    ("STORAGE", "s3"),
                    ("S3_BUCKET", "b"),
                    ("S3_ACCESS_KEY_ID", "a"),
                ],
                "S3_SECRET_ACCESS_KEY",
            ),
            (
                &[
                    ("STORAGE", "s3"),
                    ("S3_BUCKET", "b"),
                    ("S3_FORCE_PATH_STYLE", "maybe"),
                ],
                "S3_FORCE_PATH_STYLE",
            ),
            (&[("APP_SECRET", "short")], "APP_SECRET"),
            (&[("FAL_QUEUE_URL", "queue")], "FAL_QUEUE_URL"),
            (&[("OUTPUT_HOSTS", "https://v3.fal.media")], "OUTPUT_HOSTS"),
            (&[("OUTPUT_HOSTS", "fal.media,10.0.0.1")], "OUTPUT_HOSTS"),
            (&[("FAL_RETRY_BASE_MS", "soon")], "FAL_RETRY_BASE_MS"),
            (&[("CATALOG_CACHE_SECS", "-1")], "CATALOG_CACHE_SECS"),
            (&[("UPLOAD_MAX_FILE_MB", "0")], "UPLOAD_MAX_FILE_MB"),
            (&[("JOBS_MAX_PER_USER", "many")], "JOBS_MAX_PER_USER"),
            (
                &[("JOBS_MAX_QUEUED_PER_USER", "0")],
                "JOBS_MAX_QUEUED_PER_USER",
            ),
            (&[("OUTPUT_MAX_FILES", "lots")], "OUTPUT_MAX_FILES"),
            (&[("JOB_LEASE_SECONDS", "1")], "JOB_LEASE_SECONDS"),
            (&[("JOB_LEASE_SECONDS", "3601")], "JOB_LEASE_SECONDS"),
            (&[("JOB_LEASE_SECONDS", "soon")], "JOB_LEASE_SECONDS"),
            (&[("FAL_KEY_CONCURRENCY", "0")], "FAL_KEY_CONCURRENCY"),
            (&[("FAL_KEY_CONCURRENCY", "1001")], "FAL_KEY_CONCURRENCY"),
            (&[("FAL_KEY_CONCURRENCY", "two")], "FAL_KEY_CONCURRENCY"),
            (&[("OUTPUT_MAX_JOB_MB", "0")], "OUTPUT_MAX_JOB_MB"),
            (
                &[("HTTP_HEADER_TIMEOUT_SECS", "0")],
                "HTTP_HEADER_TIMEOUT_SECS",
            ),
            (
                &[("HTTP_BODY_TIMEOUT_SECS", "soon")],
                "HTTP_BODY_TIMEOUT_SECS",
            ),
            (
                &[("HTTP_IDLE_TIMEOUT_SECS", "-5")],
                "HTTP_IDLE_TIMEOUT_SECS",
            ),
            (&[("HTTP_MAX_CONNECTIONS", "0")], "HTTP_MAX_CONNECTIONS"),
            (&[("LOG_FORMAT", "logfmt")], "LOG_FORMAT"),
            (&[("SHUTDOWN_GRACE_SECS", "soon")], "SHUTDOWN_GRACE_SECS"),
            (&[("EVENTS_POLL_MS", "9")], "EVENTS_POLL_MS"),
            (&[("EVENTS_POLL_MS", "60001")], "EVENTS_POLL_MS"),
            (&[("EVENTS_POLL_MS", "often")], "EVENTS_POLL_MS"),
            (&[("SIGNUP_MODE", "public")], "SIGNUP_MODE"),
            (&[("SIGNUP_LIMIT_PER_HOUR", "0")], "SIGNUP_LIMIT_PER_HOUR"),
            (&[("TRUSTED_PROXIES", "my-proxy")], "TRUSTED_PROXIES"),
        ];
        for (vars, expected) in cases {
            let err = config(vars).expect_err(&format!("{vars:?} must be refused"));
            assert_eq!(err.var, *expected, "case {vars:?}");
            assert!(err.to_string().contains(expected), "case {vars:?}: {err}");
        }
    }

    #[test]
    fn the_event_poll_takes_its_whole_range() {
        assert_eq!(config(&[]).unwrap().events_poll, Duration::from_millis(250));
        for ms in [MIN_EVENTS_POLL_MS, MAX_EVENTS_POLL_MS] {
            let c = config(&[("EVENTS_POLL_MS", &ms.to_string())]).unwrap();
            assert_eq!(c.events_poll, Duration::from_millis(ms));
        }
    }

    #[test]
    fn credentials_in_a_bad_database_url_are_not_echoed() {
        let err = config(&[("DATABASE_URL", "mysql://user:hunter2@db/x")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn a_postgres_url_selects_postgres() {
        for url in ["postgres://u:p@db/studio", "postgresql://db/studio"] {
            assert_eq!(config(&[("DATABASE_URL", url)]).unwrap().database_url, url);
        }
    }

    #[test]
    fn lease_and_key_concurrency_take_their_whole_range() {
        let c = config(&[("JOB_LEASE_SECONDS", "2"), ("FAL_KEY_CONCURRENCY", "1")]).unwrap();
        assert_eq!(c.job_lease, Duration::from_secs(2));
        assert_eq!(c.fal_key_concurrency, 1);
        let c = config(&[
            ("JOB_LEASE_SECONDS", "3600"),
            ("FAL_KEY_CONCURRENCY", "1000"),
        ])
        .unwrap();
        assert_eq!(c.job_lease, Duration::from_secs(3600));
        assert_eq!(c.fal_key_concurrency, 1000);
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = config(&[("PUBLIC_URL", "https://studio.example.com")]).unwrap();
        assert!(c.cookies_secure());
    }

    #[test]
    fn s3_settings_are_read() {
        let c = config(&[
            ("STORAGE", "s3"),
            ("S3_BUCKET", "media"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_ACCESS_KEY_ID", "id"),
            ("S3_SECRET_ACCESS_KEY", "secret"),
        ])
        .unwrap();
        let StorageConfig::S3(s3) = c.storage else {
            panic!("expected s3")
        };
        assert_eq!(s3.bucket, "media");
        assert!(
            s3.force_path_style,
            "a custom endpoint defaults to path style"
        );
        assert_eq!(s3.region, None, "left to the AWS configuration");
        assert!(!format!("{:?}", s3.secret_access_key).contains("secret\""));
    }
}
