//! The frame of every page: skip link, header with the user and logout, the
//! main region, the service's own stylesheet and script.

use super::{Viewer, Web};
use maud::{html, Markup, DOCTYPE};

/// A whole page titled `title` around `body`, for `viewer` (none: logged out).
pub fn page(web: &Web, viewer: Option<&Viewer>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mlsys grader" }
                link rel="stylesheet" href=(web.url("/assets/style.css"));
                script src=(web.url("/assets/table.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "mlsys grader" }
                    @if let Some(viewer) = viewer {
                        nav aria-label="Pages" {
                            ul {
                                @if viewer.identity.instructor {
                                    li { a href=(web.url("/instructor")) { "Course overview" } }
                                }
                                li { a href=(web.url("/me")) { "My hand-ins" } }
                                li { a href=(format!("{}hub/home", web.hub_base)) { "JupyterHub" } }
                            }
                        }
                        form.logout method="post" action=(web.url("/logout")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            span { "Logged in as " strong { (viewer.identity.name) } }
                            " "
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page that only says `message`.
pub fn message_page(web: &Web, viewer: Option<&Viewer>, title: &str, message: &str) -> Markup {
    page(
        web,
        viewer,
        title,
        html! {
            p role="status" { (message) }
            p { a href=(web.url("/")) { "Back to the grader" } }
        },
    )
}

/// A form posting to `action` with the session's token and a button `label`;
/// `fields` go before the button.
pub fn post_form(web: &Web, viewer: &Viewer, action: &str, fields: Markup, label: &str) -> Markup {
    html! {
        form method="post" action=(web.url(action)) {
            input type="hidden" name="csrf" value=(viewer.csrf);
            (fields)
            button type="submit" { (label) }
        }
    }
}
