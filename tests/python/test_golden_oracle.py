"""The golden oracle's tie to the seed (`tools/golden/seed_lines.py`) catches an edited oracle:
every one-operator change of a formula line, a dropped line, a computing output, a changed seed."""

import ast
import re

import pytest
from seed_oracle import GOLDEN, load

seed_lines = load("seed_lines")
SOURCE = (GOLDEN / "seed_formulas.py").read_text(encoding="utf-8")
SEED = seed_lines.SEED.read_bytes()
# One operator of a formula line and what it becomes; else a number, a string or a name changes.
SWAPS = [(" - ", " + "), (" + ", " - "), (" * ", " / "), (" / ", " * "), (" >= ", " > "),
         (" <= ", " < "), (" > ", " >= "), (" < ", " <= "), (" == ", " != "), (" != ", " == "),
         (" and ", " or "), ("min(", "max("), ("max(", "min(")]
NUMBER = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d+)?")
STRING = re.compile(r'"[^"]*"')
NAME = re.compile(r"\b(?!(?:if|elif|else|for|in|and|or|not)\b)[A-Za-z_]\w*")


def check(source: str) -> list:
    return seed_lines.check(source, SEED.decode("utf-8"))


def formula_lines() -> list:
    """1-based numbers of the lines of `act1`/`act2` before their `outputs = {`."""
    tree = ast.parse(SOURCE)
    numbers = []
    for func in tree.body:
        if isinstance(func, ast.FunctionDef) and func.name in ("act1", "act2"):
            [outputs] = [s for s in func.body if isinstance(s, ast.Assign)
                         and ast.unparse(s.targets[0]) == "outputs"]
            numbers += range(func.body[1].lineno, outputs.lineno)
    return numbers


def mutate(code: str):
    """`code` with one operator, number, string or name changed; None if it has none."""
    code = " " + code
    for old, new in SWAPS:
        if old in code:
            return code.replace(old, new, 1)[1:]
    for pattern, change in ((NUMBER, lambda m: m.group() + "1"),
                            (STRING, lambda m: '"x' + m.group()[1:]),
                            (NAME, lambda m: m.group() + "x")):
        found = pattern.search(code)
        if found:
            return (code[: found.start()] + change(found) + code[found.end():])[1:]
    return None


def mutants():
    """(line number, mutated source) for each formula line with something to change."""
    lines = SOURCE.splitlines(keepends=True)
    for n in formula_lines():
        changed = mutate(seed_lines.code_of(lines[n - 1]))
        if changed is not None:
            indent = lines[n - 1][: len(lines[n - 1]) - len(lines[n - 1].lstrip())]
            yield n, "".join(lines[: n - 1] + [indent + changed + "\n"] + lines[n:])


def test_the_oracle_is_the_seeds_code_line_for_line() -> None:
    assert seed_lines.seed_errors(SEED) == []
    assert check(SOURCE) == []


def test_changing_one_operator_or_constant_of_any_formula_line_fails_the_check() -> None:
    lines = SOURCE.splitlines()
    checked = set()
    for n, source in mutants():
        errors = check(source)
        assert any(f"oracle line {n} is not the seed's" in e for e in errors), (n, errors)
        checked.add(n)
    unchanged = {seed_lines.code_of(lines[n - 1]) for n in formula_lines() if n not in checked}
    assert unchanged <= {"", "else:", ")", "]"}, unchanged
    assert len(checked) > 100, len(checked)


def test_a_line_left_out_of_the_oracle_fails_the_check() -> None:
    lines = SOURCE.splitlines(keepends=True)
    [n] = [i for i, line in enumerate(lines) if "_worker_factor = 0.85 + (_workers - 4) * 0.03" in line]
    assert lines[n - 1].strip() == "elif _workers <= 8:"
    errors = check("".join(lines[: n - 1] + lines[n + 1:]))
    assert any("seed line" in e and "elif _workers <= 8:" in e for e in errors), errors


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('"gpu_util_pct": _gpu_util,', '"gpu_util_pct": _gpu_util * 1.0,', "must name a variable"),
        ('round(float(_effective_storage_bw), 2)}', 'round(float(_effective_storage_bw), 3)}',
         "is not an entry of the seed's ledger"),
    ],
)
def test_an_output_that_computes_instead_of_naming_a_seed_variable_fails(old, new, expected) -> None:
    assert SOURCE.count(old) == 1
    errors = check(SOURCE.replace(old, new))
    assert any(expected in e for e in errors), errors


def test_a_changed_seed_copy_fails_its_digest() -> None:
    changed = SEED.replace(b"_COMPUTE_TIME_MS = 50.0", b"_COMPUTE_TIME_MS = 40.0", 1)
    assert changed != SEED
    assert "SHA-256" in seed_lines.seed_errors(changed)[0]
