use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fal_studio::{Config, admin, serve, telemetry};

/// The command line. With no command the binary is the server; its settings come from `.env`
/// and the environment (`Config::from_env`), not from flags, so that the server, `admin` and
/// `healthcheck` all read the same ones.
#[derive(Parser)]
#[command(
    name = "fal-studio",
    version,
    about = "A self-hosted studio for fal.ai image and video models.",
    long_about = "A self-hosted studio for fal.ai image and video models.\n\n\
        Without a command, runs the studio server. Settings come from .env and the \
        environment; see .env.example for every one and its default."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Ask the running server's /healthz; exit 0 when healthy (for container checks).
    Healthcheck,
    /// Accounts and backups, on the server's configuration.
    #[command(arg_required_else_help = true, after_help = admin::AFTER_HELP)]
    Admin {
        #[command(subcommand)]
        command: admin::Command,
    },
}

/// glibc's allocator serialises threads on its arena locks and spends a large share of a
/// busy gallery page in malloc/free (seen with perf under wrk); mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let code = match Cli::try_parse() {
        Ok(Cli { command: None }) => run_server().await,
        Ok(Cli {
            command: Some(Command::Healthcheck),
        }) => healthcheck().await,
        Ok(Cli {
            command: Some(Command::Admin { command }),
        }) => admin::main(command).await,
        // Help and version go to stdout with 0; usage errors to stderr with 2.
        Err(e) => {
            let _ = e.print();
            e.exit_code()
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Serves until SIGTERM or SIGINT, then stops gracefully: no new connections, outputs being
/// stored finish (up to SHUTDOWN_GRACE_SECS), jobs running at fal are given back (their leases
/// released) so another node, or the next start, resumes them at once. A second signal stops
/// at once; then the leases run out (JOB_LEASE_SECONDS) before another node takes the jobs.
async fn run_server() -> i32 {
    // A missing .env is normal; a malformed one is worth a warning once tracing is up.
    let dotenv = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fal-studio cannot start: {e}");
            eprintln!("See .env.example for every setting and its default.");
            return 2;
        }
    };
    telemetry::init(config.log_format);
    if let Err(e) = dotenv
        && !e.not_found()
    {
        tracing::warn!(error = %e, ".env could not be read; continuing with the environment");
    }

    let bind_addr = config.bind_addr;
    let grace = config.shutdown_grace;
    let http = config.http;
    // Bind first: with port 0 the real port is only known now, and absolute links (share
    // pages, OpenGraph tags) must name it when PUBLIC_URL is unset.
    let listener = match tokio::net::TcpListener::bind(bind_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "could not listen on BIND_ADDR {bind_addr}: is the port in use?");
            return 1;
        }
    };
    let mut config = config;
    if config.public_url.is_none()
        && let Ok(local) = listener.local_addr()
    {
        config.public_url = url::Url::parse(&format!("http://{local}")).ok();
    }
    let app = match fal_studio::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "fal-studio cannot start");
            return 1;
        }
    };
    match listener.local_addr() {
        Ok(local) => tracing::info!("listening on http://{local}"),
        Err(e) => tracing::warn!(error = %e, "listening, on an address that cannot be read"),
    }

    let stopping = app.runner.stopping();
    let mut server = tokio::spawn(serve(
        listener,
        app.router,
        http,
        stopping.cancelled_owned(),
    ));
    tokio::select! {
        _ = shutdown_signal() => {},
        result = &mut server => {
            tracing::error!(?result, "the server stopped on its own");
            return 1;
        }
    }

    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down: no new connections; letting outputs being stored finish"
    );
    app.runner.stop();
    let deadline = tokio::time::Instant::now() + grace;
    let drain = async {
        if tokio::time::timeout_at(deadline, app.runner.stopped())
            .await
            .is_err()
        {
            tracing::warn!(
                "grace period over with outputs still being stored; they resume on the next start"
            );
        }
        match tokio::time::timeout_at(deadline, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "the server stopped with an error"),
            Ok(Err(e)) => tracing::error!(error = %e, "the server task failed"),
            Err(_) => tracing::warn!("grace period over with connections still open; closing them"),
        }
    };
    tokio::select! {
        _ = drain => {},
        _ = shutdown_signal() => {
            tracing::warn!("second signal: stopping now");
            return 1;
        }
    }
    tracing::info!("stopped");
    0
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// `fal-studio healthcheck`: asks the running server's `/healthz`, for container health checks
/// on images without curl. Exit 0 when healthy.
async fn healthcheck() -> i32 {
    let _ = dotenvy::dotenv();
    let Ok(config) = Config::from_env() else {
        return 1;
    };
    let mut addr = config.bind_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(_) => return 1,
    };
    match client.get(format!("http://{addr}/healthz")).send().await {
        Ok(r) if r.status().is_success() => 0,
        _ => 1,
    }
}
