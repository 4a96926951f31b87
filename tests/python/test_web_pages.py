"""The grader's pages in a real browser: headless Chromium (Playwright) against the real JupyterHub
of the Hub tests (deploy/jupyterhub_config.py, configurable-http-proxy, the grader as a managed
service). Users log in at the Hub's login page; the service logs their browser in through the Hub
(OAuth). A student finds the course notebook in their home, works and hands in (in an `mlsys`
kernel of their own server), and sees their receipt on their page, and their score only once the
instructor released it; the instructor sees the overview with charts, opens a student, scores
(a bad uploaded rubric is refused naming its key), releases and downloads the Canvas CSV. A student
on an instructor page gets 403; a cross-site POST is refused. axe-core checks every page (no
serious or critical violation), the pages fit a narrow window, and the skip link leads the keyboard.

Saves a screenshot of each page under target/screenshots (docs/screenshots with
MLSYS_UPDATE_SCREENSHOTS=1, to refresh the committed ones)."""

import asyncio
import csv
import io
import json
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hub_support import ROOT, call, call_json, grader_binary, wait_until
from test_hub import INSTRUCTOR, LAB, STUDENTS, Hub, receipt_of, run_cells

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "target" / "hubtools" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / (
    "docs/screenshots" if os.environ.get("MLSYS_UPDATE_SCREENSHOTS") == "1" else "target/screenshots"
)
NOTEBOOK = "lab_04_data_storage.ipynb"
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def hub(tmp_path_factory, mlsys_kernelspec):
    hub = Hub(tmp_path_factory.mktemp("webhub"), students=STUDENTS)  # ada and grace
    yield hub
    hub.stop()
    print(f"--- end of the JupyterHub log ---\n{hub.tail()}")  # shown when a test failed


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed: apt-get install -y chromium")
    assert AXE.exists(), "axe-core is installed by tools/setup-hubtools"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


