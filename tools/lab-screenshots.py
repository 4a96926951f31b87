#!/usr/bin/env python3
"""Screenshots of the lab's magic outputs, rendered live by JupyterLab.

Starts JupyterLab (from .venv, with the test kernelspec, private settings and a temporary
MLSYS_HOME), opens a small notebook that runs one Act I and one Act II instrument, and saves
PNGs of their outputs in light and dark themes under docs/screenshots/.

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
    with tempfile.TemporaryDirectory(prefix="mlsys-shots-") as tmp:
        tmp = Path(tmp)
        (tmp / "nb").mkdir()
        (tmp / "nb" / "shots.ipynb").write_text(json.dumps(notebook()))
        settings = tmp / "settings"
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
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
             "--LabApp.expose_app_in_browser=True", "--allow-root", f"--ServerApp.root_dir={tmp / 'nb'}"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "lab.log", "w"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{base}/api/status", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            try:
                shoot(base)
            except Exception:
                sys.stderr.write((tmp / "lab.log").read_text()[-3000:])
                raise
        finally:
            lab.terminate()
            lab.wait(timeout=20)
    return 0


def shoot(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.goto(f"{base}/lab/tree/shots.ipynb")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        for theme, suffix in [("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")]:
            page.evaluate(
                f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
            page.wait_for_timeout(2000)
            # Charts pick their theme when rendered: run the cells again in each theme.
            page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(
                "document.querySelectorAll('.jp-Cell .jp-OutputArea-output').length"
                f" >= {len(CELLS) + 2}", timeout=60_000)
            page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=60_000)
            page.wait_for_timeout(2000)
            cells = page.locator(".jp-Notebook .jp-Cell")
            for index, (cid, _) in enumerate(CELLS):
                if cid not in SHOTS:
                    continue
                area = cells.nth(index).locator(".jp-Cell-outputWrapper")
                area.scroll_into_view_if_needed()
                path = OUT / f"{SHOTS[cid]}-{suffix}.png"
                area.screenshot(path=str(path))
                print(path.relative_to(ROOT))
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
