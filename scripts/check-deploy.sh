#!/usr/bin/env bash
# Checks deploy/ without Kubernetes: yamllint, then scripts/check-manifests.py (the API models of
# Debian's python3-kubernetes and glint's own rules) and its self-test. A `make check` stage.
# Usage: scripts/check-deploy.sh   (needs yamllint, python3-yaml, python3-kubernetes)
set -u
cd "$(dirname "$0")/.." || exit 2
py=/usr/bin/python3 # Debian's, with Debian's python3-yaml and python3-kubernetes
if ! command -v yamllint >/dev/null || ! "$py" -c 'import yaml, kubernetes' 2>/dev/null; then
    echo "FAIL deploy: needs yamllint, python3-yaml and python3-kubernetes (scripts/ensure-deps.sh check)"
    exit 1
fi
rc=0
yamllint --strict -c deploy/yamllint.yaml deploy/kubernetes && echo "yamllint: clean" || rc=1
"$py" scripts/check-manifests.py --selftest deploy/kubernetes || rc=1
"$py" scripts/check-manifests.py deploy/kubernetes || rc=1
exit $rc
