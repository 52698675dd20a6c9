# The two commands a new user needs are `make conformance` and `make test`; both set up .venv/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BASE_URL ?=
API_KEY  ?=
REPORT_DIR ?= reports
# The vendor's published OpenAPI document is not shipped; detection compares against it when present.
VENDOR_SPEC ?= ../shared/reference/openai-openapi.yaml

.PHONY: install test lint conformance detection serve bench fuzz dist compat clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

# Four workers on two cores: the tests mostly wait on the servers they start (measured: 9 min 16 s
# in one process, 2 min 55 s in four). TEST_JOBS=0 runs them in this process.
TEST_JOBS ?= 4
test: install
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS))

# Style, who may import whom (import-linter's contracts in pyproject.toml) and types (mypy).
lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports
	$(BIN)/mypy

# Without BASE_URL: start the bundled reference server on a free loopback port and check it.
conformance: install
	@echo "assistants-conformance run $(if $(BASE_URL),--base-url $(BASE_URL),--reference) --report-dir $(REPORT_DIR)"
	@# Not echoed: the key must not appear in any log.
	@$(if $(API_KEY),ASSISTANTS_API_KEY='$(API_KEY)') $(BIN)/assistants-conformance run \
		$(if $(BASE_URL),--base-url "$(BASE_URL)",--reference) --report-dir $(REPORT_DIR)

# Every named fault met by this suite and by plain Schemathesis (our spec, and the vendor's when
# VENDOR_SPEC exists), then every mutant derived from the contract: writes detection.html/.json
# and mutants.json/.md to $(REPORT_DIR). Schemathesis cells measured before with the same
# servers, document, seed and budget are reused (DETECTION_ARGS=--remeasure runs them again).
detection: install
	$(BIN)/assistants-conformance detection --mutants --report-dir $(REPORT_DIR) \
		$(if $(VENDOR_SPEC),--vendor-spec "$(VENDOR_SPEC)") $(DETECTION_ARGS)

serve: install
	$(BIN)/assistants-conformance serve

# Request rates are measured with wrk (Debian); it is installed here when missing and possible.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null; } || true
	$(BIN)/python -m tests.benchmarks

# The fuzz tests with a large budget and fresh random examples (CI replays a small, fixed set).
FUZZ_EXAMPLES ?= 2000
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz.py

# Public Assistants v2 implementations side by side (tests/compat/implementations/*.toml): each is
# installed once under ~/.cache/assistants-conformance/compat, started on loopback, checked and
# stopped; writes $(REPORT_DIR)/compat.html, compat.md and compat.json. Downloads; never in CI.
compat: install
	$(BIN)/python -m tests.compat --reports $(REPORT_DIR) $(COMPAT_ARGS)

# The sdist and the wheel (which carries the contract) in dist/, their metadata checked as the
# package index will render it. The release workflow (.github/workflows/release.yml) runs the same.
dist: install
	$(BIN)/python -m pip install --quiet -e ".[test,release]"
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*
	$(BIN)/python -m pytest -m dist -p no:randomly tests/test_install.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find $(REPORT_DIR) -mindepth 1 ! -name .gitignore -delete 2>/dev/null || true
