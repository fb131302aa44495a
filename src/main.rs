use anyhow::Context;
use fal_studio::{Config, build_app, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        std::process::exit(healthcheck().await);
    }
    // A missing .env is normal; a malformed one is worth a warning once tracing is up.
    let dotenv = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if let Err(e) = dotenv
        && !e.not_found()
    {
        tracing::warn!(error = %e, ".env could not be read; continuing with the environment");
    }

    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fal-studio cannot start: {e}");
            eprintln!("See .env.example for every setting and its default.");
            std::process::exit(2);
        }
    };
    let bind_addr = config.bind_addr;
    let app = build_app(config).await?;
    let listener = tokio::net::TcpListener::bind(bind_addr)
        .await
        .with_context(|| {
            format!("could not listen on BIND_ADDR {bind_addr}: is the port in use?")
        })?;
    let local = listener.local_addr()?;
    tracing::info!("listening on http://{local}");
    serve(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
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
