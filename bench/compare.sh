#!/usr/bin/env bash
# Runs `tf-diffusion bench` and a PyTorch peer (the tutorial's training step ported to PyTorch, run with Debian's
# python3-torch and 2 threads) alternately on this machine and prints the side-by-side ratios, led by the yardstick
# measured in the same run: this machine's float32 matrix-product rate, the share of it a training step uses, and the
# sampling time over its analytic limit. The peer is not part of
# this project: point PEER at one. It must accept --features F --steps N --threads T [--sample-steps S --sample-batch B]
# and print one JSON object with train_step_s_median (and sample_s).
#
# Usage: PEER=path/to/peer.py bench/compare.sh [FEATURES...]          default: 16 32 64
#   STEPS=10      timed training steps per run
#   SAMPLE=1      also time 1000-step sampling of SAMPLE_IMAGES images (slow for the peer at features 64)
#   SAMPLE_IMAGES=64
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-10}
SAMPLE=${SAMPLE:-1}
SAMPLE_IMAGES=${SAMPLE_IMAGES:-64}
FEATURES=("$@")
[ ${#FEATURES[@]} -gt 0 ] || FEATURES=(16 32 64)
PY=/usr/bin/python3
PEER=${PEER:-}

if [ -z "$PEER" ] || [ ! -f "$PEER" ]; then
  echo "Set PEER to the PyTorch peer script to compare with (e.g. PEER=../shared/peers/torch_reference.py)." >&2
  exit 2
fi
if ! $PY -c "import torch" 2>/dev/null; then
  echo "The PyTorch peer needs Debian's python3-torch: sudo apt-get install python3-torch" >&2
  exit 2
fi
[ -f target/tf-diffusion.jar ] || mvn -B -q package -DskipTests

echo "# $(date -u +%Y-%m-%d) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
printf "%-9s %8s %9s %12s %12s %8s" features "sgemm" "useful" "ours ms" "peer ms" speedup
[ "$SAMPLE" = 1 ] && printf " %13s %9s %13s %8s" "ours sample s" "x limit" "peer sample s" ratio
printf "\n"
for f in "${FEATURES[@]}"; do
  peer_args=(--features "$f" --steps "$STEPS" --threads 2)
  [ "$SAMPLE" = 1 ] && peer_args+=(--sample-steps 1000 --sample-batch "$SAMPLE_IMAGES")
  peer=$($PY "$PEER" "${peer_args[@]}")
  ours=$(java -jar target/tf-diffusion.jar bench --features "$f" --steps "$STEPS" --sample-images "$SAMPLE_IMAGES" \
    --xla off)
  $PY - "$f" "$SAMPLE" "$ours" "$peer" <<'PY'
import json, sys
f, sample, ours, peer = sys.argv[1], sys.argv[2] == "1", json.loads(sys.argv[3]), json.loads(sys.argv[4])
o = ours["train_step_ms_median"]; p = peer["train_step_s_median"] * 1000
# ours against this machine's own float32 matrix-product rate first, then against the peer
line = f"{f:<9} {ours['sgemm_gflops']:8.0f} {ours['useful_fraction']:9.3f} {o:12.1f} {p:12.1f} {p / o:7.2f}x"
if sample:
    os_, ps = ours["sample_1000_ms"] / 1000, peer["sample_s"]
    line += f" {os_:13.1f} {ours['sample_1000_over_limit']:8.1f}x {ps:13.1f} {os_ / ps:7.2f}x"
print(line)
PY
done
