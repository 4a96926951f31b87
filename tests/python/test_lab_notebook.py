"""The lab notebook on the mlsys kernel, as shipped and as played.

As shipped it holds no answers: Run All locks nothing, answers no reflection and hands nothing
in; the only errors are the instruments' lock-first refusals, each saying what to do. Played
(this test adds the student's answers as magic cells after each question, as a student could
type them), it runs top to bottom and every report it shows is the one its cell's text asks
for, with the outputs the seed's formulas give (`seed_oracle`)."""

import copy
import json
import os
import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from seed_oracle import REPORT, Settings, seed_part

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "lab_04_data_storage.ipynb"
# A run's result: its chart, the chart's title as text, and the report; its cards come before.
RUN_MIMES = {"text/plain", "application/vnd.vegalite.v5+json", REPORT}
CARD_MIMES = {"text/html", "text/plain"}
WIDGET = "application/vnd.jupyter.widget-view+json"
# The events a student's own answers make; none may come from the shipped notebook alone.
ANSWERS = {"prediction_locked", "reflection_answered", "submitted"}


def kernel_binary() -> Path:
    target = Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))
    return target / "mlsys-kernel"


def journal(home: Path) -> list:
    path = home / "labs" / "v2_04" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run(nb, allow_errors: bool = False):
    NotebookClient(nb, kernel_name="mlsys", timeout=120, allow_errors=allow_errors).execute()
    return nb


