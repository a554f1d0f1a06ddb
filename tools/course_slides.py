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
- an explorer shows its static form (``optlib.viz.static_explorer``: the kernel runs with
  ``OPTLIB_STATIC_EXPLORERS`` set) on a sub-slide of its own, without its code;
- MyST syntax that plain Markdown does not know (roles such as {cite}, directive fences
  such as prf:algorithm or note, ``(label)=`` targets) reads as plain Markdown;
- reveal.js comes from the copy in ``tools/vendor/reveal.js`` (copied to
  ``OUTDIR/reveal.js``), and Font Awesome 4 (the icons of matplotlib's animation player)
  from ``tools/vendor/font-awesome``, and MathJax 3 from ``tools/vendor/mathjax`` (the
  copy the book's pages use), so a deck works without a network.

With ``--executed DIR``, a notebook whose executed copy ``DIR/<parent>/<name>.ipynb`` is
newer than the notebook itself (the book build leaves them in ``_build/jupyter_execute``)
is converted from that copy instead of being run a second time.
"""
import argparse
import html
import json
import os
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
REVEAL = HERE / "vendor" / "reveal.js"
FONT_AWESOME = HERE / "vendor" / "font-awesome"     # the icons of matplotlib's animation player
MATHJAX = HERE / "vendor" / "mathjax"               # MathJax 3, the book's pages use it too
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


def _convert_blocks(lines, citations, refs):
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
            body = _convert(("\n".join(body_lines)), citations, refs)
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


def glued_values(nb):
    """Name -> output bundle of every value a notebook glued (``optlib.show.glue`` or
    ``myst_nb.glue``), read from its executed outputs."""
    glued = {}
    records = list(nb.get("metadata", {}).get("course_glued", {}).values())   # myst-nb's copy
    for record in records:
        prefix = record.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
        name = record.get("metadata", {}).get("scrapbook", {}).get("name")
        if name:
            glued[name] = {k[len(prefix):] if k.startswith(prefix) else k: v
                           for k, v in record.get("data", {}).items()}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            record = output.get("metadata", {}).get("scrapbook")
            if record and "name" in record:
                prefix = record.get("mime_prefix", "")
                glued[record["name"]] = {k[len(prefix):]: v for k, v in output.get("data", {}).items()
                                         if k.startswith(prefix)}
    return glued


def format_plain_text(text, spec):
    """A glued value's text as myst-nb's ``{glue:text}`name:spec``` prints it."""
    import ast
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


def _glue(role, content, glued):
    key, _, spec = content.rpartition(":") if ":" in content else (content, "", "")
    key = key.split("::")[-1]
    if key not in glued:
        raise KeyError(f"{{{role}}}`{content}`: nothing was glued as {key!r} in this notebook")
    bundle = glued[key]
    if role == "glue:md":
        return bundle.get("text/markdown", "")
    text = bundle.get("text/plain", "")
    return format_plain_text("".join(text) if isinstance(text, list) else text, spec)


def _role(match, citations, refs):
    role, content = match["role"], match["content"]
    if role in {"glue", "glue:", "glue:text", "glue:md"}:
        return _glue(role, content, refs.glued)
    if role == "eq" and content in refs.equations:
        return f"({refs.equations[content]})"             # the number the book prints
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


@dataclass
class Refs:
    """What a cell's roles refer to elsewhere in its notebook."""
    glued: dict = field(default_factory=dict)        # name -> output bundle (glued_values)
    equations: dict = field(default_factory=dict)    # label -> "5.1" (equation_numbers)


_EQ_LABEL = re.compile(r"\$\$\s*\((?P<label>[\w:.-]+)\)\s*$", re.M)


def equation_numbers(nb, chapter):
    """Label -> "chapter.k" for the labelled equations of a notebook (``$$ ... $$ (label)``),
    in order, as the book numbers them."""
    labels = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            labels += [m["label"] for m in _EQ_LABEL.finditer(source)]
    prefix = f"{chapter}." if chapter else ""
    return {label: f"{prefix}{k}" for k, label in enumerate(dict.fromkeys(labels), 1)}


def _tag(match, refs):
    number = refs.equations.get(match["label"])
    return f"\\tag{{{number}}} $$" if number else "$$"


def _convert(text, citations, refs):
    lines = _convert_blocks(text.splitlines(), citations, refs)
    kept = []
    for line in lines:
        if re.match(r"^\s*\([\w:.-]+\)=\s*$", line) or re.match(r"^\s*%", line):
            continue                                   # MyST targets and comments
        line = re.sub(r"\$\$\s*\((?P<label>[\w:.-]+)\)\s*$", lambda m: _tag(m, refs), line)
        line = _ROLE.sub(lambda m: _role(m, citations, refs), line)
        kept.append(line)
    return "\n".join(kept)


def myst_to_markdown(text, citations=None, glued=None, equations=None):
    r"""Rewrite a MyST Markdown cell as plain Markdown that nbconvert renders.

    Parameters
    ----------
    text : str
        The cell's source.
    citations : dict, optional
        Citation key -> (authors, year), e.g. ``{"robbins1951": ("Robbins & Monro", "1951")}``;
        a key that is missing is printed as is.
    glued : dict, optional
        The notebook's glued values (``glued_values``): ``{glue:text}`name:.2f``` prints
        the value as the book does; a name that was not glued is an error.
    equations : dict, optional
        Equation label -> number (``equation_numbers``): ``{eq}`label``` prints "(5.1)"
        and the labelled equation carries the tag 5.1, as in the book.

    Returns
    -------
    str
        ``{cite}`k``` becomes "(Authors, Year)", ``{math}`x``` becomes ``$x$``, a role
        ``{doc}`text <target>``` its text, a directive fence (```` ```{note} ```` or
        ``:::{prf:algorithm} Title``) a quoted block under a bold heading, a ``{math}``
        directive a ``$$`` block; ``(label)=`` targets and ``%`` comments are dropped.
    """
    return _convert(text, citations or {}, Refs(glued or {}, equations or {}))


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

        def preprocess(self, nb, resources):
            self.glued = glued_values(nb)            # the numbers this run computed
            chapter = resources.get("metadata", {}).get("chapter")
            self.equations = equation_numbers(nb, chapter)
            return super().preprocess(nb, resources)

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "markdown":
                cell.source = myst_to_markdown(cell.source, citations, self.glued, self.equations)
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
            nb = nbformat.read(copy, as_version=4)
            # myst-nb moves the glued outputs out of its executed copy, into <name>.glue.json.
            glue_file = copy.with_suffix(".glue.json")
            if glue_file.exists():
                nb.metadata["course_glued"] = json.loads(glue_file.read_text())
            return nb
    from nbconvert.preprocessors import ExecutePreprocessor
    nb = nbformat.read(path, as_version=4)
    print(f"  executing {path.name} ...", flush=True)
    # The kernel inherits it: explorers add their static form (optlib.viz.static_explorer).
    os.environ["OPTLIB_STATIC_EXPLORERS"] = "1"
    ExecutePreprocessor(timeout=EXECUTION_TIMEOUT, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(path.parent)}})
    return nb


