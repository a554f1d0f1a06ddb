"""Chapter 11's module (optlib.lab.ch11_after_adam): memory, factors, Muon with AdamW, profiles."""
import numpy as np
import pytest

from optlib import data
from optlib.lab import ch11_after_adam as lab
from optlib.optim import Adam, AdamW, AdamWScheduleFree, Muon


@pytest.fixture(scope="module")
def digits():
    d = data.load_digits()
    return d.X_train[:256], d.y_train[:256], d.X_val[:64], d.y_val[:64]


def _one_step(opt, params):
    copies = {k: p.copy() for k, p in params.items()}
    opt.step(copies, {k: np.ones_like(p) for k, p in params.items()})
    return copies


# --------------------------------------------------------------------------- memory

def test_state_bytes_of_adam_is_two_copies_of_the_parameters():
    params = lab.network("mlp", 0).parameters()
    opt = Adam()
    _one_step(opt, params)
    assert lab.state_bytes(opt) == 2 * sum(p.nbytes for p in params.values())


def test_state_bytes_of_adafactor_is_rows_plus_columns_for_a_matrix():
    opt = lab.make("Adafactor")
    _one_step(opt, {"w": np.zeros((30, 50), np.float32)})
    assert lab.state_bytes(opt) == (30 + 50) * 4


def test_state_bytes_is_zero_before_the_first_step():
    assert lab.state_bytes(Adam()) == 0


def test_factored_is_exact_for_a_rank_one_matrix():
    rng = np.random.default_rng(1)
    v = rng.random((6, 1)) @ rng.random((1, 9))
    assert np.allclose(lab.factored(v), v)


def test_factored_is_what_adafactor_divides_by():
    g = np.random.default_rng(2).normal(size=(5, 7))
    opt = lab.make("Adafactor")
    opt.step({"w": np.ones((5, 7))}, {"w": g})         # β̂2 = 0 at step 1: R, C of g² itself
    state = opt.state["w"]
    rebuilt = state["row_var"] @ state["col_var"] / state["row_var"].mean()
    assert np.allclose(lab.factored(g * g), rebuilt)


def test_factored_rejects_a_vector():
    with pytest.raises(ValueError, match="v must be a 2-D array"):
        lab.factored(np.ones(4))


def test_best_rank_one_is_no_worse_than_factored():
    v = np.random.default_rng(3).random((8, 12)) ** 4
    err = np.linalg.norm(v - lab.best_rank_one(v))
    assert err <= np.linalg.norm(v - lab.factored(v)) + 1e-12


# --------------------------------------------------------------------------- Muon with AdamW

def test_muon_with_adamw_gives_hidden_matrices_to_muon_and_the_rest_to_adamw():
    params = lab.network("mlp", 0).parameters()
    opt = lab.make("Muon", 0.01)
    _one_step(opt, params)
    assert opt.muon_keys == ("0.weight",)
    assert set(opt.adamw.state) == {"0.bias", "2.weight", "2.bias"}
    assert set(opt.muon.state) == {"0.weight"}


def test_muon_with_adamw_flattens_convolution_filters_into_matrices():
    params = lab.network("cnn", 0).parameters()
    opt = lab.make("Muon", 0.01)
    _one_step(opt, params)
    assert opt.muon_keys == ("1.weight", "4.weight")
    assert opt.muon.state["4.weight"]["momentum_buffer"].shape == (16, 8 * 3 * 3)


def test_muon_with_adamw_updates_the_hidden_matrix_as_muon_alone_would():
    params = lab.network("mlp", 0).parameters()
    grads = {k: np.random.default_rng(4).normal(size=p.shape).astype(p.dtype)
             for k, p in params.items()}
    both = {k: p.copy() for k, p in params.items()}
    lab.make("Muon", 0.02).step(both, grads)
    alone = {"0.weight": params["0.weight"].copy()}
    Muon(lr=0.02, adjust_lr_fn="match_rms_adamw").step(alone, {"0.weight": grads["0.weight"]})
    other = {k: params[k].copy() for k in ("0.bias", "2.weight", "2.bias")}
    AdamW(lr=0.02).step(other, {k: grads[k] for k in other})
    assert np.array_equal(both["0.weight"], alone["0.weight"])
    assert all(np.array_equal(both[k], other[k]) for k in other)


