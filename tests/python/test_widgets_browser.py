"""The lab's widgets in a real browser: JupyterLab 4 (from the venv) renders the kernel's
ipywidgets with its standard widget manager in headless Chromium.

* A student plays a fresh notebook with the mouse: reads the Act I question, clicks an option
  and **Lock**, moves a slider of the live analyzer, answers the reflection by widget, and
  hands in with the **Hand in** button; the receipt appears, and the lab's journal holds
  exactly the events those clicks make.
* Moving a slider reruns the model in the kernel, the kernel sends the run's report and cards
  (read off the page's websocket), and the card shows the figure the seed's formulas give
  (`seed_oracle`). The settings are chosen so that every move changes the card's figure.

Saves answer-*.png, handin-receipt.png, live-io-before.png and live-io-after.png under
target/screenshots (under docs/screenshots when MLSYS_UPDATE_SCREENSHOTS=1, to refresh the
committed ones), and prints the keypress-to-repaint times it measured (also written to
target/widgets-browser-timing.json).
"""

import html.parser
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest
from seed_oracle import REPORT, Settings, expected_report, seed_part

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / (
    "docs/screenshots" if os.environ.get("MLSYS_UPDATE_SCREENSHOTS") == "1" else "target/screenshots"
)
TIMING_FILE = ROOT / "target" / "widgets-browser-timing.json"
FAILURE_SHOT = ROOT / "target" / "widgets-browser-failure.png"
# Sequential reads at the other defaults: 1 to 7 workers show 13%, 24%, 35%, 45%, 47%, 48%, 50%.
LIVE_CELL = "%predict act1 B\n%io --live --pattern sequential"
TIMEOUT_MS = 60_000
MOVES = 6

# The GPU Utilization card's number inside the cards HTML widget.
GPU_CARD = (
    "xpath=//div[contains(@class,'widget-html')]"
    "//div[normalize-space(text())='GPU Utilization']/following-sibling::div[1]"
)
WORKERS_HANDLE = ".widget-hslider >> nth=0 >> .noUi-handle"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_run(workers: int) -> dict:
    """The Act I run the live cell shows after the workers slider moved to `workers`."""
    [run] = Settings().runs(LIVE_CELL)
    assert run.live
    return dict(run.inputs, workers=workers)


def gpu_figure(report: dict) -> str:
    """The GPU Utilization card's text for a report: the seed's `{_gpu_util:.0f}%`."""
    return f"{report['outputs']['gpu_util_pct']:.0f}%"


