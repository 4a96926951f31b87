//! The instructor's pages: the course overview with its charts and actions,
//! one student's detail, raw downloads, and the actions' POSTs (score,
//! release or withdraw) and exports.

use super::course::{overview as read_overview, Overview, StudentRow};
use super::layout::{page, post_form};
use super::svg::{bars, columns, trim};
use super::{
    blocking, csrf, error_page, html_response, secure_headers, viewer, Browser, Need, Viewer,
};
use crate::db::reads::{QuarantineRecord, SubmissionRecord};
use crate::db::web::FlagRecord;
use crate::error::GraderError;
use crate::export::Format;
use crate::score::Item;
use crate::serve::routes::App;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::sync::Arc;

/// Answers a read that failed with the error page.
fn failed(app: &App, error: GraderError) -> Response {
    let status = if error.is_busy() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    error_page(
        app,
        status,
        "The grader could not read its database",
        &error.to_string(),
    )
}

/// `GET /instructor`.
pub async fn overview(State(app): State<Arc<App>>, browser: Browser) -> Response {
    let viewer = match viewer(&app, &browser, Need::Instructor).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let reader = app.clone();
    let read = blocking(move || {
        let enrolled = reader.web.roster.students();
        read_overview(&reader.store, enrolled)
    })
    .await;
    match read {
        Ok(Ok(course)) => html_response(StatusCode::OK, overview_page(&app, &viewer, &course)),
        Ok(Err(error)) => failed(&app, error),
        Err(_) => failed(&app, GraderError::Precondition("the read stopped".into())),
    }
}

fn overview_page(app: &App, viewer: &Viewer, course: &Overview) -> Markup {
    let web = &app.web;
    let counts = &course.counts;
    let body = html! {
        p {
            "Lab " code { (course.lab) } ", due " (course.due.format("%Y-%m-%d %H:%M UTC")) ". "
            @match &course.scoring {
                Some(s) => { "Scored " (s.scored_at) " (" (s.scored) " submissions; " (s.stored) " stored now) with " code { (course.rubric_origin) } ". " }
                None => { "Not scored yet. " }
            }
            @if course.released { strong.good { "Scores are released to students." } }
            @else { strong { "Scores are not released: students do not see them." } }
        }
        @if let Some(why) = &course.roster_error {
            p role="alert" { "The Hub's user list could not be read, so enrolment is not shown: " (why) }
        }
        h2 { "Summary" }
        dl.cards {
            div { dt { "Enrolled" } dd { (counts.enrolled.map_or("—".to_string(), |n| n.to_string())) } }
            div { dt { "Started" } dd { (counts.started) } }
            div { dt { "Submitted" } dd { (counts.submitted) } }
            div { dt { "Late" } dd { (counts.late) } }
            div { dt { "Quarantined" } dd { (counts.quarantined) } }
            div { dt { "Flagged" } dd { (counts.flagged) } }
        }
        p.note { "Started: the grader has received work of theirs (a hand-in, valid or not, or witnessed events). Late and flagged count scored grades." }
        h2 { "Actions" }
        div.actions {
            section aria-labelledby="score-h" {
                h3 id="score-h" { "Score now" }
                form method="post" action=(web.url("/instructor/score")) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    fieldset {
                        legend { "Rubric" }
                        div { input type="radio" id="rubric-builtin" name="rubric" value="configured" checked; " " label for="rubric-builtin" { "The service's rubric" } }
                        div { input type="radio" id="rubric-upload" name="rubric" value="upload"; " " label for="rubric-upload" { "An uploaded rubric file:" } }
                    }
                    label for="rubric-file" { "Rubric file (TOML)" }
                    input type="file" id="rubric-file" name="rubric_file" accept=".toml,text/plain";
                    button type="submit" { "Score every submission" }
                }
            }
            section aria-labelledby="release-h" {
                h3 id="release-h" { "Release" }
                p { @if course.released { "Students see their scores." } @else { "Students do not see their scores yet." } }
                (post_form(web, viewer, "/instructor/release", html! {
                    input type="hidden" name="released" value=(if course.released { "false" } else { "true" });
                }, if course.released { "Withdraw scores" } else { "Release scores" }))
            }
            section aria-labelledby="export-h" {
                h3 id="export-h" { "Download grades" }
                ul {
                    li { a href=(web.url("/instructor/export/csv")) download { "CSV" } }
                    li { a href=(web.url("/instructor/export/canvas")) download { "Canvas gradebook CSV" } }
                    li { a href=(web.url("/instructor/export/json")) download { "JSON" } }
                }
            }
        }
        h2 { "Charts" }
        @if course.scoring.is_none() {
            p.note { "Scores, answers, rubric items and the best configurations appear once the lab is scored." }
        }
        div.charts {
            (bars("chart-scores", &format!("Score distribution (out of {} points)", trim(course.distribution.1)), ["Score range", "Students"], &course.distribution.0, max_of(&course.distribution.0)))
            (columns("chart-timeline", &format!("Hand-ins per {} (dashed line: the deadline; late ones in amber)", course.timeline.2), ["Period (UTC)", "Hand-ins"], &course.timeline.0, course.timeline.1))
            (bars("chart-items", "Mean points per rubric item (% of the item's points)", ["Item", "Mean"], &course.items, 100.0))
            @for measure in &course.measures {
                (bars(&format!("chart-{}", measure.id), &format!("{} ({} students; {})", measure.title, measure.reached, measure.unit), ["Range", "Students"], &measure.bars, max_of(&measure.bars)))
            }
            @for question in &course.questions {
                (bars(&format!("chart-{}", question.id), &question.title, ["Option", "Students"], &question.bars, question.max))
            }
        }
        h2 id="students-h" { "Students" }
        div.search {
            label for="student-search" { "Search students" }
            input type="search" id="student-search" data-filter="students" autocomplete="off";
            span id="students-count" aria-live="polite" { (course.rows.len()) " students" }
        }
        div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" {
            table id="students" data-sortable aria-labelledby="students-h" {
                thead { tr {
                    th scope="col" { "Student" }
                    th scope="col" { "Started" }
                    th scope="col" class="num" { "Hand-ins" }
                    th scope="col" { "Last received (UTC)" }
                    th scope="col" { "Status" }
                    th scope="col" class="num" { "Score" }
                    th scope="col" class="num" { "Flags" }
                    th scope="col" class="num" { "Quarantined" }
                } }
                tbody {
                    @for row in &course.rows { (student_row(app, row)) }
                }
            }
        }
    };
    page(web, Some(viewer), "Course overview", body)
}

