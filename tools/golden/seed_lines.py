#!/usr/bin/env python3
"""Checks that the golden oracle (`seed_formulas.py`) is the seed's own code, line for line.

`make golden-check` first runs this, then `seed_formulas.py --check` (the JSON is what the
oracle computes). This half ties the oracle to the seed, so an edited oracle fails:

1. `seed/000_44078214c0171c9c.txt` is a verbatim copy of the seed (`../shared/seed/`), kept in
   the repository so a clean checkout can run the check; its SHA-256 is pinned below (and, when
   `../shared/seed/` exists next to the checkout, the two files must be identical).
2. The body of `act1` and of `act2`, up to the `outputs = {` that collects the results, must be
   the seed's instrument cell line for line: indentation and comments ignored (the seed's
   indentation was lost in the copy), each widget `X.value` read as the function's parameter
   (`SUBSTITUTIONS`), leaving out only the pinned presentation lines (`OMITTED`: colours, plots,
   HTML) and adding only the pinned lines (`ADDED`). One changed operator, constant or name is a
   line that matches nothing, and the check names it with its seed line.
3. The collecting tail may only name seed variables (`outputs`, `seed_only`: `"key": _name`, or
   a pinned expression of one, `"derived"`) or copy an entry of the seed's `ledger.save(...)` cell
   verbatim (`ledger`).

What this cannot see is indentation (where a block ends), which the seed no longer records;
the oracle's block structure is its reading of the seed, and the model's golden test
(`model/tests/golden.rs`) compares the model with it bit for bit. Standard library only:

    python3 tools/golden/seed_lines.py
"""

import ast
import difflib
import hashlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "seed_formulas.py"
SEED_NAME = "000_44078214c0171c9c.txt"
SEED = HERE / "seed" / SEED_NAME
# Where the seed lives next to a checkout on the course machines (not in CI's clean clone).
SHARED_SEED = HERE.parents[2] / "shared" / "seed" / SEED_NAME
SEED_SHA256 = "f77f6f92eb43534462f1e028f899d08ff9a36f471878496c5eb5a7fef892781a"

# Widget reads in the seed → the oracle's parameters.
SUBSTITUTIONS = {
    "context_toggle.value": "context",
    "act1_num_workers.value": "workers",
    "act1_batch_size.value": "batch",
    "act1_read_pattern.value": "pattern",
    "act1_ost_count.value": "osts",
    "act2_gpu_count.value": "gpus",
    "act2_workers_per_gpu.value": "workers_per_gpu",
    "act2_dataset_files.value": "layout",
    "act2_mds_count.value": "mds",
}

# Each function: the seed's cell body (1-based, inclusive: "Hardware constants" to the line
# before the cell's `return (`), the seed lines it leaves out, the lines it adds, and the
# expressions of seed variables its `outputs` may hold besides bare names.
CELLS = {
    "act1": {
        "seed_lines": (377, 597),
        "omitted": [
            ((444, 444), "the Healthy colour"),
            ((447, 447), "the Degraded colour"),
            ((450, 450), "the Starved colour"),
            ((476, 514), "the plotly figure"),
            ((517, 597), "the storage colour, the cards HTML, the formula text, the display"),
        ],
        "added": [],
        "derived": {"_util_label.lower()": "the status label as the model's lower-case name"},
    },
    "act2": {
        "seed_lines": (894, 1113),
        "omitted": [
            ((956, 956), "the object-store colour"),
            ((959, 959), "the saturated colour"),
            ((962, 962), "the approaching colour"),
            ((965, 965), "the sound colour"),
            ((974, 1113), "the plotly figure, card colours, cards HTML, formula text, display"),
        ],
        "added": [
            (
                [
                    "_ops_demand_curve_per_s = [",
                    "(g * workers_per_gpu * _files_open_per_sec_per_worker",
                    "* _METADATA_OPS_PER_FILE_ACCESS * _metadata_pressure_factor)",
                    "for g in _gpu_range",
                    "]",
                ],
                "the model's ops/s curve: the seed's `_ops_demand_curve` product before `/ 1000`",
            ),
        ],
        "derived": {},
    },
}
# The seed's `ledger.save(...)` cell: the oracle's `ledger` entries are copied from it.
LEDGER_LINES = (1365, 1380)
COLLECTED = ("outputs", "seed_only", "ledger")


def code_of(line):
    """`line` without indentation and without a trailing comment ('' if nothing is left)."""
    quote = None
    escaped = False
    for i, ch in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i].strip()
    return line.strip()


def substituted(code):
    for seed, oracle in SUBSTITUTIONS.items():
        code = code.replace(seed, oracle)
    return code


ASSIGNED = re.compile(r"^(_\w+)\s*=[^=]")
NAME = re.compile(r"\b_\w+\b")


