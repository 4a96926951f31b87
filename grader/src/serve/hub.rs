//! Who is calling: a token checked with the Hub's REST API (`GET /user` with
//! the caller's token, whose answer lists the token's scopes), group
//! membership looked up with the service's own token.
//!
//! Cache policy: a student's identity is kept for the identity TTL (default
//! 30 s), so a revoked token still works that long for the student's own
//! requests (handing in, reading their record); anything that needs an
//! instructor asks the Hub every time ([`Freshness::Now`]), so a revoked
//! instructor token, or an instructor removed from the group, loses access at
//! the next request. A refusal is kept for a sixth of the TTL.
//!
//! Tokens the Hub refuses cost their client (see [`HubAuth::identify`]): past
//! a small budget a client's unknown tokens are refused without asking the
//! Hub, so random tokens cannot become Hub API calls.

use super::config::ServeConfig;
use super::rate_limit::RateLimiter;
use crate::encode::sha256_hex;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A caller the Hub vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The Hub user name: the only name submissions are stored under.
    pub name: String,
    /// In the instructors group, or a Hub admin.
    pub instructor: bool,
}

/// Why a caller is not identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The Hub does not know the token.
    Rejected,
    /// The Hub knows the token, but it does not grant access to this service
    /// (it lacks the named scope).
    NoAccess(String),
    /// This client sent too many refused tokens: retry after this long.
    TooManyFailures(Duration),
    /// The Hub could not be asked.
    HubUnavailable(String),
}

/// Whether a cached answer will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// An answer up to the identity TTL old.
    Cached,
    /// Ask the Hub now (for instructor requests).
    Now,
}

/// The part of the Hub's user model the service reads.
#[derive(Debug, Deserialize)]
struct HubUser {
    name: String,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    /// The scopes of the token that asked (`GET /user` only).
    #[serde(default)]
    scopes: Vec<String>,
}

/// Answers by token SHA-256, each with the time it expires.
type Cache = HashMap<String, (Instant, Result<Identity, AuthError>)>;

/// Verifies tokens with the Hub and caches the answers.
pub struct HubAuth {
    api_url: String,
    service_token: Option<String>,
    instructors_group: String,
    /// The scope that grants access to this service.
    access_scope: String,
    ttl: Duration,
    agent: ureq::Agent,
    /// Keyed by the token's SHA-256.
    cache: Mutex<Cache>,
    /// Refused tokens per client.
    failures: RateLimiter,
}

/// Beyond this many cached tokens, expired entries are dropped.
const CACHE_SWEEP_AT: usize = 10_000;

