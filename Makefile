# seqprep: `make demo` and `make test` do all the setup on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SEQPREP := $(VENV)/bin/seqprep
# torch is needed by `seqprep train` only. This exact pin resolves to a local CPU build here;
# any other spec downloads gigabytes of CUDA packages.
TORCH  := torch==2.13.0
DEMO   := demo_out

.PHONY: install install-train demo test bench bench-quick sample-data clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[plot,test]'
	$(PY) -m pip install -q '$(TORCH)' || echo "warning: $(TORCH) did not install; the train tests will be skipped"
	touch $@

install-train: install
	$(PY) -m pip install -q '$(TORCH)'

demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== documents (JSON lines): ingest, inspect, keep head+tail 400 tokens"
	$(SEQPREP) ingest sample_data/reviews/train.jsonl $(DEMO)/reviews --lowercase
	$(SEQPREP) inspect $(DEMO)/reviews --plot $(DEMO)/reviews-lengths.png
	$(SEQPREP) truncate $(DEMO)/reviews $(DEMO)/reviews-400 --length 400 --keep both --head 100
	@echo "== sensor traces (.ts, 3 channels): model-ready arrays of the last 600 steps"
	$(SEQPREP) ingest sample_data/sensors/train.ts $(DEMO)/sensors
	$(SEQPREP) inspect $(DEMO)/sensors
	$(SEQPREP) truncate $(DEMO)/sensors $(DEMO)/sensors-600 --length 600 --format npy
	@echo "== DNA (FASTA + labels CSV), piped: first 2000 bases, inspected from the stream"
	$(SEQPREP) ingest sample_data/dna/train.fasta $(DEMO)/dna --labels sample_data/dna/train_labels.csv
	$(SEQPREP) truncate $(DEMO)/dna - --length 2000 --keep start --pad-side end --pad-value N | $(SEQPREP) inspect -

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/bench.py
	$(PY) bench/train_bench.py

bench-quick: install
	$(PY) bench/bench.py --quick
	$(PY) bench/train_bench.py --quick

sample-data: install
	$(PY) scripts/make_sample_data.py sample_data

clean:
	rm -rf $(DEMO) bench_out .pytest_cache .hypothesis
