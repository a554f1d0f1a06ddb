"""Instructor slides (COURSE.md §9): what goes on a deck, checked on the converter and the notebooks.

The decks themselves are built by ``python3 course.py build`` (or ``slides``) and opened in a
browser by tests/test_site.py. Every cell having a slide type is tests/test_notebooks.py's.
"""
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import course_slides  # noqa: E402  (tools/ is not a package)
from course_slides import myst_to_markdown  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
chapter = pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
EXERCISE = re.compile(r"^\s*(`{3,}|:{3,})\{(exercise|solution)[\w-]*\}", re.M)


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


# --- the chapters ---------------------------------------------------------------------------

@chapter
def test_exercises_and_solutions_are_skipped_on_slides(path):
    for cell in _cells(path):
        if cell["cell_type"] == "markdown" and EXERCISE.search("".join(cell["source"])):
            assert _slide_type(cell) == "skip", "".join(cell["source"])[:80]


@chapter
def test_colab_setup_cell_is_skipped_on_slides(path):
    first = next(c for c in _cells(path) if c["cell_type"] == "code")
    assert _slide_type(first) == "skip"


@chapter
def test_chapter_title_opens_a_slide(path):
    assert _slide_type(_cells(path)[0]) == "slide"


# --- MyST → plain Markdown --------------------------------------------------------------------

def test_cite_role_becomes_authors_and_year():
    citations = {"robbins1951": ("Robbins & Monro", "1951"), "kingma2015": ("Kingma & Ba", "2015")}
    assert myst_to_markdown("SGD {cite}`robbins1951`.", citations) == "SGD (Robbins & Monro, 1951)."
    assert (myst_to_markdown("{cite:p}`robbins1951,kingma2015`", citations)
            == "(Robbins & Monro, 1951; Kingma & Ba, 2015)")
    assert myst_to_markdown("{cite:t}`kingma2015` show", citations) == "Kingma & Ba (2015) show"


def test_unknown_citation_key_is_printed_as_is():
    assert myst_to_markdown("{cite}`nobody2020`") == "(nobody2020)"


def test_titled_cross_reference_keeps_its_text():
    assert myst_to_markdown("see {doc}`the notation <../notation>`") == "see the notation"
    assert myst_to_markdown("{ref}`momentum <sec-momentum>`") == "momentum"


def test_python_reference_becomes_code():
    assert myst_to_markdown("{py:class}`optlib.optim.SGD`") == "`SGD`"


def test_math_role_becomes_dollar_math():
    assert myst_to_markdown(r"{math}`\eta`") == r"$\eta$"


def test_equation_reference_keeps_its_label():
    assert myst_to_markdown("by {eq}`gd-step`") == "by (gd-step)"


def test_math_directive_becomes_a_display_block():
    text = "```{math}\n:label: gd-step\n\\theta_t = \\theta_{t-1} - \\eta g_t\n```"
    assert myst_to_markdown(text) == "$$\n\\theta_t = \\theta_{t-1} - \\eta g_t\n$$"


def test_dollar_math_label_is_dropped():
    assert myst_to_markdown("$$ x^2 $$ (eq-x)") == "$$ x^2 $$"


def test_admonition_becomes_a_quoted_block_with_a_bold_heading():
    text = ":::{note}\nThe step is **small**.\n:::"
    assert myst_to_markdown(text) == "> **Note**\n>\n> The step is **small**."


def test_titled_directive_keeps_its_title_and_drops_its_options():
    text = "```{prf:algorithm} Gradient descent\n:label: alg-gd\n\n1. step {cite}`k`\n```"
    assert myst_to_markdown(text, {"k": ("Cauchy", "1847")}) == (
        "> **Algorithm (Gradient descent)**\n>\n>\n> 1. step (Cauchy, 1847)")


def test_nested_directives_are_converted_inside_out():
    text = "````{admonition} Why\n```{math}\nx\n```\n````"
    assert myst_to_markdown(text) == "> **Why**\n>\n> $$\n> x\n> $$"


def test_targets_and_comments_are_dropped():
    assert myst_to_markdown("(sec-gd)=\n# Gradient descent\n% a note to authors") == "# Gradient descent"


def test_plain_markdown_is_unchanged():
    text = "# Title\n\nSome *text* with $x$ and `code`.\n\n```python\nx = 1\n```"
    assert myst_to_markdown(text) == text


# --- the exporter ----------------------------------------------------------------------------

