#!/usr/bin/env bash
# Train every shipped model in order (or those named as arguments), one at a time, into pretrained/.
# Each model's command is also recorded in its card (``trained_by``).
set -euo pipefail
cd "$(dirname "$0")/.."
export LATENT_LAB_MNIST="${LATENT_LAB_MNIST:-../shared/data/mnist}"
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(python -c 'from rep_models.catalogue import TRAIN_ORDER; print("\n".join(TRAIN_ORDER))')
for n in "${names[@]}"; do
  echo "=== $n $(date -u +%H:%M:%S)"
  python -m rep_models.train "$n" --out pretrained --no-progress --resume
done
echo "=== done $(date -u +%H:%M:%S)"
