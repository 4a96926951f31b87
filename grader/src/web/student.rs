//! A student's own page: their hand-ins as the grader stored them (receipt id,
//! SHA-256, received time, on time or late, flags), the hand-ins it could not
//! take and why, and, once the instructors release scores, the grade with
//! every rubric item's reason. A link opens the course notebook in their server.

use super::instructor::{flag_list, timeliness};
use super::layout::page;
use super::svg::trim;
use super::{blocking, error_page, html_response, viewer, Browser, Need, Viewer, Web};
use crate::db::reads::{GradeRecord, QuarantineRecord, SubmissionRecord};
use crate::db::web::FlagRecord;
use crate::error::GraderError;
use crate::rubric::Rubric;
use crate::score::{late_days, Item};
use crate::serve::routes::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use std::sync::Arc;

/// What a student's page shows.
pub struct OwnRecord {
    /// Their hand-ins, with the days late by the rubric's deadline.
    pub submissions: Vec<(SubmissionRecord, u32)>,
    /// Flags of their scored submissions.
    pub flags: Vec<FlagRecord>,
    /// Their hand-ins in quarantine.
    pub quarantined: Vec<QuarantineRecord>,
    /// The deadline the page judges by.
    pub due: DateTime<Utc>,
    /// Released scores: the grade and the counting submission's items.
    pub released: Option<(Option<GradeRecord>, Vec<Item>)>,
}

/// Reads `student`'s own record from `app`'s store.
pub fn read_own(app: &App, student: &str) -> Result<OwnRecord, GraderError> {
    let store = &app.store;
    store.read(|db| {
        let scored = db.last_scored_lab()?;
        let rubric = match &scored {
            Some(lab) => Rubric::stored(db, store.scorers(), lab)?,
            None => store.configured_rubric()?,
        };
        let submissions = db
            .submissions_of(student)?
            .into_iter()
            .map(|s| {
                let late = s.late_days.unwrap_or_else(|| {
                    DateTime::parse_from_rfc3339(&s.created_at)
                        .map(|t| late_days(t.with_timezone(&Utc), &rubric.deadline))
                        .unwrap_or(0)
                });
                (s, late)
            })
            .collect();
        let released = if store.released() {
            let grade = match &scored {
                Some(lab) => db.grades_of(student)?.into_iter().find(|g| &g.lab == lab),
                None => None,
            };
            let items = match grade.as_ref().and_then(|g| g.submission_id.as_deref()) {
                Some(id) => db.items_of(id)?,
                None => Vec::new(),
            };
            Some((grade, items))
        } else {
            None
        };
        Ok(OwnRecord {
            submissions,
            flags: db.flags_of_student(student)?,
            quarantined: db.quarantined_of(student, Some(&format!("service:{student}")))?,
            due: rubric.deadline.due,
            released,
        })
    })
}

/// `GET /me`.
pub async fn page_handler(State(app): State<Arc<App>>, browser: Browser) -> Response {
    let viewer = match viewer(&app, &browser, Need::Anyone).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let reader = app.clone();
    let name = viewer.identity.name.clone();
    match blocking(move || read_own(&reader, &name)).await {
        Ok(Ok(record)) => html_response(StatusCode::OK, own_page(&app.web, &viewer, &record)),
        Ok(Err(error)) => error_page(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The grader could not read your record",
            &error.to_string(),
        ),
        Err(_) => error_page(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The read stopped",
            "",
        ),
    }
}

/// The page of `record`.
pub fn own_page(web: &Web, viewer: &Viewer, record: &OwnRecord) -> Markup {
    let body = html! {
        @if let Some(notebook) = &web.notebook {
            p {
                "The lab notebook is in your home folder: "
                a href=(format!("{}hub/user-redirect/lab/tree/{}", web.hub_base, notebook)) { "open " (notebook) " in JupyterLab" }
                ". Hand in with its Hand in button or " code { "%submit" } "."
            }
        }
        p { "Due " (record.due.format("%Y-%m-%d %H:%M UTC")) ". Every hand-in the grader received from you is listed here; the receipt id is the one your " code { "%submit" } " receipt shows." }
        h2 { "Your hand-ins" }
        @if record.submissions.is_empty() { p { "The grader has no hand-in from you yet." } }
        @else {
            div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                thead { tr {
                    th scope="col" { "Receipt id" } th scope="col" { "Received (UTC)" } th scope="col" { "On time?" }
                    th scope="col" { "SHA-256" } th scope="col" class="num" { "Events" } th scope="col" { "Flags" }
                } }
                tbody { @for (s, late) in &record.submissions { tr {
                    td { code { (s.id) } }
                    td { (s.ingested_at) }
                    td { (timeliness(Some(*late))) }
                    td { span.hash { (s.sha256) } }
                    td.num { (s.events) }
                    td { (flag_list(record.flags.iter().filter(|f| f.submission_id == s.id))) }
                } } }
            } }
        }
        @if !record.quarantined.is_empty() {
            h2 { "Hand-ins the grader could not take" }
            div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                thead { tr { th scope="col" { "Received (UTC)" } th scope="col" { "Why" } th scope="col" { "SHA-256" } } }
                tbody { @for q in &record.quarantined { tr {
                    td { (q.quarantined_at) }
                    td { code { (q.reason) } ": " (q.detail) }
                    td { span.hash { (q.sha256) } }
                } } }
            } }
        }
        h2 { "Your score" }
        @match &record.released {
            None => p role="status" { "Scores are not released yet. They appear here when your instructors release them." },
            Some((None, _)) => p { "Scores are released, but you have no grade in this lab." },
            Some((Some(grade), items)) => {
                p { strong { (trim(grade.total)) " / " (trim(grade.max_total)) " points" } " (" (grade.status.replace('_', " "))
                    @if grade.late_days > 0 { ": " (grade.late_days) " days late, " (trim(grade.penalty)) " points off" } ")"
                    @if let Some(id) = &grade.submission_id { ", from hand-in " code { (id) } } "." }
                @if !items.is_empty() {
                    div.table-wrap tabindex="0" role="region" aria-label="Table (scrolls sideways on a narrow screen)" { table {
                        caption { "Each rubric item, with the reason for its points" }
                        thead { tr { th scope="col" { "Item" } th scope="col" class="num" { "Points" } th scope="col" { "Why" } } }
                        tbody { @for item in items { tr {
                            td { code { (item.id) } }
                            td.num { (trim(item.points)) " / " (trim(item.max)) }
                            td { (item.reason) }
                        } } }
                    } }
                }
            }
        }
    };
    page(
        web,
        Some(viewer),
        &format!("Hand-ins of {}", viewer.identity.name),
        body,
    )
}
