#!/usr/bin/env bash
# biLM pretraining on a GPU machine that has Python, torch and lightning but no network.
#
#   bash benchmarks/gpu_pretrain.sh prepare [CORPUS ...]
#       on a machine with the corpus and the package registries: writes .gpu/ (ignored by
#       git): the wheels elmo-pretrain and elmo-bench need beyond torch, lightning, h5py,
#       numpy, scikit-learn and matplotlib, and a copy of the CORPUS files and folders
#       (default ../shared/data/corpus) in .gpu/corpus. benchmarks/gpu_check.sh uses the same
#       stage, with the UD English-EWT folder as its CORPUS.
#       What travels to a lent machine is limited in size: pick files that fit.
#
#   bash benchmarks/gpu_pretrain.sh train OUT DURATION [elmo-pretrain overrides ...]
#       on the GPU machine, from the repository root with .gpu/ beside it: installs the
#       wheels into .gpu/site, trains in .gpu/run (a rerun there resumes from its
#       checkpoint) for DURATION (DD:HH:MM:SS) on .gpu/corpus with TF32 multiplies and
#       32,768-token batches, and writes into OUT the export,
#       split into parts under 16 MB (export.tar.part-*), its metrics.json, the training
#       log and the GPU's name. Rebuild the export with
#       `cat OUT/export.tar.part-* | tar -x -C DEST`.
#
# ACCELERATOR=cpu runs `train` on a CPU (a check of the route, not a training run);
# GPU_STAGE names another folder than .gpu/.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
stage=${GPU_STAGE:-$here/.gpu}
# shellcheck source=benchmarks/gpu_stage.sh
. "$here/benchmarks/gpu_stage.sh"

prepare() {
    (($#)) || set -- "$here/../shared/data/corpus"
    mkdir -p "$stage/wheels"
    rm -rf "$stage/corpus.partial" && mkdir "$stage/corpus.partial"
    local path
    for path in "$@"; do
        [[ -e $path ]] || { echo "gpu_pretrain: corpus not found: $path" >&2; exit 2; }
        cp -rL "$path" "$stage/corpus.partial/"
    done
    rm -rf "$stage/corpus" && mv "$stage/corpus.partial" "$stage/corpus"
    # Pure-Python packages, at the versions installed here; the GPU machine's image has
    # torch, lightning, h5py, numpy, tqdm, click, joblib, regex, scikit-learn and matplotlib.
    local pins
    pins=$(python3 -c 'from importlib.metadata import version as v
print(" ".join(f"{n}=={v(n)}" for n in ("hydra-core", "omegaconf", "antlr4-python3-runtime", "nltk", "sentencex", "defusedxml", "seqeval")))')
    # shellcheck disable=SC2086  # one word per requirement
    python3 -m pip wheel --quiet --no-deps --wheel-dir "$stage/wheels" $pins
    # sentencex is compiled: the one for the GPU image's Python (3.12).
    rm -f "$stage"/wheels/sentencex-*.whl
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$stage/wheels" \
        "sentencex==$(python3 -c 'from importlib.metadata import version; print(version("sentencex"))')"
    du -sh "$stage"/* | sed 's/^/gpu_pretrain: /'
}

train() {
    local out=${1:?OUT folder}; local duration=${2:?DURATION as DD:HH:MM:SS}; shift 2
    [[ -d $stage/corpus && -d $stage/wheels ]] || { echo "gpu_pretrain: $stage is not prepared (run: $0 prepare)" >&2; exit 2; }
    use_stage "$stage" "$here"
    mkdir -p "$out"
    local accelerator=${ACCELERATOR:-gpu}
    write_hardware "$out/hardware.txt" "$accelerator"
    local run_dir="$stage/run"  # a rerun on the same machine resumes from its checkpoint
    python3 -m elmo.pretrain corpus="[$stage/corpus]" output_dir="$run_dir" prepared_dir="$run_dir/prepared" \
        trainer.accelerator="$accelerator" float32_matmul_precision=high batch_tokens=32768 \
        trainer.max_time="$duration" trainer.enable_progress_bar=false "$@" 2>&1 | tee "$out/train.log"
    cp "$run_dir/export/metrics.json" "$out/metrics.json"
    rm -f "$out"/export.tar.part-*
    tar -C "$run_dir/export" -cf - . | split -b 15m - "$out/export.tar.part-"
    ls -la "$out"
}

case ${1:-} in
    prepare) shift; prepare "$@" ;;
    train) shift; train "$@" ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
