"""Round trip of a hand-in: a notebook run through nbclient on the mlsys kernel ends with
`%submit`; the submission file in MLSYS_EXCHANGE validates against the model's types
(`mlsys-kernel check-submission`) and its events replay to the kernel's session state.
The design ledger starts as one the seed's Python DesignLedger wrote, and stays readable by it."""

import hashlib
import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from notebook_support import run_notebook

ROOT = Path(__file__).resolve().parents[2]
RECEIPT = "application/vnd.mlsys.receipt.v1+json"
LEDGER = "application/vnd.mlsys.ledger.v1+json"
STUDENT = "ada.lovelace@uni.edu"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class LedgerState:
    """The seed's ledger schema (labs.core.state.LedgerState)."""

    track: Optional[str] = None
    current_chapter: Any = 0
    history: List[Dict[str, Any]] = field(default_factory=list)
    last_updated: str = ""


def seed_save(path: Path, state: LedgerState, chapter: str, design: dict) -> None:
    """What the seed's DesignLedger.save does: append the entry, json.dump(asdict(state), indent=2)."""
    state.current_chapter = chapter
    state.history.append({"chapter": chapter, "design": design})
    state.last_updated = "2026-03-02T10:00:00.000001"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(asdict(state), f, indent=2)


def seed_load(path: Path) -> LedgerState:
    """What the seed's DesignLedger.load does."""
    with open(path) as f:
        return LedgerState(**json.load(f))


def kernel_binary() -> Path:
    target = Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))
    return target / "mlsys-kernel"


def check_submission(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(kernel_binary()), "check-submission", str(path)], capture_output=True, text=True
    )


def result(outputs: List[dict], mime: str) -> Any:
    [data] = [o.data[mime] for o in outputs if mime in o.get("data", {})]
    return data


FULL_LAB = [
    "%context distributed_fs",
    "%predict act1 B",
    "%io --workers 4",
    "%io --pattern prefetch --workers 8",
    "%reveal act1",
    "%reflect act1 B",
    "%predict act2 B",
    "%mds --gpus 4096 --workers 8",
    "%mds --layout shards --mds 2",
    "%reveal act2",
    "%reflect act2 C",
    "%ledger save",
    "%ledger",
    "%submit",
]


def test_a_full_lab_run_ends_in_a_submission_that_replays(tmp_path, monkeypatch) -> None:
    home, exchange = tmp_path / "home", tmp_path / "exchange"
    exchange.mkdir()
    monkeypatch.setenv("MLSYS_HOME", str(home))
    monkeypatch.setenv("MLSYS_EXCHANGE", str(exchange))
    monkeypatch.setenv("JUPYTERHUB_USER", STUDENT)
    seed = LedgerState(track="cloud")
    seed_save(home / "ledger.json", seed, "v2_03", {"nodes": 16})
    seed_save(home / "ledger.json", seed, "v2_04", {"gpu_count": 512})
    seed_save(home / "ledger.json", seed, "v2_04", {"gpu_count": 1024})

    outputs = run_notebook(FULL_LAB)
    receipt = result(outputs[-1], RECEIPT)
    shown_ledger = result(outputs[-2], LEDGER)

    # The file: in the exchange, named lab-student-uuid, nothing else created there.
    file = Path(receipt["file"])
    assert file.parent == exchange
    assert re.fullmatch(rf"v2_04-ada\.lovelace_uni\.edu-{UUID}\.json", file.name), file.name
    assert file.name.endswith(f"-{receipt['submission_id']}.json")
    assert sorted(p.name for p in exchange.iterdir()) == [file.name]
    raw = file.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == receipt["sha256"]
    assert receipt["missing"] == []
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[-1])
    assert receipt["sha256"] in text and receipt["submission_id"] in text

    # The body: the model's submission type, the journal's events, the ledger's design.
    submission = json.loads(raw)
    assert submission["schema_version"] == 1
    assert submission["lab"] == "v2_04" and submission["student"] == STUDENT
    journal = [json.loads(line) for line in (home / "labs/v2_04/events.jsonl").read_text().splitlines()]
    assert submission["events"] == journal[:-1]
    assert journal[-1]["type"] == "submitted"
    assert journal[-1]["submission_id"] == receipt["submission_id"]
    assert [e["type"] for e in submission["events"]].count("instrument_run") == 4

    checked = check_submission(file)
    assert checked.returncode == 0, checked.stderr
    replayed = json.loads(checked.stdout)
    assert replayed["session"] == receipt["session"]
    assert replayed["sha256"] == receipt["sha256"]
    assert replayed["session"]["mds"]["layout"] == "shards"
    assert replayed["session"]["predictions"] == {"act1": "B", "act2": "B"}

    # The ledger: still the seed's format, v2_04 once (its duplicates folded), v2_03 kept.
    ledger = seed_load(home / "ledger.json")
    assert [e["chapter"] for e in ledger.history] == ["v2_03", "v2_04"]
    assert ledger.track == "cloud" and ledger.current_chapter == "v2_04"
    assert ledger.history[0]["design"] == {"nodes": 16}
    assert ledger.history[1]["design"] == submission["design"]
    assert submission["design"]["storage_type"] == "sequential_shards"
    assert submission["design"]["gpu_count"] == 4096
    assert shown_ledger == json.loads((home / "ledger.json").read_text())

    # A tampered file no longer validates.
    submission["design"]["gpu_count"] = 128
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(submission))
    bad = check_submission(tampered)
    assert bad.returncode != 0 and "design does not match" in bad.stderr


def test_an_early_submission_says_what_is_missing_and_never_overwrites(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MLSYS_HOME", str(home))
    monkeypatch.delenv("MLSYS_EXCHANGE", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "grace")
    home.mkdir()
    (home / "ledger.json").write_text('{"track": null, "history": [')

    outputs = run_notebook(["%predict act1 C", "%submit", "%ledger", "%submit"])
    first, second = result(outputs[1], RECEIPT), result(outputs[3], RECEIPT)
    assert "no Act II prediction yet (%predict act2 A|B|C|D)" in first["missing"]
    assert "design not saved to the ledger (%ledger save)" in first["missing"]
    assert "no Act I instrument run yet (%io)" in first["missing"]
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[1])
    assert "no Act II prediction yet" in text

    outbox = home / "outbox"
    assert first["file"] != second["file"]
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        Path(r["file"]).name for r in (first, second)
    )
    for receipt in (first, second):
        checked = check_submission(Path(receipt["file"]))
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout)["session"] == receipt["session"]
    assert second["events"] == first["events"] + 1

    told = "".join(o.get("text", "") for o in outputs[2] if o.output_type == "stream")
    [aside] = list(home.glob("ledger.json.corrupt-*"))
    assert "moved to" in told and str(aside) in told
    assert aside.read_text() == '{"track": null, "history": ['
