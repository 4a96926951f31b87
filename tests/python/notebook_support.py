"""Running the `mlsys` kernel in the Python tests: a list of cells as a notebook, and the
environment of a kernel that runs Rust cells."""

import os
from pathlib import Path
from typing import List

import nbformat
from nbclient import NotebookClient


def run_notebook(cells: List[str]) -> List[list]:
    """Runs `cells` as a fresh notebook with nbclient; returns each cell's outputs.

    Fails the test if any cell produced an error.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "mlsys", "display_name": "MLSys Lab", "language": "rust"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(nb, kernel_name="mlsys", timeout=120).execute()
    outputs = [cell.outputs for cell in nb.cells]
    errors = [o for cell in outputs for o in cell if o.output_type == "error"]
    assert not errors, errors
    return outputs


def rust_cells_env(**overrides: str) -> dict:
    """The environment for a kernel that runs Rust cells: evcxr's cache of compiled
    dependencies in target/, shared by every such kernel of the suite and by later runs."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(Path(__file__).resolve().parents[2] / "target" / "rust-cells-test-cache")
    env.update(overrides)
    return env
