VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
# Development targets debug unless DEBUG is set; the settings' own default is off.
DEV := DEBUG=$${DEBUG:-true}

.PHONY: run test bench lint format worker beat install assets migrate demo messages clean \
	collectstatic serve

$(PY):
	@python=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

BADGE_ICONS := award star flame trophy medal crown rocket target heart smile zap book-open

static/vendor/.installed: package.json Makefile
	npm install --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/chart.js/dist/chart.umd.js static/vendor/chart.umd.js
	# collectstatic's hashed names follow the script's sourceMappingURL: the map must be there.
	cp node_modules/chart.js/dist/chart.umd.js.map static/vendor/chart.umd.js.map
	# The badge icons admins choose from (rewards.models.badges.BADGE_ICONS).
	mkdir -p static/vendor/badges
	for icon in $(BADGE_ICONS); do cp node_modules/lucide-static/icons/$$icon.svg static/vendor/badges/; done
	mkdir -p static/vendor/icons
	cp node_modules/lucide-static/icons/bell.svg static/vendor/icons/bell.svg
	@touch $@

assets: static/vendor/.installed

migrate: install
	$(DEV) $(PY) manage.py migrate --no-input

SEED_DEMO := $(DEV) $(PY) manage.py seed_demo --if-empty

demo: migrate
	$(SEED_DEMO)

run: migrate assets
	@echo "Atendo is at http://$(HOST):$(PORT)/ (logins below)"
	$(SEED_DEMO)
	$(DEV) $(PY) manage.py runserver $(HOST):$(PORT)

test: install assets
	$(BIN)/pytest

bench: install assets
	$(PY) benchmarks/run.py
	$(PY) benchmarks/evaluation.py
	$(PY) benchmarks/leaderboards.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(DEV) $(BIN)/celery -A config worker --loglevel=info

beat: install
	$(DEV) $(BIN)/celery -A config beat --loglevel=info

# Production (README "Production"): the settings come from the environment, DEBUG stays off.
collectstatic: install assets
	$(PY) manage.py collectstatic --no-input

serve: collectstatic
	$(PY) manage.py migrate --no-input
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

# Extract every translatable string into the pt-BR catalogue, then compile it (needs GNU
# gettext: apt-get install gettext). The compiled .mo is committed, so running needs neither.
MESSAGES_IGNORE := --ignore "node_modules/*" --ignore "static/*" --ignore "staticfiles/*" \
	--ignore "tests/*" --ignore "benchmarks/*" --ignore "var/*" --ignore "bench-data/*"

messages: install
	$(DEV) $(PY) manage.py makemessages --locale pt_BR --no-obsolete --add-location file $(MESSAGES_IGNORE)
	$(DEV) $(PY) manage.py compilemessages --locale pt_BR --ignore ".venv" --ignore "node_modules"

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