def check_function(name, tree, oracle_lines, seed_lines):
    """The differences between oracle function `name` and its seed cell, as messages."""
    spec = CELLS[name]
    [func] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    tail_at = next(
        (i for i, s in enumerate(body)
         if isinstance(s, ast.Assign) and [ast.unparse(t) for t in s.targets] == ["outputs"]),
        None,
    )
    if tail_at is None:
        return [f"{name}: no `outputs = {{...}}` collecting the results"]
    errors = []

    # The seed part: the oracle's lines against the seed's, aligned.
    first, last = body[0].lineno, body[tail_at].lineno - 1
    ours = [(n, code_of(oracle_lines[n - 1])) for n in range(first, last + 1)]
    ours = [(n, c) for n, c in ours if c]
    lo, hi = spec["seed_lines"]
    omitted = {n for (a, b), _ in spec["omitted"] for n in range(a, b + 1)}
    theirs = [(n, substituted(code_of(seed_lines[n - 1]))) for n in range(lo, hi + 1)]
    kept = [(n, c) for n, c in theirs if c and n not in omitted]
    added = [lines for lines, _ in spec["added"]]
    matcher = difflib.SequenceMatcher(None, [c for _, c in kept], [c for _, c in ours],
                                      autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "insert" and [c for _, c in ours[j1:j2]] in added:
            added.remove([c for _, c in ours[j1:j2]])
            continue
        for n, c in kept[i1:i2]:
            errors.append(f"{name}: seed line {n} is not in the oracle: {c}")
        for n, c in ours[j1:j2]:
            errors.append(f"{name}: oracle line {n} is not the seed's: {c}")
    for lines in added:
        errors.append(f"{name}: the pinned added lines are missing: {lines}")

    # Omitted lines may not assign a name the kept lines read.
    read = {m for _, c in kept for m in NAME.findall(c)}
    for n in sorted(omitted):
        m = ASSIGNED.match(code_of(seed_lines[n - 1]))
        if m and m.group(1) in read:
            errors.append(f"{name}: omitted seed line {n} assigns {m.group(1)}, which is used")

    # The collecting tail.
    defined = {m.group(1) for _, c in ours if (m := ASSIGNED.match(c))}
    a, b = LEDGER_LINES
    ledger_cell = {code_of(seed_lines[n - 1]) for n in range(a, b + 1)}
    for stmt in body[tail_at:]:
        where = f"{name}: oracle line {stmt.lineno}"
        if isinstance(stmt, ast.Return):
            names = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
            if not all(isinstance(v, ast.Name) and v.id in COLLECTED for v in names):
                errors.append(f"{where}: return only {', '.join(COLLECTED)}")
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in COLLECTED
                and isinstance(stmt.value, ast.Dict)):
            errors.append(f"{where}: after `outputs = {{` only {', '.join(COLLECTED)} dicts")
            continue
        target = stmt.targets[0].id
        for key, value in zip(stmt.value.keys, stmt.value.values):
            entry = f"{ast.unparse(key)}: {ast.unparse(value)}"
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                errors.append(f"{where}: keys are strings, got {entry}")
            elif target == "ledger":
                seed_entry = f'"{key.value}": {ast.unparse(value)},'
                if seed_entry not in ledger_cell:
                    errors.append(f"{where}: {seed_entry} is not an entry of the seed's ledger")
            elif ast.unparse(value) in spec["derived"]:
                continue
            elif not (isinstance(value, ast.Name) and value.id in defined):
                errors.append(f"{where}: {entry} must name a variable of the seed's cell")
    return errors


def check(oracle_source, seed_text):
    """Every difference between the oracle's source and the seed's cells (empty: they agree)."""
    tree = ast.parse(oracle_source)
    oracle_lines = oracle_source.splitlines()
    seed_lines = seed_text.splitlines()
    errors = []
    for name in CELLS:
        errors += check_function(name, tree, oracle_lines, seed_lines)
    return errors


def seed_errors(seed_bytes):
    """What is wrong with the seed copy (empty: it is the pinned seed)."""
    digest = hashlib.sha256(seed_bytes).hexdigest()
    if digest != SEED_SHA256:
        return [f"{SEED} has SHA-256 {digest}, not the seed's {SEED_SHA256}"]
    if SHARED_SEED.exists() and SHARED_SEED.read_bytes() != seed_bytes:
        return [f"{SEED} differs from {SHARED_SEED}"]
    return []


def main():
    seed_bytes = SEED.read_bytes()
    errors = seed_errors(seed_bytes)
    if not errors:
        errors = check(ORACLE.read_text(encoding="utf-8"), seed_bytes.decode("utf-8"))
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{ORACLE.name} is not the seed's code; see {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
