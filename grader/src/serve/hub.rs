//! Who is calling: a token checked with the Hub's REST API (`GET /user` with
//! the caller's token), group membership looked up with the service's own
//! token, and both cached briefly.

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
    /// The Hub could not be asked.
    HubUnavailable(String),
}

/// The part of the Hub's user model the service reads.
#[derive(Debug, Deserialize)]
struct HubUser {
    name: String,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

/// Answers by token SHA-256, each with the time it expires.
type Cache = HashMap<String, (Instant, Result<Identity, AuthError>)>;

/// Verifies tokens with the Hub and caches the answers.
pub struct HubAuth {
    api_url: String,
    service_token: Option<String>,
    instructors_group: String,
    ttl: Duration,
    agent: ureq::Agent,
    /// Keyed by the token's SHA-256; rejections are kept for a sixth of `ttl`.
    cache: Mutex<Cache>,
}

/// Beyond this many cached tokens, expired entries are dropped.
const CACHE_SWEEP_AT: usize = 10_000;

impl HubAuth {
    /// A verifier for the Hub API at `api_url`.
    pub fn new(
        api_url: String,
        service_token: Option<String>,
        instructors_group: String,
        ttl: Duration,
    ) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        HubAuth {
            api_url,
            service_token,
            instructors_group,
            ttl,
            agent,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The identity behind `token` (blocking: call off the async runtime).
    pub fn identify(&self, token: &str) -> Result<Identity, AuthError> {
        let key = sha256_hex(token.as_bytes());
        let now = Instant::now();
        if let Some((until, answer)) = self.lock().get(&key) {
            if *until > now {
                return answer.clone();
            }
        }
        let answer = self.ask_hub(token);
        let keep = match &answer {
            Ok(_) => self.ttl,
            Err(AuthError::Rejected) => self.ttl / 6,
            Err(AuthError::HubUnavailable(_)) => return answer,
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
    use super::percent_encode;

    #[test]
    fn user_names_are_encoded_for_a_path() {
        assert_eq!(percent_encode("ada.l-1"), "ada.l-1");
        assert_eq!(percent_encode("a b/c@d"), "a%20b%2Fc%40d");
    }
}
