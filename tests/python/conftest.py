"""Shared setup for the Python tests: the installed test kernelspec and a private MLSYS_HOME.

`make test-python` installs the debug kernel into target/jupyter-test (`make kernelspec-test`)
and points JUPYTER_PATH there; every kernel these tests start inherits MLSYS_HOME from here,
so nothing touches the user's ~/.mlsys.
"""

import os
import shutil
import tempfile

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

KERNEL_NAME = "mlsys"


_HOME = tempfile.mkdtemp(prefix="mlsys-home-")


def pytest_configure(config: pytest.Config) -> None:
    """Points MLSYS_HOME at a fresh directory before any kernel starts."""
    os.environ["MLSYS_HOME"] = _HOME


def pytest_unconfigure(config: pytest.Config) -> None:
    """Removes the session's MLSYS_HOME."""
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def mlsys_kernelspec():
    """The installed `mlsys` kernelspec; fails with the command to run if it is missing."""
    try:
        return KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        pytest.fail(
            "kernelspec 'mlsys' not found: run `make kernelspec-test` and set "
            "JUPYTER_PATH=target/jupyter-test/share/jupyter (or use `make test-python`)"
        )
