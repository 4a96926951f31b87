"""End to end: a notebook run through nbclient on the mlsys kernel ends with `%submit`;
`mlsys-grader ingest`, `score` and `export --format csv` then hold the student's row with
the points worked out by hand from the built-in rubric (grader/rubric.toml)."""

import csv
import getpass
import io
import json
import os
import sqlite3
import subprocess
from pathlib import Path

from notebook_support import run_notebook

ROOT = Path(__file__).resolve().parents[2]
RECEIPT = "application/vnd.mlsys.receipt.v1+json"
STUDENT = "grace"

# Act I: B locked; 3 distinct %io configurations, the second reaches 100% GPU utilization
# (prefetch with 8 workers hides the 105.7 ms batch read behind 4 x 50 ms of compute);
# reflection B. 1 + 2 + 2 + 3 + 2 = 10.
# Act II: C locked (wrong, -2); 3 distinct %mds designs, shards at 4,096 GPUs leave the MDS
# unsaturated (393.2 of 50,000 ops/s); reflection B. 1 + 0 + 2 + 3 + 2 = 8.
# Design saved after both instruments ran: 2 + 3 = 5. Total 23 of 25, on time.
LAB = [
    "%context distributed_fs",
    "%predict act1 B",
    "%io --workers 4",
    "%io --pattern prefetch --workers 8",
    "%io --batch 128",
    "%reveal act1",
    "%reflect act1 B",
    "%predict act2 C",
    "%mds --gpus 4096 --workers 8",
    "%mds --layout shards",
    "%mds --layout object_store",
    "%reveal act2",
    "%reflect act2 B",
    "%ledger save",
    "%submit",
]


def grader(db: Path, *args: str) -> subprocess.CompletedProcess:
    target = Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))
    return subprocess.run(
        [str(target / "mlsys-grader"), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_notebook_submit_ingest_score_export(tmp_path, monkeypatch, mlsys_kernelspec) -> None:
    home, exchange = tmp_path / "home", tmp_path / "exchange"
    exchange.mkdir()
    monkeypatch.setenv("MLSYS_HOME", str(home))
    monkeypatch.setenv("MLSYS_EXCHANGE", str(exchange))
    monkeypatch.setenv("JUPYTERHUB_USER", STUDENT)

    outputs = run_notebook(LAB)
    [receipt] = [o.data[RECEIPT] for o in outputs[-1] if RECEIPT in o.get("data", {})]
    [file] = list(exchange.iterdir())
    assert file.name == f"v2_04-{STUDENT}-{receipt['submission_id']}.json"

    db = tmp_path / "grades.sqlite"
    # The kernel ran as this process's Unix user: the instructor's map names it the student.
    users = tmp_path / "users.txt"
    users.write_text(f"{getpass.getuser()} {STUDENT}\n")
    done = grader(db, "ingest", "--users", str(users), str(exchange))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 1, duplicates 0, quarantined 0 (1 files read)"
    again = grader(db, "ingest", "--users", str(users), str(exchange))
    assert again.stdout.strip() == "ingested 0, duplicates 1, quarantined 0 (1 files read)"

    # The built-in rubric with a due date that is always in the future.
    rubric = tmp_path / "rubric.toml"
    text = grader(db, "rubric").stdout
    assert "due = 2026-12-14T23:59:00Z" in text
    rubric.write_text(text.replace("due = 2026-12-14T23:59:00Z", "due = 2099-01-01T00:00:00Z"))
    scored = grader(db, "score", "--rubric", str(rubric))
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("scored 1 submissions of 1 students (0 late"), scored.stdout

    out = tmp_path / "grades.csv"
    exported = grader(db, "export", "--format", "csv", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 1
    row = rows[0]
    assert row["student"] == STUDENT
    assert row["submission_id"] == receipt["submission_id"]
    assert row["status"] == "on_time"
    assert (row["act1"], row["act2"], row["design"]) == ("10.00", "8.00", "5.00")
    assert (row["late_penalty"], row["total"], row["max_total"]) == ("0.00", "23.00", "25.00")

    shown = grader(db, "show", STUDENT)
    assert shown.returncode == 0, shown.stderr
    assert "prediction C (" in shown.stdout and "is not the answer" in shown.stdout
    assert "design not metadata-saturated at 4096 GPUs" in shown.stdout

    # Bad fixtures made from the kernel's own file, each quarantined with its reason.
    raw = file.read_bytes()
    sub = json.loads(raw)
    kinds = [e["type"] for e in sub["events"]]
    first_run, lock = kinds.index("instrument_run"), kinds.index("prediction_locked")
    saved = kinds.index("design_saved")

    def variant(edit):
        copy = json.loads(raw)
        edit(copy)
        return json.dumps(copy, indent=2).encode()

    def run_before_lock(s):
        events = s["events"]
        events[lock], events[first_run] = events[first_run], events[lock]
        events[lock]["at"], events[first_run]["at"] = events[first_run]["at"], events[lock]["at"]

    def tamper(s):
        s["events"][saved]["design"]["act2_result"] = 0.1
        s["design"]["act2_result"] = 0.1

    bad = {
        "truncated": (raw[: len(raw) // 3], "malformed_json"),
        "schema": (variant(lambda s: s.update(schema_version=99)), "unknown_schema_version"),
        "lock": (variant(run_before_lock), "lock_violated"),
        "tampered": (variant(tamper), "tampered_numbers"),
    }
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    for name, (data, _) in bad.items():
        (bad_dir / f"{name}.json").write_bytes(data)
    (bad_dir / "duplicate.json").write_bytes(raw)
    done = grader(db, "ingest", "--users", str(users), str(bad_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 0, duplicates 1, quarantined 4 (5 files read)"
    with sqlite3.connect(db) as conn:
        got = dict(conn.execute("SELECT source, reason FROM quarantine"))
    assert got == {str(bad_dir / f"{name}.json"): reason for name, (_, reason) in bad.items()}
