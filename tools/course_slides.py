"""Instructor slides: each chapter notebook, executed, as a reveal.js deck (COURSE.md §9).

    .venv/bin/python tools/course_slides.py OUTDIR [NOTEBOOK...] [--executed DIR]

``python3 course.py slides`` and ``python3 course.py build`` call it with .venv's Python.
Without NOTEBOOK arguments it makes the deck of every chapter the book publishes (the
files under chapters/ in _toc.yml) and deletes the decks of chapters no longer there.
Each notebook becomes ``OUTDIR/<name>.slides.html`` through ``jupyter nbconvert --to slides``
(nbconvert's ``SlidesExporter``), set up so that

- each cell's ``metadata.slideshow.slide_type`` places it (slide, subslide, fragment,
  notes = speaker notes, skip = not shown);
- cells the page removes stay off the slides too: ``remove-cell``/``hide-cell`` drop the
  cell, ``remove-input``/``hide-input`` keep only its output, ``remove-output``/``hide-output``
  only its input;
- MyST syntax that plain Markdown does not know (roles such as {cite}, directive fences
  such as prf:algorithm or note, ``(label)=`` targets) reads as plain Markdown;
- reveal.js comes from the copy in ``tools/vendor/reveal.js`` (copied to
  ``OUTDIR/reveal.js``), and Font Awesome 4 (the icons of matplotlib's animation player)
  from ``tools/vendor/font-awesome``, so a deck works without a network; only MathJax
  still comes from its CDN, as on the book's pages.

With ``--executed DIR``, a notebook whose executed copy ``DIR/<parent>/<name>.ipynb`` is
newer than the notebook itself (the book build leaves them in ``_build/jupyter_execute``)
is converted from that copy instead of being run a second time.
"""
import argparse
import html
import posixpath
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
REVEAL = HERE / "vendor" / "reveal.js"
FONT_AWESOME = HERE / "vendor" / "font-awesome"     # the icons of matplotlib's animation player
TEMPLATES = HERE / "slides_template"
BIBFILE = ROOT / "references.bib"

REMOVE_CELL_TAGS = {"remove-cell", "hide-cell", "remove_cell"}
REMOVE_INPUT_TAGS = {"remove-input", "hide-input", "remove_input"}
REMOVE_OUTPUT_TAGS = {"remove-output", "hide-output", "remove_output"}
EXECUTION_TIMEOUT = 300          # seconds per cell, as the book build (_config.yml)


# --- MyST → plain Markdown ---------------------------------------------------------------

_DROPPED_DIRECTIVES = {"bibliography", "tableofcontents", "toctree", "glue:figure",
                       "only", "raw", "include", "literalinclude"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[^}\s]+)\}[ \t]*(?P<arg>.*?)\s*$")
_ROLE = re.compile(r"\{(?P<role>[\w:+.-]+)\}`(?P<content>[^`]*)`")
_TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _title(name, arg):
    """The bold heading a directive gets on a slide, e.g. 'Algorithm (SGD)' or 'Note'."""
    if name == "admonition":
        return arg or "Note"
    label = name.split(":")[-1].replace("-", " ").capitalize()
    return f"{label} ({arg})" if arg else label


def _quote(heading, body):
    lines = [f"**{heading}**", ""] + body.splitlines() if heading else body.splitlines()
    return "\n".join(">" if not line.strip() else f"> {line}" for line in lines)


def _directive(name, arg, body):
    """Render one directive's already converted body as plain Markdown."""
    name = name.lower()
    if name in _DROPPED_DIRECTIVES:
        return ""
    if name in {"math", "prf:equation"}:
        return f"$$\n{body.strip()}\n$$"
    if name in {"code", "code-block", "sourcecode", "code-cell"}:
        return f"```{arg}\n{body}\n```"
    if name in {"figure", "image"}:
        caption = body.strip()
        return f"![{caption}]({arg})" + (f"\n\n{caption}" if caption else "")
    if name in {"epigraph", "pull-quote", "highlights", "blockquote"}:
        return _quote("", body)
    return _quote(_title(name, arg), body)     # admonitions, prf:*, exercise, solution, ...


def _strip_options(lines):
    """Drop a directive's leading ``:key: value`` options (and a ``---`` YAML block)."""
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            lines = lines[end + 1:]
    while lines and re.match(r"^\s*:[\w-]+:", lines[0]):
        lines = lines[1:]
    return lines


