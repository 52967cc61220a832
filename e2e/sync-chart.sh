#!/usr/bin/env bash
# Copy the CRDs (crds/*.yaml, written by the operator's crdgen) and the operator's RBAC rules
# (operator/rbac/clusterrole.yaml) into the chart, which cannot read files outside itself.
# e2e/chart-check.sh fails while the copies differ.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f charts/duckgate/files/crds/*.yaml
cp crds/*.yaml charts/duckgate/files/crds/
cp operator/rbac/clusterrole.yaml charts/duckgate/files/rbac/clusterrole.yaml
echo "charts/duckgate/files updated"
