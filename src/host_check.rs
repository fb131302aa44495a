//! Refuses requests whose `Host` names the studio under a name it was not given, which is how
//! a DNS-rebinding page (a site whose name suddenly resolves to 127.0.0.1) would reach a studio
//! running on someone's own machine.
//!
//! Accepted: any IP address (rebinding needs a name), `localhost` and `*.localhost`, the host
//! of `PUBLIC_URL`, and the names in `ALLOWED_HOSTS` (`*` turns the check off). Ports are not
//! compared: whatever the port, a rebinding page's `Host` carries its own name.

use std::{net::IpAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{Config, error::AppError};

#[derive(Debug, Clone)]
pub struct AllowedHosts {
    any: bool,
    names: Vec<String>,
    /// Said in the refusal: the address to use instead.
    public_url: String,
}

impl AllowedHosts {
    pub fn from_config(config: &Config) -> Self {
        let public_url = config.effective_public_url();
        let mut names: Vec<String> = config
            .allowed_hosts
            .iter()
            .map(|h| host_name(h).to_owned())
            .collect();
        if let Some(host) = public_url.host_str() {
            names.push(host.trim_matches(['[', ']']).to_ascii_lowercase());
        }
        AllowedHosts {
            any: config.allowed_hosts.iter().any(|h| h == "*"),
            names,
            public_url: public_url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    pub fn allows(&self, host_header: &str) -> bool {
        if self.any {
            return true;
        }
        let name = host_name(host_header).to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.names.contains(&name)
    }
}

/// The name part of a `Host` value: `[::1]:8080` → `::1`, `studio.lan:8080` → `studio.lan`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
    .trim_end_matches('.')
}

pub async fn refuse_unknown_hosts(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}"));
    match host {
        Some(host) if !allowed.allows(host) => {
            tracing::warn!(host, "request for an unknown host name refused");
            AppError::invalid_request(format!(
                "This studio is not served under that name. Open {} instead, or ask its administrator to add the name to ALLOWED_HOSTS.",
                allowed.public_url
            ))
            .with_status(StatusCode::MISDIRECTED_REQUEST)
            .into_response()
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(public_url: Option<&str>, extra: &[&str]) -> AllowedHosts {
        let mut vars = vec![];
        if let Some(u) = public_url {
            vars.push(("PUBLIC_URL", u.to_owned()));
        }
        vars.push(("ALLOWED_HOSTS", extra.join(",")));
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap();
        AllowedHosts::from_config(&config)
    }

    #[test]
    fn names_must_be_known_addresses_need_not() {
        let a = allowed(Some("https://studio.example.com"), &["studio.lan"]);
        for ok in [
            "studio.example.com",
            "STUDIO.example.com:443",
            "studio.example.com.",
            "studio.lan:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "10.0.0.5",
            "localhost:5173",
            "app.localhost",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "rebind.evil.example:8080",
            "studio.example.com.evil.example",
            "localhost.evil.example",
            "",
        ] {
            assert!(!a.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_star_turns_the_check_off() {
        assert!(allowed(None, &["*"]).allows("anything.example"));
        assert!(!allowed(None, &[]).allows("anything.example"));
    }
}
