"""Specification of optlib.optim.lr_scheduler: learning rate as a pure function of the step, applied by LRScheduler."""

import math

import numpy as np
import pytest

from optlib.optim import Adam
from optlib.optim.lr_scheduler import (
    SHAPES,
    Constant,
    CosineAnnealingLR,
    ExponentialLR,
    InverseTimeLR,
    LRScheduler,
    StepLR,
    Warmup,
    make_schedule,
)


class StandIn:
    """The smallest optimizer a schedule can drive: it only has ``lr``."""

    lr = None


# --------------------------------------------------------------------------- values


def test_constant_is_the_same_at_every_step():
    s = Constant(0.1)
    assert [s(t) for t in (0, 1, 1000)] == [0.1, 0.1, 0.1]


def test_step_decay_drops_by_gamma_every_step_size_steps():
    s = StepLR(1.0, step_size=10, gamma=0.5)
    assert s(0) == 1.0
    assert s(9) == 1.0
    assert s(10) == 0.5
    assert s(19) == 0.5
    assert s(20) == 0.25


def test_step_decay_default_gamma_is_torch_s_one_tenth():
    assert StepLR(1.0, step_size=3)(3) == pytest.approx(0.1)


def test_exponential_multiplies_by_gamma_each_step():
    s = ExponentialLR(2.0, gamma=0.9)
    assert s(0) == 2.0
    assert s(1) == pytest.approx(1.8)
    assert s(10) == pytest.approx(2.0 * 0.9**10)


def test_inverse_time_is_lr_over_one_plus_decay_t():
    s = InverseTimeLR(1.0, decay=0.5)
    assert s(0) == 1.0
    assert s(2) == 0.5
    assert s(6) == 0.25


def test_cosine_goes_from_lr_through_the_midpoint_to_eta_min():
    s = CosineAnnealingLR(1.0, T_max=100, eta_min=0.2)
    assert s(0) == 1.0
    assert s(50) == pytest.approx(0.6)
    assert s(25) == pytest.approx(0.2 + 0.4 * (1 + math.cos(math.pi / 4)))
    assert s(100) == pytest.approx(0.2)


def test_cosine_stays_at_eta_min_after_T_max_steps():
    s = CosineAnnealingLR(1.0, T_max=100, eta_min=0.2)
    assert s(101) == 0.2
    assert s(200) == 0.2


def test_cosine_decreases_monotonically():
    lrs = [CosineAnnealingLR(0.1, T_max=50)(t) for t in range(60)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_warmup_rises_linearly_from_start_factor_times_lr():
    s = Warmup(Constant(1.0), warmup_steps=10, start_factor=0.2)
    assert s(0) == pytest.approx(0.2)
    assert s(5) == pytest.approx(0.6)
    assert s(9) == pytest.approx(0.92)
    assert s(10) == 1.0


def test_warmup_default_starts_at_zero():
    s = Warmup(Constant(0.5), warmup_steps=4)
    assert [s(t) for t in range(6)] == [0.0, 0.125, 0.25, 0.375, 0.5, 0.5]


def test_warmup_then_follows_the_wrapped_schedule_shifted_by_warmup_steps():
    inner = CosineAnnealingLR(0.1, T_max=100)
    s = Warmup(inner, warmup_steps=20)
    for t in (20, 21, 70, 120, 500):
        assert s(t) == inner(t - 20)


def test_warmup_is_continuous_where_it_hands_over():
    inner = StepLR(0.3, step_size=5, gamma=0.5)
    s = Warmup(inner, warmup_steps=8)
    assert s(8) == inner(0)
    assert abs(s(8) - s(7)) == pytest.approx(0.3 / 8)
    assert abs(s(9) - s(8)) == 0.0


def test_warmup_accepts_any_callable():
    s = Warmup(lambda t: 0.4, warmup_steps=2)
    assert [s(t) for t in range(3)] == [0.0, 0.2, 0.4]


# --------------------------------------------------------------------------- purity and repr


def test_a_schedule_is_pure_so_calls_can_come_in_any_order():
    s = Warmup(CosineAnnealingLR(0.1, T_max=30), warmup_steps=5)
    forward = [s(t) for t in range(40)]
    backward = [s(t) for t in reversed(range(40))][::-1]
    assert forward == backward


def test_a_schedule_cannot_be_changed_after_creation():
    s = CosineAnnealingLR(0.1, T_max=30)
    with pytest.raises(AttributeError):
        s.lr = 1.0


def test_values_are_python_floats():
    for s in (Constant(1), StepLR(1, 2), ExponentialLR(1, 0.5), InverseTimeLR(1, 1),
              CosineAnnealingLR(1, 3), Warmup(Constant(1), 2)):
        assert type(s(1)) is float


def test_numpy_integer_steps_are_accepted():
    s = ExponentialLR(1.0, gamma=0.5)
    assert [s(t) for t in np.arange(3)] == [1.0, 0.5, 0.25]


def test_repr_shows_the_arguments():
    r = repr(Warmup(CosineAnnealingLR(0.1, T_max=100), warmup_steps=10))
    assert "CosineAnnealingLR(lr=0.1, T_max=100, eta_min=0.0)" in r
    assert "warmup_steps=10" in r and "start_factor=0.0" in r


# --------------------------------------------------------------------------- driving an optimizer


def test_lr_scheduler_sets_the_first_rate_on_creation():
    opt = StandIn()
    sched = LRScheduler(opt, StepLR(1.0, step_size=2, gamma=0.5))
    assert opt.lr == 1.0 and sched.last_lr == 1.0 and sched.t == 0


def test_lr_scheduler_step_advances_t_and_sets_the_rate():
    opt = StandIn()
    sched = LRScheduler(opt, StepLR(1.0, step_size=2, gamma=0.5))
    seen = []
    for _ in range(6):
        seen.append(opt.lr)     # the rate the optimizer step would use
        sched.step()
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert sched.t == 6 and sched.last_lr == opt.lr == 0.125


def test_lr_scheduler_drives_a_real_optimizer():
    opt, theta = Adam(lr=1.0), [np.ones(3)]
    sched = LRScheduler(opt, Warmup(Constant(0.01), warmup_steps=3))
    lrs = []
    for _ in range(5):
        lrs.append(opt.lr)
        opt.step(theta, [np.ones(3)])
        sched.step()
    assert lrs == pytest.approx([0.0, 0.01 / 3, 0.02 / 3, 0.01, 0.01])


def test_lr_scheduler_state_round_trips():
    a = LRScheduler(StandIn(), ExponentialLR(1.0, 0.5))
    for _ in range(3):
        a.step()
    b_opt = StandIn()
    b = LRScheduler(b_opt, ExponentialLR(1.0, 0.5))
    b.load_state_dict(a.state_dict())
    assert b.t == 3 and b_opt.lr == 0.125


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("lr, error", [(-1.0, ValueError), (math.inf, ValueError),
                                       (math.nan, ValueError), ("0.1", TypeError),
                                       (True, TypeError)])
def test_lr_must_be_a_finite_number_at_least_zero(lr, error):
    for make in (lambda: Constant(lr), lambda: StepLR(lr, 10), lambda: ExponentialLR(lr, 0.5),
                 lambda: InverseTimeLR(lr, 0.1), lambda: CosineAnnealingLR(lr, 10)):
        with pytest.raises(error, match="lr"):
            make()


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.5, math.nan])
def test_gamma_must_be_in_zero_one(gamma):
    with pytest.raises(ValueError, match=r"gamma must be a number in \(0, 1\]"):
        StepLR(0.1, 10, gamma=gamma)
    with pytest.raises(ValueError, match="gamma"):
        ExponentialLR(0.1, gamma)


