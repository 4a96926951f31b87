#!/usr/bin/env python3
"""Screenshots of the lab's magic outputs, rendered live by JupyterLab.

For each theme (light, dark) starts JupyterLab (from .venv, with the test kernelspec, private
settings and a fresh MLSYS_HOME), opens a small notebook that shows the Act I question, runs
one Act I and one Act II instrument and the Act II reveal, and saves PNGs of their outputs
under docs/screenshots/. It waits on what the page shows (every cell ran, charts and widgets
drawn), never for a fixed time.

    make kernelspec-test && .venv/bin/python tools/lab-screenshots.py
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CELLS = [
    ("briefing", "%predict act1"),
    ("lock1", "%predict act1 B"),
    ("act1", "%io --workers 2 --pattern random"),
    ("lock2", "%predict act2 B"),
    ("act2", "%mds --gpus 4096 --workers 8"),
    ("reveal2", "%reveal act2"),
]
SHOTS = {"briefing": "act1-briefing", "act1": "act1-io", "act2": "act2-mds", "reveal2": "act2-reveal"}
CHARTS = {"act1", "act2"}  # cells whose chart must be drawn before the shot
QUESTIONS = {"briefing"}  # cells whose question widget must be drawn before the shot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook() -> dict:
    cells = [
        {"cell_type": "code", "id": cid, "metadata": {}, "execution_count": None,
         "outputs": [], "source": src}
        for cid, src in CELLS
    ]
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "mlsys", "display_name": "MLSys Lab",
                                    "language": "rust"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    # One fresh JupyterLab (and MLSYS_HOME) per theme, so both themes show the same session.
    for theme, suffix in [("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")]:
        with tempfile.TemporaryDirectory(prefix="mlsys-shots-") as tmp:
            serve_and_shoot(Path(tmp), theme, suffix)
    return 0


def serve_and_shoot(tmp: Path, theme: str, suffix: str) -> None:
    (tmp / "nb").mkdir()
    (tmp / "nb" / "shots.ipynb").write_text(json.dumps(notebook()))
    settings = tmp / "settings"
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # No news or update pop-up over the outputs.
    notices = settings / "@jupyterlab" / "apputils-extension"
    notices.mkdir(parents=True)
    (notices / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ)
    env.update({
        "JUPYTER_PATH": str(ROOT / "target" / "jupyter-test" / "share" / "jupyter"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "MLSYS_HOME": str(tmp / "home"),
    })
    port = free_port()
    lab = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", f"--port={port}",
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--allow-root", f"--ServerApp.root_dir={tmp / 'nb'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "lab.log", "w"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status", timeout=1)
                break
            except OSError:
                if lab.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit((tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.25)
        try:
            shoot(base, theme, suffix)
        except Exception:
            sys.stderr.write((tmp / "lab.log").read_text()[-3000:])
            raise
    finally:
        lab.terminate()
        lab.wait(timeout=20)


# Every cell ran ("[n]:" on each prompt) and the kernel is idle again.
ALL_RAN = """(n) => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt')];
  const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
  return idle && prompts.length === n && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent));
}"""


def run_all(page) -> None:
    """Runs every cell. JupyterLab silently skips a run requested before its kernel
    connection is up, so the run is asked again until a cell shows it queued or done."""
    started = "() => [...document.querySelectorAll('.jp-InputPrompt')]" \
        ".some((p) => /\\[(\\*|\\d+)\\]/.test(p.textContent))"
    page.get_by_text("MLSys Lab | Idle").first.wait_for()
    for _ in range(10):
        # Not awaited: the command's promise settles only when every cell has run.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(started, timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    raise RuntimeError("JupyterLab never ran the notebook")


def shoot(base: str, theme: str, suffix: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.set_default_timeout(120_000)
        page.goto(f"{base}/lab/tree/shots.ipynb")
        page.wait_for_function("window.jupyterapp !== undefined")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        # Charts take their theme when rendered: the theme first, then the cells.
        page.evaluate(
            f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
        page.wait_for_function(f"document.body.dataset.jpThemeName === '{theme}'")
        run_all(page)
        page.wait_for_function(ALL_RAN, arg=len(CELLS))
        cells = page.locator(".jp-Notebook .jp-Cell")
        for index, (cid, _) in enumerate(CELLS):
            if cid not in SHOTS:
                continue
            cell = cells.nth(index)
            if cid in CHARTS:
                cell.locator(".vega-embed svg, .vega-embed canvas").first.wait_for()
            if cid in QUESTIONS:
                cell.locator(".widget-radio-box input[type=radio]").nth(3).wait_for()
            area = cell.locator(".jp-Cell-outputWrapper")
            area.scroll_into_view_if_needed()
            path = OUT / f"{SHOTS[cid]}-{suffix}.png"
            area.screenshot(path=str(path))
            print(path.relative_to(ROOT))
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
