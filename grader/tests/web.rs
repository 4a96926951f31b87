//! The service's pages over real HTTP, with a fake Hub on loopback: the OAuth
//! login (state checked, code exchanged, session cookie scoped and HttpOnly),
//! who sees what, cross-site POSTs refused, and the pages' content after
//! students handed in and the instructor scored.

use chrono::Utc;
use clap::Parser;
use mlsys_grader::labs::Scorers;
use mlsys_grader::serve::config::{ServeArgs, ServeConfig};
use mlsys_grader::serve::hub::HubAuth;
use mlsys_grader::serve::listen::{serve, ConnectionLimits};
use mlsys_grader::serve::rate_limit::RateLimiter;
use mlsys_grader::serve::routes::{router, App};
use mlsys_grader::serve::store::Store;
use mlsys_grader::synth::Rng;
use mlsys_grader::web::Web;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "/services/mlsys-grader";
const ACCESS: &str = "access:services!service=mlsys-grader";

/// A fake Hub API: the OAuth token endpoint (code `code-<user>` gives token
/// `token-<user>`), `GET /user` for those tokens, and the user list.
fn fake_hub() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hub/api", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    url
}

fn user_json(name: &str) -> String {
    let groups = if name == "prof" {
        r#"["instructors"]"#
    } else {
        "[]"
    };
    format!(r#"{{"name": "{name}", "admin": false, "groups": {groups}, "scopes": ["{ACCESS}"]}}"#)
}

fn answer(stream: std::net::TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let length: usize = head
        .iter()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = String::from_utf8(body).unwrap();
    let request = head.first().cloned().unwrap_or_default();
    let token = head
        .iter()
        .find_map(|l| {
            l.strip_prefix("Authorization: token ")
                .or(l.strip_prefix("authorization: token "))
        })
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let (status, reply) = if request.starts_with("POST /hub/api/oauth2/token") {
        let code = body
            .split('&')
            .find_map(|p| p.strip_prefix("code="))
            .unwrap_or_default();
        let secret_ok = body.contains("client_secret=service-secret");
        match code.strip_prefix("code-") {
            Some(user) if secret_ok && body.contains("client_id=service-mlsys-grader") => (
                200,
                format!(r#"{{"access_token": "token-{user}", "token_type": "Bearer"}}"#),
            ),
            _ => (400, r#"{"error": "invalid_grant"}"#.to_string()),
        }
    } else if request.starts_with("GET /hub/api/user ") {
        match token.strip_prefix("token-") {
            Some(user) => (200, user_json(user)),
            None => (403, "{}".into()),
        }
    } else if request.starts_with("GET /hub/api/users?") && token == "service-secret" {
        let items = ["ada", "grace", "linus", "prof"].map(user_json).join(",");
        (
            200,
            format!(
                r#"{{"items": [{items}], "_pagination": {{"offset": 0, "limit": 200, "total": 4, "next": null}}}}"#
            ),
        )
    } else {
        (404, "{}".into())
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

/// The service on a loopback port, its database in `dir`.
struct Service {
    url: String,
    app: Arc<App>,
    _dir: tempfile::TempDir,
}

fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let hub = fake_hub();
    let args = Args::parse_from([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--prefix",
        PREFIX,
        "--hub-api-url",
        &hub,
        "--notebook",
        "lab.ipynb",
    ]);
    // The service's token is read from the environment only (set once: tests run in threads).
    static TOKEN: std::sync::Once = std::sync::Once::new();
    TOKEN.call_once(|| std::env::set_var("JUPYTERHUB_API_TOKEN", "service-secret"));
    let config = ServeConfig::resolve(dir.path().join("g.sqlite"), args.serve).unwrap();
    let store = Store::open(&config.db, None, Scorers::builtin(), config.store).unwrap();
    let app = Arc::new(App {
        hub: HubAuth::new(&config),
        limiter: RateLimiter::new(1000, 1000),
        store,
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
        web: Web::new(&config),
    });
    let routes = router(app.clone(), &config.prefix);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let limits = ConnectionLimits {
                max_connections: 64,
                header_timeout: Duration::from_secs(5),
            };
            serve(listener, routes, limits, std::future::pending()).await;
        });
    });
    let addr = rx.recv().unwrap();
    Service {
        url: format!("http://{addr}{PREFIX}"),
        app,
        _dir: dir,
    }
}

/// A response: status, headers (lower-case names) and body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = agent().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    reply(request.call().unwrap())
}

fn post(url: &str, headers: &[(&str, &str)], form: &str) -> Reply {
    let mut request = agent()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    reply(request.send(form).unwrap())
}

fn reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Reply {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// The value of cookie `name` in `set_cookie`.
fn cookie_value<'a>(set_cookie: &'a str, name: &str) -> Option<&'a str> {
    set_cookie
        .strip_prefix(&format!("{name}="))?
        .split(';')
        .next()
}