class Texts(html.parser.HTMLParser):
    """The non-blank text nodes of an HTML page, in order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.texts = []
        self.feed(page)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


def card_figure(cards_html: str) -> str:
    """The figure under the "GPU Utilization" label in the cards HTML."""
    texts = Texts(cards_html).texts
    return texts[texts.index("GPU Utilization") + 1]


def decode_frame(payload) -> dict:
    """A kernel message the server sent the page: JSON text, or the binary
    `v1.kernel.websocket.jupyter.org` framing (u64 count, u64 offsets, channel, header,
    parent header, metadata, content, buffers)."""
    if isinstance(payload, str):
        return json.loads(payload)
    count = int.from_bytes(payload[:8], "little")
    offsets = [int.from_bytes(payload[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)]
    parts = [payload[a:b] for a, b in zip(offsets, offsets[1:] + [len(payload)])]
    channel, header, _parent, _metadata, content = parts[:5]
    return {"channel": channel.decode(), "header": json.loads(header), "content": json.loads(content)}


class KernelSent:
    """What the kernel sent the page over the websocket: every widget state it set."""

    def __init__(self, page) -> None:
        self.frames = []
        page.on("websocket", self.watch)

    def watch(self, ws) -> None:
        """Keeps the frames of kernel channels (not JupyterLab's other websockets)."""
        if "/api/kernels/" in ws.url and "/channels" in ws.url:
            ws.on("framereceived", lambda payload: self.frames.append(payload))

    def states(self) -> list:
        """Each widget state the kernel opened or updated, in order."""
        states = []
        for payload in self.frames:
            msg = decode_frame(payload)
            if msg["header"]["msg_type"] in ("comm_open", "comm_msg"):
                state = msg["content"].get("data", {}).get("state")
                if state:
                    states.append(state)
        return states

    def latest(self) -> tuple:
        """The last cards HTML and the last run report the kernel sent (None until sent)."""
        cards = report = None
        for state in self.states():
            if "GPU Utilization" in str(state.get("value", "")):
                cards = state["value"]
            for output in state.get("outputs", []):
                report = output.get("data", {}).get(REPORT, report)
        return cards, report


def wait_for_kernel(page, sent: KernelSent, inputs: dict) -> str:
    """Waits until the kernel has sent the report for `inputs`; returns its cards HTML."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        cards, report = sent.latest()
        if report is not None and report["inputs"] == inputs:
            assert seed_part(report) == expected_report("act1", inputs)
            return cards
        assert time.monotonic() < deadline, f"no report for {inputs}; last {report}"
        page.wait_for_timeout(25)  # lets Playwright deliver the next frames


class Lab:
    """A running JupyterLab: the notebook's URL and the kernel's MLSYS_HOME."""

    def __init__(self, url: str, home: Path) -> None:
        self.url, self.home = url, home

    def events(self) -> list:
        """The lab's journal, event types in order."""
        path = self.home / "labs" / "v2_04" / "events.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["type"] for line in lines]


@pytest.fixture
def lab_server(request, mlsys_kernelspec):
    """A JupyterLab server on a free port with a notebook of the cells the test names
    (`request.param`; default: the one live cell); yields a `Lab`."""
    cells = getattr(request, "param", [LIVE_CELL])
    work = Path(tempfile.mkdtemp(prefix="mlsys-lab-"))
    notebooks = work / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "mlsys", "display_name": "MLSys Lab", "language": "rust"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, notebooks / "live.ipynb")
    port, token = free_port(), uuid.uuid4().hex
    env = dict(os.environ)
    env.update(
        MLSYS_HOME=str(work / "home"),
        JUPYTERHUB_USER="ada",
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
    )
    # No news or update pop-ups over the notebook; every cell rendered (no windowing).
    settings = work / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    tracker = work / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "jupyter"),
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            "--allow-root",
            f"--ServerApp.root_dir={notebooks}",
            "--LabApp.news_url=",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(work / 'server.log').read_text()}")
                time.sleep(0.25)
        yield Lab(f"{base}/lab/tree/live.ipynb?token={token}", work / "home")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def run_cell(page, index: int = 0):
    """Runs the notebook's cell `index` in place once the kernel takes it; returns the cell.

    JupyterLab silently skips a run requested before its kernel connection is up, so
    the run is retried until the cell's prompt shows it queued or done.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".cm-content").wait_for()
    page.get_by_text(re.compile(r"MLSys Lab \| Idle")).first.wait_for()
    started = cell.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    for _ in range(10):
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        try:
            started.wait_for(timeout=5_000)
            return cell
        except PlaywrightTimeout:
            continue
    pytest.fail(f"JupyterLab never ran cell {index}")


def launch(p):
    """Debian's headless Chromium."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed: apt-get install -y chromium")
    return p.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def shot(locator, name: str) -> None:
    """A screenshot of one cell's outputs, whole (nothing cut off at the viewport)."""
    area = locator.locator(".jp-Cell-outputWrapper")
    area.scroll_into_view_if_needed()
    area.screenshot(path=str(SCREENSHOTS / name))


def test_slider_move_shows_the_models_number(lab_server):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)
            sent = KernelSent(page)
            page.goto(lab_server.url)
            run_cell(page)

            card = page.locator(GPU_CARD)
            try:
                card.wait_for()
            except Exception:
                FAILURE_SHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(FAILURE_SHOT))
                raise
            handle = page.locator(WORKERS_HANDLE)
            handle.wait_for()
            page.locator(".widget-html-content >> text=Your run").first.wait_for()
            want = gpu_figure(expected_report("act1", live_run(1)))
            assert card_figure(wait_for_kernel(page, sent, live_run(1))) == want
            assert card.inner_text().strip() == want
            page.locator(".jp-OutputArea-output .vega-embed").first.wait_for()
            page.screenshot(path=str(SCREENSHOTS / "live-io-before.png"), full_page=False)

            # Instrument the page: keydown time, first mutation of the card, next frame.
            page.evaluate(
                """(xpath) => {
                  window.__marks = [];
                  document.addEventListener('keydown', () => {
                    window.__marks.push({down: performance.now()});
                  }, true);
                  const card = document.evaluate(xpath, document, null,
                    XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
                  const cards = card.closest('.widget-html');
                  new MutationObserver(() => {
                    const m = window.__marks[window.__marks.length - 1];
                    if (m && m.dom === undefined) {
                      m.dom = performance.now();
                      requestAnimationFrame(() => { m.frame = performance.now(); });
                    }
                  }).observe(cards, {subtree: true, childList: true, characterData: true});
                }""",
                GPU_CARD.removeprefix("xpath="),
            )
            handle.focus()
            shown = [want]
            for workers in range(2, 2 + MOVES):
                page.keyboard.press("ArrowRight")
                want = gpu_figure(expected_report("act1", live_run(workers)))
                assert card_figure(wait_for_kernel(page, sent, live_run(workers))) == want
                page.wait_for_function(
                    """([want, n, xpath]) => {
                      const card = document.evaluate(xpath, document, null,
                        XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
                      const m = window.__marks[n];
                      return card && card.textContent.trim() === want && m && m.frame !== undefined;
                    }""",
                    arg=[want, workers - 2, GPU_CARD.removeprefix("xpath=")],
                )
                assert card.inner_text().strip() == want
                assert page.locator(".widget-readout").first.inner_text().strip() == str(workers)
                shown.append(want)
            # Every move changed the figure, so a card that stopped updating would have failed.
            assert len(set(shown)) == len(shown), shown
            page.locator(".jp-OutputArea-output .vega-embed").first.wait_for()
            page.screenshot(path=str(SCREENSHOTS / "live-io-after.png"), full_page=False)
            marks = page.evaluate("() => window.__marks")
        finally:
            browser.close()
    to_dom = [m["dom"] - m["down"] for m in marks]
    to_frame = [m["frame"] - m["down"] for m in marks]
    timing = {
        "moves": len(marks),
        "keydown_to_card_update_ms_p50": statistics.median(to_dom),
        "keydown_to_next_frame_ms_p50": statistics.median(to_frame),
        "keydown_to_next_frame_ms_max": max(to_frame),
    }
    TIMING_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMING_FILE.write_text(json.dumps(timing, indent=2))
    print(f"\nwidget repaint timing: {timing}", file=sys.stderr)


