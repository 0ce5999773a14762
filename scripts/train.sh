#!/usr/bin/env bash
# The full training pipeline, resumable: stage 1, stage 2, calibrate, publish, evaluate. Hours on 2 CPU cores:
#   nohup scripts/train.sh runs/main > runs/main.out 2>&1 &
# Re-running it continues each stage from its last checkpoint. Extra arguments go to stage 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
run=${1:-runs/main}
data=${FER_DATA:-../shared/datasets/fer2013.zip}
shift || true
py=.venv/bin/python
$py -m emotion.training.train stage1 --data "$data" --out "$run" "$@"
# stage 2 has its own options (e.g. STAGE2_ARGS="--epochs 1 --clips 64 --train-faces 500" for a smoke run)
$py -m emotion.training.train stage2 --data "$data" --out "$run" ${STAGE2_ARGS:-}
$py -m emotion.training.calibrate --data "$data" --checkpoint "$run/stage2_best.pt"
# the confidence's temperature and the reliability rule's choice, on PublicTest; the rule's constants
# in emotion/ml/quality.py are then set from "$run/reliability_fit.json" by hand
$py -m emotion.training.robustness --fit --data "$data" --checkpoint "$run/stage2_best.pt" --out "$run/reliability_fit.json"
ablation=()
[ -f runs/ablation.json ] && ablation=(--ablation runs/ablation.json)
$py -m emotion.training.publish --run "$run" "${ablation[@]}"
$py -m emotion.training.evaluate --data "$data" --checkpoint emotion/weights/fer_cnn_lstm.pt --card emotion/weights/model_card.json
$py -m emotion.training.robustness --data "$data" --split PrivateTest --out "$run/suite_private.json"
