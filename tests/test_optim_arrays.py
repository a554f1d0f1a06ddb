"""Specification of optlib.optim at the edges of NumPy arrays (issue 14).

Every optimizer must update, in place and correctly, any writeable floating array a
user can pass: 0-d, empty, strided, Fortran-ordered, unaligned, big-endian. Each test
compares with the same run on an ordinary contiguous array, or with a value derived
by hand.
"""

import warnings

import numpy as np
import pytest

from optlib.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop

# Every option that changes the update rule, with weight decay on (it is what made
# SGD's 0-d momentum buffer a NumPy scalar).
VARIANTS = {
    "SGD": lambda: SGD(lr=0.1, weight_decay=0.1),
    "SGD-momentum": lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.1),
    "SGD-momentum-dampening": lambda: SGD(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1),
    "SGD-nesterov": lambda: SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "Adagrad": lambda: Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1,
                               weight_decay=0.1),
    "RMSprop": lambda: RMSprop(lr=0.01, weight_decay=0.1),
    "RMSprop-centered-momentum": lambda: RMSprop(lr=0.01, momentum=0.9, centered=True,
                                                 weight_decay=0.1),
    "Adadelta": lambda: Adadelta(weight_decay=0.1),
    "Adam": lambda: Adam(lr=0.01, weight_decay=0.1),
    "Adam-amsgrad": lambda: Adam(lr=0.01, amsgrad=True, weight_decay=0.1),
    "Adam-decoupled": lambda: Adam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "AdamW": lambda: AdamW(lr=0.01),
    "Adamax": lambda: Adamax(lr=0.01, weight_decay=0.1),
    "NAdam": lambda: NAdam(lr=0.01, weight_decay=0.1),
    "NAdam-decoupled": lambda: NAdam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": lambda: RAdam(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1),
    "RAdam-decoupled": lambda: RAdam(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1,
                                     decoupled_weight_decay=True),
}
variants = pytest.mark.parametrize("make", VARIANTS.values(), ids=VARIANTS.keys())
STEPS = 8                   # past RAdam's switch to its adaptive rate (t = 3 for β2 = 0.9)


def gradients(theta, t):
    """A gradient that depends on θ, as a real one does."""
    return 0.5 * (theta - 1.0) + np.cos(np.arange(theta.size).reshape(theta.shape) + t)


def run(make, theta, steps=STEPS):
    """``steps`` steps on ``theta``, in place; returns the optimizer."""
    opt = make()
    for t in range(steps):
        opt.step([theta], [gradients(np.array(theta), t)])
    return opt


def reference(make, values, steps=STEPS):
    """The same run on an ordinary, contiguous, aligned float64 copy."""
    theta = np.array(values, dtype=np.float64, order="C")
    run(make, theta, steps)
    return theta


# ---------------------------------------------------------------- 0-d parameters

