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
COMPARE_METHODS := -m default -m default+flip -m mediapipe -m dlib -m mean-shape \
	-m checkpoints/v3/gateless_stage6.pt

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
	$(CVENV)/bin/synthmarks eval $(COMPARE_METHODS) --roll none --data $(SHARED)/data/afw-68pt --out runs/compare-afw

# The released model (v3) from nothing but the ICT-FaceKit archive and the CC0 assets in
# $(SHARED)/assets (README, "Reproducing it"): about 27 hours on 2 CPU cores and 76 GB of faces
# (510,000 of them); the default model first (about 9.5 hours), then the large one.
# Every step resumes: synth skips the faces already written, a stage whose summary.json exists is
# done, an interrupted stage continues from its last.pt. Each stage's config starts from the
# committed checkpoints/v3/ weights; here each starts from the previous stage's own best.pt.
export SYNTHMARKS_DATA ?= data/synth
ASSET := src/synthmarks/assets/synthmarks-default
LARGE := src/synthmarks/assets/synthmarks-large
TRAIN := MALLOC_MMAP_THRESHOLD_=1000000 $(VENV)/bin/synthmarks train
SYNTH := $(VENV)/bin/synthmarks synth
INIT_v3_gateless_stage2 := runs/v3_gateless/best.pt
INIT_v3_gateless_stage3 := runs/v3_gateless_stage2/best.pt
INIT_v3_gateless_stage4 := runs/v3_gateless_stage3/best.pt
INIT_v3_gateless_stage5 := runs/v3_gateless_stage4/best.pt
INIT_v3_gateless_stage6 := runs/v3_gateless_stage5/best.pt
INIT_v3_gateless_stage7_even := runs/v3_gateless_stage6/best.pt
INIT_v3_teacher_stage2 := runs/v3_teacher/best.pt
INIT_v3_teacher_stage3 := runs/v3_teacher_stage2/best.pt
INIT_v3_teacher_stage4 := runs/v3_teacher_stage3/best.pt
INIT_v3_teacher_stage5 := runs/v3_teacher_stage4/best.pt
INIT_v3_teacher_stage6 := runs/v3_teacher_stage5/best.pt
INIT_v3_teacher_stage7 := runs/v3_teacher_stage6/best.pt
INIT_v3_teacher_stage8 := runs/v3_teacher_stage7/best.pt
INIT_v3_teacher_stage9 := runs/v3_teacher_stage8/best.pt
INIT_v3_teacher_stage10 := runs/v3_teacher_stage9/best.pt
INIT_v3_teacher_stage11 := runs/v3_teacher_stage10/best.pt
INIT_v3_teacher_stage12_192 := runs/v3_teacher_stage11/best.pt
INIT_v3_teacher_stage13_192 := runs/v3_teacher_stage12_192/best.pt
INIT_v3_teacher_stage14_192 := runs/v3_teacher_stage13_192/best.pt
INIT_v3_teacher_stage15_192 := runs/v3_teacher_stage14_192/best.pt
INIT_v3_teacher_stage16_192 := runs/v3_teacher_stage15_192/best.pt

