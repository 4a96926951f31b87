"""Running a list of cells as a notebook on the `mlsys` kernel, for the Python tests."""

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