def _deck(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    body, _ = course_slides.make_exporter().from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    return body


def _code(source, slide_type="-", tags=(), output=None):
    cell = nbformat.v4.new_code_cell(source, metadata={"slideshow": {"slide_type": slide_type},
                                                       "tags": list(tags)})
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    return cell


def _markdown(source, slide_type="-"):
    return nbformat.v4.new_markdown_cell(source, metadata={"slideshow": {"slide_type": slide_type}})


def test_removed_and_skipped_cells_are_not_on_the_deck():
    body = _deck([
        _markdown("# Title", "slide"),
        _code("hidden_check = 1", "-", ["remove-cell"], output="CHECK-OUTPUT"),
        _code("skipped_setup = 2", "skip", output="SETUP-OUTPUT"),
        _code("visible_code = 3", "-", output="VISIBLE-OUTPUT"),
        _markdown(":::{exercise}\nEXERCISE-TEXT\n:::", "skip"),
    ])
    for hidden in ("hidden_check", "CHECK-OUTPUT", "skipped_setup", "SETUP-OUTPUT", "EXERCISE-TEXT"):
        assert hidden not in body
    assert "visible_code" in body and "VISIBLE-OUTPUT" in body


def test_remove_input_keeps_only_the_output_and_remove_output_only_the_input():
    body = _deck([
        _markdown("# Title", "slide"),
        _code("plotting_code = 1", "-", ["remove-input"], output="FIGURE-OUTPUT"),
        _code("explorer_code = 2", "-", ["remove-output"], output="WIDGET-OUTPUT"),
    ])
    assert "plotting_code" not in body and "FIGURE-OUTPUT" in body
    assert "explorer_code" in body and "WIDGET-OUTPUT" not in body


def test_notes_cells_become_speaker_notes():
    body = _deck([_markdown("# Title", "slide"), _markdown("SPEAKER-TEXT", "notes")])
    assert re.search(r'<aside class="notes">.*SPEAKER-TEXT.*</aside>', body, re.S)


def test_slide_and_subslide_cells_open_sections():
    body = _deck([_markdown("# One", "slide"), _markdown("## Two", "subslide"),
                  _markdown("# Three", "slide")])
    assert body.count("<section") == 5        # 2 slides, each a stack of 1 or 2 sub-slides


def test_deck_loads_reveal_from_the_local_copy_and_no_other_script_from_a_cdn():
    body = _deck([_markdown("# Title", "slide")])
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', body)
    assert "reveal.js/dist/reveal.js" in scripts and "reveal.js/plugin/notes/notes.js" in scripts
    assert [s for s in scripts if "://" in s and "mathjax" not in s.lower()] == []
    assert 'href="reveal.js/dist/reveal.css"' in body
    assert 'href="reveal.js/dist/theme/white.css"' in body


def test_vendored_copies_hold_every_file_a_deck_loads():
    body = _deck([_markdown("# Title", "slide")])
    local = re.findall(r'(?:src|href)="((?:reveal\.js|font-awesome)/[^"]+)"', body)
    assert any(p.startswith("font-awesome/") for p in local)
    for path in local:
        assert (course_slides.REVEAL.parent / path).is_file(), path
    css = (course_slides.FONT_AWESOME / "css" / "font-awesome.min.css").read_text()
    assert "../fonts/fontawesome-webfont.woff2" in css
    assert (course_slides.FONT_AWESOME / "fonts" / "fontawesome-webfont.woff2").is_file()


def test_deck_title_is_the_chapter_title():
    nb = nbformat.v4.new_notebook(cells=[_markdown("# Gradient *descent*", "slide")])
    assert course_slides.notebook_title(nb, "x") == "Gradient descent"


def test_equation_reference_prints_the_books_number():
    equations = {"eq-gd": "1.1", "eq-stability": "1.3"}
    assert myst_to_markdown("by {eq}`eq-stability`", equations=equations) == "by (1.3)"


def test_labelled_equation_carries_its_number_as_a_tag():
    text = myst_to_markdown("$$\nx^2\n$$ (eq-gd)", equations={"eq-gd": "1.1"})
    assert text == "$$\nx^2\n\\tag{1.1} $$"


def test_equations_are_numbered_in_order_with_the_chapter_number():
    nb = {"cells": [{"cell_type": "markdown", "source": "$$ a $$ (eq-a)\n\ntext {eq}`eq-a`"},
                    {"cell_type": "code", "source": "x = 1", "outputs": []},
                    {"cell_type": "markdown", "source": ["$$\nb\n$$ (eq-b)\n"]}]}
    assert course_slides.equation_numbers(nb, 5) == {"eq-a": "5.1", "eq-b": "5.2"}


def _glue_output(name, text):
    prefix = "application/papermill.record/"
    return {"output_type": "display_data", "data": {prefix + "text/plain": text},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}


def test_glued_value_prints_with_its_format():
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [_glue_output("k", "0.34567")]}]}
    glued = course_slides.glued_values(nb)
    assert myst_to_markdown("loss {glue:text}`k:.2f`", glued=glued) == "loss 0.35"


def test_glued_values_also_come_from_myst_nbs_glue_file():
    record = _glue_output("k", "3")
    record["data"] = {"text/plain": "3"}          # myst-nb's .glue.json drops the prefix
    nb = {"cells": [], "metadata": {"course_glued": {"k": record}}}
    assert course_slides.glued_values(nb) == {"k": {"text/plain": "3"}}


def test_a_glue_role_without_its_value_is_an_error():
    with pytest.raises(KeyError, match="nothing was glued as 'missing'"):
        myst_to_markdown("{glue:text}`missing:.2f`", glued={})


def test_deck_index_counts_the_innermost_sections(tmp_path):
    deck = tmp_path / "x.slides.html"
    deck.write_text("<section><section>a</section><section>b</section></section>"
                    "<section>c</section>")
    assert course_slides.count_slides(deck) == 3
