"""Rust cells through a real mlsys kernel, over ZeroMQ with jupyter_client: every cell
that is not a magic runs as Rust in evcxr, with `mlsys_model` at hand.

Starting evcxr compiles mlsys-model and its dependencies (about a minute on 2 cores),
so one kernel serves the tests of this module; only the missing-toolchain test (which never
starts evcxr) has a kernel of its own. Each test defines the Rust variables it reads, and the
`kernel` fixture starts the Rust worker again if an earlier test stopped it, so the tests pass
alone and in any order. evcxr's compile cache lives in target/, so a restarted kernel and
later runs start faster. Expected figures come from the seed's formulas (`seed_oracle`).
"""

import json
import os
import select
import signal
import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from notebook_support import rust_cells_env
from seed_oracle import DEFAULTS, REPORT, expected_report, formulas, seed_part

ROOT = Path(__file__).resolve().parents[2]
# The first Rust cell starts evcxr and compiles the model; later cells take seconds.
FIRST_CELL_TIMEOUT = 900
CELL_TIMEOUT = 300
# A restart asks the kernel to shut down (it gives the worker up to 5 s to exit, jupyter_client
# gives the kernel 5 s before killing it); after that the worker must be gone.
WORKER_EXIT_TIMEOUT = 15


class Kernel:
    """A started kernel and a blocking client, with a cell runner that keeps iopub order."""

    def __init__(self, env: dict) -> None:
        self.manager = KernelManager(kernel_name="mlsys")
        self.manager.start_kernel(env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def send(self, code: str) -> str:
        return self.client.execute(code, allow_stdin=False)

    def iopub_until(self, msg_id: str, done, timeout: float) -> list:
        """iopub messages of `msg_id`, through the first one for which `done` holds."""
        deadline = time.monotonic() + timeout
        messages = []
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out; iopub so far: {summary(messages)}"
            msg = self.client.get_iopub_msg(timeout=remaining)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if done(msg):
                return messages

    def reply(self, msg_id: str, timeout: float) -> dict:
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    def run(self, code: str, timeout: float = CELL_TIMEOUT) -> "Cell":
        msg_id = self.send(code)
        iopub = self.iopub_until(msg_id, is_idle, timeout)
        return Cell(self.reply(msg_id, timeout), iopub)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


class Cell:
    """One executed cell: its reply and its iopub messages (busy to idle)."""

    def __init__(self, reply: dict, iopub: list) -> None:
        self.reply = reply
        self.iopub = iopub

    @property
    def outputs(self) -> list:
        return [m for m in self.iopub if m["msg_type"] not in ("status", "execute_input")]

    def stream(self, name: str) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.outputs
            if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    def result(self) -> dict:
        results = [m["content"]["data"] for m in self.outputs if m["msg_type"] == "execute_result"]
        assert len(results) == 1, summary(self.iopub)
        return results[0]

    def error(self) -> dict:
        errors = [m["content"] for m in self.outputs if m["msg_type"] == "error"]
        assert len(errors) == 1, summary(self.iopub)
        return errors[0]


def is_idle(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"


def summary(messages: list) -> list:
    return [(m["msg_type"], json.dumps(m["content"])[:300]) for m in messages]


def ok(cell: Cell) -> Cell:
    assert cell.reply["status"] == "ok", (cell.reply, summary(cell.iopub))
    return cell


class Started:
    """The module's kernel and the first cells it ran: a magic, then the first Rust cell."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.magic = kernel.run("%help")
        self.first_rust = kernel.run("let base = 40;\nbase + 2", timeout=FIRST_CELL_TIMEOUT)


@pytest.fixture(scope="module")
def started(mlsys_kernelspec):
    """One kernel for the module; its first Rust cell starts evcxr."""
    kernel = Kernel(rust_cells_env())
    yield Started(kernel)
    kernel.stop()


@pytest.fixture
def kernel(started):
    """The module's kernel with its Rust worker running (started again after a restart)."""
    if not worker_pids(started.kernel):
        ok(started.kernel.run("()", timeout=FIRST_CELL_TIMEOUT))
    return started.kernel


def test_first_rust_cell_starts_evcxr_and_shows_its_value(started) -> None:
    assert "%lsmagic" in ok(started.magic).result()["text/plain"]
    cell = ok(started.first_rust)
    assert "Starting Rust" in cell.stream("stdout")
    assert cell.result() == {"text/plain": "42"}


def test_variables_and_functions_persist_across_cells(kernel) -> None:
    ok(kernel.run("let mut total = 40;\nfn double(x: i32) -> i32 { x * 2 }"))
    ok(kernel.run("total += 1;"))
    assert ok(kernel.run("double(total)")).result() == {"text/plain": "82"}
    # Magics still work between Rust cells and do not disturb them.
    ok(kernel.run("%lsmagic"))
    assert ok(kernel.run("total")).result() == {"text/plain": "41"}


def test_output_streams_while_the_cell_runs(kernel, tmp_path) -> None:
    go = tmp_path / "go"
    code = f"""
println!("first");
let go = std::path::Path::new({json.dumps(str(go))});
while !go.exists() {{ std::thread::sleep(std::time::Duration::from_millis(20)); }}
println!("second");
eprintln!("warning line");
7
"""
    msg_id = kernel.send(code)
    # The cell blocks until the file exists: "first" must arrive while it runs.
    before = kernel.iopub_until(
        msg_id,
        lambda m: m["msg_type"] == "stream" and "first" in m["content"]["text"],
        CELL_TIMEOUT,
    )
    assert not kernel.client.shell_channel.msg_ready(), "reply came before the cell finished"
    go.write_text("")
    after = kernel.iopub_until(msg_id, is_idle, CELL_TIMEOUT)
    cell = ok(Cell(kernel.reply(msg_id, CELL_TIMEOUT), before + after))
    kinds = [
        (m["msg_type"], m["content"].get("name"))
        for m in cell.outputs
        if m["msg_type"] in ("stream", "execute_result")
    ]
    assert kinds[-1] == ("execute_result", None), kinds
    assert cell.stream("stdout") == "first\nsecond\n"
    assert cell.stream("stderr") == "warning line\n"
    assert cell.result() == {"text/plain": "7"}


def test_compile_error_shows_the_span_and_the_kernel_stays_usable(kernel) -> None:
    ok(kernel.run("let intact = 41;"))
    cell = kernel.run('let fine = 1;\nlet bad: u32 = "text";')
    assert cell.reply["status"] == "error"
    assert cell.reply["ename"] == "CompileError"
    error = cell.error()
    assert error["ename"] == "CompileError"
    assert "mismatched types" in error["evalue"]
    assert "line 2, column 16" in error["evalue"]
    traceback = "\n".join(error["traceback"])
    assert " --> cell:2:16" in traceback
    assert '2 | let bad: u32 = "text";' in traceback
    assert "^^^^^^" in traceback
    # Nothing of the failed cell was kept; earlier state is intact.
    assert ok(kernel.run("intact + 1")).result() == {"text/plain": "42"}
    assert kernel.run("fine").reply["status"] == "error"


def test_mlsys_model_is_available_and_matches_the_kernels_model(kernel) -> None:
    # A sweep the magics do not expose: every batch size, 8 workers, sequential reads.
    cell = ok(
        kernel.run(
            """
use mlsys_model::labs::data_storage::{act1, Context, IoInputs, ReadPattern};
let sweep: Vec<(i64, f64)> = (32..=512).step_by(32)
    .map(|batch| {
        let inputs = IoInputs::new(Context::DistributedFs, 8, batch, ReadPattern::Sequential, 24).unwrap();
        (batch, act1::evaluate(&inputs).gpu_util_pct)
    })
    .collect();
for (batch, util) in &sweep { println!("{batch} {util:?}"); }
sweep.len()
"""
        )
    )
    assert cell.result() == {"text/plain": "16"}
    lines = cell.stream("stdout").splitlines()
    assert len(lines) == 16
    assert [int(line.split()[0]) for line in lines] == list(range(32, 513, 32))
    for line in lines:
        batch, util = line.split()
        outputs, _ = formulas.act1("distributed_fs", 8, int(batch), "sequential", 24)
        assert float(util) == outputs["gpu_util_pct"], (batch, util, outputs["gpu_util_pct"])


def test_a_report_displays_like_the_magics(kernel) -> None:
    cell = ok(
        kernel.run(
            "use mlsys_model::labs::data_storage::{IoInputs, RunInputs};\n"
            "RunInputs::Act1(IoInputs::default()).evaluate()"
        )
    )
    data = cell.result()
    # `IoInputs::default()` is the seed's default Act I setting.
    assert seed_part(data[REPORT]) == expected_report("act1", DEFAULTS["act1"])
    # As `%io` shows a run: the cards first (HTML and text), then the chart carrying the report.
    assert set(data) == {"text/plain", "application/vnd.vegalite.v5+json", REPORT}, sorted(data)
    kinds = [m["msg_type"] for m in cell.outputs]
    assert kinds == ["display_data", "execute_result"], kinds
    assert set(cell.outputs[0]["content"]["data"]) == {"text/html", "text/plain"}
    assert "GPU Utilization" in cell.outputs[0]["content"]["data"]["text/html"]
    # Values of other types still show with Debug.
    assert ok(kernel.run('vec!["a", "b"]')).result() == {"text/plain": '["a", "b"]'}


def test_interrupt_stops_an_infinite_loop_and_the_kernel_stays_usable(kernel) -> None:
    ok(kernel.run("let kept = 5;\nfn triple(x: i32) -> i32 { x * 3 }"))
    msg_id = kernel.send('println!("looping");\nloop { std::hint::spin_loop(); }')
    kernel.iopub_until(
        msg_id,
        lambda m: m["msg_type"] == "stream" and "looping" in m["content"]["text"],
        CELL_TIMEOUT,
    )
    kernel.manager.interrupt_kernel()
    rest = kernel.iopub_until(msg_id, is_idle, 60)
    reply = kernel.reply(msg_id, 60)
    assert reply["status"] == "error"
    assert reply["ename"] == "Interrupted"
    error = Cell(reply, rest).error()
    assert "variables from earlier Rust cells are gone" in error["evalue"]
    # Functions survive the restarted process; variables do not.
    assert ok(kernel.run("triple(4)")).result() == {"text/plain": "12"}
    assert kernel.run("kept").reply["status"] == "error"


def test_the_lab_notebooks_rust_cell_sweeps_the_model(kernel) -> None:
    # Tagged skip-execution so the notebook's nbclient run stays fast; run here instead.
    nb = json.loads((ROOT / "notebooks" / "lab_04_data_storage.ipynb").read_text())
    [cell] = [c for c in nb["cells"] if c.get("id") == "rust-sweep"]
    assert "skip-execution" in cell["metadata"]["tags"]
    run = ok(kernel.run(cell["source"]))
    assert not [m for m in run.outputs if m["msg_type"] == "execute_result"], "a loop shows no ()"
    lines = run.stream("stdout").splitlines()
    assert lines[0].split() == ["layout", "one", "MDS", "serves", "up", "to", "MDS", "for", "4,096", "GPUs"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert sorted(rows) == ["individual_files", "object_store", "sequential_shards"]
    layouts = {"sequential_shards": "shards", "individual_files": "individual",
               "object_store": "object_store"}
    for name, layout in layouts.items():
        def one_mds(gpus: int) -> dict:
            return formulas.act2("distributed_fs", gpus, 8, layout, 1)[0]
        row = rows[name]
        assert int(row[-1]) == one_mds(4096)["needed_mds"], (name, row)
        if row[0] == "under":
            assert one_mds(128)["mds_saturated"], (name, row)
        else:
            largest = int(row[0])
            assert not one_mds(largest)["mds_saturated"], (name, row)
            assert largest == 4096 or one_mds(largest + 128)["mds_saturated"], (name, row)


def worker_pids(kernel: Kernel) -> list:
    """The kernel's Rust-cells worker processes (`mlsys-rust-cells` children)."""
    pid = kernel.manager.provisioner.process.pid
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    return [int(c) for c in children
            if Path(f"/proc/{c}/exe").resolve().name == "mlsys-rust-cells"]


def test_a_killed_worker_is_reported_and_replaced_by_the_next_rust_cell(kernel) -> None:
    ok(kernel.run("let doomed = 1;"))
    [worker] = worker_pids(kernel)
    pidfd = os.pidfd_open(worker)
    os.kill(worker, signal.SIGKILL)
    exited, _, _ = select.select([pidfd], [], [], WORKER_EXIT_TIMEOUT)  # readable once it exited
    os.close(pidfd)
    assert exited, f"the worker {worker} outlived SIGKILL by {WORKER_EXIT_TIMEOUT} s"
    cell = ok(kernel.run("fn twice(x: i32) -> i32 { x * 2 }\ntwice(21)", timeout=FIRST_CELL_TIMEOUT))
    assert "The Rust cells process had stopped" in cell.stream("stderr")
    assert cell.result() == {"text/plain": "42"}
    assert worker_pids(kernel) != [worker]
    assert kernel.run("doomed").reply["status"] == "error"


def test_restart_stops_the_worker_and_gives_a_fresh_rust_context(kernel) -> None:
    ok(kernel.run("let before_restart = 1;"))
    [worker] = worker_pids(kernel)
    pidfd = os.pidfd_open(worker)
    try:
        kernel.manager.restart_kernel(now=False)
        kernel.client.wait_for_ready(timeout=60)
        # Readable once the worker has exited.
        exited, _, _ = select.select([pidfd], [], [], WORKER_EXIT_TIMEOUT)
    finally:
        os.close(pidfd)
    assert exited, f"the worker {worker} still runs {WORKER_EXIT_TIMEOUT} s after the restart"
    cell = ok(kernel.run("let after = 2;\nafter * 21", timeout=FIRST_CELL_TIMEOUT))
    assert cell.result() == {"text/plain": "42"}
    assert kernel.run("before_restart").reply["status"] == "error"


def test_without_a_toolchain_rust_cells_say_so_and_magics_work(mlsys_kernelspec, tmp_path) -> None:
    kernel = Kernel(rust_cells_env(PATH=str(tmp_path)))
    try:
        cell = kernel.run("let x = 1;")
        assert cell.reply["status"] == "error"
        error = cell.error()
        assert error["ename"] == "RustToolchainMissing"
        assert "`cargo` and `rustc` were not found on PATH" in error["evalue"]
        assert "%lsmagic" in ok(kernel.run("%help")).result()["text/plain"]
    finally:
        kernel.stop()