fn max_of(bars: &[super::svg::Bar]) -> f64 {
    bars.iter().map(|b| b.value).fold(0.0, f64::max)
}

fn student_row(app: &App, row: &StudentRow) -> Markup {
    let link = app.web.url(&format!(
        "/instructor/students/{}",
        super::oauth::encode_component(&row.name)
    ));
    let (status, class) = match &row.grade {
        Some(g) => (g.status.replace('_', " "), format!("status-{}", g.status)),
        None if row.submissions > 0 => ("not scored".to_string(), String::new()),
        None => ("no hand-in".to_string(), String::new()),
    };
    html! {
        tr {
            td { a href=(link) { (row.name) } @if !row.enrolled { " " span.note { "(not on the Hub's list)" } } }
            td { @if row.started { "yes" } @else { "no" } }
            td.num { (row.submissions) }
            td { (row.last_received.as_deref().unwrap_or("—")) }
            td class=(class) { (status) }
            td.num data-sort=(row.grade.as_ref().map_or(-1.0, |g| g.total)) {
                @match &row.grade { Some(g) => { (trim(g.total)) " / " (trim(g.max_total)) } None => { "—" } }
            }
            td.num { (row.flags) }
            td.num { (row.quarantined) }
        }
    }
}

/// One student's record as the detail page shows it.
struct Detail {
    submissions: Vec<(SubmissionRecord, Vec<Item>)>,
    flags: Vec<FlagRecord>,
    quarantined: Vec<QuarantineRecord>,
    grade: Option<crate::db::reads::GradeRecord>,
}

fn read_detail(app: &App, student: &str) -> Result<Detail, GraderError> {
    app.store.read(|db| {
        let submissions = db
            .submissions_of(student)?
            .into_iter()
            .map(|s| {
                let items = db.items_of(&s.id)?;
                Ok((s, items))
            })
            .collect::<Result<Vec<_>, GraderError>>()?;
        let grade = match db.last_scored_lab()? {
            Some(lab) => db.grades_of(student)?.into_iter().find(|g| g.lab == lab),
            None => None,
        };
        Ok(Detail {
            submissions,
            flags: db.flags_of_student(student)?,
            quarantined: db.quarantined_of(student, Some(&format!("service:{student}")))?,
            grade,
        })
    })
}

