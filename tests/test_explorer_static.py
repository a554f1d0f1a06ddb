"""Specification of optlib.viz.static_explorer: an explorer's static form, for pages and decks."""

import matplotlib

matplotlib.use("Agg")  # before pyplot: the tests never need a display

import base64  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from optlib.optim import SGD  # noqa: E402
from optlib.surfaces import Rosenbrock  # noqa: E402
from optlib.viz import plot  # noqa: E402
from optlib.viz import static_explorer as se  # noqa: E402
from optlib.viz.explorer import explorer, log_slider, surface_explorer  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def book_style_and_no_leaks():
    plot.use_style()
    yield
    plt.close("all")


@pytest.fixture
def momentum_explorer():
    """The explorer of chapter 2's shape: a log slider, a linear one, a checkbox, the start."""
    return surface_explorer(
        Rosenbrock(), lambda lr, momentum, nesterov: SGD(lr=lr, momentum=momentum, nesterov=nesterov),
        {"lr": log_slider("η (lr)", 1e-4, 1e-2, 1e-3), "momentum": (0.0, 0.99, 0.01, 0.9),
         "nesterov": False}, steps=100)


def pixels(frame):
    mime, data = frame
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def payload(html):
    found = re.search(r'<script type="application/json" class="ose-data">(.*?)</script>', html, re.S)
    return json.loads(found[1].replace("<\\/", "</"))


def lines(a, b):
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [a, a if b == "flat" else -a])
    return fig


# ------------------------------------------------------------------ controls


def test_a_log_slider_offers_its_positions_with_the_exact_default():
    c = se.control("lr", log_slider("η (lr)", 1e-3, 0.5, 0.19, steps=60))
    assert c.kind == "range" and c.label == "η (lr)" and c.positions == len(c.values) == 61
    assert c.values[0] == pytest.approx(1e-3) and c.values[-1] == pytest.approx(0.5)
    assert c.values[c.default] == 0.19            # the live default, not the nearest grid value


def test_choices_offer_all_their_options():
    drop = se.control("shape", widgets.Dropdown(options=["cosine", "step"], value="step"))
    box = se.control("nesterov", widgets.Checkbox(value=True))
    assert (drop.kind, drop.values, drop.default) == ("select", ["cosine", "step"], 1)
    assert (box.values, box.labels, box.default) == ([False, True], ["off", "on"], 1)


def test_an_integer_slider_offers_integers():
    c = se.control("seed", widgets.IntSlider(min=0, max=20, step=1, value=3))
    assert c.values == list(range(21)) and c.default == 3 and c.labels[3] == "3"


def test_sampling_spreads_the_values_and_keeps_the_default():
    c = se.control("lr", log_slider("η", 1e-3, 0.5, 0.19, steps=60)).sample(5)
    assert len(c.values) == 5 and c.values[c.default] == 0.19
    assert c.values[0] == pytest.approx(1e-3) and c.values[-1] == pytest.approx(0.5)
    assert c.values == sorted(c.values)


def test_few_combinations_are_all_drawn():
    ctrls = se.controls({"a": widgets.IntSlider(min=0, max=2, value=1),
                         "b": widgets.Dropdown(options=["flat", "down"])}, max_frames=12)
    kind, keys = se.design(ctrls)
    assert kind == "grid" and len(keys) == 6 and keys[0] == (1, 0) and len(set(keys)) == 6


def test_many_sliders_are_drawn_one_at_a_time_within_the_frame_budget(momentum_explorer):
    ctrls = se.controls(momentum_explorer.sliders, max_frames=12)
    kind, keys = se.design(ctrls)
    assert kind == "star" and len(keys) == 12 == 1 + sum(len(c.values) - 1 for c in ctrls)
    default = keys[0]
    assert all(sum(i != d for i, d in zip(k, default)) == 1 for k in keys[1:])
    nesterov = next(c for c in ctrls if c.name == "nesterov")
    assert nesterov.values == [False, True]        # a choice keeps every option


# ------------------------------------------------------------------ frames


def test_frames_are_the_live_figure_function_at_their_settings(momentum_explorer):
    static = momentum_explorer.static(max_frames=6, seconds=60)
    assert len(static.frames) == 6
    for key in list(static.frames)[::2]:                       # three of the settings
        fresh = se.encode(momentum_explorer.draw(**{**momentum_explorer.values(),
                                                    **static.values(key)}))
        assert np.array_equal(pixels(static.frames[key]), pixels(fresh)), key


def test_the_default_frame_is_the_explorers_own_figure(momentum_explorer):
    static = momentum_explorer.static(max_frames=3, seconds=60)
    assert static.values(static.default_key) == momentum_explorer.values()
    assert np.array_equal(pixels(static.frames[static.default_key]),
                          pixels(se.encode(momentum_explorer.figure)))


def test_frames_are_small_palette_images():
    mime, data = se.encode(lines(1, "flat"))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format in ("WEBP", "PNG") and mime == f"image/{im.format.lower()}"
        assert len(set(map(tuple, np.asarray(im.convert("RGB")).reshape(-1, 3)))) <= se.COLORS
        assert im.width == pytest.approx(3 * se.DPI, abs=10) or im.width < 3 * se.DPI


def test_a_setting_the_figure_function_refuses_becomes_its_message():
    def draw(a):
        if a > 1:
            raise ValueError("a must be at most 1")
        return lines(a, "flat")

    static = se.precompute(draw, {"a": widgets.IntSlider(min=0, max=2, value=0)})
    assert static.frames["2"] == "ValueError: a must be at most 1"
    assert payload(se.to_html(static))["frames"]["2"] == {"error": "ValueError: a must be at most 1"}


