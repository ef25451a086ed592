# releasegate — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRIVY_TEST_CACHE := .cache/trivy
export SEMGREP_ENABLE_VERSION_CHECK := 0
export SEMGREP_SEND_METRICS := off

.PHONY: help install testdata run test lint typecheck semgrep-test bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,scanners]'
	touch $(STAMP)

install: $(STAMP) ## Create the virtualenv with the service, Semgrep, Trivy and the test tools

$(TRIVY_TEST_CACHE)/db/trivy.db: tests/support/trivydb.py $(STAMP)
	$(BIN)/python -m tests.support.trivydb $(TRIVY_TEST_CACHE)

testdata: $(TRIVY_TEST_CACHE)/db/trivy.db ## Build the Trivy test database from the shared fixtures

run: install ## Start API + worker on embedded defaults (SQLite, filesystem broker, bundled policies)
	@test -f .data/trivy-cache/db/trivy.db || $(BIN)/python -m tests.support.trivydb .data/trivy-cache
	$(BIN)/releasegate dev

/usr/bin/chromium: ## Debian's Chromium, for the dashboard's browser tests
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

/usr/bin/docker-registry /usr/bin/skopeo &: ## Debian's registry and skopeo, for the registry tests
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry skopeo

test: install testdata /usr/bin/chromium /usr/bin/docker-registry /usr/bin/skopeo ## Run the whole test suite against real Redis, PostgreSQL, Semgrep and Trivy
	$(BIN)/python -m pytest -q

lint: install ## ruff and mypy
	$(BIN)/ruff check scanner workers tests bench
	$(BIN)/ruff format --check scanner workers tests bench
	$(BIN)/mypy scanner workers

semgrep-test: install ## Run the bundled Semgrep rules' own tests
	XDG_CONFIG_HOME=$$(mktemp -d) $(BIN)/semgrep --test --metrics=off --disable-version-check policies/semgrep

bench: install testdata ## Run the benchmarks and print their figures
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean: ## Remove the virtualenv, caches and local data
	rm -rf $(VENV) .cache .data .mypy_cache .ruff_cache .pytest_cache
