"""The lab notebook runs top to bottom on the mlsys kernel, and every report it shows is the one
its cell's text asks for, with the outputs the seed's formulas give (`seed_oracle`)."""

import json
import os
import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from seed_oracle import REPORT, Settings, seed_part

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "lab_04_data_storage.ipynb"
RUN_MIMES = {"text/html", "text/plain", "application/vnd.vegalite.v5+json", REPORT}


def kernel_binary() -> Path:
    target = Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))
    return target / "mlsys-kernel"


def test_lab_notebook_runs_and_every_report_is_the_seeds_for_its_cells_inputs(
    mlsys_kernelspec, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("MLSYS_HOME", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="mlsys", timeout=120).execute()

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]

    # Each magic cell's runs, read from its text; each non-live run shows one report.
    settings = Settings()
    checked = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "skip-execution" in cell.metadata.get("tags", []):
            continue
        reports = [o for o in cell.outputs if REPORT in o.get("data", {})]
        expected = [run for run in settings.runs(cell.source) if not run.live]
        assert len(reports) == len(expected), (cell.source, expected, len(reports))
        for output, run in zip(reports, expected):
            assert output.output_type == "execute_result"
            assert set(output.data) == RUN_MIMES
            assert seed_part(output.data[REPORT]) == run.report(), run
            checked.append(run)

    # The notebook's runs, pinned: a change to the notebook shows up here first.
    assert [(r.act, r.inputs) for r in checked] == [
        ("act1", {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 24}),
        ("act1", {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 48}),
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
    first, last = checked[0].report()["outputs"], checked[6].report()["outputs"]
    assert first["status"] == "starved" and last["mds_saturated"] is True

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