/// `GET /instructor/students/{student}`.
pub async fn student(
    State(app): State<Arc<App>>,
    browser: Browser,
    Path(student): Path<String>,
) -> Response {
    let viewer = match viewer(&app, &browser, Need::Instructor).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let reader = app.clone();
    let name = student.clone();
    match blocking(move || read_detail(&reader, &name)).await {
        Ok(Ok(detail)) => {
            let body = record_body(&app, &detail, true);
            html_response(
                StatusCode::OK,
                page(&app.web, Some(&viewer), &format!("Student {student}"), body),
            )
        }
        Ok(Err(error)) => failed(&app, error),
        Err(_) => failed(&app, GraderError::Precondition("the read stopped".into())),
    }
}

/// A student's record: the grade, every hand-in with its items and flags,
/// and the quarantined files; `instructor` adds the raw downloads.
fn record_body(app: &App, detail: &Detail, instructor: bool) -> Markup {
    let web = &app.web;
    html! {
        @match &detail.grade {
            Some(g) => p { "Grade: " strong { (trim(g.total)) " / " (trim(g.max_total)) } " (" (g.status.replace('_', " "))
                @if g.late_days > 0 { ", " (g.late_days) " days late, " (trim(g.penalty)) " points off" } ")"
                @if let Some(id) = &g.submission_id { "; counting submission " code { (id) } } }
            None => p { "No grade yet." }
        }
        h2 { "Submissions" }
        @if detail.submissions.is_empty() { p { "None stored." } }
        @else {
            div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                thead { tr {
                    th scope="col" { "Submission" } th scope="col" { "Received (UTC)" } th scope="col" { "Made (student's clock)" }
                    th scope="col" { "Status" } th scope="col" class="num" { "Score" } th scope="col" class="num" { "Events" }
                    th scope="col" { "SHA-256" } th scope="col" { "Flags" }
                    @if instructor { th scope="col" { "Raw" } }
                } }
                tbody { @for (s, _) in &detail.submissions {
                    tr {
                        td { code { (s.id) } }
                        td { (s.ingested_at) }
                        td { (s.created_at) }
                        td { (timeliness(s.late_days)) }
                        td.num { @match s.total { Some(t) => (trim(t)), None => "—" } }
                        td.num { (s.events) }
                        td { span.hash { (s.sha256) } }
                        td { (flag_list(detail.flags.iter().filter(|f| f.submission_id == s.id))) }
                        @if instructor { td { a href=(web.url(&format!("/instructor/submissions/{}/raw", super::oauth::encode_component(&s.id)))) download aria-label={"download submission " (s.id)} { "download" } } }
                    }
                } }
            } }
            @for (s, items) in &detail.submissions {
                @if !items.is_empty() {
                    details {
                        summary { "Rubric items of submission " code { (s.id) } }
                        div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                            thead { tr { th scope="col" { "Item" } th scope="col" class="num" { "Points" } th scope="col" { "Reason" } } }
                            tbody { @for item in items { tr {
                                td { code { (item.id) } }
                                td.num { (trim(item.points)) " / " (trim(item.max)) }
                                td { (item.reason) }
                            } } }
                        } }
                    }
                }
            }
        }
        h2 { "Quarantined hand-ins" }
        @if detail.quarantined.is_empty() { p { "None." } }
        @else {
            div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                thead { tr {
                    th scope="col" { "Received (UTC)" } th scope="col" { "Reason" } th scope="col" { "Detail" } th scope="col" { "SHA-256" }
                    @if instructor { th scope="col" { "Raw" } }
                } }
                tbody { @for q in &detail.quarantined { tr {
                    td { (q.quarantined_at) }
                    td { code { (q.reason) } }
                    td { (q.detail) }
                    td { span.hash { (q.sha256) } }
                    @if instructor { td { a href=(web.url(&format!("/instructor/quarantine/{}/raw", q.sha256))) download aria-label={"download quarantined file " (q.sha256)} { "download" } } }
                } } }
            } }
        }
    }
}

/// "on time", "N days late", or "not scored".
pub fn timeliness(late_days: Option<u32>) -> Markup {
    match late_days {
        Some(0) => html! { span.good { "on time" } },
        Some(n) => html! { span.warn { (n) " day" @if n != 1 { "s" } " late" } },
        None => html! { span.note { "not scored yet" } },
    }
}

/// The flags as badges with their reasons.
pub fn flag_list<'a>(flags: impl Iterator<Item = &'a FlagRecord>) -> Markup {
    html! {
        @for flag in flags {
            span.flag { (flag.flag) } " " (flag.detail) br;
        }
    }
}