release: setup
	# the default (0.7.0): the network without squeeze-excite gates, 0.875 wide, from scratch in
	# seven stages on faces at the generator's defaults (stages 4-7 half in the v1 look; the
	# sets of stages 1-6 were labelled before the outline jaw was spaced evenly)
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed16 --count 20000 --seed 16 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed17 --count 20000 --seed 17 --set meter_albedo_ref=0 --outline-jaw silhouette
	mkdir -p $(SYNTHMARKS_DATA)/v3r7_s1617
	ln -sfn ../v3r7_seed16 $(SYNTHMARKS_DATA)/v3r7_s1617/seed16
	ln -sfn ../v3r7_seed17 $(SYNTHMARKS_DATA)/v3r7_s1617/seed17
	$(MAKE) runs/v3_gateless/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed18 --count 20000 --seed 18 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(MAKE) runs/v3_gateless_stage2/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed19 --count 20000 --seed 19 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(MAKE) runs/v3_gateless_stage3/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed20 --count 20000 --seed 20 --set p_look_v1=0.5 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(MAKE) runs/v3_gateless_stage4/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed21 --count 20000 --seed 21 --set p_look_v1=0.5 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(MAKE) runs/v3_gateless_stage5/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed22 --count 20000 --seed 22 --set p_look_v1=0.5 --set meter_albedo_ref=0 --outline-jaw silhouette
	$(MAKE) runs/v3_gateless_stage6/summary.json
	# stage 7 (0.7.0): fresh faces whose outline jaw is spaced evenly along the jaw (the default)
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed23_even --count 20000 --seed 23 --set p_look_v1=0.5 --set meter_albedo_ref=0
	$(MAKE) runs/v3_gateless_stage7_even/summary.json
	$(VENV)/bin/synthmarks eval -m runs/v3_gateless_stage7_even/best.pt --roll none \
		--data $(SHARED)/data/aflw2000-3d-dev --out runs/release_eval
	cp runs/v3_gateless_stage7_even/best.pt $(ASSET).pt
	$(VENV)/bin/synthmarks export $(ASSET).pt --out $(ASSET).onnx
	# the large model: the teacher, PIPNet on a half-width ResNet-18 (about 18 more hours); every
	# set before seed 16 is labelled as it was made: its outline jaw marching sideways only
	# (--outline-jaw lines), the generator's default now puts it on the jaw's edge as seen
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r4_seed1 --count 20000 --seed 1 --outline-jaw lines
	$(MAKE) runs/v3_teacher/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3_seed6 --count 40000 --seed 6 --set p_look_v1=0.5 --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage2/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3_seed7 --count 40000 --seed 7 --set p_look_v1=0.5 --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage3/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3_seed8 --count 40000 --seed 8 --set p_look_v1=0.5 --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage4/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3_seed9 --count 40000 --seed 9 --set p_look_v1=0.5 --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage5/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3_seed10 --count 30000 --seed 10 --set p_look_v1=0.5 --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage6/summary.json
	# stages 7 and 8: the x-ray jaw at the 3-D morphable model's depth (these sets were labelled
	# with ICT's lip vertices, as --lip-points mesh keeps them)
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r6_seed12 --count 20000 --seed 12 --lip-points mesh --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage7/summary.json
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r6_seed13 --count 20000 --seed 13 --lip-points mesh --outline-jaw lines
	$(MAKE) runs/v3_teacher_stage8/summary.json
	# stage 9: look revision 7, brows higher, lip points aligned
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r7_seed14 --count 20000 --seed 14 --outline-jaw lines --set meter_albedo_ref=0
	$(MAKE) runs/v3_teacher_stage9/summary.json
	# stages 10 and 11: the default's first faces, seeds 16 and 17, at the generator's defaults
	$(MAKE) runs/v3_teacher_stage10/summary.json
	$(MAKE) runs/v3_teacher_stage11/summary.json
	# stage 12 (0.8.0): the default's stage-7 faces (seed 23, the outline jaw spaced evenly), at
	# 192-pixel crops from here on (every weight carries over)
	$(MAKE) runs/v3_teacher_stage12_192/summary.json
	# stage 13: 20,000 fresh faces of seed 24 (look revision 8, half in the v1 look)
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r8_seed24_even --count 20000 --seed 24 --set p_look_v1=0.5
	$(MAKE) runs/v3_teacher_stage13_192/summary.json
	# stage 14 (0.8.1): 20,000 fresh faces of seed 26 rendered at 384 pixels, so that a 192-pixel
	# crop of a small face is not an enlargement
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r8_seed26_384_mesh --count 20000 --seed 26 --size 384 --set p_look_v1=0.5
	$(MAKE) runs/v3_teacher_stage14_192/summary.json
	# stage 15 (0.8.2): 20,000 fresh faces of seed 27, also at 384 pixels
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r8_seed27_384 --count 20000 --seed 27 --size 384 --set p_look_v1=0.5
	$(MAKE) runs/v3_teacher_stage15_192/summary.json
	# stage 16 (0.8.3): 20,000 fresh faces of seed 28 at 384 pixels
	$(SYNTH) --out $(SYNTHMARKS_DATA)/v3r8_seed28_384 --count 20000 --seed 28 --size 384 --set p_look_v1=0.5
	$(MAKE) runs/v3_teacher_stage16_192/summary.json
	$(VENV)/bin/synthmarks export runs/v3_teacher_stage16_192/best.pt --out $(LARGE).onnx

# One training stage; $(wildcard) is expanded when the recipe runs, so a stage that was cut off
# resumes. A stage named in an INIT_ variable above starts from that stage's weights.
runs/%/summary.json:
	$(TRAIN) --config configs/$*.yaml $(if $(INIT_$*),--set init.checkpoint=$(INIT_$*)) \
		$(if $(wildcard runs/$*/last.pt),--resume)

clean:
	rm -rf $(VENV) $(CVENV) runs