def played(nb, answer: str = "B"):
    """The notebook with the student's answers typed in: `%predict actN X` after each bare
    `%predict actN` cell, `%reflect actN X` after each bare `%reflect actN`, and the hand-in
    button's cell replaced by a typed `%submit`."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        words = cell.source.split()
        if cell.cell_type == "code" and words == ["%submit", "--button"]:
            cell.source = "%submit"
        cells.append(cell)
        if cell.cell_type == "code" and len(words) == 2 and words[0] in ("%predict", "%reflect"):
            cells.append(nbformat.v4.new_code_cell(f"{cell.source} {answer}"))
    nb.cells = cells
    return nb


def test_run_all_on_the_shipped_notebook_answers_nothing(mlsys_kernelspec, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLSYS_HOME", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    for source in sources:
        words = source.split()
        if words[:1] in (["%predict"], ["%reflect"]):
            assert len(words) == 2, f"the notebook answers for the student: {source!r}"
    assert "%submit" not in sources, "the notebook hands in for the student"

    run(nb, allow_errors=True)
    events = journal(tmp_path)
    assert not [e for e in events if e["type"] in ANSWERS], events
    outbox = tmp_path / "outbox"
    assert not (outbox.exists() and any(outbox.iterdir())), "nothing handed in"

    errors = [
        (cell.source, o)
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == "error"
    ]
    assert errors, "the instruments refuse before a lock"
    for source, error in errors:
        assert error.ename == "LabError", (source, error)
        assert "prediction is not locked yet: pick your answer in the question" in error.evalue
        assert "click Lock" in error.evalue, error.evalue
    refused = {source.split()[0] for source, _ in errors}
    assert refused <= {"%io", "%mds", "%reveal"}, refused

    # Each question shows its widget (radio buttons and a button), nothing picked.
    questions = [c for c in nb.cells if c.cell_type == "code" and c.source.split()[:1] in (["%predict"], ["%reflect"])]
    assert len(questions) == 4
    for cell in questions:
        [shown] = [o for o in cell.outputs if WIDGET in o.get("data", {})]
        assert "Pick an option and click" in shown.data["text/plain"], cell.source
    [button] = [c for c in nb.cells if c.source == "%submit --button"]
    assert any(WIDGET in o.get("data", {}) for o in button.outputs)


def test_the_notebook_played_shows_the_seeds_report_for_every_cell(
    mlsys_kernelspec, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MLSYS_HOME", str(tmp_path))
    nb = run(played(nbformat.read(NOTEBOOK, as_version=4)))

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]

    # Each magic cell's runs, read from its text; each non-live run shows cards, then its report.
    settings = Settings()
    checked = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "skip-execution" in cell.metadata.get("tags", []):
            continue
        reports = [o for o in cell.outputs if REPORT in o.get("data", {})]
        expected = [run for run in settings.runs(cell.source) if not run.live]
        assert len(reports) == len(expected), (cell.source, expected, len(reports))
        for output, run_ in zip(reports, expected):
            assert output.output_type == "execute_result"
            assert set(output.data) == RUN_MIMES
            cards = cell.outputs[cell.outputs.index(output) - 1]
            assert cards.output_type == "display_data" and set(cards.data) == CARD_MIMES
            assert any(
                title in cards.data["text/html"]
                for title in ("What limits this", "Nothing on the I/O side limits", "Nothing limits")
            ), cell.source
            assert seed_part(output.data[REPORT]) == run_.report(), run_
            checked.append((run_, output.data[REPORT], cards.data["text/plain"]))

    # The notebook's runs, pinned: a change to the notebook shows up here first.
    assert [(r.act, r.inputs) for r, _, _ in checked] == [
        ("act1", {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 24}),
        ("act1", {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 48}),
        ("act1", {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 8}),
        ("act1", {"context": "distributed_fs", "workers": 4, "batch": 64, "pattern": "random", "osts": 24}),
        ("act1", {"context": "distributed_fs", "workers": 4, "batch": 64, "pattern": "sequential",
                  "osts": 24}),
        ("act1", {"context": "distributed_fs", "workers": 8, "batch": 64, "pattern": "prefetch", "osts": 24}),
        ("act2", {"context": "distributed_fs", "gpus": 512, "workers_per_gpu": 4, "layout": "individual",
                  "mds": 1}),
        ("act2", {"context": "distributed_fs", "gpus": 4096, "workers_per_gpu": 8, "layout": "individual",
                  "mds": 1}),
        ("act2", {"context": "distributed_fs", "gpus": 4096, "workers_per_gpu": 8, "layout": "individual",
                  "mds": 8}),
        ("act2", {"context": "distributed_fs", "gpus": 4096, "workers_per_gpu": 8, "layout": "shards",
                  "mds": 1}),
        ("act2", {"context": "distributed_fs", "gpus": 4096, "workers_per_gpu": 8, "layout": "object_store",
                  "mds": 1}),
    ]
    first, last = checked[0][0].report()["outputs"], checked[7][0].report()["outputs"]
    assert first["status"] == "starved" and last["mds_saturated"] is True

    # What the notebook's text says about the OSTs holds: doubling them changes nothing that
    # reaches the GPUs, because the fabric binds, and only the storage's share in use halves;
    # fewer OSTs than the fabric carries lower utilization and bandwidth.
    (_, default, _), (_, doubled, doubled_cards), (_, few, _) = checked[:3]
    reaching = ["gpu_util_pct", "effective_bw_gbs", "t_wait_ms", "t_io_ms", "util_curve"]
    assert [doubled["outputs"][k] for k in reaching] == [default["outputs"][k] for k in reaching]
    changed = {k for k in default["outputs"] if doubled["outputs"][k] != default["outputs"][k]}
    assert changed == {"network_overhead", "storage_util_pct"}, changed
    # (The seed divides by storage + 0.001 GB/s, so "halves" holds to six digits.)
    halved = doubled["outputs"]["storage_util_pct"] / default["outputs"]["storage_util_pct"]
    assert abs(halved - 0.5) < 1e-5, halved
    assert doubled["limits"]["more_osts_help"] is False
    assert "IB fabric" in doubled_cards and "more OSTs change nothing" in doubled_cards
    assert few["limits"]["more_osts_help"] is True
    assert few["outputs"]["effective_bw_gbs"] < default["outputs"]["effective_bw_gbs"]
    assert few["outputs"]["gpu_util_pct"] < default["outputs"]["gpu_util_pct"]
    hardware = [f for f in default["limits"]["factors"] if f["factor"] in ("storage", "fabric")]
    pattern = [f for f in default["limits"]["factors"] if f["factor"] == "pattern"]
    assert max(f["cost_gbs"] for f in hardware) < pattern[0]["cost_gbs"], "not the biggest loss"

    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Prediction locked: B." in text
    assert "Correct. You predicted B" in text
    assert "Lab handed in. What the instruments showed" in text
    kinds = [e["type"] for e in journal(tmp_path)]
    assert kinds.count("prediction_locked") == 2 and kinds.count("reflection_answered") == 2
    assert kinds.count("submitted") == 1


def test_evaluate_rejects_invalid_runs() -> None:
    bad = {"act": "act1", "inputs": {"context": "nvme", "workers": 1, "batch": 100,
                                     "pattern": "random", "osts": 24}}
    out = subprocess.run(
        [str(kernel_binary()), "evaluate", json.dumps(bad)], capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "batch must be a multiple of 32 between 32 and 512, got 100" in out.stderr
