"""Sphinx extension of the course: slides links, the slides list, the notebooks archive.

Loaded by ``_config.yml`` (``sphinx: local_extensions: {course_site: tools}``). Every chapter
is a notebook under ``chapters/``; nothing here names one, so a new chapter gets all of it.

- Each chapter page links to its reveal.js deck, ``slides/<name>.slides.html`` (which
  ``python3 course.py build`` writes after the book, see ``tools/course_slides.py``): a
  "Slides" button in the page header and a line under the title.
- The directive ``course-materials`` (on the landing page) lists every chapter with its
  page, its deck and its notebook, and links the archive of all the chapter notebooks.
- Identical script tags are written once (see ``_drop_duplicate_scripts``).
- No ipywidgets state or widget JavaScript on the pages (see ``_drop_widget_state``): a live
  explorer cannot run without a kernel, so the state (with its pictures) and the widget
  manager loaded from a CDN would only add weight. Instead every explorer shows its static
  form (``optlib.viz.static_explorer``): this extension sets ``OPTLIB_STATIC_EXPLORERS`` for
  the kernels that execute the chapters, so an explorer's display also holds the figure
  function precomputed over slider settings, and ``_show_static_explorers`` lets that
  output through its cell's ``remove-output`` tag in place of the widget view.
- MathJax is served from the site itself (``_static/mathjax/``, copied from the vendored
  ``tools/vendor/mathjax``), not from a CDN, so equations render offline.
- Every sidebar toggle works (``SIDEBAR_TOGGLES``): pydata-sphinx-theme 0.17 and
  sphinx-book-theme 1.3 each bind only the first ``.primary-toggle``/``.secondary-toggle``
  on the page, a header button that this layout hides, so the visible buttons did nothing
  (no navigation on a phone, no collapsing on a desktop). The script forwards a click on
  any other toggle to the bound one.
- Font Awesome: the theme's ``fontawesome.js`` (all 2,000 icons, 540 kB gzipped, on every
  page) is replaced after the build by a script that draws only the icons the pages use,
  from ``tools/vendor/fontawesome-icons`` (see ``_write_icons``).
- Every image of a page gets its width and height (no layout shift) and is loaded lazily
  (``_lazy_images``): a reader who stops at the first section downloads its figures only.
- The HTML build writes that archive, ``_downloads/course-notebooks.zip`` (the notebooks as
  stored, without outputs, and a README on how to run them); every page's download menu
  offers it next to the page's own ``.ipynb``.
"""
import functools
import json
import os
import posixpath
import re
import shutil
import zipfile
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

CHAPTERS = "chapters/"
SLIDES = "slides"
ARCHIVE = "_downloads/course-notebooks.zip"
ARCHIVE_FOLDER = "course-notebooks"
SLIDES_ICON = "fas fa-person-chalkboard"
MATHJAX = Path(__file__).resolve().parent / "vendor" / "mathjax"
MATHJAX_PATH = "mathjax/tex-chtml-full.js"       # relative to _static, as Sphinx reads it
STATIC = Path(__file__).resolve().parent / "static"  # course.css


# Runs after the themes' own scripts (it is added last, with defer, like theirs).
SIDEBAR_TOGGLES = """
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary-toggle", "secondary-toggle"]) {
    const [bound, ...others] = document.querySelectorAll("button." + kind);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopImmediatePropagation();
        bound.click();
      }, true);
    }
  }
});
"""


def repository_links(config):
    """Links a reader can follow, built from the one repository URL of _config.yml.

    Pages write ``@REPOSITORY_URL@``, ``@REPOSITORY_NAME@``, ``@BINDER_URL@`` (the course on
    Binder, JupyterLab open on chapters/) or ``@COLAB_URL@`` (chapter 1 on Colab), in text
    or in code blocks; ``_fill_repository_links`` replaces them as each page is read.
    """
    options = config.html_theme_options or {}
    url = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch") or "main"
    slug = url.removeprefix("https://github.com/")
    launch = options.get("launch_buttons", {})
    binder = launch.get("binderhub_url", "https://mybinder.org").rstrip("/")
    colab = launch.get("colab_url", "https://colab.research.google.com").rstrip("/")
    return {
        "@REPOSITORY_URL@": url,
        "@REPOSITORY_NAME@": slug.rpartition("/")[2],
        "@BINDER_URL@": f"{binder}/v2/gh/{slug}/{branch}?urlpath=lab/tree/chapters",
        "@COLAB_URL@": f"{colab}/github/{slug}/blob/{branch}/chapters/01_gradient_descent.ipynb",
    }


def _fill_repository_links(app, docname, source):
    for token, value in repository_links(app.config).items():
        source[0] = source[0].replace(token, value)