STUDENT_CELLS = ["%predict act1", "%io --live --pattern sequential", "%reflect act1", "%submit --button"]


@pytest.mark.parametrize("lab_server", [STUDENT_CELLS], indirect=True)
def test_a_student_answers_by_widget_moves_a_slider_and_hands_in_with_the_button(lab_server):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(lab_server.url)

            # The question, read: the briefing, the prompt, four options, nothing picked.
            question = run_cell(page, 0)
            radios = question.locator(".widget-radio-box input[type=radio]")
            radios.nth(3).wait_for()
            assert radios.count() == 4
            question.get_by_text("GPU utilization is about 1% despite a 672 GB/s Lustre cluster").wait_for()
            question.get_by_text("Recommended reading").first.wait_for()
            assert not any(radios.nth(i).is_checked() for i in range(4))
            lock = question.locator("button.jupyter-button", has_text="Lock")
            assert lab_server.events() == []
            shot(question, "answer-question.png")

            # An option and Lock: locked, the widget disabled on it, one event.
            question.locator(".widget-radio-box label", has_text="B) Small random reads").click()
            lock.click()
            question.get_by_text("Prediction locked: B.").wait_for()
            expect(lock).to_be_disabled()
            assert radios.nth(1).is_checked() and radios.nth(1).is_disabled()
            assert lab_server.events() == ["prediction_locked"]
            shot(question, "answer-locked.png")

            # The live analyzer opens now; a slider move is one recorded run.
            live = run_cell(page, 1)
            card = live.locator(GPU_CARD)
            card.wait_for()
            expect(card).to_have_text(gpu_figure(expected_report("act1", live_run(1))))
            live.locator(WORKERS_HANDLE).focus()
            page.keyboard.press("ArrowRight")
            expect(card).to_have_text(gpu_figure(expected_report("act1", live_run(2))))
            live.locator(".jp-OutputArea-output .vega-embed").first.wait_for()
            labels = live.locator(".widget-toggle-button")
            for i in range(labels.count()):
                button = labels.nth(i)
                assert button.evaluate("(b) => b.scrollWidth <= b.clientWidth"), button.inner_text()
            shot(live, "answer-live-io.png")

            # The reflection, answered by widget: the feedback shows, the first answer counts.
            reflect = run_cell(page, 2)
            reflect.locator(".widget-radio-box label", has_text="B) Pre-shuffle").click()
            reflect.locator("button.jupyter-button", has_text="Answer").click()
            reflect.get_by_text("Correct.").first.wait_for()
            shot(reflect, "answer-reflection.png")

            # The hand-in by button: the receipt appears under it.
            hand_in = run_cell(page, 3)
            hand_in.locator("button.jupyter-button", has_text="Hand in").click()
            hand_in.get_by_text("Submission receipt").wait_for()
            hand_in.get_by_text("Lab handed in. What the instruments showed").wait_for()
            shot(hand_in, "handin-receipt.png")
        except Exception:
            FAILURE_SHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(FAILURE_SHOT), full_page=True)
            raise
        finally:
            browser.close()
    events = lab_server.events()
    assert events[0] == "prediction_locked" and events.count("prediction_locked") == 1
    assert events.count("instrument_run") == 2, events  # the live cell's run and the move
    assert events.count("reflection_answered") == 1 and events[-1] == "submitted", events
    [file] = list((lab_server.home / "outbox").iterdir())
    assert file.name.startswith("v2_04-ada-")
