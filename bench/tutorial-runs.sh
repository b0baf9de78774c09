#!/usr/bin/env bash
# Reproduces README's "tutorial preset" section: trains `--preset tutorial` twice (with --freeze-blocks, as the
# published run effectively did, and with all parameters), exports both, evaluates both and plots their EMA loss next
# to the tutorial's published curve. Off CI: at features 64 a step takes 0.55-1.8 s (frozen) and 1-2.6 s (all
# parameters) on a 2-core CPU, so allow 3-6 hours in all.
#
# Usage: bench/tutorial-runs.sh [OUT_DIR]      default: graphs/tutorial-comparison
#   Interrupted? Run it again: each run continues from its newest checkpoint, finished steps are skipped.
#   RUNS="frozen full"   which runs to train (default both, in that order)
#   JAX_RERUN=FILE.csv   also plot the tutorial's own code re-run (columns epoch,as_written_ema_loss,...)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-graphs/tutorial-comparison}
RUNS=${RUNS:-frozen full}
[ -f target/tf-diffusion.jar ] || mvn -B -q package -DskipTests
TFD=(java -jar target/tf-diffusion.jar)
mkdir -p "$OUT"
echo "# $(date -u +%Y-%m-%d) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

for run in $RUNS; do
  dir="$OUT/$run"
  flags=(--preset tutorial --sample-every 0 --no-export)
  [ "$run" = frozen ] && flags+=(--freeze-blocks)
  if [ -d "$dir/saved_model" ]; then
    echo "$run: exported already"
  elif [ -f "$dir/config.json" ]; then
    "${TFD[@]}" train --resume "$dir" --no-export
  else
    "${TFD[@]}" train "${flags[@]}" --out "$dir"
  fi
  [ -d "$dir/saved_model" ] || "${TFD[@]}" export --checkpoint "$dir"
  [ -f "$dir/evaluation.json" ] || "${TFD[@]}" evaluate --model "$dir/saved_model"
done

names=()
runs=()
for run in $RUNS; do
  runs+=(--run "$OUT/$run")
  if [ "$run" = frozen ]; then names+=(--name "freeze-blocks"); else names+=(--name "all parameters"); fi
done
refs=(--reference docs/reference/jax_tutorial_loss.csv --reference-name "published tutorial run")
if [ -n "${JAX_RERUN:-}" ]; then
  refs+=(--reference "$JAX_RERUN" --reference-name "tutorial code re-run, as written"
    --reference-name "tutorial code re-run, all parameters")
fi
"${TFD[@]}" plot-loss "${runs[@]}" "${names[@]}" "${refs[@]}" --at 0,100,200,300,400,1000,2000,3000,4000,4999,5000 \
  --out "$OUT/tutorial-loss.png" --overwrite
