# Two commands set everything up: `make demo` serves the demo cluster, `make test` runs the checks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UI_BUNDLE := gateway/ui/graph.js

.PHONY: demo test lint tools apiserver ui openapi docs mutate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) $(UI_BUNDLE)
	$(BIN)/kubevirt-gateway serve --demo

# the graph page's script: Cytoscape.js, its dagre layout and ui/src/, bundled by esbuild from the versions
# ui/package-lock.json pins; package data of gateway.ui, git-ignored; rebuilt only when the lock or a source changes
ui: $(UI_BUNDLE)
$(UI_BUNDLE): ui/package.json ui/package-lock.json $(wildcard ui/src/*.js)
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/lint-imports --config tests/support/emulator/importlinter.ini

# the tests drive Debian's chromium (the graph page) and run the pod in Debian's bubblewrap; install them
# where they are missing (CI runs as root).
# kubectl is not Debian's (too old): `make apiserver` builds it beside kube-apiserver
APT := $$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ) env DEBIAN_FRONTEND=noninteractive apt-get
tools:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the graph page test"; \
	  $(APT) update -qq && $(APT) install -y -qq chromium >/dev/null; }
	@command -v bwrap >/dev/null 2>&1 || { \
	  echo "installing Debian's bubblewrap: tests/kube/test_pod.py runs the Deployment's container with it"; \
	  $(APT) update -qq && $(APT) install -y -qq bubblewrap >/dev/null; }

# kube-apiserver, etcd and kubectl built from the Go modules pinned in tools/kube/ (DESIGN section 11),
# into ~/.cache/kubevirt-gateway/kube/; the first build takes minutes, later ones nothing; prints the bin dir last
apiserver:
	@tools/kube/build.sh

test: lint tools apiserver $(UI_BUNDLE)
	$(BIN)/pytest

openapi: $(STAMP)
	$(BIN)/kubevirt-gateway openapi > openapi.yaml

# docs/api.md's tables of kinds and links, from the catalogue (a test keeps them equal)
docs: $(STAMP)
	$(BIN)/python -m tests.test_docs

# mutation testing of the pure core (not in CI: minutes to an hour); docs/mutation.md has the last run
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/mutmut results --all true > mutants/results.txt || true
	$(BIN)/python bench/mutation_summary.py mutants/results.txt

# side-by-side ratios; docs/benchmarks.md has the results and what each command printed
bench: $(STAMP) apiserver
	@command -v wrk >/dev/null 2>&1 || { echo "installing Debian's wrk for the gunicorn figures"; \
	  $(APT) update -qq && $(APT) install -y -qq wrk >/dev/null; }
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	cd bench && ../$(BIN)/python follow_vs_round_trips.py
	cd bench && ../$(BIN)/python round_trips.py
	cd bench && ../$(BIN)/python n_plus_one.py --latency 0 && ../$(BIN)/python n_plus_one.py --latency 0.001
	cd bench && ../$(BIN)/python cache_floor.py
	cd bench && ../$(BIN)/python scale.py
	cd bench && ../$(BIN)/python graphs.py
	cd bench && ../$(BIN)/python real_apiserver.py
	cd bench && ../$(BIN)/python aggregated_hop.py
	cd bench && ../$(BIN)/python sync.py --rounds 3
	cd bench && ../$(BIN)/python churn.py
	cd bench && ../$(BIN)/python answer_memory.py
	cd bench && ../$(BIN)/python streams.py
	cd bench && ../$(BIN)/python answer_bytes.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache ui/node_modules $(UI_BUNDLE) artifacts
