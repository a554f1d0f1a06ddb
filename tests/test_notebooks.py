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


def _names(code):
    """(defined, used) top-level names of a code cell; IPython magics are skipped."""
    import ast
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(), set()
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)) \
                if not isinstance(node, ast.ClassDef) else None
        elif isinstance(node, ast.Lambda):
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used


@chapter
def test_visible_code_uses_no_name_defined_only_in_a_hidden_cell(path):
    """A reader (and live code on the page) sees only the cells whose code is shown: a name
    such a cell uses must be defined in a shown cell, not only in a cell whose code the
    page removes (a hidden check, ``remove-cell``, or generated text, ``remove-input``)."""
    hidden_only, visible_defined = set(), set()
    cells = [c for c in _cells(path) if c["cell_type"] == "code"][1:]     # after the Colab cell
    for cell in cells:
        defined, _ = _names(_source(cell))
        hidden = {"remove-cell", "remove-input"} & set(_tags(cell))
        (hidden_only if hidden else visible_defined).update(defined)
    hidden_only -= visible_defined
    for cell in cells:
        if {"remove-cell", "remove-input"} & set(_tags(cell)):
            continue                                   # the reader does not see its code
        _, used = _names(_source(cell))
        leaked = sorted(used & hidden_only)
        assert not leaked, f"{leaked} defined only in hidden cells, used in: {_source(cell)[:100]!r}"


@chapter
def test_every_glued_number_is_used_by_a_check(path):
    """A number the prose prints from the run is asserted by a hidden check (tests/claims.py)."""
    from claims import claims
    found = claims(path)
    assert not found.unchecked, f"glued but never checked: {found.unchecked}"


@chapter
def test_every_glue_role_in_the_prose_has_its_value(path):
    from claims import claims
    found = claims(path)
    assert not found.unglued, f"the text prints {found.unglued}, which nothing glues"
