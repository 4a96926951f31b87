//! Who is enrolled: the Hub's users (read with the service's token, page by
//! page) that are neither Hub admins nor in the instructors' group.

use serde::Deserialize;
use std::time::Duration;

/// Reads the Hub's user list.
pub struct Roster {
    api_url: String,
    token: Option<String>,
    instructors_group: String,
    agent: ureq::Agent,
}

/// One user of the Hub's list.
#[derive(Debug, Deserialize)]
struct HubUser {
    name: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    groups: Vec<String>,
}

/// A page of the Hub's paginated user list.
#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<HubUser>,
    #[serde(rename = "_pagination")]
    pagination: Pagination,
}

#[derive(Debug, Deserialize)]
struct Pagination {
    #[serde(default)]
    next: Option<Next>,
}

#[derive(Debug, Deserialize)]
struct Next {
    offset: u64,
}

/// The most users read (a bound on a misbehaving Hub).
const MAX_USERS: usize = 100_000;

impl Roster {
    /// A roster read from the Hub API at `api_url` with the service's `token`.
    pub fn new(
        api_url: &str,
        token: Option<String>,
        instructors_group: &str,
        timeout: Duration,
    ) -> Roster {
        Roster {
            api_url: api_url.to_string(),
            token,
            instructors_group: instructors_group.to_string(),
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .proxy(None)
                .build()
                .into(),
        }
    }

    /// The enrolled students, by name (blocking); the error says why the Hub
    /// could not be read.
    pub fn students(&self) -> Result<Vec<String>, String> {
        let token = self
            .token
            .as_deref()
            .ok_or("the service has no Hub token (JUPYTERHUB_API_TOKEN)")?;
        let mut names = Vec::new();
        let mut offset = 0u64;
        loop {
            let url = format!("{}/users?offset={offset}&limit=200", self.api_url);
            let mut response = self
                .agent
                .get(&url)
                .header("Authorization", &format!("token {token}"))
                .header("Accept", "application/jupyterhub-pagination+json")
                .call()
                .map_err(|e| format!("{url}: {e}"))?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(format!(
                    "{url}: HTTP {status} (the service needs the list:users and read:users scopes)"
                ));
            }
            let body = response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .map_err(|e| format!("{url}: {e}"))?;
            let page: Page =
                serde_json::from_str(&body).map_err(|e| format!("{url}: not a user list: {e}"))?;
            names.extend(
                page.items
                    .into_iter()
                    .filter(|u| !u.admin && !u.groups.contains(&self.instructors_group))
                    .map(|u| u.name),
            );
            match page.pagination.next {
                Some(next) if next.offset > offset && names.len() < MAX_USERS => {
                    offset = next.offset
                }
                _ => break,
            }
        }
        names.sort();
        Ok(names)
    }
}
