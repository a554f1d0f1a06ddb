r"""The static form of an explorer: its figure precomputed over slider values, for a page.

A live explorer (:class:`optlib.viz.explorer.Explorer`) needs a kernel. On the static site
and in the decks there is none, so at build time the same figure function is evaluated on a
small set of slider settings, each figure is encoded as a small image (64 colours, lossless
WebP), and a few lines of JavaScript show the image of the setting the reader picks::

    static = precompute(draw, sliders)     # draw(**values) -> Figure; sliders: name -> widget
    html = to_html(static)                 # one self-contained <div>: controls, frames, script

Which settings (the *design*):

- every combination of every slider position when there are at most ``max_frames``;
- otherwise **one slider at a time** (a star around the defaults): the default setting, and
  for each slider a few of its positions with the other sliders at their defaults. A
  choice (drop-down, checkbox) gets all its options; the numeric sliders share the rest of
  the frames, each sampled evenly over its positions (on a log slider: evenly in decades),
  always with its default. On the page, moving a slider puts the others back to their
  defaults.

The frames are the figure function's own figures (the same style as every figure of the
book), so the static explorer and the live one cannot disagree. Rendering dominates the
cost (about 0.3 s a frame on the course machine); ``seconds`` caps the total, so a slow
figure function gets fewer frames rather than a slow build.

The explorer adds this form to its display only when the environment variable
``OPTLIB_STATIC_EXPLORERS`` is set (``tools/course_site.py`` and ``tools/course_slides.py``
set it for the kernels that execute the chapters), so a live notebook pays nothing.

This module does not import ipywidgets: it reads the widgets' attributes only.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ENV", "MARKER", "DPI", "MAX_FRAMES", "SECONDS", "enabled", "Control", "StaticExplorer",
           "controls", "design", "encode", "precompute", "to_html", "is_static_explorer",
           "show_static_explorers"]

#: Set (to anything but "" or "0") to make explorers add their static form to their display.
ENV = "OPTLIB_STATIC_EXPLORERS"
#: The class of the static explorer's ``<div>``: how the site and the decks find it.
MARKER = "optlib-static-explorer"
#: Dots per inch of the frames, as in optlib.viz.plot's animations; an 8.4-inch figure is 605 px.
DPI = 72
#: Most frames per explorer (8-16 kB each).
MAX_FRAMES = 12
#: Most seconds spent rendering the frames of one explorer.
SECONDS = 6.0
COLORS = 64
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REMOVE_OUTPUT = ("remove-output", "remove_output", "hide-output")


def enabled():
    """Whether explorers should add their static form (``OPTLIB_STATIC_EXPLORERS`` is set)."""
    return os.environ.get(ENV, "") not in ("", "0")


# ---------------------------------------------------------------------- controls


@dataclass
class Control:
    """One slider of the static explorer: the values it offers and which one is the default.

    Attributes
    ----------
    name : str
        The figure function's keyword.
    label : str
        The slider's description, e.g. ``"η (lr)"``.
    kind : str
        ``"range"`` (a slider) or ``"select"`` (a drop-down or a checkbox).
    values : list
        The values the static page offers, in slider order.
    labels : list of str
        How each value reads next to the slider.
    default : int
        Index of the slider's current value in ``values``.
    positions : int
        How many positions the live slider has (``len(values)`` at most).
    """

    name: str
    label: str
    kind: str
    values: list
    labels: list
    default: int
    positions: int = 0

    def sample(self, k):
        """This control with ``k`` of its values, evenly spread, always with the default."""
        n = len(self.values)
        if k >= n:
            return self
        k = max(int(k), 1)
        if k == 1:
            idx = [self.default]
        else:
            idx = sorted(set(int(round(i)) for i in np.linspace(0, n - 1, k)))
            if self.default not in idx:     # the nearest sample becomes the default
                nearest = min(idx, key=lambda i: abs(i - self.default))
                idx = sorted((set(idx) - {nearest}) | {self.default})
        return Control(self.name, self.label, self.kind, [self.values[i] for i in idx],
                       [self.labels[i] for i in idx], idx.index(self.default), self.positions)


def _text(value):
    if isinstance(value, (bool, np.bool_)):
        return "on" if value else "off"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def _positions(lo, hi, step):
    return int(math.floor((hi - lo) / step + 1e-9)) + 1


def control(name, widget):
    """The :class:`Control` of one ipywidgets widget (slider, drop-down, checkbox)."""
    label = getattr(widget, "description", "") or name
    kind = type(widget).__name__
    value = widget.value
    if hasattr(widget, "_options_values"):             # Dropdown, RadioButtons, ToggleButtons...
        values = list(widget._options_values)
        labels = [str(s) for s in widget._options_labels]
        default = values.index(value)
        return Control(name, label, "select", values, labels, default, len(values))
    if isinstance(value, bool):                          # Checkbox, ToggleButton
        return Control(name, label, "select", [False, True], ["off", "on"], int(value), 2)
    if kind.endswith("LogSlider"):
        n = _positions(widget.min, widget.max, widget.step)
        exps = [widget.min + i * widget.step for i in range(n)]
        values = [float(widget.base ** e) for e in exps]
        where = (math.log(value, widget.base) - widget.min) / widget.step
    elif hasattr(widget, "min") and hasattr(widget, "step"):
        n = _positions(widget.min, widget.max, widget.step)
        values = [widget.min + i * widget.step for i in range(n)]
        if isinstance(value, (int, np.integer)):
            values = [int(round(v)) for v in values]
        else:
            values = [float(v) for v in values]
        where = (value - widget.min) / widget.step
    else:
        raise TypeError(f"sliders[{name!r}]: cannot precompute a {kind}")
    default = min(max(int(round(where)), 0), n - 1)
    values[default] = value                 # the live default exactly, even off the grid
    return Control(name, label, "range", values, [_text(v) for v in values], default, n)


def controls(sliders, max_frames=MAX_FRAMES):
    """The controls of ``sliders`` (name → widget), sampled to fit ``max_frames`` frames.

    All positions of every slider when their combinations fit; else the star design (see
    the module's docstring): choices keep all their options, the numeric sliders share the
    remaining frames.
    """
    full = [control(name, widget) for name, widget in sliders.items()]
    if math.prod(len(c.values) for c in full) <= max_frames:
        return full
    spare = max(max_frames - 1, 0)
    extra = [0] * len(full)
    for i, c in enumerate(full):                         # choices first, whole
        if c.kind == "select" and len(c.values) - 1 <= spare:
            extra[i] = len(c.values) - 1
            spare -= extra[i]
    numeric = [i for i, c in enumerate(full) if c.kind == "range"]
    while spare > 0 and numeric:                         # then one more sample each, in turn
        grown = False
        for i in numeric:
            if spare and extra[i] < len(full[i].values) - 1:
                extra[i] += 1
                spare -= 1
                grown = True
        if not grown:
            break
    return [c.sample(e + 1) for c, e in zip(full, extra)]


def design(ctrls):
    """The settings to draw, as tuples of value indices, default setting first.

    ``"grid"`` (every combination) when ``ctrls`` are all the positions of every slider
    and few; else ``"star"``: one control at a time, the others at their defaults.
    """
    default = tuple(c.default for c in ctrls)
    if all(len(c.values) == c.positions for c in ctrls) and len(ctrls) > 1:
        keys = [default] + [k for k in np.ndindex(*[len(c.values) for c in ctrls]) if k != default]
        return "grid", [tuple(int(i) for i in k) for k in keys]
    keys = [default]
    for j, c in enumerate(ctrls):
        for i in range(len(c.values)):
            if i != c.default:
                keys.append(default[:j] + (i,) + default[j + 1:])
    return "star", keys


# ---------------------------------------------------------------------- frames


def encode(fig, dpi=DPI, colors=COLORS):
    """A figure as a lossless WebP of at most ``colors`` colours (``bbox_inches="tight"``).

    Measured on the course's explorers at 80 dpi: 10-20 kB a frame, a quarter less than the
    same 64-colour image as PNG (optlib.viz.plot's animation frames) and a seventh of the
    full-colour PNG; the palette loses nothing visible (a few line colours plus their
    anti-aliasing shades). Returns ``(mime, bytes)``.
    """
    from PIL import Image, features

    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    with Image.open(io.BytesIO(raw.getvalue())) as im:
        small = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    if features.check("webp"):
        small.save(out, format="webp", lossless=True, method=4)
        return "image/webp", out.getvalue()
    small.save(out, format="png")
    return "image/png", out.getvalue()


@dataclass
class StaticExplorer:
    """A figure function precomputed over slider settings.

    Attributes
    ----------
    controls : list of Control
    design : str
        ``"grid"`` or ``"star"`` (see :func:`design`).
    frames : dict
        Key (``"i,j,..."``, one value index per control) → ``(mime, bytes)``, or the text
        of the error the figure function raised for that setting.
    seconds : float
        Time spent drawing and encoding.
    """

    controls: list
    design: str
    frames: dict = field(default_factory=dict)
    seconds: float = 0.0

    @staticmethod
    def key(indices):
        return ",".join(str(int(i)) for i in indices)

    def values(self, key):
        """The slider values of a frame key: name → value."""
        idx = [int(i) for i in key.split(",")] if key else []
        return {c.name: c.values[i] for c, i in zip(self.controls, idx)}

    @property
    def default_key(self):
        return self.key(c.default for c in self.controls)

    def nbytes(self):
        """Bytes of the encoded frames."""
        return sum(len(f[1]) for f in self.frames.values() if not isinstance(f, str))


def precompute(draw, sliders, max_frames=MAX_FRAMES, seconds=SECONDS, dpi=DPI):
    """Evaluate ``draw(**values)`` over the settings of :func:`controls` and :func:`design`.

    The default setting is drawn first; its time sets how many frames fit in ``seconds``
    (never more than ``max_frames``). A ``ValueError`` or ``TypeError`` of ``draw`` (a
    setting it refuses) becomes that frame's text, as in the live explorer.
    """
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    names = list(sliders)
    base = {name: w.value for name, w in sliders.items()}

    def frame(values):
        try:
            fig = draw(**values)
        except (ValueError, TypeError) as err:
            return f"{type(err).__name__}: {err}"
        try:
            return encode(fig, dpi=dpi)
        finally:
            plt.close(fig)

    first = frame(dict(base))
    each = max(time.perf_counter() - start, 1e-3)
    if each * max_frames > seconds:
        # The first figure of a kernel also pays matplotlib's warm-up (fonts, caches): time
        # a warm one before giving frames away.
        again = time.perf_counter()
        frame(dict(base))
        each = min(each, max(time.perf_counter() - again, 1e-3))
    budget = int(min(max_frames, max(1, seconds // each)))
    ctrls = controls(sliders, budget)
    kind, keys = design(ctrls)
    static = StaticExplorer(ctrls, kind)
    static.frames[static.key(keys[0])] = first
    for k in keys[1:]:
        values = dict(base)
        values.update({name: c.values[i] for name, c, i in zip(names, ctrls, k)})
        static.frames[static.key(k)] = frame(values)
    static.seconds = time.perf_counter() - start
    return static


# ---------------------------------------------------------------------- HTML

_CSS = f"""
.{MARKER} {{ margin: 0.5em 0 1em; max-width: 100%; }}
.{MARKER} .ose-controls {{ display: flex; flex-wrap: wrap; gap: 0.2em 1.5em; font-size: 0.9em; }}
.{MARKER} label {{ display: flex; align-items: center; gap: 0.5em; margin: 0; }}
.{MARKER} input[type=range] {{ width: 10em; max-width: 40vw; }}
.{MARKER} output {{ min-width: 4em; font-variant-numeric: tabular-nums; }}
.{MARKER} img {{ display: block; max-width: 100%; height: auto; }}
.{MARKER} .ose-error {{ color: #a00; font-family: monospace; white-space: pre-wrap; }}
.{MARKER} .ose-note {{ font-size: 0.8em; color: #666; margin: 0.2em 0 0; }}
"""

# Thin glue: the frame of the chosen setting replaces the image (star: the other sliders
# return to their defaults). The script finds its explorer as its parent element.
_JS = """(function (root) {
  const data = JSON.parse(root.querySelector("script.ose-data").textContent);
  const img = root.querySelector("img.ose-frame"), err = root.querySelector(".ose-error");
  const inputs = Array.from(root.querySelectorAll("[data-control]"));
  const first = img.getAttribute("src");
  function show(changed) {
    if (data.design === "star") {
      for (const i of inputs) if (i !== changed) i.value = i.dataset.default;
    }
    inputs.forEach((i, k) => {
      const out = i.parentElement.querySelector("output");
      if (out) out.textContent = data.labels[k][+i.value];
    });
    const key = inputs.map(i => i.value).join(",");
    const frame = data.frames[key];
    root.dataset.key = key;
    img.dataset.key = key;
    const error = frame && frame.error;
    err.textContent = error || "";
    err.hidden = !error;
    img.hidden = !!error;
    if (!error) img.src = frame || first;
  }
  for (const i of inputs) i.addEventListener("input", () => show(i));
  for (const i of inputs) i.addEventListener("change", () => show(i));
})(document.currentScript.parentElement);"""


def _data_uri(frame):
    mime, data = frame
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def to_html(static, alt="explorer figure"):
    """The static explorer as one self-contained ``<div class="optlib-static-explorer">``.

    The default frame is the ``<img>``'s own ``src`` (what a reader without JavaScript
    sees); the others are data URIs in a JSON ``<script>``, keyed by the value indices.
    The ``<div>`` and the ``<img>`` carry ``data-key``, the key of the frame shown.
    """
    esc = html.escape
    rows = []
    for c in static.controls:
        fixed = len(c.values) == 1
        common = f'data-control="{esc(c.name)}" data-default="{c.default}"' + (" disabled" if fixed else "")
        if c.kind == "select":
            options = "".join(f'<option value="{i}"{" selected" if i == c.default else ""}>'
                              f"{esc(text)}</option>" for i, text in enumerate(c.labels))
            rows.append(f"<label>{esc(c.label)} <select {common}>{options}</select></label>")
        else:
            rows.append(f'<label>{esc(c.label)} <input type="range" min="0" max="{len(c.values) - 1}" '
                        f'step="1" value="{c.default}" {common}>'
                        f"<output>{esc(c.labels[c.default])}</output></label>")
    default = static.default_key
    frames, labels = {}, [c.labels for c in static.controls]
    for key, frame in static.frames.items():
        if key == default:
            frames[key] = None if not isinstance(frame, str) else {"error": frame}
        else:
            frames[key] = {"error": frame} if isinstance(frame, str) else _data_uri(frame)
    first = static.frames[default]
    src = _data_uri(first) if not isinstance(first, str) else ""
    error = esc(first) if isinstance(first, str) else ""
    payload = json.dumps({"design": static.design, "frames": frames, "labels": labels},
                         ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    note = ("Precomputed: one slider at a time, the others at their defaults; run the notebook "
            "for every setting." if static.design == "star"
            else "Precomputed for every setting of the sliders.")
    return (f'<div class="{MARKER}" data-design="{static.design}" data-frames="{len(static.frames)}" '
            f'data-key="{default}" data-seconds="{static.seconds:.1f}"><style>{_CSS}</style>'
            f'<div class="ose-controls">{"".join(rows)}</div>'
            f'<img class="ose-frame" src="{src}" data-key="{default}" alt="{esc(alt)}"'
            f'{" hidden" if error else ""}>'
            f'<div class="ose-error"{"" if error else " hidden"}>{error}</div>'
            f'<p class="ose-note">{note}</p>'
            f'<script type="application/json" class="ose-data">{payload}</script>'
            f"<script>{_JS}</script></div>")


# ---------------------------------------------------------------------- notebooks


def is_static_explorer(output):
    """Whether a notebook output (a dict) holds a static explorer."""
    text = output.get("data", {}).get("text/html", "")
    text = "".join(text) if isinstance(text, list) else text
    return f'class="{MARKER}"' in text


def show_static_explorers(nb, slides=False):
    """Let every static explorer of an executed notebook show, in place of its widget.

    A cell that displays an explorer is tagged ``remove-output`` (its live widget cannot
    work without a kernel); when its output holds the static form, the tag goes, and so
    does the widget view (which pages and decks would prefer to the HTML). With
    ``slides=True`` the cell also leaves the deck's skipped cells (it becomes a sub-slide)
    and shows its output only. Changes ``nb`` (a dict or a ``NotebookNode``) in place;
    returns how many cells changed.
    """
    changed = 0
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        outputs = [o for o in cell.get("outputs", []) if is_static_explorer(o)]
        if not outputs:
            continue
        for output in outputs:
            output["data"].pop(WIDGET_VIEW, None)
        meta = cell.setdefault("metadata", {})
        tags = [t for t in meta.get("tags", []) if t not in REMOVE_OUTPUT]
        if slides:
            if "remove-input" not in tags:
                tags.append("remove-input")
            show = meta.setdefault("slideshow", {})
            if show.get("slide_type") in (None, "skip", "-"):
                show["slide_type"] = "subslide"
        meta["tags"] = tags
        changed += 1
    return changed