def _convert_blocks(lines, citations):
    out, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body_lines = [line[len(indent):] if line.startswith(indent) else line
                      for line in _strip_options(lines[i + 1:j])]
        name = match["name"]
        if name.lower() in {"math", "code", "code-block", "sourcecode", "code-cell"}:
            body = "\n".join(body_lines)              # verbatim: no role conversion inside
        else:
            body = _convert(("\n".join(body_lines)), citations)
        block = _directive(name, match["arg"], body)
        out.extend(indent + line if line else line for line in block.splitlines())
        i = j + 1
    return out


def _cite_text(keys, citations, textual):
    names = []
    for key in (k.strip() for k in keys.split(",") if k.strip()):
        who, year = citations.get(key, (key, ""))
        names.append((f"{who} ({year})" if year else who) if textual
                     else (f"{who}, {year}" if year else who))
    return "; ".join(names) if textual else f"({'; '.join(names)})"


def _role(match, citations):
    role, content = match["role"], match["content"]
    if role.startswith("cite"):
        return _cite_text(content, citations, textual=role in {"cite:t", "cite:ts", "cite:ct"})
    if role == "math":
        return f"${content}$"
    if role in {"eq", "numref"} and not _TITLED.match(content):
        return f"({content})"
    titled = _TITLED.match(content)
    if titled:
        return titled["text"]
    if role.startswith("py:") or role in {"func", "class", "meth", "mod", "attr", "obj"}:
        return f"`{content.lstrip('~').split('.')[-1]}`"
    if role == "doc":
        return posixpath.basename(content)
    return content


def _convert(text, citations):
    lines = _convert_blocks(text.splitlines(), citations)
    kept = []
    for line in lines:
        if re.match(r"^\s*\([\w:.-]+\)=\s*$", line) or re.match(r"^\s*%", line):
            continue                                   # MyST targets and comments
        line = re.sub(r"(\$\$)\s*\([\w:.-]+\)\s*$", r"\1", line)   # $$ ... $$ (label)
        line = _ROLE.sub(lambda m: _role(m, citations), line)
        kept.append(line)
    return "\n".join(kept)


def myst_to_markdown(text, citations=None):
    r"""Rewrite a MyST Markdown cell as plain Markdown that nbconvert renders.

    Parameters
    ----------
    text : str
        The cell's source.
    citations : dict, optional
        Citation key -> (authors, year), e.g. ``{"robbins1951": ("Robbins & Monro", "1951")}``;
        a key that is missing is printed as is.

    Returns
    -------
    str
        ``{cite}`k``` becomes "(Authors, Year)", ``{math}`x``` becomes ``$x$``, a role
        ``{doc}`text <target>``` its text, a directive fence (```` ```{note} ```` or
        ``:::{prf:algorithm} Title``) a quoted block under a bold heading, a ``{math}``
        directive a ``$$`` block; ``(label)=`` targets and ``%`` comments are dropped.
    """
    return _convert(text, citations or {})