def test_a_slow_figure_function_gets_fewer_frames():
    calls = []

    def draw(a):
        calls.append(a)
        import time
        time.sleep(0.2)
        return lines(a, "flat")

    static = se.precompute(draw, {"a": widgets.IntSlider(min=0, max=40, value=10)}, seconds=0.5)
    assert 1 <= len(static.frames) <= 3
    assert len(calls) <= len(static.frames) + 1       # and once more, warm, to time it


def test_a_surface_explorer_fits_the_byte_budget(momentum_explorer):
    # A chapter page has about 100-200 kB to spare under its 2 MB (tests/test_site.py).
    html = se.to_html(momentum_explorer.static(seconds=60))
    assert payload(html)["design"] == "star"
    assert len(html) < 250_000
    assert len(momentum_explorer.static(seconds=60).frames) <= se.MAX_FRAMES


# ------------------------------------------------------------------ HTML


def test_the_html_maps_every_setting_to_its_frame():
    ex = explorer(lines, {"a": (0, 2, 1, 1), "b": ["flat", "down"]})
    static = ex.static(seconds=60)
    html = se.to_html(static)
    data = payload(html)
    assert data["design"] == "grid" and data["labels"] == [["0", "1", "2"], ["flat", "down"]]
    assert set(data["frames"]) == set(static.frames) == {f"{i},{j}" for i in range(3) for j in range(2)}
    assert data["frames"]["1,0"] is None                       # the default is the <img> itself
    src = re.search(r'<img class="ose-frame" src="data:image/\w+;base64,([^"]+)"', html)[1]
    assert base64.b64decode(src) == static.frames["1,0"][1]
    for key in ("0,1", "2,0"):
        uri = data["frames"][key]
        assert base64.b64decode(uri.split(",", 1)[1]) == static.frames[key][1]
        assert static.values(key) == {"a": int(key[0]), "b": ["flat", "down"][int(key[2])]}


def test_the_html_has_one_control_per_slider_at_its_default():
    ex = explorer(lines, {"a": (0, 2, 1, 1), "b": ["flat", "down"]})
    html = se.to_html(ex.static(seconds=60))
    assert re.search(r'<input type="range" min="0" max="2" step="1" value="1" '
                     r'data-control="a" data-default="1">', html)
    assert re.search(r'<select data-control="b" data-default="0">', html)
    assert f'<div class="{se.MARKER}"' in html and 'data-key="1,0"' in html
    assert "http" not in html.replace("http://www.w3.org", "")  # nothing fetched from a network


# ------------------------------------------------------------------ the display


def test_a_live_explorer_shows_only_its_widget(monkeypatch):
    monkeypatch.delenv(se.ENV, raising=False)
    data = explorer(lines, {"a": (0, 2, 1, 1), "b": ["flat", "down"]})._repr_mimebundle_()
    assert WIDGET_VIEW in data and "text/html" not in data


def test_under_a_build_the_display_also_holds_the_static_explorer(monkeypatch):
    monkeypatch.setenv(se.ENV, "1")
    data = explorer(lines, {"a": (0, 2, 1, 1), "b": ["flat", "down"]})._repr_mimebundle_()
    assert WIDGET_VIEW in data and f'class="{se.MARKER}"' in data["text/html"]


def notebook(bundle, tags=("remove-output",), slide_type="skip"):
    cell = {"cell_type": "code", "source": "explorer(...)",
            "metadata": {"tags": list(tags), "slideshow": {"slide_type": slide_type}},
            "outputs": [{"output_type": "execute_result", "data": bundle, "metadata": {}}]}
    return {"cells": [cell, {"cell_type": "markdown", "source": "text", "metadata": {}}]}


def test_pages_show_the_static_explorer_instead_of_the_widget():
    static_html = se.to_html(se.precompute(lines, {"a": widgets.IntSlider(min=0, max=1, value=0),
                                                   "b": widgets.Dropdown(options=["flat"])}))
    nb = notebook({WIDGET_VIEW: {"model_id": "x"}, "text/html": static_html, "text/plain": "VBox"})
    assert se.show_static_explorers(nb) == 1
    cell = nb["cells"][0]
    assert cell["metadata"]["tags"] == [] and cell["metadata"]["slideshow"]["slide_type"] == "skip"
    assert WIDGET_VIEW not in cell["outputs"][0]["data"] and "text/html" in cell["outputs"][0]["data"]


def test_decks_show_the_static_explorer_on_a_slide_without_its_code():
    static_html = se.to_html(se.precompute(lines, {"a": widgets.IntSlider(min=0, max=1, value=0),
                                                   "b": widgets.Dropdown(options=["flat"])}))
    nb = notebook({WIDGET_VIEW: {"model_id": "x"}, "text/html": static_html})
    se.show_static_explorers(nb, slides=True)
    meta = nb["cells"][0]["metadata"]
    assert meta["tags"] == ["remove-input"] and meta["slideshow"]["slide_type"] == "subslide"


def test_cells_without_a_static_explorer_keep_their_tags():
    nb = notebook({WIDGET_VIEW: {"model_id": "x"}, "text/plain": "VBox"})
    assert se.show_static_explorers(nb, slides=True) == 0
    assert nb["cells"][0]["metadata"]["tags"] == ["remove-output"]
    assert WIDGET_VIEW in nb["cells"][0]["outputs"][0]["data"]


def test_the_library_import_does_not_need_ipywidgets():
    import importlib.util
    source = importlib.util.find_spec("optlib.viz.static_explorer").origin
    text = open(source, encoding="utf-8").read()
    assert not re.search(r"^\s*(import|from)\s+ipywidgets", text, re.M)
    assert math.isfinite(se.SECONDS) and se.MAX_FRAMES >= 2
