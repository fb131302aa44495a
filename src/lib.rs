//! fal-studio: a self-hosted, multi-user studio for fal.ai image and video models.
//!
//! [`build_app`] assembles the whole application from a [`Config`]; `main` and the integration
//! tests both call it, so the tests exercise exactly what production runs.

pub mod account;
pub mod admin;
pub mod app_secret;
pub mod assets;
pub mod auth;
pub mod catalog;
pub mod client_addr;
pub mod config;
pub mod csrf;
pub mod db;
pub mod error;
pub mod fal;
pub mod files;
pub mod host_check;
pub mod jobs;
pub mod nodes;
pub mod openapi;
pub mod private_files;
pub mod server;
pub mod shares;
pub mod storage;
pub mod team;
pub mod telemetry;
mod text_column;
pub mod users;
pub mod web;

// The fake fal is a crate of its own (`fake-fal/`, a dev-dependency); unit tests that still
// name it `crate::fake_fal` (src/jobs/outputs.rs) reach it through this test-only import.
#[cfg(test)]
use ::fake_fal;

use std::sync::Arc;

use anyhow::Context;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::get,
};
use tower_http::{
    compression::{CompressionLayer, predicate::Predicate},
    set_header::SetResponseHeaderLayer,
};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{SameSite, time::Duration as CookieDuration},
};
use url::Url;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use config::Config;
pub use server::serve;

use account::KeyCipher;
use auth::{AddressQuota, GuessLimiter, SqlSessionStore};
use client_addr::TrustedProxies;
use config::SignupPolicy;
use fal::FalClient;

/// JSON bodies are small (credentials, keys, parameters); uploads get their own limit.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;
pub const SESSION_COOKIE: &str = "fal_studio_session";
const SESSION_IDLE_DAYS: i64 = 14;

#[derive(Clone)]
pub struct AppState {
    pub db: db::Db,
    pub fal: FalClient,
    pub cipher: KeyCipher,
    /// Sign-in and password-change guesses.
    pub login_limiter: Arc<GuessLimiter>,
    pub sessions: SqlSessionStore,
    pub signup: SignupPolicy,
    pub signup_quota: Arc<AddressQuota>,
    pub trusted_proxies: Arc<TrustedProxies>,
    pub public_url: Url,
    pub catalog: catalog::SharedCatalog,
    pub storage: Arc<storage::Storage>,
    pub hub: Arc<jobs::Hub>,
    pub runner: Arc<jobs::Runner>,
    /// This process as one node of the studio (see `nodes`): the owner of the jobs it drives.
    pub node: Arc<nodes::Node>,
    pub job_limits: jobs::JobLimits,
    pub upload_limits: jobs::UploadLimits,
    pub fal_retry_base: std::time::Duration,
    pub storage_retry_base: std::time::Duration,
    /// Gallery pages read in the last second.
    pub gallery_pages: Arc<assets::gallery::PageCache>,
    /// Wakes this node's thumbnailer (a job just stored outputs).
    pub thumbnailer: Arc<tokio::sync::Notify>,
}

/// The built application: the router to serve, and the job runner `main` stops gracefully.
pub struct App {
    pub router: Router,
    pub runner: Arc<jobs::Runner>,
}

/// Builds the whole application (see [`build`]) when only the router is needed.
pub async fn build_app(config: Config) -> anyhow::Result<Router> {
    Ok(build(config).await?.router)
}

