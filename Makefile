# Two commands set everything up on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-serve screenshots serve test lint lock audit bench bench-cli bench-inbound bench-scale bench-send bench-weighted simulate soak soak-outage clean

# Every dependency comes from requirements.lock, pinned with sha256 hashes (make lock writes it from
# pyproject.toml); the project itself goes in after, editable and without dependencies, since an
# editable install has no hash.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

lock: $(STAMP)  ## rewrite requirements.lock (every runtime and dev dependency, pinned, with hashes) from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header --quiet -o requirements.lock

audit: $(STAMP)  ## pip-audit of requirements.lock; says plainly when the vulnerability lookup cannot be made from here (not part of CI)
	$(BIN)/python tools/audit_lock.py requirements.lock

demo: $(STAMP)  ## a whole consultation through the real SMS and Telegram adapters and bundled stand-ins, in under a minute
	$(BIN)/outreach demo

serve: $(STAMP)  ## the service on the embedded default (SQLite, sandbox channels)
	$(BIN)/outreach serve

screenshots: $(STAMP)  ## every officials' page at desktop and phone widths on a fresh demo's data, into docs/screenshots/ (Debian's chromium; about 2 minutes)
	PYTHONPATH=$(CURDIR) $(BIN)/python tools/screenshots.py

demo-serve: $(STAMP)  ## the service on the last `make demo`'s data (outreach-demo.db): the officials' pages at http://127.0.0.1:8080/admin/
	OUTREACH_DATABASE_URL=sqlite+aiosqlite:///$(CURDIR)/outreach-demo.db $(BIN)/outreach serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports  # the layer contracts of docs/ARCHITECTURE.md ([tool.importlinter] in pyproject.toml)

test: lint  ## lint, types, then the whole suite (SQLite and PostgreSQL) on every CPU (pytest-xdist; each worker has databases of its own), then the crash and outage rounds by themselves
	$(BIN)/pytest -q -n auto --dist worksteal -m "not alone"
	$(BIN)/pytest -q -m alone

BENCH_PARTS := bench-send bench-weighted bench-scale bench-cli bench-inbound
# BENCH_ARGS=--quick: each part's short run, which writes nothing
BENCH_ARGS ?=
bench: $(STAMP)  ## every benchmark: send rate, weighted results, scale, CLI start-up and export, inbound webhooks; prints their tables and verdicts (each part's figures beside the load average), then every check in one table, writes docs/BENCHMARKS.md, exits non-zero when any part missed a ratio to its same-run baseline (about 32 minutes)
	@missed=""; verdicts=$$(mktemp); export OUTREACH_BENCH_VERDICTS=$$verdicts; for part in $(BENCH_PARTS); do \
		$(MAKE) --no-print-directory $$part BENCH_ARGS="$(BENCH_ARGS)" || missed="$$missed $$part"; \
	done; \
	echo; $(BIN)/python bench/verdicts.py $$verdicts --parts "$(BENCH_PARTS)" --missed "$$missed"; rm -f $$verdicts; \
	if [ -n "$$missed" ]; then echo "make bench: missed in$$missed (their verdicts above)"; exit 1; fi; \
	echo "make bench: every part kept its bounds"

bench-send: $(STAMP)  ## send rate through the limiter to a provider stand-in: each limit reached to 97% or more, never over (about 5 minutes)
	$(BIN)/python bench/send_rate.py $(BENCH_ARGS)

bench-weighted: $(STAMP)  ## unweighted and weighted results over 1,000,000 answers beside a raw GROUP BY, SQLite and PostgreSQL (about 5 minutes)
	$(BIN)/python bench/weighted_results.py $(BENCH_ARGS)

bench-cli: $(STAMP)  ## outreach --help and every command's start-up beside importing aiohttp + sqlalchemy + typer; outreach export of 1,000,000 answers (CSV, JSON Lines) beside a bare SELECT written with csv.writer, SQLite and PostgreSQL (about 5 minutes)
	$(BIN)/python bench/cli_and_export.py $(BENCH_ARGS)

bench-inbound: $(STAMP)  ## signed Twilio SMS webhooks answered by one outreach serve process, closed-loop and at 300 req/s, beside a bare aiohttp process doing the signature check and one INSERT per request, SQLite and PostgreSQL (about 2 minutes)
	$(BIN)/python bench/inbound.py $(BENCH_ARGS)

bench-scale: $(STAMP)  ## residents import and campaign launch of 500,000 through the CLI, SQLite and PostgreSQL, beside executemany baselines (about 15 minutes)
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

simulate: $(STAMP)  ## the simulated city, 20 seeds end to end (the CLI, the engine, sandbox channels): weighting, and uniform against lagging_strata reminders; prints both tables (about 90 minutes)
	PYTHONPATH=. $(BIN)/python bench/simulate.py

SOAK_ROUNDS ?= 15
SOAK_SEED ?= 1
soak: $(STAMP)  ## crash rounds: SOAK_ROUNDS rounds on each database (30 in all; seeds SOAK_SEED on) of two outreach serve processes killed at seeded random moments (SIGKILL from outside and random fault points) during a 200-resident campaign while replies arrive; prints a table per round and the total, fails on any lost or doubled reply, resident never asked or unexplained duplicate send
	OUTREACH_SOAK_ROUNDS=$(SOAK_ROUNDS) OUTREACH_SOAK_SEED=$(SOAK_SEED) $(BIN)/pytest -q -s --timeout=1800 tests/scenarios/test_crash_round.py -k soak

OUTAGE_SECONDS ?= 60
soak-outage: $(STAMP)  ## an outage round: PostgreSQL's network cut for OUTAGE_SECONDS during a campaign while replies arrive (CI cuts it for 1.5 s)
	OUTREACH_TEST_DATABASES=postgresql OUTREACH_OUTAGE_SECONDS=$(OUTAGE_SECONDS) $(BIN)/pytest -q --timeout=1800 tests/scenarios/test_outage_round.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info outreach-demo.db*
