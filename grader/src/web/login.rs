//! Logging in through the Hub and out: the redirect to the Hub's authorize
//! endpoint, the OAuth callback, and logout.

use super::oauth::{safe_next, ExchangeError};
use super::session::{cookie, set_cookie, SESSION_COOKIE, STATE_COOKIE, STATE_TTL};
use super::{blocking, csrf, error_page, Browser};
use crate::serve::hub::{AuthError, Freshness};
use crate::serve::routes::App;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// Sends the browser to the Hub to log in, to come back to the page it asked for.
pub fn redirect(app: &App, browser: &Browser) -> Response {
    let web = &app.web;
    // A nested router sees the path without the service's prefix; the route of
    // the prefix's own `/` sees all of it.
    let asked = if browser.path.starts_with(&web.url("/")) {
        browser.path.clone()
    } else {
        web.url(&browser.path)
    };
    let next = if safe_next(&asked, &web.prefix) {
        asked
    } else {
        web.url("/")
    };
    let state = web.sessions.begin_login(next);
    let mut response = Redirect::to(&web.oauth.authorize_location(&state)).into_response();
    let scope = web.cookie_scope(&browser.headers);
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        STATE_COOKIE,
        &state,
        scope,
        Some(STATE_TTL.as_secs()),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What the Hub sends back.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oauth_callback`: checks the state against the browser's cookie and the
/// logins in progress, exchanges the code, and starts a session.
pub async fn callback(
    State(app): State<Arc<App>>,
    browser: Browser,
    Query(reply): Query<Callback>,
) -> Response {
    let refused = |message: &str| {
        error_page(
            &app,
            StatusCode::FORBIDDEN,
            "Login refused",
            &format!("{message} Open the grader's page again to log in."),
        )
    };
    if let Some(error) = reply.error {
        return refused(&format!("JupyterHub did not log you in ({error})."));
    }
    let (Some(code), Some(state)) = (reply.code, reply.state) else {
        return refused("The Hub's answer has no code.");
    };
    let in_cookie = cookie(&browser.headers, STATE_COOKIE);
    if !in_cookie.is_some_and(|c| super::session::same(&c, &state)) {
        return refused("This login was not started in this browser.");
    }
    let Some(next) = app.web.sessions.finish_login(&state) else {
        return refused("This login has expired or was used already.");
    };
    let hub_app = app.clone();
    let client = browser.client.clone();
    let timeout = app.web.hub_timeout;
    let exchanged = blocking(move || {
        let token = hub_app
            .web
            .oauth
            .exchange(&code, timeout)
            .map_err(|e| match e {
                ExchangeError::Refused(why) => Failure::Refused(why),
                ExchangeError::Unavailable(why) => Failure::Unavailable(why),
            })?;
        match hub_app.hub.identify(&token, &client, Freshness::Now) {
            Ok(identity) => Ok((token, identity)),
            Err(AuthError::HubUnavailable(why)) => Err(Failure::Unavailable(why)),
            Err(AuthError::NoAccess(scope)) => Err(Failure::Refused(format!(
                "Your Hub login does not give access to the grader (it lacks {scope})."
            ))),
            Err(_) => Err(Failure::Refused("The Hub does not know the token.".into())),
        }
    })
    .await;
    let (token, identity) = match exchanged {
        Ok(Ok(done)) => done,
        Ok(Err(Failure::Unavailable(why))) => {
            tracing::warn!("an OAuth login failed: {why}");
            return error_page(
                &app,
                StatusCode::SERVICE_UNAVAILABLE,
                "The Hub does not answer",
                "The grader could not finish your login with JupyterHub. Try again in a moment.",
            );
        }
        Ok(Err(Failure::Refused(why))) => {
            return refused(&format!("JupyterHub refused the login: {why}."))
        }
        Err(_) => return refused("The login failed."),
    };
    tracing::info!(
        "{} logged in to the pages",
        crate::encode::printable(&identity.name)
    );
    let id = app.web.sessions.create(token);
    let scope = app.web.cookie_scope(&browser.headers);
    let mut response = Redirect::to(&next).into_response();
    for cookie in [
        set_cookie(SESSION_COOKIE, &id, scope, None),
        set_cookie(STATE_COOKIE, "", scope, Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The logout form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /logout`: ends the session (the Hub's own login is the Hub's).
pub async fn logout(
    State(app): State<Arc<App>>,
    browser: Browser,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Err(csrf::CrossSite(why)) = csrf::same_origin(&browser.headers) {
        return error_page(
            &app,
            StatusCode::FORBIDDEN,
            "Cross-site request refused",
            &why,
        );
    }
    if let Some(id) = cookie(&browser.headers, SESSION_COOKIE) {
        if let Some(session) = app.web.sessions.get(&id) {
            if !csrf::token_matches(&session.csrf, form.csrf.as_deref()) {
                return error_page(
                    &app,
                    StatusCode::FORBIDDEN,
                    "Request refused",
                    "The form's token is not this session's: reload the page and try again.",
                );
            }
            app.web.sessions.remove(&id);
        }
    }
    let scope = app.web.cookie_scope(&browser.headers);
    let mut response = super::html_response(
        StatusCode::OK,
        super::layout::message_page(
            &app.web,
            None,
            "Logged out",
            "You are logged out of the grader's pages. JupyterHub keeps its own login: log out \
             there too on a shared computer.",
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", scope, Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Why a login did not finish.
enum Failure {
    /// The Hub refused the code or the token.
    Refused(String),
    /// The Hub could not be asked.
    Unavailable(String),
}
