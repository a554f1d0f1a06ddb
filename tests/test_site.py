"""The built site, opened in headless Chromium: every chapter page, its deck, the landing page.

Needs a build (``python3 course.py build``: the book in _build/html, the decks in
_build/html/slides) and a Chromium (Debian's ``chromium``, or ``$CHROMIUM``). Without either,
these tests skip and say why; with ``COURSE_REQUIRE_SITE=1`` (``.ci/run`` sets it for its
last step, after the build) they fail instead. A chapter whose page is older than its
notebook (edited since the build) is skipped the same way.

What a page must show is read from the notebook the build executed
(_build/jupyter_execute): its figures, its animations (matplotlib's JavaScript player),
and none of its hidden check cells. Screenshots go to _build/screenshots/.
The browser resolves no host but this machine: pages must render from the site's own files.
"""
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from browser import Browser, find_chromium  # noqa: E402  (tools/ is not a package)
from course_slides import toc_chapters  # noqa: E402

HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"
SHOTS = ROOT / "_build" / "screenshots"
ARCHIVE = HTML / "_downloads" / "course-notebooks.zip"
CHAPTERS = toc_chapters()          # the chapters the book publishes (all of chapters/: test_notebooks)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REQUIRED = os.environ.get("COURSE_REQUIRE_SITE") == "1"

REMOVE_CELL = {"remove-cell", "remove_cell"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}
SLIDES_REMOVE_CELL = REMOVE_CELL | {"hide-cell"}
SLIDES_REMOVE_OUTPUT = REMOVE_OUTPUT | {"hide-output"}
# What myst-nb shows of an output with several formats: the first of these it has.
RENDER_PRIORITY = ("application/vnd.jupyter.widget-view+json", "application/javascript",
                   "text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
                   "text/latex", "text/plain")

chapter = pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])


def _missing(reason):
    if REQUIRED:
        pytest.fail(f"{reason} (COURSE_REQUIRE_SITE=1: the site tests must run)")
    pytest.skip(reason)


def _normal(text):
    """Lower-case letters and digits only: compares text across markup and rendering."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


# --- what the executed notebook says the page must show ----------------------------------

def _executed(path):
    copy = EXECUTED / path.parent.name / path.name
    if not copy.exists():
        _missing(f"no executed copy {copy.relative_to(ROOT)}: run python3 course.py build")
    return json.loads(copy.read_text())


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _shown(mimes):
    return next((m for m in RENDER_PRIORITY if m in mimes), None)


def _outputs(nb, on_slides=False):
    """Every output the page (or the deck) shows, as its data dict."""
    drop_cell, drop_output = ((SLIDES_REMOVE_CELL, SLIDES_REMOVE_OUTPUT) if on_slides
                              else (REMOVE_CELL, REMOVE_OUTPUT))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or _tags(cell) & (drop_cell | drop_output):
            continue
        if on_slides and cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "skip":
            continue
        for output in cell.get("outputs", []):
            if "data" in output:
                yield output["data"]


def expected_figures(nb):
    return sum(1 for data in _outputs(nb) if (_shown(data) or "").startswith("image/"))


def _is_animation(data):
    return _shown(data) == "text/html" and 'class="animation"' in "".join(data["text/html"])


def expected_animations(nb, on_slides=False):
    return sum(1 for data in _outputs(nb, on_slides) if _is_animation(data))


def title_of(path):
    cells = json.loads(path.read_text())["cells"]
    return "".join(cells[0]["source"]).splitlines()[0].removeprefix("# ").strip()


def hidden_sources(path, on_slides=False):
    """Sources that must not be on the page (removed cells) or the deck (also skipped cells)."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        skipped = cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "skip"
        removed = _tags(cell) & (SLIDES_REMOVE_CELL if on_slides else REMOVE_CELL)
        if not (removed or (on_slides and skipped)):
            continue
        if cell["cell_type"] == "code":
            text = _normal(source)
        else:           # markdown: its longest line, distinctive enough and rendered alike
            text = _normal(max(source.splitlines() or [""], key=len))
        if len(text) >= 30:
            found.append((source[:60], text))
    return found


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site():
    """Base URL of _build/html served on the loopback, as a web server would serve it."""
    if not (HTML / "index.html").exists():
        _missing("no built site (_build/html/index.html): run python3 course.py build first")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        _missing("no Chromium found: install Debian's chromium (apt-get install chromium) "
                 "or set CHROMIUM to a Chrome/Chromium executable")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser(executable) as instance:
        yield instance


