//! The fake fal as its own process, for browser tests and for trying the studio without a fal
//! account. `FAKE_FAL_ADDR` (default 127.0.0.1:4545; port 0 picks a free one). Prints
//! `listening on http://ADDR` once it accepts connections. `FAKE_FAL_LATENCY_MS` delays every
//! answer (for benchmarks).

use anyhow::Context;
use fake_fal::FakeFal;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let addr = std::env::var("FAKE_FAL_ADDR").unwrap_or_else(|_| "127.0.0.1:4545".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("could not listen on FAKE_FAL_ADDR {addr}"))?;
    let mut fake = FakeFal::start_on(listener).await?;
    if let Some(ms) = std::env::var("FAKE_FAL_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        fake.set_latency(std::time::Duration::from_millis(ms));
    }
    println!("listening on {}", fake.url());
    tokio::select! {
        _ = fake.wait() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    Ok(())
}
