#!/usr/bin/env python3
"""The course's commands. Each one first makes sure ``.venv`` holds what the course needs.

    python3 course.py test       # all unit tests, every chapter notebook (nbval), the built site
                                 # (a chapter the last build executed unchanged is not rerun)
    python3 course.py build      # the site into _build/html (warnings are errors), with the slides
    python3 course.py slides     # only the slides: every chapter, executed, as a reveal.js deck
    python3 course.py linkcheck  # check every external link of the book (needs the network)
    python3 course.py repository https://github.com/OWNER/REPO   # move the course

It needs only Python 3.11 or newer: it creates ``.venv`` next to this file and installs
``requirements.txt`` into it (again whenever that file or pyproject.toml changes).
Extra arguments after ``test`` go to pytest, e.g. ``python3 course.py test tests/test_optim.py``;
after ``slides``, they name the notebooks to convert (default: every chapter in _toc.yml).
The browser test of the site (tests/test_site.py) runs once a build exists and a Chromium is
installed, and skips otherwise; with COURSE_REQUIRE_SITE=1 (set by .ci/run) it fails instead.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-requirements"
BUILD = ROOT / "_build"
SLIDES = BUILD / "html" / "slides"
EXECUTED_STAMPS = BUILD / "executed-fingerprints.json"


def _environment():
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    # Notebooks run in a kernel that Jupyter looks up by name ("python3"); without this,
    # a kernel registered in the user's home directory would win over the one in .venv,
    # and the notebooks would run in a Python that has no optlib.
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _run(*cmd):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=_environment())


def ensure_environment():
    """Create .venv and install requirements.txt into it, unless it is up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this line runs on whatever python3 the reader has)
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256(
        (ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    status = _run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check",
                  "-r", ROOT / "requirements.txt")
    if status != 0:
        sys.exit(f"Installing requirements.txt failed (exit {status}).")
    STAMP.write_text(wanted)


def _fingerprint(notebook):
    """What a chapter's executed outputs depend on: its notebook, optlib, the pinned packages."""
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted((ROOT / "optlib").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _chapters():
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def _record_executed(fingerprints):
    """After a successful build: remember which notebook + optlib each executed copy is of
    (the fingerprints taken before the build started: a file edited during it is stale)."""
    EXECUTED_STAMPS.parent.mkdir(parents=True, exist_ok=True)
    EXECUTED_STAMPS.write_text(json.dumps(fingerprints, indent=1) + "\n")


def _built_and_fresh():
    """Chapters whose executed copy in _build is of this very notebook and optlib.

    The build runs every hidden check of every chapter (a failing cell fails it), so a
    chapter whose fingerprint has not changed since a successful build need not run again:
    tests/test_executed.py checks its executed copy instead.
    """
    if not EXECUTED_STAMPS.exists():
        return set()
    stamps = json.loads(EXECUTED_STAMPS.read_text())
    return {p.stem for p in _chapters() if stamps.get(p.stem) == _fingerprint(p)}


def test(args):
    """Unit tests, then every chapter notebook run top to bottom by nbval.

    A chapter that the last successful build executed from the same notebook and the same
    optlib is not run again: its executed copy is checked instead (so CI, which builds
    first, executes each notebook once).
    """
    ensure_environment()
    if args:
        return _run(PYTHON, "-m", "pytest", "--nbval-lax", "--nbval-current-env", *args)
    fresh = _built_and_fresh()
    stale = [p for p in _chapters() if p.stem not in fresh]
    for stem in sorted(fresh):
        print(f"{stem}: executed and checked by the last build (same notebook and optlib)")
    return _run(PYTHON, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "tests",
                *[p.relative_to(ROOT) for p in stale])


def build(args):
    """Build the site with every notebook executed (any warning fails it), then the slides."""
    ensure_environment()
    shutil.rmtree(BUILD / ".doctrees", ignore_errors=True)
    EXECUTED_STAMPS.unlink(missing_ok=True)
    before = {p.stem: _fingerprint(p) for p in _chapters()}
    status = _run(BIN / "jupyter-book", "build", ROOT, "-W", "-n", "--keep-going", *args)
    if status == 0 and not any(a.startswith("--builder") for a in args):
        _record_executed(before)
    if status == 0 and not any(a.startswith("--builder") for a in args):
        # The book build has just executed every chapter: the decks reuse those outputs.
        status = _slides([], executed=BUILD / "jupyter_execute")
    if status == 0:
        print(f"\nThe site is in {BUILD / 'html'} (open index.html); the slides in {SLIDES}.")
    return status


def _slides(notebooks, executed=None):
    """Run tools/course_slides.py: the named notebooks, or every chapter in _toc.yml."""
    extra = ["--executed", executed] if executed else []
    return _run(PYTHON, ROOT / "tools" / "course_slides.py", SLIDES, *notebooks, *extra)


def slides(args):
    """Execute every chapter of the book (or the notebooks named); convert each to a deck."""
    ensure_environment()
    return _slides([Path(a).resolve() for a in args])


def linkcheck(args):
    """Check the book's external links (the weekly job of .github/workflows/book.yml)."""
    ensure_environment()
    return _run(BIN / "jupyter-book", "build", ROOT, "--builder", "linkcheck", *args)


def repository(args):
    """Set the repository URL in _config.yml and in every chapter's Colab setup cell."""
    import re
    if len(args) != 1 or not args[0].startswith("https://"):
        sys.exit("usage: python3 course.py repository https://github.com/OWNER/REPO")
    url = args[0].rstrip("/")
    config = ROOT / "_config.yml"
    config.write_text(re.sub(r"(?m)^(  url: ).*$", rf"\g<1>{url}", config.read_text(), count=1))
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "google.colab" in "".join(cell["source"]):
                cell["source"] = [re.sub(r"git\+https://\S+?(?=[\"'])", f"git+{url}", line)
                                  for line in cell["source"]]
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"Repository URL set to {url} in _config.yml and the chapters' Colab cells.")
    return 0


COMMANDS = {"test": test, "build": build, "slides": slides, "linkcheck": linkcheck,
            "repository": repository}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
