# The two commands of the quick start are `make run` and `make test`; the rest serve them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel workers for the suite; CI's machine has two cores.
WORKERS ?= 2

.PHONY: assets messages install run test test-sqlite test-postgres lint bench bench-quick loadtest scale clean

# Front-end assets come from npm (package-lock.json pins them) and are copied beside the portal's
# own static files; nothing is fetched from a CDN at run time.
VENDOR := src/vpnregistry/portal/static/vendor
ASSETS := $(VENDOR)/.installed-stamp
PICO := node_modules/@picocss/pico/css
URDU := node_modules/@fontsource/noto-nastaliq-urdu
SANS := node_modules/@fontsource/noto-sans
MONO := node_modules/@fontsource/noto-sans-mono

# `server` is the registry (the package alone is the operator tools); `dev` includes it too.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev,bench]'
	touch $@

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed to install the portal's assets"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/pico $(VENDOR)/noto-nastaliq-urdu/files $(VENDOR)/noto-sans/files $(VENDOR)/noto-sans-mono/files
	cp $(PICO)/pico.jade.min.css node_modules/@picocss/pico/LICENSE.md $(VENDOR)/pico/
	cp $(URDU)/LICENSE $(VENDOR)/noto-nastaliq-urdu/
	cp $(URDU)/files/noto-nastaliq-urdu-arabic-400-normal.woff2 \
	   $(URDU)/files/noto-nastaliq-urdu-arabic-700-normal.woff2 $(VENDOR)/noto-nastaliq-urdu/files/
	# The Latin fonts of the printed certificates (registrations/certificates.py): WeasyPrint reads
	# only the project's own files, never the system's fonts or the network.
	cp $(SANS)/LICENSE $(VENDOR)/noto-sans/
	cp $(SANS)/files/noto-sans-latin-400-normal.woff2 $(SANS)/files/noto-sans-latin-700-normal.woff2 \
	   $(VENDOR)/noto-sans/files/
	cp $(MONO)/LICENSE $(VENDOR)/noto-sans-mono/
	cp $(MONO)/files/noto-sans-mono-latin-400-normal.woff2 $(VENDOR)/noto-sans-mono/files/
	touch $@

assets: $(ASSETS)

install: $(STAMP) $(ASSETS)

run: install
	mkdir -p var
	$(BIN)/vpnregistry migrate --noinput -v 0
	$(BIN)/vpnregistry load_demo
	$(BIN)/vpnregistry runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The whole suite on SQLite, then the database tests again on PostgreSQL when DATABASE_URL is set;
# browser and multi-process tests then run once, in the PostgreSQL pass (tests/conftest.py).
# The fault tests run once, on a PostgreSQL cluster of their own (one per run: their xdist group).
test: install lint
	env -u DATABASE_URL $(if $(DATABASE_URL),VPNREGISTRY_PASS=sqlite-first) \
	  $(BIN)/pytest -n $(WORKERS) --dist loadgroup -p no:cacheprovider
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL =="; \
	  $(BIN)/pytest -n $(WORKERS) --dist loadgroup -p no:cacheprovider --create-db --ignore=tests/netblocks \
	    --ignore=tests/faults; \
	fi

# Refresh the Urdu catalogue from the code and templates, then compile it (needs GNU gettext).
messages: install
	cd src/vpnregistry && ../../$(BIN)/django-admin makemessages -l ur --no-location --no-obsolete \
	  --ignore='netblocks/*' --settings=vpnregistry.settings
	cd src/vpnregistry && ../../$(BIN)/django-admin compilemessages --settings=vpnregistry.settings
	@# What is left to translate (the suite fails on any: tests/portal/test_translations.py).
	@cd src/vpnregistry/locale/ur/LC_MESSAGES && \
	  msgattrib --untranslated --no-wrap django.po | sed -n 's/^msgid "\(..*\)"$$/  untranslated or fuzzy: \1/p'; \
	  report=$$(LC_ALL=C msgfmt --statistics -o /dev/null django.po 2>&1); \
	  echo "Urdu catalogue: $$report"; \
	  ! echo "$$report" | grep -Eq 'fuzzy|untranslated'

bench: install
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.allowlist_bench
	$(BIN)/python -m benchmarks.publish_bench $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))
	$(BIN)/python -m benchmarks.exemptions_bench

bench-quick: install
	$(BIN)/python -m benchmarks --quick
	$(BIN)/python -m benchmarks.allowlist_bench --quick
	$(BIN)/python -m benchmarks.publish_bench --quick $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))
	$(BIN)/python -m benchmarks.exemptions_bench --quick

# gunicorn on 127.0.0.1 under locust for LOADTEST_SECONDS, against a throwaway SQLite registry, or
# the EMPTY PostgreSQL database LOADTEST_DATABASE_URL names; prints the figures, exits 1 on a miss.
LOADTEST_SECONDS ?= 60
loadtest: install
	$(BIN)/python -m pip install -q -e '.[load]'
	$(BIN)/python -m benchmarks.loadtest --run-time $(LOADTEST_SECONDS) \
	  $(if $(LOADTEST_DATABASE_URL),--database-url $(LOADTEST_DATABASE_URL))

# A million registrations on the EMPTY PostgreSQL database SCALE_DATABASE_URL names, every path measured
# against its target behind gunicorn; exits 1 on a miss. SCALE_ARGS: e.g. --registrations 100000, --reuse.
scale: install
	$(BIN)/python -m benchmarks.scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) var build dist src/*.egg-info
