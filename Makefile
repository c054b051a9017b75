# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test bench docs pictures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: refresh a copy of the bundled sample store and show what it found
demo: $(STAMP)
	mkdir -p demo-out
	cp samples/demo-store.xlsx demo-out/demo-store.xlsx
	$(BIN)/inv-sheets validate demo-out/demo-store.xlsx; test $$? -le 1
	$(BIN)/inv-sheets refresh demo-out/demo-store.xlsx
	@echo "Open demo-out/demo-store.xlsx to see the computed sheets."

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup

## bench: time each refresh phase against a bare fast read, an import's append against copying the sheet, and a ledger with one text cell against a clean one (benchmarks/)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/append_bench.py
	$(BIN)/python benchmarks/odd_cells_bench.py

## pictures: docs/img/*.png, the printed demo's Summary, Reorder and Pick List (LibreOffice, poppler-utils)
pictures: $(STAMP)
	$(BIN)/python docs/render_pictures.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache
