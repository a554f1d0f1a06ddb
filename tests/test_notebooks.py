"""Notebook hygiene (COURSE.md §4, §9, §10): what every chapter must be, checked on the files.

The notebooks themselves are executed by nbval in the same test command
(``python3 course.py test`` runs ``pytest --nbval-lax tests chapters``).
"""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "notes", "skip", "-"}


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def _repository_url():
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    return "".join(cell["source"])


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


chapter = pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])


def test_there_is_at_least_one_chapter():
    assert CHAPTERS, "chapters/ holds no notebook"


def test_every_file_in_the_toc_exists():
    for name in _toc_files():
        assert any((ROOT / f"{name}{ext}").exists() for ext in (".md", ".ipynb")), name


@chapter
def test_chapter_is_in_the_toc(path):
    assert f"chapters/{path.stem}" in _toc_files()


@chapter
def test_chapter_is_stored_without_outputs(path):
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, _source(cell)[:80]


@chapter
def test_chapter_runs_in_the_python3_kernel(path):
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "python3"


@chapter
def test_first_code_cell_installs_optlib_only_on_colab(path):
    first = next(c for c in _cells(path) if c["cell_type"] == "code")
    text = _source(first)
    assert "google.colab" in text and "remove-cell" in _tags(first)
    assert f"git+{_repository_url()}" in text, "the Colab cell must use _config.yml's repository url"


@chapter
def test_no_pip_or_sys_path_outside_the_colab_cell(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"][1:]
    for cell in code:
        text = _source(cell)
        assert not re.search(r"^\s*[!%]pip", text, re.M), text[:80]
        assert "sys.path" not in text, "install optlib instead of editing sys.path"


@chapter
def test_every_cell_has_a_slide_type(path):
    for cell in _cells(path):
        slide = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        assert slide in SLIDE_TYPES, _source(cell)[:80]


@chapter
def test_check_cells_are_hidden_and_skipped_on_slides(path):
    for cell in _cells(path):
        if cell["cell_type"] == "code" and re.search(r"^assert ", _source(cell), re.M):
            assert "remove-cell" in _tags(cell), _source(cell)[:80]
            assert cell["metadata"]["slideshow"]["slide_type"] == "skip"


@chapter
def test_chapter_starts_with_a_title(path):
    first = _cells(path)[0]
    assert first["cell_type"] == "markdown" and _source(first).startswith("# ")