/// A download with the page headers.
fn download(bytes: Vec<u8>, mime: &'static str, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    secure_headers(headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A file name made of the safe characters of `text`.
fn file_name(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(80)
        .collect()
}

/// `GET /instructor/submissions/{id}/raw`: the bytes as stored.
pub async fn raw_submission(
    State(app): State<Arc<App>>,
    browser: Browser,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = viewer(&app, &browser, Need::Instructor).await {
        return response;
    }
    let reader = app.clone();
    let key = id.clone();
    match blocking(move || reader.store.read(|db| db.raw_bytes(&key))).await {
        Ok(Ok(Some(bytes))) => download(
            bytes,
            "application/json",
            &format!("{}.json", file_name(&id)),
        ),
        Ok(Ok(None)) => error_page(
            &app,
            StatusCode::NOT_FOUND,
            "No such submission",
            "No submission is stored with this id.",
        ),
        Ok(Err(error)) => failed(&app, error),
        Err(_) => failed(&app, GraderError::Precondition("the read stopped".into())),
    }
}

/// `GET /instructor/quarantine/{sha256}/raw`: the bytes as received.
pub async fn raw_quarantined(
    State(app): State<Arc<App>>,
    browser: Browser,
    Path(sha): Path<String>,
) -> Response {
    if let Err(response) = viewer(&app, &browser, Need::Instructor).await {
        return response;
    }
    let reader = app.clone();
    let key = sha.clone();
    match blocking(move || reader.store.read(|db| db.quarantined_bytes(&key))).await {
        Ok(Ok(Some(bytes))) => download(
            bytes,
            "application/octet-stream",
            &format!("quarantined-{}.bin", file_name(&sha)),
        ),
        Ok(Ok(None)) => error_page(
            &app,
            StatusCode::NOT_FOUND,
            "No such file",
            "No quarantined file has this SHA-256.",
        ),
        Ok(Err(error)) => failed(&app, error),
        Err(_) => failed(&app, GraderError::Precondition("the read stopped".into())),
    }
}

/// The checks of every instructor POST: same origin, an instructor, the
/// session's form token.
async fn instructor_post(
    app: &Arc<App>,
    browser: &Browser,
    token: Option<&str>,
) -> Result<Viewer, Response> {
    if let Err(csrf::CrossSite(why)) = csrf::same_origin(&browser.headers) {
        return Err(error_page(
            app,
            StatusCode::FORBIDDEN,
            "Cross-site request refused",
            &why,
        ));
    }
    let viewer = viewer(app, browser, Need::Instructor).await?;
    if !csrf::token_matches(&viewer.csrf, token) {
        return Err(error_page(
            app,
            StatusCode::FORBIDDEN,
            "Request refused",
            "The form's token is not this session's: reload the page and try again.",
        ));
    }
    Ok(viewer)
}

/// Largest rubric file taken, in bytes.
const MAX_RUBRIC_BYTES: usize = 256 * 1024;

/// The score form's fields.
#[derive(Default)]
struct ScoreForm {
    csrf: Option<String>,
    upload: bool,
    file: Option<(String, Vec<u8>)>,
}

async fn read_score_form(mut multipart: Multipart) -> Result<ScoreForm, String> {
    let mut form = ScoreForm::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        match field.name().unwrap_or_default() {
            "csrf" => form.csrf = Some(field.text().await.map_err(|e| e.body_text())?),
            "rubric" => form.upload = field.text().await.map_err(|e| e.body_text())? == "upload",
            "rubric_file" => {
                let name = field.file_name().unwrap_or("uploaded rubric").to_string();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                if bytes.len() > MAX_RUBRIC_BYTES {
                    return Err(format!(
                        "the rubric file is over {} KiB",
                        MAX_RUBRIC_BYTES / 1024
                    ));
                }
                if !bytes.is_empty() {
                    form.file = Some((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    Ok(form)
}

/// `POST /instructor/score`: scores with the service's rubric or the uploaded one.
pub async fn score(
    State(app): State<Arc<App>>,
    browser: Browser,
    multipart: Multipart,
) -> Response {
    if let Err(csrf::CrossSite(why)) = csrf::same_origin(&browser.headers) {
        return error_page(
            &app,
            StatusCode::FORBIDDEN,
            "Cross-site request refused",
            &why,
        );
    }
    let form = match read_score_form(multipart).await {
        Ok(form) => form,
        Err(why) => {
            return error_page(
                &app,
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                &why,
            )
        }
    };
    let viewer = match instructor_post(&app, &browser, form.csrf.as_deref()).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let rubric = if form.upload {
        match form.file {
            Some((name, bytes)) => match String::from_utf8(bytes) {
                Ok(text) => Some((format!("uploaded {}", file_name(&name)), text)),
                Err(_) => {
                    return result_page(
                        &app,
                        &viewer,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Nothing was scored",
                        Err("the rubric file is not UTF-8 text".into()),
                    )
                }
            },
            None => {
                return result_page(
                    &app,
                    &viewer,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Nothing was scored",
                    Err("choose a rubric file to upload".into()),
                )
            }
        }
    } else {
        None
    };
    let writer = app.clone();
    let scored = blocking(move || match rubric {
        Some((origin, text)) => writer.store.score_with(&text, &origin),
        None => writer.store.score(),
    })
    .await;
    match scored {
        Ok(Ok(summary)) => {
            tracing::info!(
                "{} scored from the pages: {summary}",
                crate::encode::printable(&viewer.identity.name)
            );
            result_page(&app, &viewer, StatusCode::OK, "Scored", Ok(summary))
        }
        Ok(Err(error)) => {
            let status = match &error {
                GraderError::Rubric { .. } | GraderError::Precondition(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                e if e.is_busy() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            result_page(
                &app,
                &viewer,
                status,
                "Nothing was scored",
                Err(error.to_string()),
            )
        }
        Err(_) => result_page(
            &app,
            &viewer,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Nothing was scored",
            Err("scoring stopped".into()),
        ),
    }
}

fn result_page(
    app: &App,
    viewer: &Viewer,
    status: StatusCode,
    title: &str,
    outcome: Result<String, String>,
) -> Response {
    let body = html! {
        @match &outcome {
            Ok(message) => p role="status" { (message) },
            Err(message) => p role="alert" { (message) },
        }
        p { a href=(app.web.url("/instructor")) { "Back to the course overview" } }
    };
    html_response(status, page(&app.web, Some(viewer), title, body))
}

/// The release form.
#[derive(Debug, serde::Deserialize)]
pub struct ReleaseForm {
    csrf: Option<String>,
    released: String,
}

/// `POST /instructor/release`: releases or withdraws the scores.
pub async fn release(
    State(app): State<Arc<App>>,
    browser: Browser,
    axum::extract::Form(form): axum::extract::Form<ReleaseForm>,
) -> Response {
    let viewer = match instructor_post(&app, &browser, form.csrf.as_deref()).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let released = form.released == "true";
    let writer = app.clone();
    match blocking(move || writer.store.set_released(released)).await {
        Ok(Ok(())) => {
            let message = if released {
                "Scores are released: students see them on their page."
            } else {
                "Scores are withdrawn: students no longer see them."
            };
            result_page(
                &app,
                &viewer,
                StatusCode::OK,
                if released { "Released" } else { "Withdrawn" },
                Ok(message.into()),
            )
        }
        Ok(Err(error)) => result_page(
            &app,
            &viewer,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Nothing changed",
            Err(error.to_string()),
        ),
        Err(_) => result_page(
            &app,
            &viewer,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Nothing changed",
            Err("stopped".into()),
        ),
    }
}

/// `GET /instructor/export/{csv|canvas|json}`.
pub async fn export(
    State(app): State<Arc<App>>,
    browser: Browser,
    Path(format): Path<String>,
) -> Response {
    if let Err(response) = viewer(&app, &browser, Need::Instructor).await {
        return response;
    }
    let (format, mime, name) = match format.as_str() {
        "csv" => (Format::Csv, "text/csv; charset=utf-8", "grades.csv"),
        "canvas" => (
            Format::Canvas,
            "text/csv; charset=utf-8",
            "grades.canvas.csv",
        ),
        "json" => (Format::Json, "application/json", "grades.json"),
        _ => {
            return error_page(
                &app,
                StatusCode::NOT_FOUND,
                "No such export",
                "Exports are csv, canvas and json.",
            )
        }
    };
    let reader = app.clone();
    match blocking(move || reader.store.export(format)).await {
        Ok(Ok((bytes, warning))) => {
            let mut response = download(bytes, mime, name);
            if let Some(value) = warning.and_then(|w| HeaderValue::from_str(&w).ok()) {
                response.headers_mut().insert("x-mlsys-warning", value);
            }
            response
        }
        Ok(Err(GraderError::Precondition(why))) => {
            error_page(&app, StatusCode::CONFLICT, "Nothing to export yet", &why)
        }
        Ok(Err(error)) => failed(&app, error),
        Err(_) => failed(&app, GraderError::Precondition("the export stopped".into())),
    }
}