def test_muon_with_adamw_sets_the_rate_of_both_optimizers():
    opt = lab.make("Muon", 0.01)
    opt.lr = 0.005
    assert opt.muon.lr == opt.adamw.lr == 0.005


def test_make_returns_the_registry_optimizer_for_other_names():
    opt = lab.make("Schedule-free AdamW", 0.1)
    assert isinstance(opt, AdamWScheduleFree) and opt.lr == 0.1


# --------------------------------------------------------------------------- training

def test_train_measures_schedule_free_at_its_average(digits):
    X, y, Xv, yv = digits
    run = lab.train(lab.make("Schedule-free AdamW", 0.01), X, y, Xv, yv, epochs=2, seed=0)
    assert len(run.curve) == len(run.curve_y) == 3
    assert run.curve[0] == run.curve_y[0], "before training x = y"
    assert run.curve[-1] != run.curve_y[-1], "after it they differ"
    assert run.train_loss == pytest.approx(run.curve[-1], rel=1e-6)
    assert 0 <= run.val_acc <= 1


def test_train_curve_is_the_history_for_an_ordinary_optimizer(digits):
    X, y, _, _ = digits
    run = lab.train(lab.make("AdamW", 0.01), X, y, epochs=2, seed=0)
    assert np.allclose(run.curve, run.curve_y) and np.isnan(run.val_acc)


def test_train_with_the_same_seed_is_repeatable(digits):
    X, y, _, _ = digits
    a, b = (lab.train(lab.make("Lion", 1e-3), X, y, epochs=1, seed=3) for _ in range(2))
    assert a.train_loss == b.train_loss


def test_tune_picks_the_rate_with_the_lowest_final_loss(digits):
    X, y, _, _ = digits
    sweeps = lab.tune(X, y, names=("AdamW",), lrs=[1e-4, 1e-2, 10.0], epochs=1)
    s = sweeps["AdamW"]
    assert s.best_lr == 1e-2 and s.best_final == s.finals.min()


def test_update_rms_of_lion_without_decay_is_one_where_gradients_are_nonzero(digits):
    X, y, _, _ = digits
    rms = lab.update_rms(lab.make("Lion", 1e-3), X, y, epochs=1)
    assert np.all(rms <= 1 + 1e-6) and np.all(rms > 0.8)


def test_update_rms_of_adamw_is_below_one(digits):
    X, y, _, _ = digits
    assert np.median(lab.update_rms(lab.make("AdamW", 1e-3), X, y, epochs=1)) < 1


# --------------------------------------------------------------------------- profiles

def test_performance_profile_counts_the_problems_within_tau_of_the_best():
    profile = lab.performance_profile({"a": [1.0, 2.0, 4.0], "b": [2.0, 1.0, 1.0]},
                                      taus=[1.0, 2.0, 4.0])
    assert np.allclose(profile["a"], [1 / 3, 2 / 3, 1.0])
    assert np.allclose(profile["b"], [2 / 3, 1.0, 1.0])


def test_performance_profile_never_counts_a_failed_run():
    profile = lab.performance_profile({"a": [1.0, np.inf], "b": [2.0, 1.0]}, taus=[1e9])
    assert np.allclose(profile["a"], [0.5])


def test_performance_profile_rejects_unequal_problem_counts():
    with pytest.raises(ValueError, match="same number"):
        lab.performance_profile({"a": [1.0], "b": [1.0, 2.0]}, taus=[1.0])


def test_performance_profile_rejects_nonpositive_costs():
    with pytest.raises(ValueError, match="> 0"):
        lab.performance_profile({"a": [0.0], "b": [1.0]}, taus=[1.0])
