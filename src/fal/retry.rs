//! fal's retry policy (from its official clients): retry 429, 502, 503 and 504 — and 500 while
//! polling status — with exponential backoff (base 1 s, cap 60 s), honouring `Retry-After`, but
//! never a 504 that fal marks as the user's own timeout, and never what fal marks not retryable.

use std::time::Duration;

use rand::Rng;

use super::ProviderError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// Status polls also retry a 500 (fal's clients do).
    pub retry_500: bool,
    /// Whether a request that may have reached fal can be sent again (reads: yes; submit: no).
    pub idempotent: bool,
}

impl RetryPolicy {
    /// Reads: catalog, pricing, OpenAPI, billing, result.
    pub fn read(base: Duration) -> Self {
        RetryPolicy {
            max_attempts: 3,
            base,
            cap: Duration::from_secs(60),
            retry_500: false,
            idempotent: true,
        }
    }

    /// Status polling: five tries, 500 included.
    pub fn status(base: Duration) -> Self {
        RetryPolicy {
            max_attempts: 5,
            retry_500: true,
            ..Self::read(base)
        }
    }

    /// Submission: three tries, but a request that may have reached fal is not sent again.
    pub fn submit(base: Duration) -> Self {
        RetryPolicy {
            idempotent: false,
            ..Self::read(base)
        }
    }

    /// `Some(delay)` when `err` after `attempt` (1-based) deserves another try.
    pub fn next_delay(&self, attempt: u32, err: &ProviderError) -> Option<Duration> {
        if attempt >= self.max_attempts || !self.should_retry(err) {
            return None;
        }
        if let Some(secs) = err.retry_after_secs {
            return Some(Duration::from_secs(secs).min(self.cap));
        }
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX))
            .min(self.cap);
        // Full jitter in the upper half keeps many clients from retrying in step.
        let factor = rand::thread_rng().gen_range(0.5..=1.0);
        Some(exp.mul_f64(factor))
    }

    fn should_retry(&self, err: &ProviderError) -> bool {
        match err.status {
            // Transport failure: a connect error never reached fal; anything else might have.
            None => {
                err.retryable && (self.idempotent || err.error_type.as_deref() == Some("connect"))
            }
            Some(500) => self.retry_500 && err.retryable_500(),
            Some(_) => err.retryable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn err(status: u16, headers: &[(&'static str, &'static str)]) -> ProviderError {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        ProviderError::from_response(status, &h, b"")
    }

    #[test]
    fn retries_the_statuses_fal_retries() {
        let p = RetryPolicy::read(Duration::from_millis(100));
        for status in [429, 502, 503, 504] {
            assert!(p.next_delay(1, &err(status, &[])).is_some(), "{status}");
        }
        for status in [400, 401, 403, 404, 422, 500] {
            assert!(p.next_delay(1, &err(status, &[])).is_none(), "{status}");
        }
    }

    #[test]
    fn status_polls_also_retry_500() {
        let p = RetryPolicy::status(Duration::from_millis(100));
        assert!(p.next_delay(1, &err(500, &[])).is_some());
        assert!(p.next_delay(4, &err(500, &[])).is_some());
        assert!(
            p.next_delay(5, &err(500, &[])).is_none(),
            "five tries at most"
        );
    }

    #[test]
    fn a_user_timeout_is_not_retried() {
        let p = RetryPolicy::read(Duration::from_millis(100));
        let e = err(504, &[("x-fal-request-timeout-type", "user")]);
        assert!(p.next_delay(1, &e).is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::read(Duration::from_millis(100));
        let e = err(429, &[("retry-after", "7")]);
        assert_eq!(p.next_delay(1, &e), Some(Duration::from_secs(7)));
        let e = err(429, &[("retry-after", "3600")]);
        assert_eq!(p.next_delay(1, &e), Some(Duration::from_secs(60)));
    }

    #[test]
    fn backoff_grows_and_stops_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: 20,
            ..RetryPolicy::read(Duration::from_secs(1))
        };
        let e = err(503, &[]);
        let d1 = p.next_delay(1, &e).unwrap();
        assert!(
            d1 >= Duration::from_millis(500) && d1 <= Duration::from_secs(1),
            "{d1:?}"
        );
        let d3 = p.next_delay(3, &e).unwrap();
        assert!(
            d3 >= Duration::from_secs(2) && d3 <= Duration::from_secs(4),
            "{d3:?}"
        );
        let d12 = p.next_delay(12, &e).unwrap();
        assert!(d12 <= Duration::from_secs(60), "{d12:?}");
    }

    #[test]
    fn submit_does_not_resend_after_a_timeout_but_does_after_a_refused_connection() {
        let p = RetryPolicy::submit(Duration::from_millis(1));
        let mut timeout = ProviderError::network("timed out");
        timeout.error_type = Some("timeout".into());
        assert!(p.next_delay(1, &timeout).is_none());
        let mut refused = ProviderError::network("refused");
        refused.error_type = Some("connect".into());
        assert!(p.next_delay(1, &refused).is_some());
    }
}
