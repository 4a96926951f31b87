//! A token bucket per key (a user, a client address): a burst, then a
//! sustained rate.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Per-key budgets.
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Beyond this many keys, buckets that have refilled (the same as new ones)
/// are dropped.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    /// `burst` at once, refilled at `per_minute`.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        RateLimiter {
            burst: f64::from(burst),
            per_second: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one from `key`'s budget, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Whether `key` has budget left, without taking any (see [`Self::charge`]).
    pub fn allows(&self, key: &str) -> Result<(), Duration> {
        let mut buckets = self.buckets();
        let bucket = self.refilled(&mut buckets, key, Instant::now());
        self.wait(bucket.tokens)
    }

    /// Takes one from `key`'s budget, which may go below zero (down to minus
    /// the burst) when many were allowed at once.
    pub fn charge(&self, key: &str) {
        let mut buckets = self.buckets();
        let bucket = self.refilled(&mut buckets, key, Instant::now());
        bucket.tokens = (bucket.tokens - 1.0).max(-self.burst);
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets();
        let bucket = self.refilled(&mut buckets, key, now);
        self.wait(bucket.tokens)?;
        bucket.tokens -= 1.0;
        Ok(())
    }

    fn buckets(&self) -> MutexGuard<'_, HashMap<String, Bucket>> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `key`'s bucket, refilled up to `now`.
    fn refilled<'a>(
        &self,
        buckets: &'a mut HashMap<String, Bucket>,
        key: &str,
        now: Instant,
    ) -> &'a mut Bucket {
        if buckets.len() >= SWEEP_AT && !buckets.contains_key(key) {
            let full = |b: &Bucket| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_second
                    >= self.burst
            };
            buckets.retain(|_, b| !full(b));
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.at = now;
        bucket
    }

    /// Nothing to wait with a token left; else how long until there is one.
    fn wait(&self, tokens: f64) -> Result<(), Duration> {
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate_per_user() {
        let limiter = RateLimiter::new(3, 60);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("ada", t0).is_ok());
        }
        let wait = limiter.check_at("ada", t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(limiter.check_at("bob", t0).is_ok(), "budgets are per user");
        assert!(limiter.check_at("ada", t0 + Duration::from_secs(1)).is_ok());
        assert!(limiter
            .check_at("ada", t0 + Duration::from_secs(1))
            .is_err());
    }

    #[test]
    fn only_charges_use_up_a_budget_and_it_refills() {
        let limiter = RateLimiter::new(2, 60);
        for _ in 0..5 {
            assert!(limiter.allows("10.0.0.1").is_ok(), "asking takes nothing");
        }
        limiter.charge("10.0.0.1");
        assert!(limiter.allows("10.0.0.1").is_ok());
        limiter.charge("10.0.0.1");
        let wait = limiter.allows("10.0.0.1").unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.allows("10.0.0.2").is_ok(), "budgets are per key");
        for _ in 0..10 {
            limiter.charge("10.0.0.1");
        }
        let wait = limiter.allows("10.0.0.1").unwrap_err();
        assert!(
            wait <= Duration::from_secs(3),
            "the debt is capped: {wait:?}"
        );
    }
}