ICONS = Path(__file__).resolve().parent / "vendor" / "fontawesome-icons" / "icons.json"
STYLES = {"fa-solid": "solid", "fas": "solid", "fa-regular": "regular", "far": "regular",
          "fa-brands": "brands", "fab": "brands", "fa": "solid"}
# matplotlib's animation player (to_jshtml) writes Font Awesome 4 names and links FA 4's
# CSS from a CDN; the pages draw its buttons with the same script, under FA 6's names.
FA4 = {"fast-backward": "backward-fast", "fast-forward": "forward-fast",
       "step-backward": "backward-step", "step-forward": "forward-step"}
FA4_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome/4[^"]*">\s*')
# Classes of Font Awesome that are not icon names (sizes, styles, animations).
NOT_ICONS = {"fa-solid", "fa-regular", "fa-brands", "fa-fw", "fa-spin", "fa-pulse", "fa-border",
             "fa-2xs", "fa-xs", "fa-sm", "fa-lg", "fa-xl", "fa-2xl", "fa-inverse",
             "fa-flip-horizontal", "fa-flip-vertical", "fa-flip-both",
             "fa-rotate-90", "fa-rotate-180", "fa-rotate-270"} | {f"fa-{n}x" for n in range(1, 11)}
# Draws each <i class="fa-solid fa-NAME"> (or fas/fab/far) as an inline SVG, now and when
# the theme adds one later; the CSS is the part of Font Awesome's that these icons need.
ICON_SCRIPT = """(() => {
const ICONS = %s;
const STYLES = %s;
const FA4 = %s;
const css = `svg.svg-inline--fa{display:inline-block;height:1em;overflow:visible;
vertical-align:-.125em;fill:currentColor}svg.svg-inline--fa.fa-lg{font-size:1.25em;
line-height:.05em;vertical-align:-.2em}svg.svg-inline--fa.fa-fw{width:1.25em}
svg.svg-inline--fa.fa-flip-horizontal{transform:scale(-1,1)}
svg.svg-inline--fa.fa-flip-vertical{transform:scale(1,-1)}
svg.svg-inline--fa.fa-rotate-90{transform:rotate(90deg)}
svg.svg-inline--fa.fa-rotate-180{transform:rotate(180deg)}
svg.svg-inline--fa.fa-rotate-270{transform:rotate(270deg)}`;
const style = document.createElement("style");
style.textContent = css;
document.head.appendChild(style);
function draw(el) {
  if (el.tagName === "svg" || !el.classList) return;
  const kind = [...el.classList].map(c => STYLES[c]).find(Boolean) || "solid";
  const name = [...el.classList].map(c => FA4[c.slice(3)] || c.slice(3))
      .find(n => ICONS[kind] && ICONS[kind][n]);
  if (!name) return;
  const [w, h, d] = ICONS[kind][name];
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `svg-inline--fa ${el.className}`);
  if (el.title) svg.setAttribute("data-title", el.title);
  for (const a of el.attributes) if (a.name.startsWith("data-")) svg.setAttribute(a.name, a.value);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d);
  svg.appendChild(path);
  el.replaceWith(svg);
}
const SELECT = "i[class*='fa-'], span[class*='fa-']";
const all = root => root.querySelectorAll && root.querySelectorAll(SELECT).forEach(draw);
const start = () => {
  all(document);
  new MutationObserver(ms => ms.forEach(m => m.addedNodes.forEach(n => {
    if (n.matches && n.matches(SELECT)) draw(n); else all(n);
  }))).observe(document.body, {childList: true, subtree: true});
};
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
})();
"""


def used_icons(html_files):
    """``{(style, name)}`` of the Font Awesome icons the pages' HTML uses."""
    found = set()
    for path in html_files:
        for classes in re.findall(r'class="([^"]*\bfa[a-z-]*[^"]*)"', path.read_text(encoding="utf-8")):
            words = classes.split()
            style = next((STYLES[w] for w in words if w in STYLES), None)
            if style is None:
                continue
            found |= {(style, FA4.get(w[3:], w[3:])) for w in words
                      if w.startswith("fa-") and w not in NOT_ICONS}
    return found


def _write_icons(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    vendored = json.loads(ICONS.read_text())
    needed = used_icons(out.rglob("*.html"))
    missing = sorted(f"{style}/{name}" for style, name in needed
                     if name not in vendored.get(style, {}))
    if missing:
        raise RuntimeError(f"the pages use Font Awesome icons that {ICONS} lacks: {missing}; "
                           "add them (see VENDORED.md there)")
    subset = {}
    for style, name in sorted(needed):
        subset.setdefault(style, {})[name] = vendored[style][name]
    target = out / "_static" / "scripts" / "fontawesome.js"
    target.write_text(ICON_SCRIPT % (json.dumps(subset, separators=(",", ":")),
                                     json.dumps(STYLES), json.dumps(FA4)),
                      encoding="utf-8")
    for leftover in ("fontawesome.js.map", "fontawesome.js.LICENSE.txt"):
        (target.parent / leftover).unlink(missing_ok=True)
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if FA4_LINK.search(text):
            page.write_text(FA4_LINK.sub("", text), encoding="utf-8")


IMG = re.compile(r"<img\b[^>]*>")


def _png_size(path):
    """(width, height) of a PNG from its header, or None."""
    with open(path, "rb") as file:
        head = file.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _lazy_images(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")

        def fix(match, page=page):
            tag = match[0]
            src = re.search(r'\bsrc="([^"]+)"', tag)
            if "loading=" in tag or not src or src[1].startswith(("data:", "http")):
                return tag
            size = _png_size(page.parent / src[1]) if (page.parent / src[1]).is_file() else None
            extra = ' loading="lazy" decoding="async"'
            if size and "width=" not in tag and "height=" not in tag:
                extra += f' width="{size[0]}" height="{size[1]}"'
            return tag[:4] + extra + tag[4:]

        new = IMG.sub(fix, text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def _use_vendored_mathjax(app, config):
    config.mathjax_path = MATHJAX_PATH
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    # The figures are drawn on white; without a default the theme logs "Got invalid theme
    # mode" on every page (sphinx-book-theme leaves data-default-mode empty).
    config.html_context = {**config.html_context, "default_mode": "light"}


def _copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(MATHJAX, target, ignore=shutil.ignore_patterns("VENDORED.md"))


def chapter_docs(env):
    """Docnames of the chapters (notebooks under chapters/ that the book builds), sorted."""
    return sorted(doc for doc in env.found_docs
                  if doc.startswith(CHAPTERS) and str(env.doc2path(doc)).endswith(".ipynb"))


def deck_path(docname):
    """Where a chapter's deck lives, relative to the site root."""
    return f"{SLIDES}/{posixpath.basename(docname)}.slides.html"


def _relative(fromdocname, target):
    """A site-root path (deck, archive, _sources file) relative to a page."""
    return posixpath.relpath(target, posixpath.dirname(fromdocname) or ".")


# --- the list on the landing page -------------------------------------------------------

class materials_list(nodes.General, nodes.Element):
    """Placeholder, filled in once every page has been read (titles are known then)."""


class CourseMaterials(SphinxDirective):
    """``course-materials``: every chapter with its page, deck and notebook; the archive."""

    has_content = False

    def run(self):
        return [materials_list("")]


def _link(text, uri, internal=True):
    return nodes.reference("", text, refuri=uri, internal=internal)


def _fill_materials(app, doctree, fromdocname):
    env = app.env
    for node in list(doctree.findall(materials_list)):
        items = nodes.bullet_list(classes=["course-materials"])
        for doc in chapter_docs(env):
            title = env.titles[doc].astext() if doc in env.titles else doc
            para = nodes.paragraph()
            para += _link(title, app.builder.get_relative_uri(fromdocname, doc))
            para += nodes.Text(" — ")
            para += _link("slides", _relative(fromdocname, deck_path(doc)))
            para += nodes.Text(" · ")
            source = posixpath.basename(str(env.doc2path(doc)))
            para += _link("notebook (.ipynb)",
                          _relative(fromdocname, f"_sources/{posixpath.dirname(doc)}/{source}"))
            items += nodes.list_item("", para)
        archive = nodes.paragraph()
        archive += nodes.Text("All the chapter notebooks in one archive: ")
        archive += _link(posixpath.basename(ARCHIVE), _relative(fromdocname, ARCHIVE))
        archive += nodes.Text(".")
        node.replace_self([items, archive])


# --- header buttons and the line under a chapter's title --------------------------------

def _drop_duplicate_scripts(context):
    """Keep one of identical script entries.

    sphinx-thebe and sphinx-togglebutton register their inline settings twice (once with
    the file name None, once with ''), so a page declared ``const THEBE_JS_URL`` twice and
    the second declaration threw a SyntaxError in the browser.
    """
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", None) or {}
        filename = getattr(script, "filename", script) or ""    # '' and None: the same inline script
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _add_page_links(app, pagename, templatename, context, doctree):
    if app.builder.format != "html":
        return
    _drop_duplicate_scripts(context)
    if doctree is None:
        return
    pathto = context["pathto"]
    buttons = context.get("header_buttons")
    if buttons is not None:
        for button in buttons:
            if button.get("label") == "download-buttons":
                button["buttons"].insert(len(button["buttons"]) - 1, {
                    "type": "link", "url": pathto(ARCHIVE, 1), "text": "All notebooks (.zip)",
                    "icon": "fas fa-file-zipper",
                    "tooltip": "Download all the chapter notebooks",
                    "label": "download-course-button"})
    if pagename not in chapter_docs(app.env):
        return
    deck = pathto(deck_path(pagename), 1)
    if buttons is not None:
        where = next((i for i, b in enumerate(buttons) if b.get("label") == "fullscreen-button"),
                     len(buttons))
        buttons.insert(where, {"type": "link", "url": deck, "icon": SLIDES_ICON,
                               "tooltip": "Slides of this chapter (reveal.js)",
                               "label": "slides-button"})
    line = (f'<p class="course-slides-link"><i class="{SLIDES_ICON}"></i> '
            f'<a class="reference internal" href="{deck}">Slides of this chapter</a> '
            f'(reveal.js; press <kbd>S</kbd> for speaker notes)</p>')
    body = context.get("body", "")
    end = body.find("</h1>")
    context["body"] = body[:end + 5] + "\n" + line + body[end + 5:] if end >= 0 else line + body


# --- the archive ------------------------------------------------------------------------

def _readme(app):
    url = (app.config.html_theme_options or {}).get("repository_url", "").rstrip("/")
    title = app.config.html_title or app.config.project or "The course"
    return f"""{title}: the chapter notebooks
{'=' * (len(title) + 24)}

Each notebook is a chapter of the course, stored without outputs: run it to see them.

- Colab: upload a notebook; its first (hidden) cell installs the course's library optlib.
- Your machine (Python 3.11 or newer):
      python3 -m venv .venv && . .venv/bin/activate
      pip install jupyterlab "optlib @ git+{url}"
      jupyter lab
- Or clone {url} and run `python3 course.py build`.
"""


def _write_archive(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / ARCHIVE
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = (2020, 1, 1, 0, 0, 0)          # fixed: the same notebooks give the same archive
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [(f"{ARCHIVE_FOLDER}/README.txt", _readme(app).encode())]
        for doc in chapter_docs(app.env):
            path = Path(app.env.doc2path(doc))
            entries.append((f"{ARCHIVE_FOLDER}/{path.name}", path.read_bytes()))
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _drop_widget_state(app, pagename, templatename, context, doctree):
    """Forget the widget state and widget scripts that myst-nb registered for this page."""
    js_files = getattr(app.env, "nb_metadata", {}).get(pagename, {}).get("js_files", {})
    for key in [k for k in js_files if k.startswith("ipywidgets")]:
        del js_files[key]


def _show_static_explorers():
    """Render a cell whose output holds a static explorer as if it had no ``remove-output``.

    myst-nb turns cells into tokens before it executes the notebook and reads the tags from
    the tokens, so the executed outputs are looked at when the cell is rendered.
    """
    from myst_nb.core.render import MditRenderMixin

    from optlib.viz import static_explorer

    render = MditRenderMixin.render_nb_cell_code
    if getattr(render, "shows_static_explorers", False):
        return

    @functools.wraps(render)
    def render_nb_cell_code(self, token):
        _, outputs = self._get_nb_code_cell_outputs(token)
        cell = {"cell_type": "code", "metadata": token.meta["metadata"], "outputs": outputs}
        if static_explorer.show_static_explorers({"cells": [cell]}):
            token.meta["metadata"] = cell["metadata"]
        return render(self, token)

    render_nb_cell_code.shows_static_explorers = True
    MditRenderMixin.render_nb_cell_code = render_nb_cell_code


def setup(app):
    # The kernels that execute the chapters inherit it: explorers add their static form.
    os.environ["OPTLIB_STATIC_EXPLORERS"] = "1"
    _show_static_explorers()
    app.add_node(materials_list)
    app.add_directive("course-materials", CourseMaterials)
    app.connect("doctree-resolved", _fill_materials)
    # after sphinx-book-theme's handlers (priority 501), which make the header buttons
    app.connect("html-page-context", _add_page_links, priority=600)
    # before myst-nb's handler (priority 500), which writes the registered scripts
    app.connect("html-page-context", _drop_widget_state, priority=400)
    app.connect("build-finished", _write_archive)
    app.connect("config-inited", _use_vendored_mathjax)
    app.connect("source-read", _fill_repository_links)
    app.add_js_file(None, body=SIDEBAR_TOGGLES, priority=900)
    app.add_css_file("course.css", priority=900)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _write_icons)
    app.connect("build-finished", _lazy_images)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