def test_sgd_momentum_and_weight_decay_on_a_0d_parameter_matches_torch():
    # Issue 14, item 1. By hand, with g = 1, η = 0.1, β = 0.9, λ = 0.1:
    # g'_t = 1 + λθ_{t-1}; b_1 = g'_1, b_t = β b_{t-1} + g'_t; θ_t = θ_{t-1} - η b_t.
    theta, b = 1.0, None
    for _ in range(5):
        grad = 1.0 + 0.1 * theta
        b = grad if b is None else 0.9 * b + grad
        theta -= 0.1 * b
    assert theta == pytest.approx(-0.4120257151, abs=1e-10)      # torch: -0.412
    p, opt = np.array(1.0), SGD(lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(5):
        opt.step([p], [np.array(1.0)])
    assert float(p) == pytest.approx(theta, rel=1e-14)


def test_sgd_momentum_buffer_of_a_0d_parameter_is_an_ndarray_that_accumulates():
    p, opt = np.array(1.0), SGD(lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step([p], [np.array(1.0)])
    buffer = opt.state[0]["momentum_buffer"]
    assert type(buffer) is np.ndarray and buffer.shape == ()
    opt.step([p], [np.array(1.0)])
    assert opt.state[0]["momentum_buffer"] is buffer and float(buffer) > 1.1


@variants
def test_a_0d_parameter_follows_the_trajectory_of_a_one_element_array(make):
    scalar, vector = np.array(0.3), np.array([0.3])
    run(make, scalar)
    run(make, vector)
    assert scalar.shape == () and scalar == vector[0]


@variants
def test_the_state_of_a_0d_parameter_is_0d_ndarrays(make):
    opt = run(make, np.array(0.3))
    for name, value in opt.state[0].items():
        assert name in ("step", "mu_product") or (type(value) is np.ndarray and value.shape == ())


# ---------------------------------------------------------------- empty parameters

@variants
@pytest.mark.parametrize("shape", [(0,), (3, 0)], ids=["0", "3x0"])
def test_an_empty_parameter_is_stepped_without_error(make, shape):
    theta = np.zeros(shape)
    opt = run(make, theta)
    assert theta.shape == shape and opt.state[0]["step"] == STEPS


@variants
def test_an_empty_parameter_leaves_the_others_updated_as_alone(make):
    empty, theta = np.zeros((3, 0)), np.linspace(-1, 1, 5)
    opt = make()
    for t in range(STEPS):
        opt.step([empty, theta], [np.zeros((3, 0)), gradients(np.array(theta), t)])
    np.testing.assert_array_equal(theta, reference(make, np.linspace(-1, 1, 5)))


# ---------------------------------------------------------------- arrays BLAS cannot write in place

def unaligned(values):
    """A writeable float64 array that starts one byte into its buffer (not aligned)."""
    values = np.asarray(values, dtype=np.float64)
    u = np.frombuffer(bytearray(values.nbytes + 1), np.float64, values.size, offset=1)
    u[:] = values
    assert not u.flags.aligned and u.flags.writeable
    return u


def strided(values):
    """A view of every other element of a larger array (not contiguous)."""
    values = np.asarray(values, dtype=np.float64)
    base = np.full(2 * values.size, 99.0)
    view = base[::2]
    view[:] = values
    return view


def fortran(values):
    """A 2-d Fortran-ordered array (not C-contiguous)."""
    return np.asfortranarray(np.asarray(values, dtype=np.float64).reshape(2, 3))


def big_endian(values):
    return np.asarray(values, dtype=">f8").copy()


def reversed_view(values):
    """A view with a negative stride."""
    return np.array(values[::-1], dtype=np.float64)[::-1]


def from_memory_of_a_bytearray(values):
    """Aligned, but in memory NumPy does not own (a bytearray)."""
    values = np.asarray(values, dtype=np.float64)
    u = np.frombuffer(bytearray(values.nbytes), np.float64)
    u[:] = values
    return u


ODD_ARRAYS = {"unaligned": unaligned, "strided": strided, "fortran": fortran,
              "big-endian": big_endian, "negative-stride": reversed_view,
              "bytearray": from_memory_of_a_bytearray}
VALUES = [0.5, -1.0, 2.0, 0.0, 3.0, -0.25]


def test_the_issue_s_unaligned_array_is_updated_in_place():
    u = np.frombuffer(bytearray(49), np.float64, 6, offset=1)
    SGD(lr=0.1).step([u], [np.ones(6)])
    np.testing.assert_array_equal(u, np.full(6, -0.1))


@variants
@pytest.mark.parametrize("kind", ODD_ARRAYS.values(), ids=ODD_ARRAYS.keys())
def test_an_array_blas_cannot_write_is_updated_in_place_like_an_ordinary_one(make, kind):
    theta = kind(VALUES)
    arrays = [theta]
    run(make, theta)
    assert arrays[0] is theta
    np.testing.assert_allclose(theta.reshape(-1), reference(make, VALUES).reshape(-1),
                               rtol=1e-13, atol=1e-15)
    assert theta.dtype == kind(VALUES).dtype


@variants
def test_a_strided_view_updates_the_caller_s_array_and_nothing_between(make):
    base = np.full(12, 99.0)
    view = base[::2]
    view[:] = VALUES
    run(make, view)
    np.testing.assert_allclose(base[::2], reference(make, VALUES), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(base[1::2], 99.0)


@variants
def test_a_column_of_a_matrix_is_updated_through_the_matrix(make):
    matrix = np.zeros((6, 3))
    matrix[:, 1] = VALUES
    run(make, matrix[:, 1])
    np.testing.assert_allclose(matrix[:, 1], reference(make, VALUES), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(matrix[:, [0, 2]], 0.0)


@variants
def test_a_contiguous_slice_is_updated_through_the_caller_s_array(make):
    base = np.full(10, 99.0)
    base[2:8] = VALUES
    run(make, base[2:8])
    np.testing.assert_allclose(base[2:8], reference(make, VALUES), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(base[[0, 1, 8, 9]], 99.0)


# ---------------------------------------------------------------- one array, one entry

def test_the_same_array_passed_twice_warns():
    theta = np.ones(3)
    with pytest.warns(UserWarning, match=r"params\[1\] is the same array as params\[0\]"):
        SGD(lr=0.1).step([theta, theta], [np.ones(3), np.ones(3)])


def test_overlapping_views_warn():
    theta = np.ones(5)
    with pytest.warns(UserWarning, match=r"params\['b'\] and params\['a'\] share memory"):
        SGD(lr=0.1).step({"a": theta[:3], "b": theta[2:]}, {"a": np.ones(3), "b": np.ones(3)})


def test_disjoint_views_of_one_array_do_not_warn():
    theta = np.ones(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SGD(lr=0.1).step([theta[:3], theta[3:], theta.reshape(2, 3)[:, :0]],
                         [np.ones(3), np.ones(3), np.ones((2, 0))])


def test_interleaved_views_that_do_not_overlap_do_not_warn():
    theta = np.ones(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SGD(lr=0.1).step([theta[::2], theta[1::2]], [np.ones(3), np.ones(3)])


def test_shared_arrays_warn_once_not_at_every_step():
    theta, opt = np.ones(3), SGD(lr=0.1)
    with pytest.warns(UserWarning):
        opt.step([theta, theta], [np.ones(3), np.ones(3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step([theta, theta], [np.ones(3), np.ones(3)])


def test_an_array_passed_twice_is_updated_twice_as_the_warning_says():
    theta = np.ones(3)
    with pytest.warns(UserWarning):
        SGD(lr=0.1).step([theta, theta], [np.ones(3), np.ones(3)])
    np.testing.assert_allclose(theta, 0.8)


# ---------------------------------------------------------------- state belongs to positions

def test_reusing_an_optimizer_for_new_arrays_of_the_same_shapes_carries_its_state_over():
    # Issue 14, item 8: documented, not an error (as in PyTorch, state follows positions).
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step([np.zeros(2)], [np.ones(2)])
    second_model = np.zeros(2)
    opt.step([second_model], [np.ones(2)])
    np.testing.assert_allclose(second_model, -0.1 * 1.9)        # b_2 = 0.9·1 + 1, not b_1 = 1
    assert "second model" in SGD.__mro__[1].__doc__
