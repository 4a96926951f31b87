"""What the kernel must show, worked out without the kernel: the runs a notebook's magic lines ask
for (read from the cell text), and each run's outputs from the seed's own formulas (the golden
oracle `tools/golden/seed_formulas.py`, tied to the seed by `tools/golden/seed_lines.py`)."""

import copy
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tools" / "golden"
REPORT = "application/vnd.mlsys.report.v1+json"


def load(name: str):
    """The module `tools/golden/<name>.py`."""
    spec = importlib.util.spec_from_file_location(f"golden_{name}", GOLDEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


formulas = load("seed_formulas")

# The seed's widget defaults: context_toggle (seed line 156), act1_* sliders and dropdown
# (lines 341-363), act2_* (lines 858-880); the choices as the kernel names them.
DEFAULTS = {
    "act1": {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 24},
    "act2": {"context": "distributed_fs", "gpus": 512, "workers_per_gpu": 4,
             "layout": "individual", "mds": 1},
}
# Each instrument magic's options and the input each sets (README, `%io --help`, `%mds --help`).
MAGICS = {
    "io": ("act1", {"--workers": "workers", "--batch": "batch", "--pattern": "pattern",
                    "--osts": "osts"}),
    "mds": ("act2", {"--gpus": "gpus", "--workers": "workers_per_gpu", "--layout": "layout",
                     "--mds": "mds"}),
}


def expected_report(act: str, inputs: dict) -> dict:
    """The report of a run, as the kernel's report mime type carries it, with the seed's outputs."""
    if act == "act1":
        outputs, _ = formulas.act1(**inputs)
    else:
        outputs, _, _ = formulas.act2(**inputs)
    return {"act": act, "inputs": dict(inputs), "outputs": outputs}


def seed_part(report: dict) -> dict:
    """A published report without its `limits` (the model's explanation of what binds, which
    the seed does not have); the rest must equal `expected_report`. Fails if `limits` is missing."""
    assert "limits" in report, f"the report has no limits field: {sorted(report)}"
    return {key: value for key, value in report.items() if key != "limits"}


class Run:
    """One instrument run a magic line asks for."""

    def __init__(self, act: str, inputs: dict, live: bool, line: str) -> None:
        self.act, self.inputs, self.live, self.line = act, inputs, live, line

    def report(self) -> dict:
        return expected_report(self.act, self.inputs)

    def __repr__(self) -> str:
        return f"Run({self.line!r} → {self.inputs})"


class Settings:
    """The instruments' settings as magic lines change them: they start at the seed's defaults,
    `%context X` sets both acts' context, and a flag a line leaves out keeps its value."""

    def __init__(self) -> None:
        self.current = copy.deepcopy(DEFAULTS)

    def runs(self, source: str) -> list:
        """The runs the magic lines of one cell ask for, in order."""
        runs = []
        for line in source.splitlines():
            words = line.split()
            words = words[: next((i for i, w in enumerate(words) if w.startswith("#")), len(words))]
            if not words or not words[0].startswith("%"):
                continue
            magic, args = words[0][1:], words[1:]
            if magic == "context" and args:
                [context] = args
                for inputs in self.current.values():
                    inputs["context"] = context
            elif magic in MAGICS:
                act, options = MAGICS[magic]
                live = "--live" in args
                args = [w for w in args if w != "--live"]
                inputs = self.current[act]
                while args:
                    flag, _, value = args.pop(0).partition("=")
                    value = value or args.pop(0)
                    field = options[flag]
                    inputs[field] = int(value) if value.isdigit() else value
                runs.append(Run(act, dict(inputs), live, line))
        return runs