impl HubAuth {
    /// A verifier for the Hub API of `config`.
    pub fn new(config: &ServeConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.hub_timeout))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        HubAuth {
            api_url: config.hub_api_url.clone(),
            service_token: config.service_token.clone(),
            instructors_group: config.instructors_group.clone(),
            access_scope: format!("access:services!service={}", config.service_name),
            ttl: config.identity_ttl,
            agent,
            cache: Mutex::new(HashMap::new()),
            failures: RateLimiter::new(config.auth_failures_burst, config.auth_failures_per_minute),
        }
    }

    /// The identity behind `token`, sent by `client` (blocking: call off the
    /// async runtime). An answer not in the cache (or `Freshness::Now`) is
    /// asked of the Hub, unless `client` is out of its budget of refused
    /// tokens; a refusal is charged to it.
    pub fn identify(
        &self,
        token: &str,
        client: &str,
        freshness: Freshness,
    ) -> Result<Identity, AuthError> {
        let key = sha256_hex(token.as_bytes());
        let now = Instant::now();
        if freshness == Freshness::Cached {
            if let Some((until, answer)) = self.lock().get(&key) {
                if *until > now {
                    return answer.clone();
                }
            }
        }
        self.failures
            .allows(client)
            .map_err(AuthError::TooManyFailures)?;
        let answer = self.ask_hub(token);
        let keep = match &answer {
            Ok(_) => self.ttl,
            Err(AuthError::Rejected | AuthError::NoAccess(_)) => {
                self.failures.charge(client);
                self.ttl / 6
            }
            Err(_) => return answer,
        };
        let mut cache = self.lock();
        if cache.len() >= CACHE_SWEEP_AT {
            cache.retain(|_, (until, _)| *until > now);
        }
        cache.insert(key, (now + keep, answer.clone()));
        answer
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ask_hub(&self, token: &str) -> Result<Identity, AuthError> {
        let url = format!("{}/user", self.api_url);
        let user = match self.get(&url, token)? {
            Some(user) => user,
            None => return Err(AuthError::Rejected),
        };
        if !grants_access(&user.scopes, &self.access_scope) {
            return Err(AuthError::NoAccess(self.access_scope.clone()));
        }
        let (admin, groups) = match (user.admin, user.groups) {
            (Some(admin), Some(groups)) => (admin, groups),
            (admin, groups) => {
                // The caller's token may not see its own groups (a server token):
                // ask with the service's token.
                let full = self.service_lookup(&user.name);
                (
                    admin
                        .or(full.as_ref().and_then(|u| u.admin))
                        .unwrap_or(false),
                    groups.or(full.and_then(|u| u.groups)).unwrap_or_default(),
                )
            }
        };
        Ok(Identity {
            instructor: admin || groups.contains(&self.instructors_group),
            name: user.name,
        })
    }

    /// The user's full model, read with the service's token; `None` (and a
    /// log line) when the service may not read it.
    fn service_lookup(&self, name: &str) -> Option<HubUser> {
        let token = self.service_token.as_deref()?;
        let url = format!("{}/users/{}", self.api_url, percent_encode(name));
        match self.get(&url, token) {
            Ok(Some(user)) => Some(user),
            Ok(None) => {
                tracing::warn!("the Hub refused the service's token for {url}: give the service the read:users scope");
                None
            }
            Err(e) => {
                tracing::warn!("looking up {name}'s groups: {e:?}");
                None
            }
        }
    }

    /// GETs a user model; `None` when the Hub rejects the token.
    fn get(&self, url: &str, token: &str) -> Result<Option<HubUser>, AuthError> {
        let unavailable = |e: String| AuthError::HubUnavailable(format!("{url}: {e}"));
        let mut response = self
            .agent
            .get(url)
            .header("Authorization", &format!("token {token}"))
            .call()
            .map_err(|e| unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200 => {
                let body = response
                    .body_mut()
                    .read_to_string()
                    .map_err(|e| unavailable(e.to_string()))?;
                serde_json::from_str(&body)
                    .map(Some)
                    .map_err(|e| unavailable(format!("not a user model: {e}")))
            }
            401 | 403 | 404 => Ok(None),
            status => Err(unavailable(format!("status {status}"))),
        }
    }
}

/// Whether a token with `scopes` may use the service whose access scope is
/// `access_scope` (`access:services!service=NAME`): that scope, or access to
/// every service.
fn grants_access(scopes: &[String], access_scope: &str) -> bool {
    scopes
        .iter()
        .any(|scope| scope == access_scope || scope == "access:services")
}

/// Percent-encodes a user name for a URL path segment.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{grants_access, percent_encode};

    #[test]
    fn only_a_scope_granting_this_service_gives_access() {
        let scope = "access:services!service=mlsys-grader";
        let has = |scopes: &[&str]| {
            grants_access(
                &scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                scope,
            )
        };
        assert!(has(&["users:activity!user", scope]));
        assert!(has(&["access:services"]));
        assert!(!has(&[
            "access:servers!server=ada/",
            "users:activity!user=ada"
        ]));
        assert!(!has(&["access:services!service=another"]));
        assert!(!has(&[]));
    }

    #[test]
    fn user_names_are_encoded_for_a_path() {
        assert_eq!(percent_encode("ada.l-1"), "ada.l-1");
        assert_eq!(percent_encode("a b/c@d"), "a%20b%2Fc%40d");
    }
}
