# mlsys lab kernel and grader. `make lab` runs the lab; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
VENV := .venv
PY := $(VENV)/bin/python
# Test kernelspecs live here, never in the user's Jupyter dirs.
TEST_JUPYTER := $(CURDIR)/target/jupyter-test
export CARGO_TERM_COLOR ?= never

.PHONY: help lab test fmt-check clippy golden-check test-rust test-no-rust-cells test-python venv build-debug kernelspec-test bench bench-model bench-kernel bench-widgets bench-grader bench-witness bench-hub

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

lab: venv ## Build in release, install the kernelspec into .venv, open the lab in JupyterLab.
	$(CARGO) build --release --locked -p mlsys-kernel -p mlsys-grader
	target/release/mlsys-kernel install --prefix $(VENV)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --ServerApp.root_dir=$(CURDIR)/notebooks $(CURDIR)/notebooks/lab_04_data_storage.ipynb

test: fmt-check clippy golden-check test-rust test-no-rust-cells test-python ## Everything CI runs.

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

golden-check: ## The golden oracle is the seed's own code, and the model's golden points are what it gives.
	python3 tools/golden/seed_lines.py
	python3 tools/golden/seed_formulas.py --check

build-debug:
	$(CARGO) build --workspace --bins --locked

test-rust: build-debug
	$(CARGO) test --workspace --locked

# The kernel without its default `rust-cells` feature: lint-clean, and its unit tests pass (one
# checks the "Rust cells not enabled" reply; they live in the library since the kernel became a library
# with thin binaries, so `--lib`). Unit tests only: the integration tests would relink
# target/debug/mlsys-kernel without the feature, under test-python's feet.
test-no-rust-cells: ## The kernel built without the rust-cells feature: clippy and its unit tests.
	$(CARGO) clippy -p mlsys-kernel --no-default-features --all-targets --locked -- -D warnings
	$(CARGO) test -p mlsys-kernel --no-default-features --locked --lib --bin mlsys-kernel

venv: ## Create .venv with the pinned Python tooling.
	tools/setup-venv

kernelspec-test: build-debug
	target/debug/mlsys-kernel install --prefix $(TEST_JUPYTER)

test-python: venv kernelspec-test
	JUPYTER_PATH=$(TEST_JUPYTER)/share/jupyter MLSYS_TARGET_DIR=$(CURDIR)/target/debug \
	  $(PY) -m pytest -q tests/python

bench: bench-model bench-kernel bench-widgets bench-grader bench-witness bench-hub ## Every benchmark.

bench-model: ## Criterion benchmarks of the model (criterion options in BENCH_ARGS, e.g. "--measurement-time 2").
	$(CARGO) bench -p mlsys-model --locked --bench model -- $(BENCH_ARGS)

bench-kernel: venv ## The kernel vs ipykernel: cold start, execute round trip p50/p99, idle RSS.
	$(CARGO) build --release --locked -p mlsys-kernel
	$(PY) tools/bench-kernel.py --kernel target/release/mlsys-kernel
	$(CARGO) bench --locked -p mlsys-kernel --bench lab_magics

bench-widgets: venv ## Live slider updates: kernel-side update-to-output p50/p99, client round trips.
	$(CARGO) build --release --locked -p mlsys-kernel
	$(PY) tools/bench-widgets.py --kernel target/release/mlsys-kernel

bench-grader: ## The grader on 10,000 synthetic submissions: ingest + score (target 2 s), export (0.5 s).
	tools/bench-grader

bench-hub: venv ## The grader service behind a real JupyterHub, 5,000 students: events/s, submissions/s, p99, RSS, nothing lost (options in BENCH_HUB_ARGS, see --help).
	tools/bench-hub $(BENCH_HUB_ARGS)

bench-witness: venv ## The service's witness throughput (events/s) from 1 and 8 clients.
	$(CARGO) build --release --locked -p mlsys-grader
	$(PY) tools/bench-witness.py --clients 1 --batch 32
	$(PY) tools/bench-witness.py --clients 8 --batch 32
	$(PY) tools/bench-witness.py --clients 8 --batch 256
