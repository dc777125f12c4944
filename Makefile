# movenet-cli: `make demo` sets everything up and runs the main job; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: install models demo test bench clean check-build interop mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,ray,s3,mutation]'
	touch $(STAMP)

install: $(STAMP)

models: $(STAMP)
	$(BIN)/movenet models fetch

demo: models
	$(BIN)/movenet video sample_media/demo_clip.mp4 -o $(OUT)/demo_clip.mp4 --input-size 384 --overwrite
	$(BIN)/movenet image sample_media/person.jpg -o $(OUT)/person.jpg --csv --overwrite
	$(BIN)/movenet dir sample_media -o $(OUT)/sample_media --input-size 384 --overwrite --quiet --report
	@echo
	@echo "Outputs are in $(OUT)/:"
	@ls -l $(OUT)
	@echo "Report of the sample media: $(OUT)/sample_media/report.html"

test: models
	sh tests/browser_setup.sh
	$(BIN)/python -m pytest -q

# Speed against the naive per-frame loop, stage by stage; prints a table and writes bench/REPORT.md.
bench: models
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(OUT) .pytest_cache

# The wheel builds (in an isolated build environment) without a deprecation warning.
check-build: $(STAMP)
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/python -m pip wheel . -w build/wheel-check --no-deps -v > build/wheel-check/log 2>&1
	! grep -i 'deprecat' build/wheel-check/log
	@echo "wheel built without deprecation warnings: $$(ls build/wheel-check/*.whl)"

# Our exports read by the tools they are for: Pose2Sim (to OpenSim kinematics), OpenSim, Sports2D,
# pycocotools. Their own virtual environment inside the clone (about 2 GB; pip's download cache is
# reused), the pose2sim and sports2d wheels beside it for their demo data. Prints N passed, N failed.
INTEROP_VENV ?= .venv-interop
INTEROP_STAMP := $(INTEROP_VENV)/.installed

$(INTEROP_STAMP): tests/interop/requirements.txt
	$(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INTEROP_VENV)/bin/python -m pip install --quiet -r tests/interop/requirements.txt
	rm -rf $(INTEROP_VENV)/wheels
	$(INTEROP_VENV)/bin/python -m pip download --quiet --no-deps --dest $(INTEROP_VENV)/wheels \
		$$(grep -E '^(pose2sim|sports2d)==' tests/interop/requirements.txt)
	touch $(INTEROP_STAMP)

interop: models $(INTEROP_STAMP)
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(INTEROP_VENV)/bin/python tests/interop/check.py \
		--movenet $(BIN)/movenet --wheels $(INTEROP_VENV)/wheels --work build/interop

# Mutation check: mutmut mutates the modules named in pyproject.toml ([tool.mutmut]) and runs the fast
# tests that reach each mutant; prints the score per module. Survivors are reviewed in docs/mutation.md.
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/python tests/mutation_score.py
