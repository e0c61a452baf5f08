# seqprep: `make demo` and `make test` do all the setup on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SEQPREP := $(VENV)/bin/seqprep
# torch is needed by `seqprep train` only. This exact pin resolves to a local CPU build here;
# any other spec downloads gigabytes of CUDA packages.
TORCH  := torch==2.13.0
DEMO   := demo_out

.PHONY: install install-train demo test test-slow bench bench-quick bench-real sample-data clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[plot,test,dask]'
	$(PY) -m pip install -q '$(TORCH)' || echo "warning: $(TORCH) did not install; the train tests will be skipped"
	touch $@

install-train: install
	$(PY) -m pip install -q '$(TORCH)'

demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== documents (JSON lines): ingest, inspect, then which technique works"
	$(SEQPREP) ingest sample_data/reviews/train.jsonl $(DEMO)/reviews --lowercase
	$(SEQPREP) ingest sample_data/reviews/test.jsonl $(DEMO)/reviews-test --lowercase
	$(SEQPREP) inspect $(DEMO)/reviews --plot $(DEMO)/reviews-lengths.png
	$(SEQPREP) compare $(DEMO)/reviews $(DEMO)/reviews-test --length 200 --epochs 6 --budget 500k \
		--json $(DEMO)/reviews-compare.json --plot $(DEMO)/reviews-compare.png
	@echo "== sensor traces (.ts, 3 channels)"
	$(SEQPREP) ingest sample_data/sensors/train.ts $(DEMO)/sensors
	$(SEQPREP) ingest sample_data/sensors/test.ts $(DEMO)/sensors-test
	$(SEQPREP) inspect $(DEMO)/sensors
	$(SEQPREP) compare $(DEMO)/sensors $(DEMO)/sensors-test --length 200 --epochs 6 --budget 500k \
		--json $(DEMO)/sensors-compare.json --plot $(DEMO)/sensors-compare.png
	@echo "== DNA (FASTA + labels CSV)"
	$(SEQPREP) ingest sample_data/dna/train.fasta $(DEMO)/dna --labels sample_data/dna/train_labels.csv
	$(SEQPREP) ingest sample_data/dna/test.fasta $(DEMO)/dna-test --labels sample_data/dna/test_labels.csv
	$(SEQPREP) inspect $(DEMO)/dna
	$(SEQPREP) compare $(DEMO)/dna $(DEMO)/dna-test --length 300 --epochs 6 --budget 500k \
		--json $(DEMO)/dna-compare.json --plot $(DEMO)/dna-compare.png

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

bench: install
	$(PY) -m pip install -q -e '.[bench]' || echo "warning: keras did not install; its comparison is skipped"
	$(PY) bench/bench.py
	$(PY) bench/train_bench.py

# Real data sets (UCR/UEA archive files inside the aeon and sktime wheels, installed without their
# dependencies and never imported; long Python source files of the installed packages) against
# simple baselines (majority, 1-NN, TF-IDF + logistic regression), then seqprep's LSTM recipes.
bench-real: install
	$(PY) -m pip install -q --no-deps aeon==1.6.0 sktime==1.2.0
	$(PY) -m pip install -q -e '.[bench]' || echo "warning: scikit-learn did not install; the baselines use numpy"
	$(PY) bench/real_data.py build bench_out/real
	$(PY) bench/real_data.py baselines bench_out/real
	$(PY) bench/real_data.py lstm bench_out/real bench_out/real-work

bench-quick: install
	$(PY) -m pip install -q -e '.[bench]' || echo "warning: keras did not install; its comparison is skipped"
	$(PY) bench/bench.py --quick
	$(PY) bench/train_bench.py --quick

sample-data: install
	$(PY) scripts/make_sample_data.py sample_data

clean:
	rm -rf $(DEMO) bench_out .pytest_cache .hypothesis
