# Realign: `make dev` runs the whole stack locally, `make test` runs the suite.
# Both start from nothing but python3: uv comes from PyPI into .tools/, and uv builds .venv
# from uv.lock. The stamp file makes later runs skip the install until the lock changes.

UV := .tools/bin/uv
STAMP := .venv/.synced
export UV_PYTHON_DOWNLOADS := never

# Translations: each gettext catalog (.po, edited by translators) is compiled to the .mo the
# app reads; a .mo is remade whenever its .po changes (README, "Translating").
PO_FILES := $(wildcard service/core/catalogs/*/LC_MESSAGES/*.po admin/translations/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: dev test test-fast bench lint fmt install catalogs
.DEFAULT_GOAL := dev

install: $(STAMP) $(MO_FILES)

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==0.13.9

# Bytecode compiled at install: every process (web, each worker, every test that starts
# one) would otherwise compile the libraries it imports again where bytecode is not
# written (PYTHONDONTWRITEBYTECODE, a read-only slug), a second of CPU per start.
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --compile-bytecode
	@touch $@

%.mo: %.po | $(STAMP)
	.venv/bin/python scripts/compile_catalogs.py $<

# After the English changes (service/core/texts.py, spoken.py) or admin strings are added:
# remake the templates (.pot, from the source) and merge them into every language's .po.
catalogs: $(STAMP)
	.venv/bin/python scripts/catalogs.py

# TWILIO=local sends texts to the local Twilio-compatible API instead of the console.
dev: install
	.venv/bin/python scripts/dev.py $(if $(TWILIO),--twilio $(TWILIO))

# Two workers for two cores: each gets its own database and Redis db (tests/servers.py).
test: install
	.venv/bin/pytest -n 2 $(PYTEST_ARGS)

# The pure core's unit tests alone: no database, no Redis, no app (seconds).
test-fast: $(STAMP)
	.venv/bin/pytest tests/unit $(PYTEST_ARGS)

# Every bench/*.py, or one with NAME=x.
bench: $(STAMP)
	.venv/bin/python scripts/bench.py $(NAME)

lint: $(STAMP)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

fmt: $(STAMP)
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