@pytest.fixture
def page_of(site, browser):
    """Open a site path in a fresh tab; the tabs are closed after the test."""
    opened = []

    def open_page(relative, width=1280, height=900):
        page = browser.open(f"{site}/{relative}", width=width, height=height)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close()


def _built_page(path):
    built = HTML / "chapters" / f"{path.stem}.html"
    if not built.exists():
        _missing(f"{built.relative_to(ROOT)} is not built: run python3 course.py build")
    if built.stat().st_mtime < path.stat().st_mtime:
        _missing(f"{path.relative_to(ROOT)} changed after the build: run python3 course.py build")
    return built


def _whole_site_built():
    """The site-wide pages list every chapter only if the build is newer than every chapter."""
    for path in CHAPTERS:
        _built_page(path)


def _built_deck(path):
    _built_page(path)
    deck = HTML / "slides" / f"{path.stem}.slides.html"
    if not deck.exists():
        _missing(f"{deck.relative_to(ROOT)} is missing: run python3 course.py build (or slides)")
    return deck


# --- JavaScript run in the pages -----------------------------------------------------------

WAIT_FOR_IMAGES = """
(async (selector) => {
  const images = [...document.querySelectorAll(selector)];
  // Lazy images load when scrolled to; a reader who scrolls gets them all: so do we.
  images.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(images.map(i => (i.complete && i.getAttribute('src')) ? null
      : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r);
                            setTimeout(r, 10000); })));
  return images.map(i => ({src: (i.getAttribute('src') || '').slice(0, 120),
                           width: i.naturalWidth, height: i.naturalHeight}));
})"""

PAGE_FACTS = """
(() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const stderr = [...article.querySelectorAll('.output.stderr')].map(e => e.textContent);
  return {
    title: document.title,
    h1: (article.querySelector('h1') || {textContent: ''}).textContent,
    errors: article.querySelectorAll('.output.error, .output.traceback').length,
    tracebacks: article.innerText.includes('Traceback (most recent call last)'),
    stderr_problems: stderr.filter(t => /Error|Warning/.test(t)).map(t => t.slice(0, 200)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    slides_line: !!article.querySelector('.course-slides-link a'),
    text: article.textContent,
  };
})()"""

ANIMATIONS = """
[...document.querySelectorAll('div.animation')].map(a => {
  const img = a.querySelector('img');
  return {width: img ? img.naturalWidth : 0, buttons: a.querySelectorAll('button').length,
          slider: !!a.querySelector('input[type=range]')};
})"""

ANIMATIONS_PLAYING = ("[...document.querySelectorAll('div.animation img')]"
                      ".every(i => i.naturalWidth > 0)")


# Go to the first slide with a figure, with all its fragments shown, scrolled to the figure.
SHOW_FIRST_FIGURE = """(() => {
  const slide = Reveal.getSlides().find(s => s.querySelector('img'));
  if (!slide) return false;
  const at = Reveal.getIndices(slide);
  Reveal.slide(at.h, at.v, 1000);
  const img = slide.querySelector('img');
  slide.scrollTop = Math.max(0, img.offsetTop - slide.clientHeight + img.clientHeight + 20);
  return true;
})()"""


def _images(page, selector):
    return page.evaluate(f"{WAIT_FOR_IMAGES}({json.dumps(selector)})", timeout=30)