def load_citations(bibfile=BIBFILE):
    """Citation key -> ("Author & Author" or "Author et al.", year) from a BibTeX file."""
    if not Path(bibfile).exists():
        return {}
    from pybtex.database import parse_file
    table = {}
    for key, entry in parse_file(str(bibfile)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        lasts = [re.sub(r"[{}\\]", "", " ".join(p.last_names)) for p in people]
        who = (lasts[0] if len(lasts) == 1 else f"{lasts[0]} & {lasts[1]}" if len(lasts) == 2
               else f"{lasts[0]} et al." if lasts else key)
        table[key] = (who, entry.fields.get("year", ""))
    return table


# --- the exporter ------------------------------------------------------------------------

def _myst_preprocessor(citations):
    from nbconvert.preprocessors import Preprocessor

    class MystMarkdown(Preprocessor):
        """Markdown cells: MyST syntax → plain Markdown (see ``myst_to_markdown``)."""

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "markdown":
                cell.source = myst_to_markdown(cell.source, citations)
            return cell, resources

    return MystMarkdown()


def make_exporter(citations=None, reveal_url_prefix="reveal.js"):
    """nbconvert's SlidesExporter, configured for the course's decks."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    config.SlidesExporter.reveal_url_prefix = reveal_url_prefix
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    exporter = SlidesExporter(config=config, extra_template_basedirs=[str(TEMPLATES)],
                              template_name="course_reveal")
    exporter.register_preprocessor(_myst_preprocessor(citations or {}), enabled=True)
    return exporter


def notebook_title(nb, default):
    """The text of the notebook's first ``# `` heading, without Markdown markup."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"[*_`]", "", line[2:]).strip()
    return default


def load_executed(path, executed_dir=None):
    """The notebook with its outputs: the book build's copy if fresh, else run it here."""
    import nbformat
    if executed_dir is not None:
        try:
            copy = Path(executed_dir) / path.resolve().relative_to(ROOT)
        except ValueError:
            copy = Path(executed_dir) / path.name
        if copy.exists() and copy.stat().st_mtime >= path.stat().st_mtime:
            print(f"  using the executed copy {copy.relative_to(ROOT) if copy.is_relative_to(ROOT) else copy}", flush=True)
            return nbformat.read(copy, as_version=4)
    from nbconvert.preprocessors import ExecutePreprocessor
    nb = nbformat.read(path, as_version=4)
    print(f"  executing {path.name} ...", flush=True)
    ExecutePreprocessor(timeout=EXECUTION_TIMEOUT, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(path.parent)}})
    return nb


def write_deck(nb, name, outdir, exporter):
    """Convert one executed notebook into ``outdir/<name>.slides.html``; return its path."""
    nb.metadata["title"] = notebook_title(nb, name)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    target = Path(outdir) / f"{name}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def copy_vendored(outdir):
    """Put the vendored reveal.js and Font Awesome next to the decks (``outdir/reveal.js``...)."""
    for source in (REVEAL, FONT_AWESOME):
        target = Path(outdir) / source.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("VENDORED.md"))


def _deck_title(path):
    match = re.search(r"<title>(.*?) slides</title>", path.read_text(encoding="utf-8"), re.S)
    return html.unescape(match[1]) if match else path.name


def write_index(outdir):
    """``outdir/index.html``: the list of decks, for an instructor browsing ``slides/``."""
    decks = sorted(Path(outdir).glob("*.slides.html"))
    items = "\n".join(f'  <li><a href="{html.escape(p.name)}">{html.escape(_deck_title(p))}</a></li>'
                      for p in decks)
    (Path(outdir) / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
        "<title>Slides</title></head>\n<body>\n<h1>Slides</h1>\n<ul>\n"
        f"{items}\n</ul>\n<p><a href=\"../index.html\">The course</a></p>\n</body>\n</html>\n",
        encoding="utf-8")


def toc_chapters(toc=ROOT / "_toc.yml"):
    """The chapter notebooks the book publishes: the files under chapters/ in _toc.yml, in order."""
    import yaml
    files = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"].removesuffix(".ipynb"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(Path(toc).read_text()))
    return [ROOT / f"{f}.ipynb" for f in files
            if f.startswith("chapters/") and (ROOT / f"{f}.ipynb").exists()]


def prune(outdir, notebooks):
    """Delete the decks of chapters that are not (or no longer) in the book."""
    keep = {p.stem for p in notebooks}
    for old in Path(outdir).glob("*.slides.html"):
        if old.name.removesuffix(".slides.html") not in keep:
            print(f"  removing {old} (not a chapter of the book)", flush=True)
            old.unlink()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="the notebooks to convert (default: every chapter in _toc.yml)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="folder of executed copies to reuse when they are fresh")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    every_chapter = not args.notebooks
    notebooks = toc_chapters() if every_chapter else args.notebooks
    if not notebooks:
        print("slides: _toc.yml lists no chapter notebook; no deck to make.")
    exporter = make_exporter(load_citations())
    for path in notebooks:
        print(f"slides: {path}", flush=True)
        try:
            nb = load_executed(path.resolve(), args.executed)
        except Exception as error:                    # nbclient's CellExecutionError, a timeout
            print(f"\n{error}\n\nslides: running {path} failed; no deck written.", file=sys.stderr)
            return 1
        print(f"  wrote {write_deck(nb, path.stem, args.outdir, exporter)}", flush=True)
    if every_chapter:
        prune(args.outdir, notebooks)
    copy_vendored(args.outdir)
    write_index(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
