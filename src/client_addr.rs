//! The client's address, for guessing limits and sign-up limits: the TCP peer, unless the peer
//! is a reverse proxy named in `TRUSTED_PROXIES`; then the address that proxy reported in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`.
//!
//! Forwarding headers are read right to left, skipping every trusted proxy, and the first
//! address that is not one is the client: entries further left were written by the client
//! itself and prove nothing. Without `TRUSTED_PROXIES` the headers are ignored, so no client
//! can pick its own address.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

use crate::{AppState, error::AppError};

/// `TRUSTED_PROXIES`: the networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs or single addresses (`10.0.0.0/8, 127.0.0.1`).
    pub fn parse(value: &str) -> Result<Self, String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                IpNet::from_str(part)
                    .or_else(|_| IpAddr::from_str(part).map(IpNet::from))
                    .map_err(|_| format!("'{part}' is not an address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry we cannot read ends the walk at the last proxy that wrote a good one.
            let Some(addr) = hop else {
                break;
            };
            client = *addr;
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

/// The hops of `Forwarded` when present (it is the standard), else of `X-Forwarded-For`, in
/// header order; `None` for an entry that is not an address (`unknown`, an obfuscated name).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value.trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for")
        .into_iter()
        .map(parse_node)
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`, `[2001:db8::1]:80` or a bare IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(addr) = IpAddr::from_str(node) {
        return Some(addr.to_canonical());
    }
    if let Ok(addr) = SocketAddr::from_str(node) {
        return Some(addr.ip().to_canonical());
    }
    let inside = node.strip_prefix('[')?.split(']').next()?;
    IpAddr::from_str(inside).ok().map(|a| a.to_canonical())
}

/// The client's address as [`TrustedProxies::client_of`] decides it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("peer address missing")))?;
        Ok(ClientAddr(
            state.trusted_proxies.client_of(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_cidrs_and_single_addresses_and_refuses_the_rest() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8").unwrap();
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(
            t.contains(ip("::ffff:127.0.0.1")),
            "IPv4-mapped is the same peer"
        );
        assert!(t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }

    #[test]
    fn decides_the_client_address() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let none = TrustedProxies::default();
        type Case<'a> = (&'a str, bool, &'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (
                "no proxies trusted: headers ignored",
                false,
                "203.0.113.9",
                &[("x-forwarded-for", "1.1.1.1")],
                "203.0.113.9",
            ),
            (
                "untrusted peer: headers ignored",
                true,
                "203.0.113.9",
                &[("x-forwarded-for", "1.1.1.1")],
                "203.0.113.9",
            ),
            ("trusted peer, no header", true, "10.0.0.2", &[], "10.0.0.2"),
            (
                "one proxy",
                true,
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7")],
                "198.51.100.7",
            ),
            (
                "client-written entries on the left are skipped",
                true,
                "10.0.0.2",
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")],
                "198.51.100.7",
            ),
            (
                "a chain of trusted proxies",
                true,
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7, 10.0.0.9")],
                "198.51.100.7",
            ),
            (
                "repeated headers read in order",
                true,
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-for", "198.51.100.7"),
                ],
                "198.51.100.7",
            ),
            (
                "ports are dropped",
                true,
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7:5555")],
                "198.51.100.7",
            ),
            (
                "garbage stops at the last proxy",
                true,
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7, nonsense")],
                "10.0.0.2",
            ),
            (
                "Forwarded wins over X-Forwarded-For",
                true,
                "10.0.0.2",
                &[
                    ("forwarded", "for=192.0.2.60;proto=https"),
                    ("x-forwarded-for", "6.6.6.6"),
                ],
                "192.0.2.60",
            ),
            (
                "Forwarded IPv6 with port",
                true,
                "10.0.0.2",
                &[("forwarded", "for=\"[2001:db8::1]:4711\"")],
                "2001:db8::1",
            ),
            (
                "Forwarded chain",
                true,
                "10.0.0.2",
                &[("forwarded", "for=6.6.6.6, for=192.0.2.60, for=10.0.0.7")],
                "192.0.2.60",
            ),
            (
                "Forwarded unknown",
                true,
                "10.0.0.2",
                &[("forwarded", "for=unknown")],
                "10.0.0.2",
            ),
        ];
        for (name, behind_proxy, peer, pairs, expected) in cases {
            let proxies = if *behind_proxy { &trusted } else { &none };
            assert_eq!(
                proxies.client_of(ip(peer), &headers(pairs)),
                ip(expected),
                "case: {name}"
            );
        }
    }
}
