"""Sphinx extension of the course: slides links, the slides list, the notebooks archive.

Loaded by ``_config.yml`` (``sphinx: local_extensions: {course_site: tools}``). Every chapter
is a notebook under ``chapters/``; nothing here names one, so a new chapter gets all of it.

- Each chapter page links to its reveal.js deck, ``slides/<name>.slides.html`` (which
  ``python3 course.py build`` writes after the book, see ``tools/course_slides.py``): a
  "Slides" button in the page header and a line under the title.
- The directive ``course-materials`` (on the landing page) lists every chapter with its
  page, its deck and its notebook, and links the archive of all the chapter notebooks.
- Identical script tags are written once (see ``_drop_duplicate_scripts``).
- No ipywidgets state or widget JavaScript on the pages (see ``_drop_widget_state``): every
  explorer's output is removed on the site, so the state (with its pictures) and the
  widget manager loaded from a CDN would only add weight.
- The HTML build writes that archive, ``_downloads/course-notebooks.zip`` (the notebooks as
  stored, without outputs, and a README on how to run them); every page's download menu
  offers it next to the page's own ``.ipynb``.
"""
import posixpath
import zipfile
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

CHAPTERS = "chapters/"
SLIDES = "slides"
ARCHIVE = "_downloads/course-notebooks.zip"
ARCHIVE_FOLDER = "course-notebooks"
SLIDES_ICON = "fas fa-person-chalkboard"


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
                    "type": "link", "url": pathto(ARCHIVE, 1), "text": ".zip",
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
    title = app.config.project or "The course"
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


def setup(app):
    app.add_node(materials_list)
    app.add_directive("course-materials", CourseMaterials)
    app.connect("doctree-resolved", _fill_materials)
    # after sphinx-book-theme's handlers (priority 501), which make the header buttons
    app.connect("html-page-context", _add_page_links, priority=600)
    # before myst-nb's handler (priority 500), which writes the registered scripts
    app.connect("html-page-context", _drop_widget_state, priority=400)
    app.connect("build-finished", _write_archive)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