/// Logs `user` in through the OAuth flow from `page`; returns the session cookie header value.
fn log_in(service: &Service, user: &str, page: &str) -> String {
    let start = get(&format!("{}{page}", service.url), &[]);
    assert_eq!(start.status, 303, "{}", start.body);
    let location = start.header("location").unwrap();
    let state = location.split("state=").nth(1).unwrap().to_string();
    let state_cookie = start.cookies()[0].to_string();
    let cookie = format!(
        "mlsys-grader-oauth-state={}",
        cookie_value(&state_cookie, "mlsys-grader-oauth-state").unwrap()
    );
    let back = get(
        &format!(
            "{}/oauth_callback?code=code-{user}&state={state}",
            service.url
        ),
        &[("Cookie", &cookie)],
    );
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(
        back.header("location"),
        Some(format!("{PREFIX}{page}").as_str())
    );
    let session = back
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("mlsys-grader-session="))
        .unwrap()
        .to_string();
    format!(
        "mlsys-grader-session={}",
        cookie_value(&session, "mlsys-grader-session").unwrap()
    )
}

/// The CSRF token in a page's forms.
fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token");
    page[at + 19..at + 19 + 64].to_string()
}

#[test]
fn a_browser_logs_in_through_the_hub_and_gets_a_session_cookie_scoped_to_the_service() {
    let service = service();
    let start = get(&format!("{}/instructor", service.url), &[]);
    assert_eq!(start.status, 303);
    let location = start.header("location").unwrap();
    assert!(location.starts_with(
        "/hub/api/oauth2/authorize?client_id=service-mlsys-grader&redirect_uri=%2Fservices%2Fmlsys-grader%2Foauth_callback&response_type=code&state="
    ), "{location}");
    let state_cookie = start.cookies()[0];
    assert!(
        state_cookie.contains("Path=/services/mlsys-grader/; HttpOnly; SameSite=Lax; Max-Age=600"),
        "{state_cookie}"
    );
    let state = location.split("state=").nth(1).unwrap();
    let cookie = format!("mlsys-grader-oauth-state={state}");
    let callback = |code: &str, state: &str, cookie: &str| {
        get(
            &format!("{}/oauth_callback?code={code}&state={state}", service.url),
            &[("Cookie", cookie)],
        )
    };
    // Another browser's state, no cookie, or a code the Hub does not know: no session.
    assert_eq!(callback("code-prof", state, "").status, 403);
    assert_eq!(callback("code-prof", "forged", &cookie).status, 403);
    let refused = callback("wrong", state, &cookie);
    assert_eq!(refused.status, 403);
    assert!(refused.cookies().is_empty());
    // The state was used: a good code with it now is refused too.
    assert_eq!(callback("code-prof", state, &cookie).status, 403);
    // Over https (as the proxy says), the session cookie is Secure.
    let again = get(
        &format!("{}/instructor", service.url),
        &[("X-Forwarded-Proto", "https")],
    );
    let state = again
        .header("location")
        .unwrap()
        .split("state=")
        .nth(1)
        .unwrap()
        .to_string();
    let back = get(
        &format!(
            "{}/oauth_callback?code=code-prof&state={state}",
            service.url
        ),
        &[
            ("Cookie", &format!("mlsys-grader-oauth-state={state}")),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(
        back.header("location"),
        Some("/services/mlsys-grader/instructor")
    );
    let session = back
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("mlsys-grader-session="))
        .unwrap();
    assert!(
        session.ends_with("; Path=/services/mlsys-grader/; HttpOnly; SameSite=Lax; Secure"),
        "{session}"
    );
    assert!(
        !session.contains("token-prof"),
        "the Hub token stays in the service"
    );
    let session = format!(
        "mlsys-grader-session={}",
        cookie_value(session, "mlsys-grader-session").unwrap()
    );
    let page = get(
        &format!("{}/instructor", service.url),
        &[("Cookie", &session)],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>Course overview</h1>"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    // A forged session id is sent to log in again.
    let forged = get(
        &format!("{}/instructor", service.url),
        &[("Cookie", "mlsys-grader-session=00")],
    );
    assert_eq!(forged.status, 303);
}

#[test]
fn a_student_sees_only_their_own_page_and_the_token_api_still_works() {
    let service = service();
    let ada = log_in(&service, "ada", "/me");
    let own = get(&format!("{}/me", service.url), &[("Cookie", &ada)]);
    assert_eq!(own.status, 200);
    assert!(own.body.contains("Hand-ins of ada"));
    assert!(
        own.body
            .contains(r#"href="/hub/user-redirect/lab/tree/lab.ipynb""#),
        "{}",
        own.body
    );
    for page in [
        "/instructor",
        "/instructor/students/grace",
        "/instructor/export/canvas",
    ] {
        let refused = get(&format!("{}{page}", service.url), &[("Cookie", &ada)]);
        assert_eq!(refused.status, 403, "{page}");
        assert!(refused.body.contains("Instructors only"));
    }
    let home = get(&format!("{}/", service.url), &[("Cookie", &ada)]);
    assert_eq!(home.header("location"), Some("/services/mlsys-grader/me"));
    // Logging in from the service's front page returns there.
    let grace = log_in(&service, "grace", "/");
    let front = get(&format!("{}/", service.url), &[("Cookie", &grace)]);
    assert_eq!(front.header("location"), Some("/services/mlsys-grader/me"));
    let whoami = get(
        &format!("{}/api/whoami", service.url),
        &[("Authorization", "token token-ada")],
    );
    assert_eq!(
        (whoami.status, whoami.body.as_str()),
        (200, r#"{"instructor":false,"name":"ada"}"#)
    );
}

#[test]
fn a_cross_site_post_or_one_without_the_sessions_token_changes_nothing() {
    let service = service();
    let prof = log_in(&service, "prof", "/instructor");
    let page = get(&format!("{}/instructor", service.url), &[("Cookie", &prof)]);
    let token = csrf_of(&page.body);
    let release = format!("{}/instructor/release", service.url);
    let form = format!("csrf={token}&released=true");
    let host = service.url.split('/').nth(2).unwrap().to_string();
    let own_origin = format!("http://{host}");
    let refused = [
        post(
            &release,
            &[
                ("Cookie", &prof),
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            &form,
        ),
        post(
            &release,
            &[("Cookie", &prof), ("Origin", "http://127.0.0.1:1")],
            &form,
        ),
        post(
            &release,
            &[("Cookie", &prof), ("Sec-Fetch-Site", "same-site")],
            &form,
        ),
        post(
            &release,
            &[("Cookie", &prof), ("Origin", &own_origin)],
            "released=true",
        ),
        post(
            &release,
            &[("Cookie", &prof), ("Origin", &own_origin)],
            &format!("csrf={}&released=true", "0".repeat(64)),
        ),
        post(&release, &[("Origin", &own_origin)], &form),
    ];
    for (i, reply) in refused.iter().enumerate() {
        assert_eq!(reply.status, 403, "attempt {i}: {}", reply.body);
    }
    assert!(refused[0].body.contains("Cross-site request refused"));
    assert!(!service.app.store.released());
    let done = post(
        &release,
        &[
            ("Cookie", &prof),
            ("Origin", &own_origin),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        &form,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(service.app.store.released());
    // Logging out ends the session: the same cookie is sent to log in again.
    let out = post(
        &format!("{}/logout", service.url),
        &[("Cookie", &prof), ("Origin", &own_origin)],
        &format!("csrf={token}"),
    );
    assert_eq!(out.status, 200);
    assert_eq!(
        get(&format!("{}/instructor", service.url), &[("Cookie", &prof)]).status,
        303
    );
}

#[test]
fn the_pages_show_the_class_after_hand_ins_and_scores_only_once_released() {
    let service = service();
    let scorer = Scorers::builtin().pick(None).unwrap();
    let mut rng = Rng::new(11);
    for student in ["ada", "grace"] {
        let submission = scorer.synthetic(student, Utc::now(), 30, &mut rng);
        service
            .app
            .store
            .submit(student, &serde_json::to_vec(&submission).unwrap())
            .unwrap();
    }
    service.app.store.submit("grace", b"{ broken").unwrap();
    let prof = log_in(&service, "prof", "/instructor");
    let before = get(&format!("{}/instructor", service.url), &[("Cookie", &prof)]);
    assert!(before.body.contains("Not scored yet."));
    // Enrolled: the Hub's users less the instructor; linus has not started.
    assert!(
        before.body.contains("<dt>Enrolled</dt><dd>3</dd>"),
        "{}",
        before.body
    );
    assert!(before.body.contains("<dt>Started</dt><dd>2</dd>"));
    assert!(before.body.contains("<dt>Quarantined</dt><dd>1</dd>"));
    service.app.store.score().unwrap();
    let page = get(&format!("{}/instructor", service.url), &[("Cookie", &prof)]);
    for chart in [
        "chart-scores",
        "chart-timeline",
        "chart-items",
        "chart-act1-gpu_util",
        "chart-act2-mds_load",
        "chart-act1-prediction",
    ] {
        assert!(
            page.body
                .contains(&format!(r#"<figure class="chart" id="{chart}">"#)),
            "{chart}"
        );
    }
    assert!(page
        .body
        .contains(r#"href="/services/mlsys-grader/instructor/students/grace""#));
    let detail = get(
        &format!("{}/instructor/students/grace", service.url),
        &[("Cookie", &prof)],
    );
    assert!(detail.body.contains("malformed_json"));
    assert!(detail.body.contains("act1.prediction_locked"));
    let canvas = get(
        &format!("{}/instructor/export/canvas", service.url),
        &[("Cookie", &prof)],
    );
    assert_eq!(canvas.status, 200);
    assert!(
        canvas.body.lines().count() >= 3 && canvas.body.contains("grace"),
        "{}",
        canvas.body
    );
    let ada = log_in(&service, "ada", "/me");
    let hidden = get(&format!("{}/me", service.url), &[("Cookie", &ada)]);
    assert!(hidden.body.contains("Scores are not released yet."));
    assert!(!hidden.body.contains("act1.prediction_locked"));
    service.app.store.set_released(true).unwrap();
    let shown = get(&format!("{}/me", service.url), &[("Cookie", &ada)]);
    assert!(
        shown.body.contains("act1.prediction_locked"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("grace"));
}
