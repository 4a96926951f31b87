"""The lab notebook runs top to bottom on the mlsys kernel, and every report it shows
equals the lab model's result for the same inputs (via `mlsys-kernel evaluate`)."""

import json
import os
import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "lab_04_data_storage.ipynb"
REPORT = "application/vnd.mlsys.report.v1+json"
RUN_MIMES = {"text/html", "text/plain", "application/vnd.vegalite.v5+json", REPORT}


def kernel_binary() -> Path:
    target = Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))
    return target / "mlsys-kernel"


def model_report(run: dict) -> dict:
    """The model's report for a run, from the kernel binary's `evaluate` subcommand."""
    out = subprocess.run(
        [str(kernel_binary()), "evaluate", json.dumps(run)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_lab_notebook_runs_and_every_report_matches_the_model(
    mlsys_kernelspec, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MLSYS_HOME", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="mlsys", timeout=120).execute()

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]

    reports = [o for o in outputs if REPORT in o.get("data", {})]
    acts = [o.data[REPORT]["act"] for o in reports]
    assert acts.count("act1") == 5 and acts.count("act2") == 5, acts
    for output in reports:
        assert output.output_type == "execute_result"
        assert set(output.data) == RUN_MIMES
        report = output.data[REPORT]
        run = {"act": report["act"], "inputs": report["inputs"]}
        assert report == model_report(run)

    act1 = [o.data[REPORT] for o in reports if o.data[REPORT]["act"] == "act1"]
    assert act1[0]["inputs"]["workers"] == 1 and act1[0]["outputs"]["status"] == "starved"
    assert act1[-1]["inputs"] == {
        "context": "distributed_fs",
        "workers": 8,
        "batch": 64,
        "pattern": "prefetch",
        "osts": 24,
    }
    act2 = [o.data[REPORT] for o in reports if o.data[REPORT]["act"] == "act2"]
    assert act2[1]["outputs"]["mds_saturated"] is True
    assert act2[-1]["inputs"]["layout"] == "object_store"

    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Prediction locked: A." in text
    assert "Not quite. You predicted A" in text
    assert (tmp_path / "labs" / "v2_04" / "events.jsonl").exists()


def test_evaluate_rejects_invalid_runs() -> None:
    bad = {"act": "act1", "inputs": {"context": "nvme", "workers": 1, "batch": 100,
                                     "pattern": "random", "osts": 24}}
    out = subprocess.run(
        [str(kernel_binary()), "evaluate", json.dumps(bad)], capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "batch must be a multiple of 32 between 32 and 512, got 100" in out.stderr
