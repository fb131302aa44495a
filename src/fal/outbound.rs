//! Which URLs the studio fetches because fal named them (output files, upload targets), and
//! the DNS resolver that keeps those fetches on public addresses.
//!
//! Output URLs come from a model's result, and anyone with an account can run a fal app whose
//! result lists any URL, so an output is fetched only when it is
//! - on a host matching `OUTPUT_HOSTS` (fal's CDN by default), over https, on port 443 unless
//!   the pattern names another; every name is resolved by [`PublicOnly`], which drops every
//!   address that is not globally routable (so a name cannot be pointed at the studio's own
//!   network, first or after a DNS rebinding); or
//! - on exactly one of the configured fal origins (scheme, host and port), which the operator
//!   chose and which are reached like fal itself (this is how tests point at the fake fal).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// fal's CDN: `fal.media` and every host under it (`v3.fal.media`, `v3b.fal.media`, ...).
pub const DEFAULT_OUTPUT_HOSTS: &str = "fal.media,*.fal.media";

/// One entry of `OUTPUT_HOSTS`: `host`, `*.host` (any host under it, not `host` itself), each
/// with an optional `:port` (443 when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: String,
    subdomains: bool,
    port: u16,
}

impl HostPattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (subdomains, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let parsed = Url::parse(&format!("https://{rest}/"))
            .ok()
            .filter(|u| u.path() == "/" && u.query().is_none() && u.fragment().is_none())
            .filter(|u| u.username().is_empty() && u.password().is_none());
        let not_a_host = || {
            format!(
                "'{text}' is not a host name; use e.g. v3.fal.media, *.fal.media or cdn.example.com:8443"
            )
        };
        let url = parsed.ok_or_else(not_a_host)?;
        let host = match url.host() {
            Some(url::Host::Domain(d))
                if !d.ends_with('.')
                    && d.contains('.')
                    && d.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
            {
                d.to_owned()
            }
            Some(url::Host::Domain(_)) | None => return Err(not_a_host()),
            Some(_) => {
                return Err(format!(
                    "'{text}' is an IP address; name the host instead (addresses are never allowed, so that only public hosts are fetched from)"
                ));
            }
        };
        Ok(HostPattern {
            host,
            subdomains,
            port: url.port().unwrap_or(443),
        })
    }

    /// Reads a comma-separated list; an empty list allows no host at all.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Self::parse)
            .collect()
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        let name_ok = if self.subdomains {
            host.strip_suffix(&self.host)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        };
        name_ok && port == self.port
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subdomains {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if self.port != 443 {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// How an allowed URL is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// One of the configured fal origins: fetched like fal's API (the operator chose it).
    Fal,
    /// Anything else: fetched through [`PublicOnly`], so only public addresses are reached.
    Public,
}

/// The rules for URLs that fal's answers name.
#[derive(Debug, Clone)]
pub struct OutboundPolicy {
    output_hosts: Vec<HostPattern>,
    fal_origins: Vec<url::Origin>,
}

impl OutboundPolicy {
    pub fn new(output_hosts: Vec<HostPattern>, fal_bases: &[&Url]) -> Self {
        OutboundPolicy {
            output_hosts,
            fal_origins: fal_bases.iter().map(|u| u.origin()).collect(),
        }
    }

    /// Whether an output file at `url` may be downloaded, and how; `Err` says why not.
    pub fn output(&self, url: &Url) -> Result<Route, String> {
        if self.fal_origins.contains(&url.origin()) {
            return Ok(Route::Fal);
        }
        let shown = display_origin(url);
        if url.scheme() != "https" {
            return Err(format!("{shown} is not https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{shown} carries credentials"));
        }
        let (Some(url::Host::Domain(host)), Some(port)) = (url.host(), url.port_or_known_default())
        else {
            return Err(format!("{shown} is an address, not a host name"));
        };
        if self.output_hosts.iter().any(|p| p.matches(host, port)) {
            Ok(Route::Public)
        } else {
            Err(format!(
                "{shown} is not an allowed host ({})",
                self.allowed_list()
            ))
        }
    }

    /// Whether the studio may send a file to `url` (a signed upload URL from fal's storage API,
    /// whose host fal chooses): a configured fal origin, or https to a public address.
    pub fn upload(&self, url: &Url) -> Result<Route, String> {
        if self.fal_origins.contains(&url.origin()) {
            return Ok(Route::Fal);
        }
        let shown = display_origin(url);
        if url.scheme() != "https" {
            return Err(format!("{shown} is not https"));
        }
        match url.host() {
            Some(url::Host::Domain(_)) => Ok(Route::Public),
            Some(url::Host::Ipv4(ip)) if is_global(IpAddr::V4(ip)) => Ok(Route::Public),
            Some(url::Host::Ipv6(ip)) if is_global(IpAddr::V6(ip)) => Ok(Route::Public),
            _ => Err(format!("{shown} is not a public address")),
        }
    }

    fn allowed_list(&self) -> String {
        if self.output_hosts.is_empty() {
            return "none".into();
        }
        self.output_hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `scheme://host[:port]` of a URL, for messages: no path, query or credentials.
fn display_origin(url: &Url) -> String {
    match url.host_str() {
        Some(host) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => format!("a {} URL", url.scheme()),
    }
}

/// A host name that resolved only to addresses the studio does not connect to.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to private or reserved addresses")]
pub struct NotPublic {
    pub host: String,
}

/// Finds a [`NotPublic`] refusal anywhere in an error's sources (reqwest wraps it twice).
pub fn not_public<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a NotPublic> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<NotPublic>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// A DNS resolver that answers only with globally routable addresses, wrapping another
/// (the system's, through tokio, unless a test injects one).
pub struct PublicOnly {
    inner: Arc<dyn Resolve>,
}

impl PublicOnly {
    pub fn system() -> Self {
        Self::wrapping(Arc::new(SystemResolver))
    }

    pub fn wrapping(inner: Arc<dyn Resolve>) -> Self {
        PublicOnly { inner }
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            let public: Vec<SocketAddr> = lookup.await?.filter(|a| is_global(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic { host }) as _);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// `getaddrinfo` through tokio's blocking pool, like reqwest's default resolver.
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a globally routable unicast address: not loopback, private, shared
/// (100.64/10), link-local, unique-local, documentation, benchmarking, multicast, broadcast,
/// reserved or unspecified, nor an IPv6 form of one of those.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (b & 0xc0) == 64) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (b & 0xf0) == 16)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved (240/4) and broadcast
    !reserved
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // ::ffff:a.b.c.d reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address; allowed for IPv6-only hosts.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_global_v4(embedded_v4(s[6], s[7]));
    }
    // Only 2000::/3 is global unicast; this drops ::, ::1, IPv4-compatible ::/96, 100::/64,
    // 64:ff9b:1::/48, fc00::/7, fe80::/10, fec0::/10 and ff00::/8.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    match s[0] {
        // IETF protocol assignments (Teredo, benchmarking, ORCHID, ...).
        0x2001 if s[1] < 0x0200 => false,
        0x2001 if s[1] == 0x0db8 => false, // documentation
        0x2002 => is_global_v4(embedded_v4(s[1], s[2])), // 6to4
        0x3fff if s[1] < 0x1000 => false,  // documentation (3fff::/20)
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn policy(hosts: &str) -> OutboundPolicy {
        let fal = Url::parse("http://127.0.0.1:4545").unwrap();
        let api = Url::parse("https://api.fal.ai").unwrap();
        OutboundPolicy::new(HostPattern::parse_list(hosts).unwrap(), &[&fal, &api])
    }

    #[test]
    fn only_allowed_hosts_and_the_configured_fal_origins_are_downloaded() {
        let default = policy(DEFAULT_OUTPUT_HOSTS);
        let cases: &[(&str, Option<Route>)] = &[
            ("https://v3.fal.media/files/x.png", Some(Route::Public)),
            ("https://v3b.fal.media/files/x.png", Some(Route::Public)),
            ("https://fal.media/files/x.png", Some(Route::Public)),
            ("https://a.b.fal.media/x.png", Some(Route::Public)),
            ("https://V3.FAL.MEDIA:443/x.png", Some(Route::Public)),
            ("http://127.0.0.1:4545/cdn/r/0.png", Some(Route::Fal)),
            ("https://api.fal.ai/v1/x", Some(Route::Fal)),
            ("http://v3.fal.media/x.png", None),
            ("https://v3.fal.media:8443/x.png", None),
            ("https://evil.fal.media.attacker.com/x.png", None),
            ("https://evilfal.media/x.png", None),
            ("https://fal.media.attacker.com/x.png", None),
            ("https://v3.fal.media./x.png", None),
            ("https://user:pw@v3.fal.media/x.png", None),
            ("https://storage.googleapis.com/a/b.mp4", None),
            ("https://localtest.me/x", None),
            ("https://[::ffff:127.0.0.1]/x", None),
            ("https://[::ffff:127.0.0.1]:4545/x", None),
            ("http://169.254.169.254/latest/meta-data", None),
            ("https://169.254.169.254/latest/meta-data", None),
            ("https://metadata.google.internal/computeMetadata/v1/", None),
            ("https://8.8.8.8/x", None),
            ("http://127.0.0.1:4546/x", None),
            ("https://127.0.0.1:4545/x", None),
            ("http://localhost:4545/x", None),
            ("http://[::1]:4545/x", None),
            ("https://localhost/x", None),
            ("file:///etc/passwd", None),
            ("ftp://v3.fal.media/x", None),
        ];
        for (url, expected) in cases {
            let got = default.output(&Url::parse(url).unwrap()).ok();
            assert_eq!(got, *expected, "case {url}");
        }
        let custom = policy("cdn.example.com:8443, *.fal.media");
        assert_eq!(
            custom.output(&Url::parse("https://cdn.example.com:8443/x").unwrap()),
            Ok(Route::Public)
        );
        assert!(
            custom
                .output(&Url::parse("https://cdn.example.com/x").unwrap())
                .is_err()
        );
        assert!(
            custom
                .output(&Url::parse("https://fal.media/x").unwrap())
                .is_err()
        );
        assert!(
            policy("")
                .output(&Url::parse("https://v3.fal.media/x").unwrap())
                .is_err()
        );
    }

    #[test]
    fn a_refusal_names_the_host_and_the_setting_but_not_the_path() {
        let err = policy(DEFAULT_OUTPUT_HOSTS)
            .output(&Url::parse("https://evil.example/secret-path?token=1").unwrap())
            .unwrap_err();
        assert!(err.contains("https://evil.example"), "{err}");
        assert!(err.contains("(fal.media, *.fal.media)"), "{err}");
        assert!(
            !err.contains("secret-path") && !err.contains("token"),
            "{err}"
        );
    }

    #[test]
    fn host_patterns_are_checked() {
        for ok in [
            "fal.media",
            "*.fal.media",
            "cdn.example.com:8443",
            " V3.fal.media ",
        ] {
            assert!(HostPattern::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "*",
            "*.",
            "*.com",
            "localhost",
            "https://v3.fal.media",
            "v3.fal.media/files",
            "user@v3.fal.media",
            "127.0.0.1",
            "[::1]",
            "v3.fal.media.",
            "fal.media:http",
            "**.fal.media",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            HostPattern::parse_list("fal.media, *.fal.media,,cdn.example.com:8443")
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["fal.media", "*.fal.media", "cdn.example.com:8443"]
        );
    }

    #[test]
    fn upload_targets_must_be_https_on_public_addresses_or_a_fal_origin() {
        let p = policy(DEFAULT_OUTPUT_HOSTS);
        for (url, ok) in [
            ("https://storage.googleapis.com/upload?sig=1", true),
            ("http://127.0.0.1:4545/storage/put/t", true),
            ("https://8.8.8.8/put", true),
            ("http://storage.googleapis.com/upload", false),
            ("https://10.0.0.1/put", false),
            ("https://[::ffff:10.0.0.1]/put", false),
            ("https://[fd00::1]/put", false),
        ] {
            assert_eq!(
                p.upload(&Url::parse(url).unwrap()).is_ok(),
                ok,
                "case {url}"
            );
        }
    }

    #[test]
    fn only_globally_routable_addresses_are_public() {
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "34.117.59.81",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        let private = [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "5f00::1",
        ];
        for ip in public {
            assert!(is_global(ip.parse().unwrap()), "{ip} is public");
        }
        for ip in private {
            assert!(!is_global(ip.parse().unwrap()), "{ip} is not public");
        }
    }

    /// Answers from a fixed table, as a hostile DNS server could.
    struct Table(Vec<(&'static str, Vec<IpAddr>)>);

    impl Resolve for Table {
        fn resolve(&self, name: Name) -> Resolving {
            let found = self
                .0
                .iter()
                .find(|(n, _)| *n == name.as_str())
                .map(|(_, ips)| ips.clone())
                .unwrap_or_default();
            Box::pin(async move {
                let addrs: Vec<SocketAddr> =
                    found.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                Ok(Box::new(addrs.into_iter()) as Addrs)
            })
        }
    }

    fn table() -> Arc<Table> {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        Arc::new(Table(vec![
            ("v3.fal.media", vec![ip("34.117.59.81")]),
            ("localtest.me", vec![ip("127.0.0.1")]),
            ("rebound.fal.media", vec![ip("::1"), ip("10.0.0.7")]),
            ("metadata.fal.media", vec![ip("169.254.169.254")]),
            (
                "mixed.fal.media",
                vec![ip("192.168.0.2"), ip("34.117.59.81")],
            ),
            ("mapped.fal.media", vec![ip("::ffff:127.0.0.1")]),
        ]))
    }

    #[tokio::test]
    async fn the_resolver_drops_every_non_public_address() {
        let resolver = PublicOnly::wrapping(table());
        let resolve = |name: &str| resolver.resolve(Name::from_str(name).unwrap());
        let addrs: Vec<SocketAddr> = resolve("v3.fal.media").await.unwrap().collect();
        assert_eq!(addrs, ["34.117.59.81:0".parse().unwrap()]);
        let addrs: Vec<SocketAddr> = resolve("mixed.fal.media").await.unwrap().collect();
        assert_eq!(addrs, ["34.117.59.81:0".parse().unwrap()]);
        for name in [
            "localtest.me",
            "rebound.fal.media",
            "metadata.fal.media",
            "mapped.fal.media",
        ] {
            let Err(err) = resolve(name).await else {
                panic!("{name} must not resolve");
            };
            let refusal = not_public(err.as_ref()).expect("a NotPublic refusal");
            assert_eq!(refusal.host, name);
        }
    }

    /// An allowed name that resolves to loopback (DNS rebinding) gets no connection, even
    /// though something listens there.
    #[tokio::test]
    async fn an_allowed_name_resolving_to_loopback_is_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let server = tokio::spawn(async move {
            while let Ok((_socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let rebinding = Arc::new(Table(vec![("cdn.fal.media", vec![ip("127.0.0.1")])]));
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly::wrapping(rebinding)))
            .no_proxy()
            .build()
            .unwrap();
        let url = format!("https://cdn.fal.media:{port}/x.png");
        let p = OutboundPolicy::new(
            HostPattern::parse_list(&format!("cdn.fal.media:{port}")).unwrap(),
            &[],
        );
        assert_eq!(p.output(&Url::parse(&url).unwrap()), Ok(Route::Public));
        let err = client.get(&url).send().await.unwrap_err();
        assert!(not_public(&err).is_some(), "{err:?}");
        let count = || accepted.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(count(), 0, "the filtered client connected");
        // The same name through an unfiltered resolver does connect: the listener counts it.
        let unfiltered = reqwest::Client::builder()
            .resolve("cdn.fal.media", SocketAddr::new(ip("127.0.0.1"), port))
            .no_proxy()
            .timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        let _ = unfiltered.get(&url).send().await;
        for _ in 0..200 {
            if count() > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            count(),
            1,
            "the listener would have seen an unfiltered fetch"
        );
        server.abort();
    }
}