def write_deck(nb, name, outdir, exporter, chapter=None):
    """Convert one executed notebook into ``outdir/<name>.slides.html``; return its path.

    ``chapter`` is the chapter's number in the book: equations are numbered "chapter.k".
    """
    from optlib.viz.static_explorer import show_static_explorers

    nb.metadata["title"] = notebook_title(nb, name)
    # An explorer's static form replaces its widget, on a slide of its own.
    show_static_explorers(nb, slides=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": name, "chapter": chapter}})
    target = Path(outdir) / f"{name}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def copy_vendored(outdir):
    """Put the vendored reveal.js, Font Awesome and MathJax next to the decks (``outdir/reveal.js``...)."""
    for source in (REVEAL, FONT_AWESOME, MATHJAX):
        target = Path(outdir) / source.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("VENDORED.md"))


def _deck_title(path):
    match = re.search(r"<title>(.*?) slides</title>", path.read_text(encoding="utf-8"), re.S)
    return html.unescape(match[1]) if match else path.name


def count_slides(path):
    """How many slides a deck shows: its innermost ``<section>`` elements (a horizontal
    section that holds vertical ones is not a slide of its own)."""
    from html.parser import HTMLParser

    class Sections(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.leaves = [], 0

        def handle_starttag(self, tag, attrs):
            if tag == "section":
                if self.stack:
                    self.stack[-1] = True              # the parent holds a section
                self.stack.append(False)

        def handle_endtag(self, tag):
            if tag == "section" and self.stack:
                self.leaves += not self.stack.pop()

    parser = Sections()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser.leaves


INDEX_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 46rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }
h1 { font-weight: 600; margin-bottom: .2rem; }
p.lead { color: #555; margin-top: 0; }
ol { padding-left: 0; list-style: none; counter-reset: deck; }
li { counter-increment: deck; border: 1px solid #ddd; border-radius: 8px; margin: .6rem 0;
     padding: .7rem 1rem; display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: baseline; }
li::before { content: counter(deck) "."; font-weight: 600; color: #555; min-width: 1.5rem; }
li a.deck { font-weight: 600; flex: 1 1 18rem; text-decoration: none; color: #0b5cad; }
li a.deck:hover { text-decoration: underline; }
li .count { color: #555; font-size: .9rem; }
li a.chapter { font-size: .9rem; color: #555; }
kbd { border: 1px solid #bbb; border-radius: 3px; padding: 0 .3rem; font-size: .85rem; }
"""


def write_index(outdir):
    """``outdir/index.html``: every deck with its title, its number of slides and a link
    back to its chapter's page, for an instructor choosing what to present."""
    order = {p.stem: i for i, p in enumerate(toc_chapters())}
    decks = sorted(Path(outdir).glob("*.slides.html"),
                   key=lambda p: (order.get(p.name.removesuffix(".slides.html"), 1e9), p.name))
    items = []
    for deck in decks:
        stem = deck.name.removesuffix(".slides.html")
        items.append(
            f'  <li><a class="deck" href="{html.escape(deck.name)}">{html.escape(_deck_title(deck))}</a>'
            f'<span class="count">{count_slides(deck)} slides</span>'
            f'<a class="chapter" href="../chapters/{html.escape(stem)}.html">the chapter</a></li>')
    (Path(outdir) / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Slides</title><style>{INDEX_STYLE}</style></head>\n<body>\n"
        "<h1>Slides</h1>\n<p class=\"lead\">One reveal.js deck per chapter, made from the "
        "chapter's notebook. In a deck: <kbd>S</kbd> speaker notes, <kbd>F</kbd> full screen, "
        "<kbd>Esc</kbd> overview. They work offline.</p>\n<ol>\n"
        + "\n".join(items) + "\n</ol>\n<p><a href=\"../index.html\">The course</a></p>\n"
        "</body>\n</html>\n", encoding="utf-8")


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


def chapter_number(path):
    """The chapter's number in the book (its place among the chapters of _toc.yml), or None."""
    chapters = [p.resolve() for p in toc_chapters()]
    path = Path(path).resolve()
    return chapters.index(path) + 1 if path in chapters else None


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
        number = chapter_number(path)
        print(f"  wrote {write_deck(nb, path.stem, args.outdir, exporter, number)}", flush=True)
    if every_chapter:
        prune(args.outdir, notebooks)
    copy_vendored(args.outdir)
    write_index(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
