"""Specification of optlib.lab.ch02_momentum: the noise left in momentum's buffer."""
import numpy as np
import pytest

from optlib import nn
from optlib.lab.ch02_momentum import buffer_noise
from optlib.nn import losses


@pytest.fixture(scope="module")
def data(make_blobs):
    return make_blobs(n=600, centers=3, std=1.5, seed=0)


def model(seed=0):
    return nn.MLP([2, 16, 3], seed=seed)


def test_buffer_noise_falls_as_one_minus_beta_over_one_plus_beta(data):
    X, Y = data
    betas = [0.0, 0.5, 0.9]
    r = buffer_noise(model(), losses.softmax_cross_entropy, X, Y, betas, batch_size=8, draws=1500)
    expected = np.array([(1 - b) / (1 + b) for b in betas])
    np.testing.assert_allclose(r / r[0], expected, rtol=0.2)


def test_a_full_batch_has_no_noise(data):
    X, Y = data
    r = buffer_noise(model(), losses.softmax_cross_entropy, X, Y, [0.0, 0.9],
                     batch_size=len(X), draws=60)
    np.testing.assert_allclose(r, 0.0, atol=1e-10)


def test_smaller_batches_are_noisier(data):
    X, Y = data
    noisy, calm = (buffer_noise(model(), losses.softmax_cross_entropy, X, Y, [0.0],
                                batch_size=b, draws=400)[0] for b in (4, 64))
    assert noisy > 4 * calm


def test_buffer_noise_is_repeatable_and_does_not_change_the_model(data):
    X, Y = data
    m = model()
    before = {k: v.copy() for k, v in m.parameters().items()}
    a = buffer_noise(m, losses.softmax_cross_entropy, X, Y, [0.5], batch_size=8, draws=50)
    b = buffer_noise(m, losses.softmax_cross_entropy, X, Y, [0.5], batch_size=8, draws=50)
    np.testing.assert_array_equal(a, b)
    for k, v in m.parameters().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("kwargs, match", [
    (dict(momenta=[1.0]), "momenta"), (dict(momenta=[]), "momenta"),
    (dict(momenta=[0.99], draws=100), "draws"), (dict(batch_size=10_000), "batch_size"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_arguments_are_refused_with_their_names(kwargs, match, data):
    X, Y = data
    args = dict(momenta=[0.5], batch_size=8, draws=100)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        buffer_noise(model(), losses.softmax_cross_entropy, X, Y, **args)


# ------------------------------------------------------------------ stationary_variance
def test_stationary_variance_of_plain_sgd_is_eta_sigma2_over_lambda_2_minus_eta_lambda():
    from optlib.lab.ch02_momentum import stationary_variance
    assert np.isclose(stationary_variance(0.1, 0.0, eigenvalue=2.0, noise_variance=3.0),
                      0.1 * 3.0 / (2.0 * (2 - 0.2)))


def test_stationary_variance_matches_a_long_noisy_run_of_heavy_ball():
    from optlib.lab.ch02_momentum import stationary_variance
    from optlib.optim import SGD
    rng = np.random.default_rng(0)
    theta, opt, total = np.zeros(500), SGD(lr=0.05, momentum=0.8), 0.0
    for t in range(4000):
        opt.step([theta], [theta + rng.standard_normal(500)])
        if t >= 1000:
            total += theta @ theta
    assert abs(total / (500 * 3000) / stationary_variance(0.05, 0.8) - 1) < 0.03


def test_stationary_variance_at_equal_terminal_step_hardly_depends_on_momentum():
    from optlib.lab.ch02_momentum import stationary_variance
    v = [stationary_variance(0.1 * (1 - b), b) for b in (0.0, 0.9, 0.99)]
    assert max(v) / min(v) < 1.06


def test_stationary_variance_refuses_an_unstable_setting():
    from optlib.lab.ch02_momentum import stationary_variance
    with pytest.raises(ValueError, match="lr \\* eigenvalue"):
        stationary_variance(3.9, 0.9)