/// Builds the whole application: database (migrated), this process's node (which refuses local
/// storage beside a live node elsewhere, see `nodes`), session store with its cleanup task, the
/// job runner, the API, the static frontend, and every cross-cutting layer.
pub async fn build(config: Config) -> anyhow::Result<App> {
    private_files::create_private_dir(&config.data_dir, "DATA_DIR").with_context(|| {
        format!(
            "could not create DATA_DIR {} (as mode 0700); create it or point DATA_DIR at a writable folder you own",
            config.data_dir.display()
        )
    })?;
    log_exposure(&config);
    let db = db::connect(&config.database_url).await?;
    let secret = app_secret::load_or_create(config.app_secret.as_ref(), &config.data_dir)?;
    let storage = storage::Storage::from_config(&config.storage, &config.data_dir)
        .await
        .context("storage is not usable")?;
    let node = nodes::join(
        &db,
        &config.data_dir,
        nodes::StorageKind::of(&config.storage),
        config.job_lease,
    )
    .await
    .context("could not join the studio's nodes")?;

    let session_store = SqlSessionStore::new(db.clone());
    tokio::spawn(
        session_store
            .clone()
            .sweep_expired_forever(std::time::Duration::from_secs(3600)),
    );
    let sessions = SessionManagerLayer::new(session_store.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(CookieDuration::days(
            SESSION_IDLE_DAYS,
        )));

    // One list for the handlers' client addresses and the request-id layer alike.
    let trusted_proxies = Arc::new(config.trusted_proxies.clone());
    // Job events are followed from the log's newest id on (see jobs::events).
    let events_from = jobs::event_log::latest(&db).await?;
    let job_runner = Arc::new(jobs::Runner::new(db.clone(), node.clone()));
    let gallery_pages = Arc::new(assets::gallery::PageCache::for_engine(db.engine()));
    let state = AppState {
        db,
        fal: FalClient::new(
            config.fal.clone(),
            config.fal_retry_base,
            config.output_hosts.clone(),
        )?,
        cipher: KeyCipher::new(&secret),
        login_limiter: Arc::new(GuessLimiter::for_logins(&secret)),
        sessions: session_store,
        signup: config.signup,
        signup_quota: Arc::new(AddressQuota::new(
            config.signup_limit_per_hour,
            std::time::Duration::from_secs(3600),
        )),
        trusted_proxies: trusted_proxies.clone(),
        public_url: config.effective_public_url(),
        catalog: Arc::new(catalog::Catalog::new(config.catalog_cache_ttl)),
        storage: Arc::new(storage),
        // Heartbeats well inside the server's idle timeout, so open streams are never cut.
        hub: Arc::new(jobs::Hub::new(config.http.idle_timeout / 3, events_from)),
        runner: job_runner,
        node,
        job_limits: jobs::JobLimits {
            max_running: config.jobs_max_running,
            max_running_per_user: config.jobs_max_per_user,
            max_queued_per_user: config.jobs_max_queued_per_user,
            key_concurrency: config.fal_key_concurrency,
            max_output_bytes: config.output_max_bytes,
            max_output_files: config.output_max_files,
            max_job_output_bytes: config.output_max_job_bytes,
        },
        upload_limits: jobs::UploadLimits {
            max_file_bytes: config.upload_max_file_bytes,
            max_files: config.upload_max_files,
            max_total_bytes: config.upload_max_total_bytes,
        },
        fal_retry_base: config.fal_retry_base,
        storage_retry_base: config.storage_retry_base,
        gallery_pages,
        thumbnailer: Arc::new(tokio::sync::Notify::new()),
    };
    tokio::spawn(jobs::runner::run(state.clone()));
    tokio::spawn(jobs::relay::run(state.clone(), config.events_poll));
    if let Some(every) = config.usage_reconcile {
        tokio::spawn(team::reconcile::run(state.clone(), every));
    }
    tokio::spawn(assets::thumbnail_worker::run(state.clone()));
    let runner = state.runner.clone();
    tokio::spawn(assets::deletion::sweep_forever(
        state.clone(),
        config.deletion_retry,
    ));

    let api = OpenApiRouter::new()
        .merge(auth::router())
        .merge(account::router())
        .merge(catalog::router())
        .merge(jobs::router(state.upload_limits))
        .merge(assets::api_router())
        .merge(shares::router())
        .merge(team::router())
        .fallback(web::api_not_found)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let (app, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api", api)
        .merge(files::file_router())
        .routes(routes!(healthz))
        .split_for_parts();
    let document = openapi::Document::new(document)?;

    let app = app
        .route(
            openapi::DOCUMENT_PATH,
            get(move || std::future::ready(document.response())),
        )
        .layer(middleware::from_fn(error::json_rejections))
        .merge(shares::public_router(&secret))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::refuse_cross_site_writes,
        ))
        .layer(sessions)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state)
        .merge(match &config.static_dir {
            Some(dir) => web::static_files(dir),
            None => web::embedded_files(),
        });

    let app = web::security_headers(app, config.cookies_secure())
        .layer(CompressionLayer::new().compress_when(CompressibleText))
        .layer(middleware::from_fn_with_state(
            Arc::new(host_check::AllowedHosts::from_config(&config)),
            host_check::refuse_unknown_hosts,
        ));
    Ok(App {
        router: telemetry::http_layers(app, trusted_proxies),
        runner,
    })
}

