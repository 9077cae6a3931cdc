# Sourced by gpu_pretrain.sh and gpu_check.sh on the GPU machine: the staged packages and
# the hardware note both leave behind.

# use_stage STAGE ROOT: the staged wheels (installed once into STAGE/site) and ROOT on PYTHONPATH.
use_stage() {
    local stage=$1 root=$2
    local site=$stage/site
    if ! python3 -c 'import hydra, omegaconf, nltk, sentencex, seqeval' 2>/dev/null; then
        python3 -m pip install --quiet --no-index --no-deps --no-compile --target "$site" "$stage"/wheels/*.whl
    fi
    export PYTHONPATH="$root:$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
}

# write_hardware FILE ACCELERATOR: the GPU (gpu) or the CPU's cores (cpu), then torch and lightning.
write_hardware() {
    local file=$1 accelerator=$2
    if [[ $accelerator == gpu ]]; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$file"
    else
        echo "cpu: $(nproc) cores" > "$file"
    fi
    python3 -c 'import torch, lightning; print("torch", torch.__version__, "lightning", lightning.__version__)' >> "$file"
}