@pytest.mark.parametrize("value, error", [(0, ValueError), (-3, ValueError),
                                          (2.5, TypeError), (10.0, TypeError), (True, TypeError)])
def test_step_counts_must_be_positive_integers(value, error):
    with pytest.raises(error, match="step_size"):
        StepLR(0.1, value)
    with pytest.raises(error, match="T_max"):
        CosineAnnealingLR(0.1, value)
    with pytest.raises(error, match="warmup_steps"):
        Warmup(Constant(0.1), value)


@pytest.mark.parametrize("start_factor", [-0.1, 1.1, math.nan])
def test_start_factor_must_be_in_zero_one(start_factor):
    with pytest.raises(ValueError, match="start_factor"):
        Warmup(Constant(0.1), 5, start_factor=start_factor)


@pytest.mark.parametrize("eta_min", [-0.1, 0.2])
def test_cosine_eta_min_must_be_between_zero_and_lr(eta_min):
    with pytest.raises(ValueError, match="eta_min"):
        CosineAnnealingLR(0.1, 10, eta_min=eta_min)


def test_inverse_time_decay_must_be_at_least_zero():
    with pytest.raises(ValueError, match="decay"):
        InverseTimeLR(0.1, decay=-1.0)


def test_warmup_needs_a_callable_schedule():
    with pytest.raises(TypeError, match="schedule"):
        Warmup(0.1, 5)


@pytest.mark.parametrize("t, error", [(-1, ValueError), (1.5, TypeError), (2.0, TypeError),
                                      (None, TypeError), (True, TypeError)])
def test_t_must_be_an_integer_at_least_zero(t, error):
    with pytest.raises(error, match="t must be an integer >= 0"):
        CosineAnnealingLR(0.1, 10)(t)


# --------------------------------------------------------------------------- shapes by name

T = 300


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_peaks_at_peak_lr_and_never_exceeds_it(shape):
    rates = np.array([make_schedule(shape, 0.5, T)(t) for t in range(T)])
    assert rates.max() == pytest.approx(0.5) and rates.min() >= 0


@pytest.mark.parametrize("shape, last", [("constant", 0.5), ("step", 0.005),
                                         ("exponential", 0.005), ("1/t", 0.5 / 11),
                                         ("cosine", 0.0), ("warmup+cosine", 0.0)])
def test_shapes_end_where_the_docstring_says(shape, last):
    # the last step of training is t = T - 1
    assert make_schedule(shape, 0.5, T)(T - 1) == pytest.approx(last, rel=0.02, abs=1e-4)


def test_step_shape_drops_by_ten_at_a_third_and_two_thirds():
    s = make_schedule("step", 1.0, T)
    assert (s(99), s(100), s(199), s(200)) == pytest.approx((1.0, 0.1, 0.1, 0.01))


def test_warmup_shape_rises_from_zero_over_a_tenth_of_training():
    s = make_schedule("warmup+cosine", 1.0, T)
    assert s(0) == 0.0 and s(15) == pytest.approx(0.5) and s(30) == pytest.approx(1.0)


def test_make_schedule_rejects_unknown_shapes_and_short_runs():
    with pytest.raises(ValueError, match="shape must be one of"):
        make_schedule("linear", 0.1, T)
    with pytest.raises(ValueError, match="total_steps must be an integer >= 10"):
        make_schedule("cosine", 0.1, 5)
