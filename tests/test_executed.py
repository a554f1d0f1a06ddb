"""The chapters the last build executed: every cell ran, none failed.

``python3 course.py test`` does not rerun a chapter that the last successful build executed
from the same notebook and the same optlib (see ``course.py``'s fingerprints); these tests
check that build's executed copy instead, so every chapter is still executed and checked
on every run, once.
"""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAMPS = ROOT / "_build" / "executed-fingerprints.json"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"


def _fresh():
    import importlib.util
    spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    return sorted(course._built_and_fresh())


FRESH = _fresh()
fresh = pytest.mark.parametrize("stem", FRESH or [None], ids=FRESH or ["none"])


def _code_cells(stem):
    nb = json.loads((EXECUTED / f"{stem}.ipynb").read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@fresh
def test_every_code_cell_of_the_executed_copy_ran(stem):
    if stem is None:
        pytest.skip("no chapter executed by a build of the current sources")
    source = json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())
    expected = sum(c["cell_type"] == "code" for c in source["cells"])
    cells = _code_cells(stem)
    assert len(cells) == expected, "the executed copy is not of this notebook"
    assert all(c.get("execution_count") for c in cells if "".join(c["source"]).strip())


@fresh
def test_no_cell_of_the_executed_copy_failed(stem):
    if stem is None:
        pytest.skip("no chapter executed by a build of the current sources")
    for cell in _code_cells(stem):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, "".join(cell["source"])[:120]
