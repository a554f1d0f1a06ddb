"""optlib's ReduceLROnPlateau against ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

What it compares
    After every ``step(metric)``: the learning rate, and the scheduler's ``best``,
    ``num_bad_epochs``, ``cooldown_counter`` and ``last_epoch``, which must be *equal*
    (the rule is a few comparisons and one multiplication, done in the same order).

How the cases are drawn
    Each seed draws every argument (mode, factor, patience, threshold, threshold_mode,
    cooldown, min_lr, eps, the starting rate) and a metric sequence of 40-120 epochs that
    has what the rule reacts to: noisy descents (or ascents, for ``mode="max"``),
    plateaus of repeated values, changes just inside and just outside the threshold,
    negative values (the "rel" quirk), and now and then ``nan`` or ``inf``.

Reproducing a failure
    The message names the case; ``tools/torch_compare.sh -k 'plateau and seed7'`` runs it.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from optlib.optim import SGD
from optlib.optim.lr_scheduler import ReduceLROnPlateau

if os.environ.get("OPTLIB_REQUIRE_TORCH"):      # tools/torch_compare.sh: torch must be there
    import torch
else:
    torch = pytest.importorskip("torch", reason="not installed here; tools/torch_compare.sh runs this in .venv-torch")

SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in range(100)]


def _case(rng):
    kwargs = dict(mode=str(rng.choice(["min", "max"])),
                  factor=float(rng.choice([0.1, 0.5, rng.uniform(0, 1)])),
                  patience=int(rng.integers(0, 6)),
                  threshold=float(rng.choice([1e-4, 0.0, 10 ** rng.uniform(-4, -0.5)])),
                  threshold_mode=str(rng.choice(["rel", "abs"])),
                  cooldown=int(rng.choice([0, 0, rng.integers(1, 4)])),
                  min_lr=float(rng.choice([0.0, 10 ** rng.uniform(-5, -1)])),
                  eps=float(rng.choice([1e-8, 0.0, 10 ** rng.uniform(-6, -2)])))
    return kwargs, float(10 ** rng.uniform(-3, 0))


def _metrics(rng, mode):
    n = int(rng.integers(40, 121))
    trend = np.cumsum(-np.abs(rng.normal(size=n)) * rng.uniform(0, 0.3)) * (1 if mode == "min" else -1)
    x = 1.0 + trend + rng.normal(size=n) * rng.uniform(0, 0.2)
    if rng.random() < 0.3:
        x -= rng.uniform(0, 5)                                 # negative values
    for _ in range(int(rng.integers(0, 5))):                   # plateaus: a value repeated
        i, k = int(rng.integers(n)), int(rng.integers(2, 15))
        x[i:i + k] = x[i]
    near = rng.random(n) < 0.1                                 # tiny changes, near the threshold
    x[near] = np.roll(x, 1)[near] * (1 + rng.choice([-1, 1], near.sum()) * 10 ** rng.uniform(-6, -3))
    special = rng.random(n) < 0.02
    x[special] = rng.choice([np.nan, np.inf, -np.inf], special.sum())
    return [float(v) for v in x]


@pytest.mark.parametrize("seed", SEEDS)
def test_reduce_lr_on_plateau_matches_torch_step_for_step(seed):
    rng = np.random.default_rng(seed)
    kwargs, lr = _case(rng)
    metrics = _metrics(rng, kwargs["mode"])
    ours_opt = SGD(lr=lr)
    ours = ReduceLROnPlateau(ours_opt, **kwargs)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    for epoch, metric in enumerate(metrics, start=1):
        ours.step(metric)
        theirs.step(metric)
        case = f"case: lr={lr}, {kwargs}, seed={seed}, epoch {epoch}, metric {metric!r}"
        assert ours_opt.lr == theirs_opt.param_groups[0]["lr"], case
        assert ours.last_lr == theirs.get_last_lr()[0], case
        same_best = ours.best == theirs.best or (math.isnan(ours.best) and math.isnan(theirs.best))
        assert same_best, f"best {ours.best} vs {theirs.best}; {case}"
        assert ours.num_bad_epochs == theirs.num_bad_epochs, case
        assert ours.cooldown_counter == theirs.cooldown_counter, case
        assert ours.last_epoch == theirs.last_epoch, case


def test_the_random_cases_do_reduce_the_rate_and_hit_min_lr():
    # The comparison is only worth something if the rule acts: count what the draws exercise.
    reduced = floored = cooled = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        kwargs, lr = _case(rng)
        opt = SGD(lr=lr)
        scheduler = ReduceLROnPlateau(opt, **kwargs)
        for metric in _metrics(rng, kwargs["mode"]):
            scheduler.step(metric)
            cooled += scheduler.in_cooldown
        reduced += opt.lr < lr
        floored += opt.lr == kwargs["min_lr"]
    assert reduced > 70 and floored > 10 and cooled > 100, (reduced, floored, cooled)  # 77, 23, 313
