"""Specification of ``opt.hyper``: hyper-parameters are validated whenever they are set.

(Issue 14, item 9: ``opt.hyper["momentum"] = -1`` used to bypass the checks of the
constructor.) Also: checkpoints with missing or inconsistent parts give clear errors.
"""

import copy
import math
import pickle

import numpy as np
import pytest

from optlib.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop

CLASSES = [SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam]

# (class, name, a value its constructor rejects)
BAD = [(SGD, "momentum", -0.5), (SGD, "lr", -1.0), (SGD, "nesterov", "yes"),
       (RMSprop, "alpha", math.nan), (Adadelta, "rho", 1.5), (Adagrad, "lr_decay", -1.0),
       (Adam, "betas", (1.5, 0.9)), (Adam, "betas", 0.9), (Adam, "eps", -1e-8),
       (Adamax, "weight_decay", math.inf), (NAdam, "momentum_decay", -0.1),
       (RAdam, "decoupled_weight_decay", 2), (AdamW, "maximize", None)]


@pytest.mark.parametrize("cls, name, value", BAD, ids=[f"{c.__name__}-{n}" for c, n, _ in BAD])
def test_setting_a_hyper_parameter_to_a_value_the_constructor_rejects_raises(cls, name, value):
    with pytest.raises((TypeError, ValueError), match=name):
        cls(**{name: value})
    opt = cls()
    with pytest.raises((TypeError, ValueError), match=name):
        opt.hyper[name] = value


@pytest.mark.parametrize("cls, name, value", BAD, ids=[f"{c.__name__}-{n}" for c, n, _ in BAD])
def test_a_rejected_value_leaves_the_hyper_parameters_as_they_were(cls, name, value):
    opt = cls()
    before = dict(opt.hyper)
    with pytest.raises((TypeError, ValueError)):
        opt.hyper[name] = value
    assert dict(opt.hyper) == before


def test_the_issue_s_momentum_example_is_rejected():
    opt = RMSprop(momentum=0.9)
    with pytest.raises(ValueError, match="momentum"):
        opt.hyper["momentum"] = -1.5
    assert opt.hyper["momentum"] == 0.9


def test_a_value_set_is_normalised_as_the_constructor_does():
    opt = Adam()
    opt.hyper["betas"] = [0, 0.5]
    opt.hyper["amsgrad"] = 1
    assert opt.hyper["betas"] == (0.0, 0.5) and type(opt.hyper["betas"][0]) is float
    assert opt.hyper["amsgrad"] is True


def test_a_value_set_is_checked_against_the_others():
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        opt.hyper["momentum"] = 0.0
    assert opt.hyper["momentum"] == 0.9


def test_update_sets_several_values_checked_together():
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.hyper.update(momentum=0.0, nesterov=False)
    assert opt.hyper["momentum"] == 0.0 and opt.hyper["nesterov"] is False


def test_a_value_set_changes_the_next_step():
    opt, theta = SGD(lr=0.1), np.zeros(1)
    opt.hyper["maximize"] = True
    opt.step([theta], [np.ones(1)])
    assert theta[0] == pytest.approx(0.1)


def test_an_unknown_hyper_parameter_cannot_be_added():
    with pytest.raises(KeyError, match="momentun"):
        SGD().hyper["momentun"] = 0.9


def test_a_hyper_parameter_cannot_be_removed():
    with pytest.raises(TypeError, match="removed"):
        del SGD().hyper["momentum"]


@pytest.mark.parametrize("cls", CLASSES)
def test_hyper_reads_like_a_dict_of_the_constructor_arguments(cls):
    opt = cls()
    assert dict(opt.hyper) == opt.hyper == {**cls.defaults}
    assert list(opt.hyper) == list(cls.defaults)
    assert {**opt.hyper}["lr"] == opt.lr


@pytest.mark.parametrize("cls", CLASSES)
def test_a_copied_optimizer_checks_its_own_hyper_parameters(cls):
    opt = cls(lr=0.5)
    for twin in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        twin.lr = 0.25
        assert opt.lr == 0.5 and twin.hyper["lr"] == 0.25
        with pytest.raises(ValueError, match="lr"):
            twin.hyper["lr"] = -1.0


# ---------------------------------------------------------------- checkpoints

def test_a_state_dict_saved_before_an_option_existed_loads_with_its_default():
    opt = SGD(lr=0.1)
    saved = opt.state_dict()
    del saved["hyper"]["maximize"]
    fresh = SGD(lr=0.5, maximize=True)
    fresh.load_state_dict(saved)
    assert fresh.hyper["maximize"] is False and fresh.lr == 0.1


def test_a_state_dict_with_a_hyper_parameter_the_optimizer_lacks_is_refused():
    saved = Adam().state_dict()
    with pytest.raises(ValueError, match="amsgrad"):
        SGD().load_state_dict({**saved, "optimizer": "SGD"})


@pytest.mark.parametrize("part", ["hyper", "signature", "state"])
def test_a_state_dict_missing_a_part_names_it(part):
    saved = Adam().state_dict()
    del saved[part]
    with pytest.raises(ValueError, match=f"lacks.*{part}"):
        Adam().load_state_dict(saved)


def test_a_state_array_of_the_wrong_shape_is_refused_and_named():
    opt = Adam()
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    saved = opt.state_dict()
    saved["state"]["w"]["exp_avg"] = np.zeros(4)
    fresh = Adam()
    with pytest.raises(ValueError, match=r"state\['w'\]\['exp_avg'\]"):
        fresh.load_state_dict(saved)
    assert fresh.state == {}


def _set_item(h):
    h["momentum"] = -1.0


def _update(h):
    h.update(momentum=-1.0)


def _update_in_place(h):
    h |= {"momentum": -1.0}


@pytest.mark.parametrize("change", [_set_item, _update, _update_in_place],
                         ids=["setitem", "update", "ior"])
def test_every_way_of_setting_a_value_validates_it(change):
    opt = SGD(momentum=0.5)
    with pytest.raises(ValueError, match="momentum"):
        change(opt.hyper)
    assert opt.hyper["momentum"] == 0.5


@pytest.mark.parametrize("remove", [lambda h: h.pop("momentum"), lambda h: h.popitem(),
                                    lambda h: h.clear(), lambda h: h.setdefault("nesterov2", 1)],
                         ids=["pop", "popitem", "clear", "setdefault-new-key"])
def test_no_way_of_removing_or_adding_a_key_works(remove):
    opt = SGD(momentum=0.5)
    with pytest.raises((TypeError, KeyError)):
        remove(opt.hyper)
    assert dict(opt.hyper) == dict(SGD(momentum=0.5).hyper)


def test_a_copy_of_hyper_is_a_plain_dict_free_to_change():
    opt = SGD(momentum=0.5)
    values = opt.hyper.copy()
    values["momentum"] = -1.0
    assert type(values) is dict and opt.hyper["momentum"] == 0.5
