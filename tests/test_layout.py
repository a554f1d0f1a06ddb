"""The library's layout stays what the README says it is.

* ``optlib.lab`` holds chapter code; nothing outside it imports it, and ``import optlib``
  loads neither it nor ipywidgets.
* No import cycles between optlib's modules.
* Colours come from ``optlib.viz`` and the optimizer registry, never from a notebook.
* The reference page documents every public library module, and no chapter module.
* ruff finds nothing (configuration in pyproject.toml).
"""
import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "optlib"


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}
LIBRARY = sorted(m for m in MODULES if not m.startswith("optlib.lab"))


def _imports(module):
    """The optlib modules that ``module`` imports (anywhere in it, functions included)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from optlib import checks` imports the module optlib.checks (and runs the
            # package's __init__, which every import of a submodule does anyway); a name
            # that is not a submodule comes from the package's __init__ itself.
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = subs + ([node.module] if any(n not in MODULES for n in subs) else [])
        else:
            continue
        found.update(n for n in names if n in MODULES and n != module)
    return found


def test_imports_inside_optlib_are_absolute():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{module}: relative import at line {node.lineno}"


@pytest.mark.parametrize("module", LIBRARY)
def test_library_module_does_not_import_chapter_code(module):
    lab = sorted(m for m in _imports(module) if m.startswith("optlib.lab"))
    assert not lab, f"{module} imports {lab}: move what it needs out of lab, or it into lab"


def test_optlib_modules_import_each_other_without_cycles():
    # A module inside a package imports its siblings directly, not through the package's
    # __init__ (which re-exports them): that would be a cycle too, and it is counted.
    graph = {m: _imports(m) for m in MODULES}
    state, cycles = {}, []

    def visit(m, path):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycles.append(path[path.index(d):] + [d])
            elif d not in state:
                visit(d, path + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_import_optlib_loads_no_chapter_code_and_no_ipywidgets():
    code = ("import sys, optlib; "
            "print(sorted(m for m in sys.modules if m.startswith(('optlib.lab', 'ipywidgets'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


HEX = re.compile(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b(?![0-9A-Fa-f])")


@pytest.mark.parametrize("path", sorted((ROOT / "chapters").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_notebook_code_has_no_colour_literals(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            code = line.split("  # ")[0] if not line.lstrip().startswith("#") else ""
            assert not HEX.search(code), f"colour literal in {path.name}: {line.strip()}"


def _documented():
    return set(re.findall(r"automodule::\s+(\S+)", (ROOT / "reference.md").read_text()))


def test_reference_page_documents_every_public_library_module():
    public = {m for m in LIBRARY if not any(p.startswith("_") for p in m.split("."))}
    public -= {"optlib", "optlib.lab"}
    # A package whose __init__ only re-exports its modules is documented through them.
    packages = {m for m in public if MODULES[m].name == "__init__.py"}
    missing = sorted(public - packages - _documented())
    assert not missing, f"reference.md lacks {missing}"


def test_reference_page_documents_no_chapter_code():
    lab = sorted(m for m in _documented() if m.startswith("optlib.lab"))
    assert not lab, f"reference.md documents chapter modules {lab}"


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is in requirements.txt)")
    out = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
