"""nbclient runs a small notebook on the installed mlsys kernel, end to end."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent / "notebooks" / "kernel_smoke.ipynb"


def plain(output: dict) -> str:
    return output.get("data", {}).get("text/plain", "")


def test_notebook_runs_end_to_end(mlsys_kernelspec) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="mlsys", timeout=60).execute()
    cells = {cell.get("id"): cell for cell in nb.cells}

    help_outputs = cells["help"].outputs
    assert [o.output_type for o in help_outputs] == ["execute_result"]
    assert "%lsmagic" in plain(help_outputs[0])
    assert cells["help"].execution_count == 1

    two = cells["two-lines"].outputs
    assert [o.output_type for o in two] == ["display_data", "execute_result"]
    assert "%help" in plain(two[0])
    assert "List the names of all magics." in plain(two[1])

    error = cells["error"].outputs
    assert [o.output_type for o in error] == ["error"]
    assert error[0].ename == "UsageError"
    assert "%no_such_magic" in error[0].evalue

    after = cells["after-error"]
    assert after.execution_count == 4
    assert [o.output_type for o in after.outputs] == ["execute_result"]