def logged_in(chromium, hub: Hub, user: str, next_path: str):
    """A browser context (page) of `user`, logged in at the Hub's login page and sent to `next_path`.
    CSP is bypassed only so that the test can inject axe-core."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True,
                                   accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{hub.base}/hub/login?next={next_path}")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return page


def axe_violations(page) -> list:
    """The serious and critical axe-core violations of the page as shown now."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
        }"""
    )


def check_page(page, name: str) -> None:
    """axe passes, the page fits a narrow window without sideways scrolling, and it is saved."""
    assert axe_violations(page) == [], name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"grader-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at 390px: {wide}"
    assert axe_violations(page) == [], f"{name} (narrow)"
    page.set_viewport_size({"width": 1280, "height": 800})


class CrossSite:
    """A page of another origin whose form posts to the grader (as a hostile site would)."""

    def __init__(self, action: str):
        form = (f'<form id="f" method="post" action="{action}">'
                '<input name="released" value="false"><input name="csrf" value="guess"></form>'
                "<script>document.getElementById('f').submit()</script>").encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(form)))
                self.end_headers()
                self.wfile.write(form)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # "localhost" is another site than the Hub's 127.0.0.1 for the browser.
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_course_in_the_browser(hub, chromium) -> None:
    grader = f"{hub.base}/services/mlsys-grader"
    # The notebook reached each student's home when their server started.
    hub.start_server("ada")
    assert (hub.course / "homes" / "ada" / NOTEBOOK).is_file()
    ada = logged_in(chromium, hub, "ada", "/user/ada/lab")
    ada.locator(f".jp-DirListing-item[title*='{NOTEBOOK}'], .jp-DirListing-itemText >> text={NOTEBOOK}").first.wait_for()

    # A student's own copy is never overwritten: grace's edit survives her server's restart.
    hub.start_server("grace")
    mine = hub.course / "homes" / "grace" / NOTEBOOK
    mine.write_text(mine.read_text().replace("Data Gravity", "Data Gravity (grace's copy)", 1))
    assert hub.admin("DELETE", "/users/grace/server")[0] in (202, 204)
    wait_until(lambda: not hub.admin("GET", "/users/grace")[1].get("servers"), 60, "grace's server to stop")
    hub.start_server("grace")
    assert "(grace's copy)" in mine.read_text()

    # Both students work and hand in from their servers' kernels.
    receipts = {}
    for user in ("ada", "grace"):
        # In a thread of its own: Playwright's sync API keeps this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            outputs = pool.submit(asyncio.run, run_cells(hub.base, user, hub.token_for(user), LAB)).result()
        receipts[user] = receipt_of(outputs[-1])
        text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[-1])
        assert "your page /services/mlsys-grader/me" in text, text
        html = "".join(o.get("data", {}).get("text/html", "") for o in outputs[-1])
        assert 'href="/services/mlsys-grader/me"' in html

    # A hand-in the grader cannot read is kept in grace's quarantine, with the reason.
    status, _, _ = call("POST", f"{grader}/api/submissions", hub.token_for("grace"), b'{"schema_version": 1,')
    assert status == 422

    # The student's page: the receipt, no score yet, and a link to the notebook.
    ada.goto(f"{grader}/")
    ada.wait_for_url(f"{grader}/me")
    ada.get_by_role("heading", name="Hand-ins of ada").wait_for()
    body = ada.inner_text("main")
    assert receipts["ada"]["submission_id"] in body and receipts["ada"]["sha256"] in body
    assert "on time" in body and "Scores are not released yet." in body
    assert ada.get_by_role("link", name=f"open {NOTEBOOK} in JupyterLab").get_attribute("href") == (
        f"/hub/user-redirect/lab/tree/{NOTEBOOK}")
    # The keyboard: the first Tab reaches the skip link, which leads to the main content.
    ada.keyboard.press("Tab")
    assert ada.evaluate("document.activeElement.textContent") == "Skip to content"
    ada.keyboard.press("Enter")
    assert ada.evaluate("document.activeElement.id") == "main"
    check_page(ada, "student-before-release")

    # A student on an instructor page: 403.
    response = ada.goto(f"{grader}/instructor")
    assert response.status == 403 and "Instructors only" in ada.inner_text("main")
    assert ada.goto(f"{grader}/instructor/students/grace").status == 403
    check_page(ada, "student-forbidden")

    # The instructor logs in at the Hub and lands on the overview.
    prof = logged_in(chromium, hub, INSTRUCTOR, "/services/mlsys-grader/")
    prof.wait_for_url(f"{grader}/instructor")
    main = prof.inner_text("main")
    assert "Not scored yet." in main
    cards = dict(zip(prof.locator(".cards dt").all_inner_texts(), prof.locator(".cards dd").all_inner_texts()))
    assert cards == {"Enrolled": "2", "Started": "2", "Submitted": "2", "Late": "0",
                     "Quarantined": "1", "Flagged": "0"}, main
    assert prof.locator("#chart-timeline svg rect").count() > 0
    check_page(prof, "instructor-overview-before-scoring")

    # A bad uploaded rubric is refused naming its key; nothing is scored.
    bad = hub.course / "bad-rubric.toml"
    rubric = subprocess.run([str(grader_binary()), "rubric"], check=True, capture_output=True, text=True).stdout
    bad.write_text(rubric.replace("prediction_locked = ", "prediction_lockd = ", 1))
    prof.check("#rubric-upload")
    prof.set_input_files("#rubric-file", str(bad))
    with prof.expect_navigation() as navigation:
        prof.click("text=Score every submission")
    assert navigation.value.status == 422
    assert "prediction_lockd" in prof.inner_text("[role=alert]")
    check_page(prof, "instructor-rubric-refused")

    # Score with the service's rubric.
    prof.goto(f"{grader}/instructor")
    with prof.expect_navigation():
        prof.click("text=Score every submission")
    assert "scored 2 submissions of 2 students" in prof.inner_text("[role=status]")
    prof.goto(f"{grader}/instructor")
    for chart in ("chart-scores", "chart-items", "chart-act1-gpu_util", "chart-act2-mds_load",
                  "chart-act1-prediction", "chart-timeline"):
        assert prof.locator(f"#{chart} svg rect").count() > 0, chart
    # Search the table; sort it by score.
    prof.fill("#student-search", "grac")
    assert prof.locator("#students tbody tr:visible").count() == 1
    prof.fill("#student-search", "")
    prof.click("#students th:has-text('Score') button")
    assert prof.get_attribute("#students th:has-text('Score')", "aria-sort") == "ascending"
    check_page(prof, "instructor-overview")

    # One student's detail: submissions with items and reasons, the raw download.
    prof.click("#students >> text=grace")
    prof.wait_for_url(f"{grader}/instructor/students/grace")
    assert receipts["grace"]["submission_id"] in prof.inner_text("main")
    assert "malformed_json" in prof.inner_text("main")
    prof.click("summary:has-text('Rubric items')")
    assert "act1.prediction_locked" in prof.inner_text("main")
    with prof.expect_download() as raw:
        prof.click(f"a[aria-label='download submission {receipts['grace']['submission_id']}']")
    assert json.loads(Path(raw.value.path()).read_text())["student"] == "grace"
    check_page(prof, "instructor-student")

    # A cross-site POST (a form on another site the instructor visits) is refused.
    hostile = CrossSite(f"{grader}/instructor/release")
    try:
        with prof.expect_navigation(url=f"{grader}/instructor/release") as navigation:
            prof.goto(hostile.url)
        assert navigation.value.status == 403
        assert "refused" in prof.inner_text("main").lower()
    finally:
        hostile.close()
    prof_token = hub.token_for(INSTRUCTOR)
    assert call_json("GET", f"{grader}/api/release", prof_token) == (200, {"released": False})

    # Release, then the Canvas CSV.
    prof.goto(f"{grader}/instructor")
    with prof.expect_navigation():
        prof.click("text=Release scores")
    assert "Scores are released" in prof.inner_text("[role=status]")
    prof.goto(f"{grader}/instructor")
    with prof.expect_download() as download:
        prof.click("text=Canvas gradebook CSV")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    status, grades = call_json("GET", f"{grader}/api/export?format=json", prof_token)
    assert status == 200
    totals = {g["student"]: g["total"] for g in grades["students"]}
    header, possible, *students = rows
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], header
    assert header[5] == grades["assignment"] and float(possible[5]) == grades["max_total"], rows
    by_login = {row[3]: row for row in students if row[3]}
    assert set(by_login) == {"ada", "grace"}, rows
    for login, row in by_login.items():
        assert float(row[-1]) == pytest.approx(totals[login]), (row, totals)

    # Now the student sees the score with every item's reason.
    ada.goto(f"{grader}/me")
    main = ada.inner_text("main")
    assert "Scores are not released yet." not in main
    assert f"{totals['ada']:g} / " in main or f"{totals['ada']} / " in main, main
    assert "act1.prediction_locked" in main and "prediction B locked" in main
    check_page(ada, "student-released")