def _scroll_to(page, selector):
    found = page.evaluate(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
        if (!e) return false; e.scrollIntoView({{block: 'center'}}); return true; }})()""")
    time.sleep(0.3)
    return found


# --- the landing page ----------------------------------------------------------------------

def test_landing_page_lists_every_chapter_its_deck_and_the_archive(page_of):
    _whole_site_built()
    page = page_of("index.html")            # Jupyter Book's index.html redirects to the root page
    assert page.wait_for("document.readyState === 'complete' && "
                         "document.querySelector('article.bd-article') !== null", timeout=20)
    facts = page.evaluate(PAGE_FACTS)
    book = CONFIG["title"]
    assert _normal(book) in _normal(facts["h1"]) and book in facts["title"]
    for path in CHAPTERS:
        assert f"chapters/{path.stem}.html" in facts["links"], path.stem
        assert f"slides/{path.stem}.slides.html" in facts["links"], path.stem
    assert "_downloads/course-notebooks.zip" in facts["links"]
    assert all(i["width"] > 0 for i in _images(page, "article img"))
    assert page.exceptions() == []
    assert page.console_errors() == [], "the page logged errors to the console"
    page.screenshot(SHOTS / "index.png")
    if _scroll_to(page, "ul.course-materials"):
        page.screenshot(SHOTS / "index-materials.png")


def test_archive_holds_every_chapter_notebook_as_stored(site):
    _whole_site_built()
    if not ARCHIVE.exists():
        _missing(f"{ARCHIVE.relative_to(ROOT)} is missing: run python3 course.py build")
    with zipfile.ZipFile(ARCHIVE) as archive:
        names = set(archive.namelist())
        assert "course-notebooks/README.txt" in names
        for path in CHAPTERS:
            assert f"course-notebooks/{path.name}" in names, path.name
            assert archive.read(f"course-notebooks/{path.name}") == path.read_bytes()
        assert CONFIG["repository"]["url"] in archive.read("course-notebooks/README.txt").decode()


def test_slides_index_lists_every_deck(site):
    _whole_site_built()
    index = HTML / "slides" / "index.html"
    if not index.exists():
        _missing("_build/html/slides/index.html is missing: run python3 course.py build")
    text = index.read_text()
    for path in CHAPTERS:
        assert f'href="{path.stem}.slides.html"' in text


# --- each chapter page ---------------------------------------------------------------------

@chapter
def test_chapter_page_renders_title_figures_and_no_error(path, page_of):
    _built_page(path)
    nb = _executed(path)
    page = page_of(f"chapters/{path.stem}.html")
    facts = page.evaluate(PAGE_FACTS)
    title = title_of(path)
    assert _normal(title) in _normal(facts["h1"]), (title, facts["h1"])
    assert _normal(title) in _normal(facts["title"]) and CONFIG["title"] in facts["title"]
    assert facts["errors"] == 0 and not facts["tracebacks"], "an executed cell failed on the page"
    assert facts["stderr_problems"] == [], facts["stderr_problems"]
    assert page.exceptions() == [], "the page threw JavaScript errors"

    figures = _images(page, "article.bd-article img[src*='_images/']")
    assert page.console_errors() == [], "the page logged errors to the console"
    assert len(figures) >= expected_figures(nb), figures
    assert all(f["width"] > 0 and f["height"] > 0 for f in figures), figures
    page.screenshot(SHOTS / f"{path.stem}.png")
    if _scroll_to(page, "article.bd-article img[src*='_images/']"):
        page.screenshot(SHOTS / f"{path.stem}-figure.png")

    for source, text in hidden_sources(path):
        assert text not in _normal(facts["text"]), f"a removed cell shows on the page: {source!r}"


@chapter
def test_chapter_page_animations_have_their_players(path, page_of):
    _built_page(path)
    wanted = expected_animations(_executed(path))
    page = page_of(f"chapters/{path.stem}.html")
    page.wait_for(ANIMATIONS_PLAYING, timeout=15)
    players = page.evaluate(ANIMATIONS)
    assert len(players) == wanted, players
    for player in players:
        assert player["width"] > 0, "the animation shows no frame"
        assert player["buttons"] >= 5 and player["slider"], player
    if wanted and _scroll_to(page, "div.animation"):
        page.screenshot(SHOTS / f"{path.stem}-animation.png")


@chapter
def test_chapter_page_links_its_deck_and_offers_its_notebook(path):
    html = _built_page(path).read_text()
    assert f'href="../slides/{path.stem}.slides.html"' in html
    assert f'href="../_sources/chapters/{path.name}"' in html            # the .ipynb download
    assert (HTML / "_sources" / "chapters" / path.name).exists()
    assert 'href="../_downloads/course-notebooks.zip"' in html


@chapter
def test_chapter_page_launches_binder_colab_and_live_code_from_the_repository(path):
    html = _built_page(path).read_text()
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    branch = CONFIG["repository"].get("branch", "main")
    notebook = f"chapters/{path.name}"
    binder = f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}"
    colab = f"{CONFIG['launch_buttons']['colab_url']}/github/{repo}/blob/{branch}/{notebook}"
    assert binder in html and colab in html
    thebe = re.search(r'<script type="text/x-thebe-config">(.*?)</script>', html, re.S)
    assert thebe and f'repo: "{repo}"' in thebe[1] and f'ref: "{branch}"' in thebe[1]


# --- each chapter's deck -------------------------------------------------------------------

@chapter
def test_chapter_deck_loads_with_its_figures_and_without_hidden_cells(path, page_of):
    _built_deck(path)
    nb = _executed(path)
    page = page_of(f"slides/{path.stem}.slides.html")
    slides = page.wait_for("window.Reveal && Reveal.isReady() && Reveal.getTotalSlides()", timeout=20)
    assert slides and slides > 0, "reveal.js did not start"
    assert page.evaluate("document.querySelectorAll('.reveal .slides section').length") >= slides
    first = page.evaluate("Reveal.getSlides()[0].querySelector('h1').textContent")
    assert _normal(title_of(path)) in _normal(first)
    assert page.exceptions() == []
    assert page.console_errors() == [], "the page logged errors to the console"

    page.wait_for(ANIMATIONS_PLAYING, timeout=15)
    images = _images(page, ".reveal .slides img")
    assert all(i["width"] > 0 and i["height"] > 0 for i in images), images
    assert page.evaluate("document.querySelectorAll('.reveal div.animation').length") \
        == expected_animations(nb, on_slides=True)
    page.screenshot(SHOTS / f"{path.stem}.slides.png")
    if page.evaluate(SHOW_FIRST_FIGURE):
        time.sleep(1.0)                                   # the slide transition
        page.screenshot(SHOTS / f"{path.stem}.slides-figure.png")

    text = _normal(page.evaluate("document.querySelector('.reveal .slides').textContent"))
    for source, hidden in hidden_sources(path, on_slides=True):
        assert hidden not in text, f"a hidden or skipped cell is on the slides: {source!r}"


# --- math, with the network off ------------------------------------------------------------
# The browser resolves no host but the loopback (tools/browser.py): MathJax must come from
# the site itself (tools/vendor/mathjax), on the pages and in the decks.

MATH_RENDERED = """
(async () => {
  if (!window.MathJax || !MathJax.startup) return {loaded: false};
  await MathJax.startup.promise;
  const raw = [...document.querySelectorAll('.math, .reveal .slides p, .reveal .slides li')]
      .filter(e => !e.querySelector('mjx-container') && /\\\\\\(|\\$\\$|\\\\\\[/.test(e.textContent))
      .map(e => e.textContent.slice(0, 80));
  return {loaded: true, typeset: document.querySelectorAll('mjx-container').length,
          errors: document.querySelectorAll('mjx-merror').length, raw: raw.slice(0, 5)};
})()"""


@chapter
def test_chapter_page_math_renders_offline(path, page_of):
    _built_page(path)
    page = page_of(f"chapters/{path.stem}.html")
    page.wait_for("!!(window.MathJax && MathJax.startup)", timeout=20)
    math = page.evaluate(MATH_RENDERED, timeout=30)
    assert math["loaded"], "MathJax did not load from the site"
    assert math["typeset"] > 0 and math["errors"] == 0 and math["raw"] == [], math


@chapter
def test_chapter_deck_math_renders_offline(path, page_of):
    _built_deck(path)
    page = page_of(f"slides/{path.stem}.slides.html")
    page.wait_for("!!(window.MathJax && MathJax.startup)", timeout=20)
    math = page.evaluate(MATH_RENDERED, timeout=30)
    assert math["loaded"], "MathJax did not load next to the deck"
    assert math["typeset"] > 0 and math["errors"] == 0 and math["raw"] == [], math


# --- a phone (390 px) and the desktop sidebars ---------------------------------------------

PHONE = {"width": 390, "height": 844}
MODAL_OPEN = """((id) => { const d = document.getElementById(id);
  return !!d && d.open && d.querySelectorAll('a[href]').length > 0; })"""


@pytest.mark.parametrize("kind, modal", [("primary", "pst-primary-sidebar-modal"),
                                         ("secondary", "pst-secondary-sidebar-modal")])
def test_on_a_phone_each_sidebar_button_opens_its_sidebar(kind, modal, page_of):
    path = CHAPTERS[0]
    _built_page(path)
    page = page_of(f"chapters/{path.stem}.html", **PHONE)
    time.sleep(0.3)
    assert page.click(f"button.{kind}-toggle"), f"no visible {kind} sidebar button at 390 px"
    opened = page.wait_for(f"{MODAL_OPEN}({json.dumps(modal)})", timeout=5)
    page.screenshot(SHOTS / f"phone-{kind}-sidebar.png")
    assert opened, f"the {kind} sidebar did not open at 390 px"


def test_on_a_desktop_the_primary_sidebar_button_collapses_the_sidebar(page_of):
    path = CHAPTERS[0]
    _built_page(path)
    page = page_of(f"chapters/{path.stem}.html")
    shown = "getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
    article = "document.querySelector('article.bd-article').getBoundingClientRect().left"
    assert page.evaluate(shown) == "visible"
    left = page.evaluate(article)
    assert page.click("button.primary-toggle")
    assert page.wait_for(f"{shown} === 'hidden' && {article} < {left} - 100", timeout=5), \
        "the sidebar did not collapse (or the text did not take its place)"
    page.screenshot(SHOTS / "desktop-sidebar-collapsed.png")
    assert page.click("button.primary-toggle")
    assert page.wait_for(f"{shown} === 'visible'", timeout=5), "the sidebar did not come back"


@chapter
def test_on_a_phone_the_page_does_not_scroll_sideways(path, page_of):
    _built_page(path)
    page = page_of(f"chapters/{path.stem}.html", **PHONE)
    _images(page, "article.bd-article img")
    overflow = page.evaluate("""[...document.querySelectorAll('article.bd-article img, div.animation')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => (e.getAttribute('src') || e.className).slice(0, 60))""")
    page.screenshot(SHOTS / f"{path.stem}-phone.png")
    assert overflow == [], f"wider than a 390 px phone: {overflow}"


# --- page weight ---------------------------------------------------------------------------
# A chapter page, with every script, style sheet and image it loads, transferred with gzip
# (as any web server sends text), stays under 2 MB (COURSE.md §8). Images count whole,
# although they load lazily: a reader who scrolls to the end downloads them all.

PAGE_BUDGET = 2_000_000
# Until chapter 6's four race animations move from embedded frames to a lighter player
# (issue 18), its page gets the budget it had before this test existed.
OVER_BUDGET = {"06_comparing_optimizers": 4_000_000}
ASSET = re.compile(r'<(?:script|img|link)\b[^>]*?(?:src|href)="([^"#?]+)[^"]*"')


def page_weight(page):
    import gzip
    weights = {page.name: len(gzip.compress(page.read_bytes(), 6))}
    for ref in set(ASSET.findall(page.read_text(encoding="utf-8"))):
        if ref.startswith(("http:", "https:", "data:", "mailto:")):
            continue
        path = (page.parent / ref).resolve()
        if not path.is_file() or path.suffix in (".html", ".ipynb", ".zip", ".pdf"):
            continue
        data = path.read_bytes()
        compressible = path.suffix in (".js", ".css", ".svg", ".json", ".txt")
        weights[ref] = len(gzip.compress(data, 6)) if compressible else len(data)
    return weights


@chapter
def test_chapter_page_fits_the_weight_budget(path):
    weights = page_weight(_built_page(path))
    total = sum(weights.values())
    heaviest = sorted(weights.items(), key=lambda kv: -kv[1])[:5]
    budget = OVER_BUDGET.get(path.stem, PAGE_BUDGET)
    assert total < budget, f"{total / 1e6:.2f} MB transferred; heaviest: {heaviest}"


RAW_DOLLARS = r"""(() => {
  const article = document.querySelector('article.bd-article');
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, .MathJax, script, style').forEach(e => e.remove());
  const found = copy.textContent.match(/\$\$[^$]+\$\$|\$[^$\s][^$\n]{0,200}\$/g) || [];
  return found.slice(0, 5);
})()"""


@chapter
def test_chapter_page_shows_no_raw_dollar_math(path, page_of):
    _built_page(path)
    page = page_of(f"chapters/{path.stem}.html")
    page.wait_for("!!(window.MathJax && MathJax.startup)", timeout=20)
    page.evaluate("MathJax.startup.promise", timeout=30)
    raw = page.evaluate(RAW_DOLLARS)
    assert raw == [], f"TeX shown as raw text (generated Markdown?): {raw}"


# --- explorers without a kernel (optlib.viz.static_explorer) ---------------------------------
# Every explorer shows its static form: its sliders, precomputed frames and a little script.
# Each control is moved to each of its positions: the frame shown must be the one computed
# for that setting (its key is the value indices; with the "star" design the other sliders
# return to their defaults), and it must differ from the default frame.

STATIC_EXPLORERS = """(async () => {
  const report = [];
  for (const root of document.querySelectorAll('div.optlib-static-explorer')) {
    const data = JSON.parse(root.querySelector('script.ose-data').textContent);
    const img = root.querySelector('img.ose-frame');
    const inputs = [...root.querySelectorAll('[data-control]')];
    const first = img.getAttribute('src');
    const defaults = inputs.map(i => i.dataset.default);
    try { await img.decode(); } catch (e) {}
    const seen = {controls: inputs.length, checked: 0, problems: [], natural: img.naturalWidth,
                  width: img.getBoundingClientRect().width};
    inputs.forEach((input, k) => {
      const count = input.tagName === 'SELECT' ? input.options.length : +input.max + 1;
      for (let v = 0; v < count; v++) {
        input.value = String(v);
        input.dispatchEvent(new Event('input', {bubbles: true}));
        const key = (data.design === 'star' ? defaults.map((d, j) => j === k ? String(v) : d)
                                            : inputs.map(i => i.value)).join(',');
        const frame = data.frames[key];
        const want = frame === null ? first : frame;
        const name = input.dataset.control;
        if (!(key in data.frames)) seen.problems.push(`${name}=${v}: no frame ${key}`);
        else if (root.dataset.key !== key || img.dataset.key !== key)
          seen.problems.push(`${name}=${v}: shows frame ${img.dataset.key}, not ${key}`);
        else if (typeof want === 'string' && img.getAttribute('src') !== want)
          seen.problems.push(`${name}=${v}: the image is not frame ${key}`);
        else if (typeof want === 'string' && String(v) !== defaults[k] && want === first)
          seen.problems.push(`${name}=${v}: the image did not change`);
        else seen.checked++;
      }
      input.value = defaults[k];
      input.dispatchEvent(new Event('input', {bubbles: true}));
    });
    report.push(seen);
  }
  return report;
})()"""


def expected_static_explorers(nb):
    from optlib.viz.static_explorer import is_static_explorer
    return sum(1 for cell in nb["cells"] if cell["cell_type"] == "code"
               and not _tags(cell) & SLIDES_REMOVE_CELL
               for output in cell.get("outputs", []) if is_static_explorer(output))


def _check_static_explorers(page, wanted):
    report = page.evaluate(STATIC_EXPLORERS, timeout=30)
    assert len(report) == wanted, report
    for explorer in report:
        assert explorer["problems"] == [], explorer["problems"]
        assert explorer["controls"] > 0 and explorer["checked"] >= explorer["controls"], explorer
        assert explorer["natural"] > 0, "the explorer shows no frame"
    assert page.exceptions() == [], "an explorer's script threw"
    return report


@chapter
def test_chapter_page_explorers_follow_their_sliders_without_a_kernel(path, page_of):
    _built_page(path)
    wanted = expected_static_explorers(_executed(path))
    page = page_of(f"chapters/{path.stem}.html")
    for explorer in _check_static_explorers(page, wanted):
        assert explorer["width"] > 0, "the explorer's frame is not shown"
    if wanted and _scroll_to(page, "div.optlib-static-explorer"):
        page.screenshot(SHOTS / f"{path.stem}-explorer.png")


@chapter
def test_chapter_deck_explorers_follow_their_sliders_without_a_kernel(path, page_of):
    _built_deck(path)
    wanted = expected_static_explorers(_executed(path))
    page = page_of(f"slides/{path.stem}.slides.html")
    page.wait_for("window.Reveal && Reveal.isReady()", timeout=20)
    _check_static_explorers(page, wanted)