/// Says at start-up who can sign up and whose addresses the limits see, so an operator never
/// has to guess what a default chose.
fn log_exposure(config: &Config) {
    let why = if config.signup.defaulted {
        format!(
            " (SIGNUP_MODE is unset; that is the default when BIND_ADDR {} is {}a loopback address)",
            config.bind_addr,
            if config.bind_addr.ip().is_loopback() {
                ""
            } else {
                "not "
            }
        )
    } else {
        String::new()
    };
    match config.signup.mode {
        config::SignupMode::Open if !config.bind_addr.ip().is_loopback() => tracing::warn!(
            "sign-up: open to anyone who can reach this server{why}; set SIGNUP_MODE=invite to require invite links"
        ),
        config::SignupMode::Open => tracing::info!("sign-up: open{why}"),
        config::SignupMode::Invite => tracing::info!(
            "sign-up: by invite only{why}; make a link with `fal-studio admin invite`"
        ),
        config::SignupMode::Closed => tracing::info!(
            "sign-up: closed{why}; make accounts with `fal-studio admin create-user`"
        ),
    }
    if config.trusted_proxies.is_empty() {
        tracing::info!(
            "client addresses: the connection's peer (set TRUSTED_PROXIES when behind a reverse proxy)"
        );
    } else {
        tracing::info!(
            trusted_proxies = ?config.trusted_proxies,
            "client addresses: from Forwarded / X-Forwarded-For when the peer is a trusted proxy"
        );
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Health {
    #[schema(example = "ok")]
    status: HealthState,
    database: Reachability,
    storage: Reachability,
    /// This process's node id (new at every start), as `fal-studio admin nodes` lists it.
    node_id: String,
    /// Nodes running on this database now, this one included; null when the database does not
    /// answer.
    live_nodes: Option<i64>,
    /// Jobs this node holds (uploads arriving, and jobs at fal or being stored); null when the
    /// database does not answer.
    held_jobs: Option<i64>,
    /// Images and videos still waiting for their thumbnail, on every node (a backfill after an
    /// upgrade shows here); null when the database does not answer.
    thumbnails_pending: Option<i64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum HealthState {
    Ok,
    Unavailable,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Reachability {
    Ok,
    Unreachable,
}

/// Whether the database and the storage answer, and this node's place among the studio's
/// nodes. Needs no session (for load balancers and `fal-studio healthcheck`).
#[utoipa::path(
    get, path = "/healthz", operation_id = "health", tag = "operations", security(()),
    responses(
        (status = 200, description = "Both answer.", body = Health),
        (status = 503, description = "One of them does not; the log says why.", body = Health),
    ),
)]
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let database = db::ping(&state.db)
        .await
        .map_err(|e| tracing::error!(error = %e, "health check: database unavailable"))
        .is_ok();
    let storage = state
        .storage
        .check()
        .await
        .map_err(|e| tracing::error!(error = %e, "health check: storage unavailable"))
        .is_ok();
    let say = |ok: bool| {
        if ok {
            Reachability::Ok
        } else {
            Reachability::Unreachable
        }
    };
    // Counted only once the database answered the ping, so a down database costs one timeout.
    let (live_nodes, held_jobs, thumbnails_pending) = if database {
        (
            nodes::live_count(&state.db)
                .await
                .map_err(|e| tracing::error!(error = %e, "health check: counting nodes failed"))
                .ok(),
            jobs::runner::held_here(&state)
                .await
                .map_err(|e| tracing::error!(error = %e, "health check: counting held jobs failed"))
                .ok(),
            assets::store::thumbnails_pending(&state.db)
                .await
                .map_err(
                    |e| tracing::error!(error = %e, "health check: counting thumbnails failed"),
                )
                .ok(),
        )
    } else {
        (None, None, None)
    };
    let healthy = database && storage;
    (
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Health {
            status: if healthy {
                HealthState::Ok
            } else {
                HealthState::Unavailable
            },
            database: say(database),
            storage: say(storage),
            node_id: state.node.id.clone(),
            live_nodes,
            held_jobs,
            thumbnails_pending,
        }),
    )
}

/// Compress text (HTML, JS, CSS, JSON, SVG); never media, which is already compressed and may
/// be served by range.
#[derive(Clone, Copy)]
struct CompressibleText;

impl Predicate for CompressibleText {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let textual = content_type.starts_with("text/html")
            || content_type.starts_with("text/css")
            || content_type.starts_with("text/javascript")
            || content_type.starts_with("application/javascript")
            || content_type.starts_with("application/json")
            || content_type.starts_with("image/svg+xml");
        let big_enough = response.body().size_hint().exact().is_none_or(|n| n >= 256);
        textual && big_enough
    }
}
