"""Specification of optlib.lab.ch07_shuffling_curriculum: pacing, difficulty, orderings and ordered training."""

import math

import numpy as np
import pytest

from optlib.lab import ch07_shuffling_curriculum as cur
from optlib.lab.ch08_batch_norm import bn_mlp
from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD, Adam
from optlib.train.loop import fit


@pytest.fixture(scope="module")
def blobs(make_blobs):
    return make_blobs(n=120, centers=3, std=0.8, seed=0)


# ------------------------------------------------------------------------ pacing


@pytest.mark.parametrize("kind", sorted(cur.PACINGS))
def test_every_pacing_starts_at_start_and_admits_everything_from_until_on(kind):
    g = cur.pacing(kind, start=0.25, until=0.5)
    assert g(0.0) == pytest.approx(0.25)
    assert g(0.5) == g(0.7) == g(1.0) == 1.0
    p = np.linspace(0, 1, 101)
    assert np.all(np.diff(g(p)) >= 0), "a pacing function never shrinks the data"


def test_linear_and_root_pacing_follow_their_formulas():
    lin, root = cur.pacing("linear", 0.2, 0.8), cur.pacing("root", 0.2, 0.8)
    assert lin(0.4) == pytest.approx(0.2 + 0.8 * 0.5)
    assert root(0.4) == pytest.approx(0.2 + 0.8 * math.sqrt(0.5))


def test_exponential_pacing_grows_by_a_constant_factor():
    g = cur.pacing("exponential", start=1 / 8, until=0.9)
    np.testing.assert_allclose(g(np.array([0.0, 0.3, 0.6, 0.9])), [1 / 8, 1 / 4, 1 / 2, 1])


def test_step_pacing_admits_data_in_k_increments():
    g = cur.pacing("step", start=0.2, until=1.0, steps=4)
    values = np.unique(g(np.linspace(0, 0.999, 500)))
    np.testing.assert_allclose(values, [0.2, 0.4, 0.6, 0.8])


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="cosine"), "kind"), (dict(start=0.0), "start"), (dict(until=1.5), "until"),
    (dict(kind="step", steps=0), "steps"),
])
def test_pacing_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cur.pacing(**kwargs)


# -------------------------------------------------------------------- difficulty


def test_per_example_loss_averages_to_the_batch_loss(blobs):
    X, y = blobs
    model = MLP([2, 5, 3], seed=0)
    per = cur.per_example_loss(model, X, y)
    assert per.shape == (len(X),) and np.all(per > 0)
    assert per.mean() == pytest.approx(softmax_cross_entropy(model(X), y)[0], rel=1e-5)


def test_margin_is_positive_exactly_for_correctly_classified_examples(blobs):
    X, y = blobs
    model = MLP([2, 5, 3], seed=0)
    fit(model, softmax_cross_entropy, Adam(lr=0.05), X, y, epochs=5, batch_size=10)
    right = model.eval()(X).argmax(axis=1) == y
    np.testing.assert_array_equal(cur.margin(model, X, y) > 0, right)


def test_difficulty_scores_leave_the_model_in_its_mode(blobs):
    X, y = blobs
    model = bn_mlp([2, 4, 3])
    cur.per_example_loss(model, X, y)
    assert model.training


def test_a_cross_fitted_teacher_finds_the_mislabelled_examples(blobs):
    X, y = blobs
    y = y.copy()
    flipped = np.arange(0, len(y), 6)
    y[flipped] = (y[flipped] + 1) % 3
    difficulty = cur.teacher_difficulty(lambda seed: MLP([2, 8, 3], seed=seed),
                                        lambda: Adam(lr=0.05), X, y, folds=3, epochs=10)
    hardest = cur.ranking(difficulty, "hard-first")[:len(flipped)]
    assert np.isin(hardest, flipped).mean() > 0.7


def test_teacher_folds_spread_every_class_evenly():
    # (a random split could leave a class out of a teacher's training data)
    y = np.repeat([0, 1, 2], [9, 6, 3])
    part = cur._stratified_folds(y, 3, np.random.default_rng(0))
    for c in range(3):
        counts = np.bincount(part[y == c], minlength=3)
        assert counts.max() - counts.min() <= 1 and counts.min() >= 1


def test_teacher_difficulty_refuses_a_single_fold(blobs):
    with pytest.raises(ValueError, match="folds"):
        cur.teacher_difficulty(lambda s: MLP([2, 3]), lambda: SGD(lr=0.1), *blobs, folds=1)


# ---------------------------------------------------------------------- orderings


def test_rankings_order_by_difficulty_or_at_random():
    difficulty = np.array([0.5, 0.1, 0.9, 0.3])
    assert cur.ranking(difficulty, "easy-first").tolist() == [1, 3, 0, 2]
    assert cur.ranking(difficulty, "hard-first").tolist() == [2, 0, 3, 1]
    shuffled = cur.ranking(difficulty, "random", seed=1)
    assert sorted(shuffled.tolist()) == [0, 1, 2, 3]


def test_ties_are_broken_at_random_not_by_index():
    orders = {tuple(cur.ranking(np.zeros(6), "easy-first", seed=s)) for s in range(5)}
    assert len(orders) > 1


