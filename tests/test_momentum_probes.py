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
