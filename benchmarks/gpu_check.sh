#!/usr/bin/env bash
# The GPU path end to end, on a GPU machine that has Python, torch and lightning but no network.
#
#   bash benchmarks/gpu_pretrain.sh prepare ../shared/data/ud_english_ewt    (here: the stage)
#   bash benchmarks/gpu_check.sh OUT [SENTENCES]                             (there)
#
# From the repository root with the stage (.gpu/, or GPU_STAGE) beside it, it installs the
# staged wheels and writes into OUT:
#   bilm_speed.txt  benchmarks.bilm_speed --device cuda: both released ELMo sizes, ours on the
#                   CPU against ours on the GPU, on SENTENCES (default 1000) UD-EWT dev sentences
#   pos_gpu.log     elmo-bench task=pos embedder=elmo trainer=gpu seed=0 on the staged UD-EWT:
#   pos_gpu.json    the biLM fills the activation cache on the GPU, the head trains there
#   hardware.txt    the GPU, the driver, torch and lightning
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
stage=${GPU_STAGE:-$here/.gpu}
# shellcheck source=benchmarks/gpu_stage.sh
. "$here/benchmarks/gpu_stage.sh"
out=${1:?OUT folder}
sentences=${2:-1000}
ud=$stage/corpus/ud_english_ewt
[[ -d $stage/wheels && -f $ud/en_ewt-ud-dev.conllu ]] || {
    echo "gpu_check: $stage has no wheels or UD English-EWT (run: bash benchmarks/gpu_pretrain.sh prepare ../shared/data/ud_english_ewt)" >&2
    exit 2
}
use_stage "$stage" "$here"
mkdir -p "$out"
cd "$here"
write_hardware "$out/hardware.txt" gpu

python3 -m benchmarks.bilm_speed --device cuda --conllu "$ud/en_ewt-ud-dev.conllu" \
    --sentences "$sentences" --batch-size 128 --long 0 2>&1 | tee "$out/bilm_speed.txt"

rows=$(mktemp -d)
python3 -m tasks.run task=pos embedder=elmo trainer=gpu seed=0 results_dir="$rows" \
    cache.dir="$rows/cache" trainer.enable_progress_bar=false \
    task.files.train="$ud/en_ewt-ud-train.conllu.gz" task.files.dev="$ud/en_ewt-ud-dev.conllu" \
    task.files.test="$ud/en_ewt-ud-test.conllu" 2>&1 | tee "$out/pos_gpu.log"
find "$rows" -name 'seed0-*.json' ! -name '*.examples.json' -exec cp {} "$out/pos_gpu.json" \;
ls -la "$out"