def test_class_sorted_order_groups_the_classes_and_keeps_their_order():
    y = np.array([2, 0, 1, 0, 2])
    assert cur.class_sorted_order(y).tolist() == [1, 3, 2, 0, 4]


def test_per_class_accuracy_scores_each_class_on_its_own(blobs):
    X, y = blobs
    model = MLP([2, 6, 3], seed=0)
    fit(model, softmax_cross_entropy, Adam(lr=0.05), X, y, epochs=5, batch_size=10)
    per = cur.per_class_accuracy(model, X, y)
    right = model(X).argmax(axis=1) == y
    np.testing.assert_allclose(per, [right[y == c].mean() for c in range(3)])
    assert np.isnan(cur.per_class_accuracy(model, X, y, n_classes=4)[3])


def test_paced_indices_come_from_the_admitted_prefix_each_once_before_repeats():
    order = np.array([4, 2, 0, 1, 3])
    idx = cur.paced_indices(order, 0.4, 7, np.random.default_rng(0))
    assert set(idx.tolist()) == {4, 2}
    assert sorted(idx[:2].tolist()) == [2, 4] and sorted(idx[2:4].tolist()) == [2, 4]


# ---------------------------------------------------------------------- training


def test_training_in_blocks_equals_one_continuous_run(blobs):
    # Adam has state and the schedule counts steps: both must carry over between blocks
    X, y = blobs
    order = np.concatenate([np.random.default_rng(s).permutation(len(X)) for s in range(3)])
    blocks = np.split(order, 6)                           # 60 examples = 6 batches of 10
    schedule = lambda t: 0.05 / (1 + 0.1 * t)            # noqa: E731
    a, b = MLP([2, 6, 3], seed=0), MLP([2, 6, 3], seed=0)
    ha = cur.fit_in_order(a, softmax_cross_entropy, Adam(lr=0.05), X, y, blocks, batch_size=10,
                          schedule=schedule)
    hb = fit(b, softmax_cross_entropy, Adam(lr=0.05), X[order], y[order], epochs=1,
             batch_size=10, shuffle=False, schedule=schedule)
    np.testing.assert_array_equal(ha.loss, hb.loss)
    for name, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[name])


def test_ordered_history_records_after_every_block_on_the_whole_training_set(blobs):
    X, y = blobs
    blocks = [np.arange(0, 40), np.arange(40, 120), np.arange(120)]
    extra = []
    h = cur.fit_in_order(MLP([2, 6, 3]), softmax_cross_entropy, SGD(lr=0.1), X, y, blocks,
                         batch_size=20, X_val=X[:30], y_val=y[:30],
                         on_block_end=lambda k, model: extra.append(k) or k * 10)
    assert h.step.tolist() == [0, 2, 6, 12] and h.n_steps == 12
    np.testing.assert_allclose(h.epoch, [0, 1 / 3, 1, 2])
    assert len(h.train_loss) == len(h.val_acc) == 4 and h.extra == [0, 10, 20] and extra == [0, 1, 2]
    assert h.train_loss[-1] < h.train_loss[0]


def test_fit_in_order_refuses_indices_out_of_range(blobs):
    with pytest.raises(ValueError, match=r"blocks\[1\]"):
        cur.fit_in_order(MLP([2, 3]), softmax_cross_entropy, SGD(lr=0.1), *blobs,
                         [np.arange(5), np.array([0, 500])])


def test_curriculum_blocks_follow_the_pacing_and_spend_the_whole_budget():
    order = np.arange(100)[::-1]                          # example 99 is the easiest
    g = cur.pacing("linear", start=0.2, until=0.5)
    blocks, fractions = cur.curriculum_blocks(order, g, epochs=2, n=100, batch_size=10,
                                              blocks_per_epoch=2)
    np.testing.assert_allclose(fractions, [0.2, 0.6, 1.0, 1.0])   # at p = 0, 1/4, 1/2, 3/4
    assert sum(len(b) for b in blocks) == 2 * 100
    assert blocks[0].min() >= 80                          # only the easiest 20 at first


def test_curriculum_admits_easy_examples_first_and_anti_curriculum_hard_ones(blobs):
    X, y = blobs
    difficulty = np.arange(len(X), dtype=float)           # index = difficulty
    g = cur.pacing("step", start=0.25, until=1.0, steps=2)
    seen = {}
    for order in ("easy-first", "hard-first"):
        blocks, _ = cur.curriculum_blocks(cur.ranking(difficulty, order), g, 2, len(X), 10, 2)
        seen[order] = blocks[0]
    assert seen["easy-first"].max() < 30 and seen["hard-first"].min() >= 90


def test_fit_curriculum_without_pacing_is_shuffled_training_on_all_data(blobs):
    X, y = blobs
    h = cur.fit_curriculum(MLP([2, 6, 3]), softmax_cross_entropy, SGD(lr=0.1), X, y,
                           order="random", epochs=3, batch_size=12)
    assert h.n_steps == 30 and np.all(h.admitted[1:] == 1.0)
    assert h.train_acc[-1] > 0.8


def test_fit_curriculum_needs_difficulty_unless_random(blobs):
    with pytest.raises(ValueError, match="difficulty"):
        cur.fit_curriculum(MLP([2, 3]), softmax_cross_entropy, SGD(lr=0.1), *blobs)
