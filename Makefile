# Two entry points for a fresh clone: `make demo` and `make test` (see README).
# Everything is installed into .venv; torch 2.13.0 first, so pip never pulls CUDA builds.
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared
export SYNTHMARKS_SHARED := $(abspath $(SHARED))

.PHONY: setup demo test lint clean compare-env compare release

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(VENV)/bin/synthmarks predict $(SHARED)/data/real-68pt --out runs/demo --json

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

# Comparison with other landmarkers (docs/comparison.md). MediaPipe 0.10.21, the last release with
# its Face Mesh models inside the wheel, needs numpy<2 and protobuf<5 and brings its own cv2
# (opencv-contrib-python), so it cannot share .venv: it gets $(CVENV), with synthmarks installed
# --no-deps next to numpy-1.x builds of its dependencies. This set was resolved and checked
# together (eval with .pt and .onnx models, dlib, mediapipe); change it as a whole.
CVENV ?= .venv-compare
CPY := $(CVENV)/bin/python
COMPARE_PINS := numpy==1.26.4 protobuf==4.25.9 mediapipe==0.10.21 jax==0.7.1 jaxlib==0.7.1 \
	opencv-contrib-python==4.11.0.86 scipy==1.17.1 matplotlib==3.11.2 scikit-image==0.26.0 \
	onnxruntime==1.31.1 onnx==1.22.0 tqdm==4.70.1 pyyaml==6.0.3 dlib-bin==20.0.1.post1 \
	face_recognition_models==0.3.0 pytest==9.2.0 omegaconf==2.4.0
COMPARE_METHODS := -m default -m default+flip -m mediapipe -m dlib -m mean-shape

compare-env: $(CVENV)/.installed

$(CVENV)/.installed: pyproject.toml Makefile
	python3 -m venv $(CVENV)
	$(CPY) -m pip install -q --upgrade pip
	$(CPY) -m pip install -q torch==2.13.0
	$(CPY) -m pip install -q $(COMPARE_PINS)
	$(CPY) -m pip install -q --no-deps -e .
	$(CPY) -c "import importlib.metadata as md, cv2, numpy; \
	cvs = sorted(d.metadata['Name'] for d in md.distributions() if d.metadata['Name'].startswith('opencv')); \
	assert cvs == ['opencv-contrib-python'], f'want exactly one cv2, got {cvs}'; \
	assert cv2.data.haarcascades and numpy.__version__ < '2', 'cv2 without haarcascades or numpy 2'; \
	from synthmarks.eval import baselines; \
	assert baselines.available() == ['dlib', 'mediapipe'], baselines.available(); \
	print('compare env ok:', cvs, 'numpy', numpy.__version__, 'cv2', cv2.__version__)"
	touch $@

compare: compare-env
	$(CVENV)/bin/synthmarks eval $(COMPARE_METHODS) --roll none --data $(SHARED)/data/aflw2000-3d-dev --out runs/compare
	$(CVENV)/bin/synthmarks eval $(COMPARE_METHODS) --roll none --data $(SHARED)/data/real-68pt --out runs/compare-real-68pt

# The released model from nothing but the ICT-FaceKit archive (README, "Reproducing it"): about
# 3.5 hours on 2 CPU cores. Every step resumes: synth skips the faces already written, a stage whose
# summary.json exists is done, an interrupted stage continues from its last.pt.
export SYNTHMARKS_DATA ?= data/synth
RELEASE_FACES ?= 60000
ASSET := src/synthmarks/assets/synthmarks-default
TRAIN := MALLOC_MMAP_THRESHOLD_=1000000 $(VENV)/bin/synthmarks train

release: setup
	$(VENV)/bin/synthmarks synth --out $(SYNTHMARKS_DATA)/release --count $(RELEASE_FACES) --seed 1
	$(VENV)/bin/synthmarks synth --out $(SYNTHMARKS_DATA)/val_seed2 --count 500 --seed 2
	$(MAKE) runs/release/summary.json runs/release_finetune/summary.json runs/release_stage3/summary.json
	$(VENV)/bin/synthmarks synth --relabel $(SYNTHMARKS_DATA)/release --count 30000 \
		--brow-convention centre --out $(SYNTHMARKS_DATA)/release_browcentre
	$(VENV)/bin/synthmarks synth --relabel $(SYNTHMARKS_DATA)/val_seed2 \
		--brow-convention centre --out $(SYNTHMARKS_DATA)/val_seed2_browcentre
	$(MAKE) runs/release_stage4/summary.json
	$(VENV)/bin/synthmarks eval -m runs/release_stage4/best.pt -m runs/release_stage4/best.pt+flip \
		--data $(SHARED)/data/aflw2000-3d-dev --out runs/release_eval
	cp runs/release_stage4/best.pt $(ASSET).pt
	$(VENV)/bin/synthmarks export $(ASSET).pt --out $(ASSET).onnx

# One training stage; $(wildcard) is expanded when the recipe runs, so a stage that was cut off
# resumes. Stage order is the order of the $(MAKE) line above.
runs/%/summary.json:
	$(TRAIN) --config configs/$*.yaml $(if $(wildcard runs/$*/last.pt),--resume)

clean:
	rm -rf $(VENV) $(CVENV) runs
