#!/usr/bin/env bash
# Compare optlib with PyTorch, step for step, in an environment of its own.
#
#     tools/torch_compare.sh              # create/refresh .venv-torch, then run tests/against_torch/
#     tools/torch_compare.sh -k Adam -x   # extra arguments go to pytest
#
# PyTorch is not a dependency of the course (it stays out of requirements.txt), so the
# comparison gets its own virtual environment, .venv-torch/ (git-ignored), with torch
# from PyPI (nothing here uses a GPU: a CPU build is enough), pytest, and optlib
# installed editable with the versions that requirements.txt pins (numpy, scipy, ...).
# It is installed again only when this script, requirements.txt or pyproject.toml
# changes. .ci/run calls this script after the main tests, the GitHub workflow in a job
# of its own; a missing torch is then a failure, never a skip.
set -euo pipefail
SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SCRIPT")/.."
TORCH="torch==2.13.0"
# The authors' reference implementations of Lion and schedule-free AdamW, which
# tests/against_torch/test_after_adam_vs_reference.py compares optlib's with.
REFERENCES=("lion-pytorch==0.2.5" "schedulefree==1.4.1")
VENV="${TORCH_VENV:-.venv-torch}"
PYTHON="$VENV/bin/python"
STAMP="$VENV/.installed"

# The pins of requirements.txt, as constraints: the same numpy and scipy as the course.
constraints="$VENV/constraints.txt"
wanted="$(cat "$SCRIPT" requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$PYTHON" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$wanted" ]]; then
    echo "+ installing $TORCH into $VENV for the comparison with PyTorch"
    [[ -x "$PYTHON" ]] || python3 -m venv "$VENV"
    grep -E '^[A-Za-z0-9_.-]+==' requirements.txt | sed 's/[[:space:]]*#.*//' >"$constraints"
    "$PYTHON" -m pip install --disable-pip-version-check -q -c "$constraints" \
        "$TORCH" "${REFERENCES[@]}" numpy scipy pytest -e .
    echo "$wanted" >"$STAMP"
fi
"$PYTHON" -c 'import torch, numpy; print(f"+ torch {torch.__version__}, numpy {numpy.__version__}")'
# -p no:cacheprovider: the comparison writes nothing into the work tree.
# OPTLIB_REQUIRE_TORCH=1 turns "torch is not installed" into a failure instead of a skip.
OPTLIB_REQUIRE_TORCH=1 exec "$PYTHON" -m pytest -q -p no:cacheprovider tests/against_torch "$@"
