//! The gate of password-protected links: the per-token and per-address guessing limit, and the
//! cookie that says "this browser gave the right password for this link".
//!
//! The cookie, `fal_studio_share`, is scoped to `Path=/s/{token}` (so it reaches the page and its
//! file, nothing else) and holds `{expiry}.{mac}`, where `mac` is HMAC-SHA256 of the token and the
//! expiry under a key derived from `APP_SECRET`, so a form shown by one node can be sent to
//! another and a cookie set by one opens the link on every node. The cookie carries no session
//! and needs no table.

use std::{
    net::IpAddr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    auth::{Attempt, GuessLimiter},
    config::Secret,
    db::Db,
};

pub const COOKIE: &str = "fal_studio_share";
/// How long one right password opens a link in that browser.
pub const UNLOCK_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a password form, once shown, may be sent.
pub const FORM_VALID_FOR: Duration = Duration::from_secs(24 * 3600);

pub struct Gate {
    key: [u8; 32],
    /// The same rules as sign-in, with the link as the subject, counted apart from sign-in's
    /// and in the database, so every node shares them (see `auth::throttle`).
    throttle: GuessLimiter,
}

impl Gate {
    pub fn new(secret: &Secret) -> Self {
        Gate {
            key: crate::app_secret::subkey(secret, "share-link gate v1"),
            throttle: GuessLimiter::for_share_links(secret),
        }
    }
}

impl Gate {
    /// Reserves one password attempt at `token` from `addr`, or `Err(seconds to wait)`. The
    /// counts are shared with every node on `db`.
    pub async fn reserve(
        &self,
        db: &Db,
        token: &str,
        addr: IpAddr,
    ) -> sqlx::Result<Result<Attempt, u64>> {
        self.throttle.reserve(db, token, addr).await
    }

    /// The hidden field of the password form: `{expiry}.{mac}`, bound to `token`. It lets the
    /// form be accepted from browsers that send `Origin: null` (the page's no-referrer policy
    /// makes them) without accepting a null origin anywhere else.
    pub fn form_nonce(&self, token: &str) -> String {
        let expires = unix_now() + FORM_VALID_FOR.as_secs();
        let mac = self.mac(b"form", token, expires).finalize().into_bytes();
        format!("{expires}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// Whether `nonce` is an unexpired form nonce of `token`.
    pub fn is_form_nonce(&self, token: &str, nonce: &str) -> bool {
        self.verify(b"form", token, nonce)
    }

    /// The `Set-Cookie` value that unlocks `token` in this browser.
    pub fn unlock_cookie(&self, token: &str, secure: bool) -> String {
        let expires = unix_now() + UNLOCK_FOR.as_secs();
        let mac =
            URL_SAFE_NO_PAD.encode(self.mac(b"unlock", token, expires).finalize().into_bytes());
        format!(
            "{COOKIE}={expires}.{mac}; Path=/s/{token}; Max-Age={}; HttpOnly; SameSite=Lax{}",
            UNLOCK_FOR.as_secs(),
            if secure { "; Secure" } else { "" }
        )
    }

    /// Whether the request carries a valid, unexpired unlock cookie for `token`.
    pub fn is_unlocked(&self, headers: &HeaderMap, token: &str) -> bool {
        cookie_values(headers).any(|value| self.verify(b"unlock", token, value))
    }

    /// Whether `value` is `{expiry}.{mac}` for `purpose` and `token`, and unexpired.
    fn verify(&self, purpose: &[u8], token: &str, value: &str) -> bool {
        let Some((expires, mac)) = value.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(mac)) = (expires.parse::<u64>(), URL_SAFE_NO_PAD.decode(mac)) else {
            return false;
        };
        expires > unix_now() && self.mac(purpose, token, expires).verify_slice(&mac).is_ok()
    }

    /// The MAC of one purpose (`unlock` cookie or password `form`), so neither stands in for
    /// the other.
    fn mac(&self, purpose: &[u8], token: &str, expires: u64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(b"fal-studio share v2\0");
        mac.update(purpose);
        mac.update(b"\0");
        mac.update(token.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        mac
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn cookie_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn gate() -> Gate {
        Gate::new(&Secret::new("s".repeat(32)))
    }

    /// A studio with another `APP_SECRET`.
    fn other_gate() -> Gate {
        Gate::new(&Secret::new("o".repeat(32)))
    }

    fn with_cookie(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {pair}")).unwrap(),
        );
        h
    }

    #[test]
    fn every_node_with_the_same_secret_accepts_another_nodes_form_and_cookie() {
        let (a, b) = (gate(), gate());
        assert!(b.is_form_nonce("tokenA", &a.form_nonce("tokenA")));
        let cookie = a.unlock_cookie("tokenA", false);
        assert!(b.is_unlocked(&with_cookie(&cookie), "tokenA"));
    }

    #[test]
    fn a_cookie_opens_its_own_token_only() {
        let gate = gate();
        let cookie = gate.unlock_cookie("tokenA", false);
        assert!(cookie.contains("Path=/s/tokenA;"), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        assert!(gate.is_unlocked(&with_cookie(&cookie), "tokenA"));
        assert!(!gate.is_unlocked(&with_cookie(&cookie), "tokenB"));
        assert!(!gate.is_unlocked(&HeaderMap::new(), "tokenA"));
    }

    #[test]
    fn form_nonces_are_bound_to_their_link_and_are_no_cookies() {
        let gate = gate();
        let nonce = gate.form_nonce("tokenA");
        assert!(gate.is_form_nonce("tokenA", &nonce));
        assert!(!gate.is_form_nonce("tokenB", &nonce));
        assert!(!other_gate().is_form_nonce("tokenA", &nonce));
        assert!(!gate.is_form_nonce("tokenA", ""));
        // A nonce never unlocks, and a cookie is never a nonce.
        assert!(!gate.is_unlocked(&with_cookie(&format!("{COOKIE}={nonce}")), "tokenA"));
        let cookie = gate.unlock_cookie("tokenA", false);
        let (_, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
        assert!(!gate.is_form_nonce("tokenA", value));
    }

    #[test]
    fn another_gate_and_tampered_cookies_are_refused() {
        let gate = gate();
        let cookie = gate.unlock_cookie("t", true);
        assert!(cookie.ends_with("; Secure"));
        assert!(!other_gate().is_unlocked(&with_cookie(&cookie), "t"));
        let (_, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
        let (expires, mac) = value.split_once('.').unwrap();
        let later = expires.parse::<u64>().unwrap() + 1000;
        for forged in [
            format!("{COOKIE}={later}.{mac}"),
            format!("{COOKIE}={expires}.AAAA"),
            format!("{COOKIE}={expires}"),
            format!("{COOKIE}=1.{mac}"),
        ] {
            assert!(!gate.is_unlocked(&with_cookie(&forged), "t"), "{forged}");
        }
    }
}
