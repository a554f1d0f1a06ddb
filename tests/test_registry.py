"""Specification of optlib.optim.registry: the book's optimizers by name, one place."""
import pytest

from optlib import optim
from optlib.optim import registry

TWELVE = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta",
          "Adam", "AdaMax", "NAdam", "AMSGrad", "AdamW", "RAdam")


@pytest.fixture
def clean_registry():
    """Registering changes the module's table: undo it after the test."""
    before = dict(registry.OPTIMIZERS)
    yield
    registry.OPTIMIZERS.clear()
    registry.OPTIMIZERS.update(before)


def test_names_are_the_twelve_in_the_books_order():
    assert registry.NAMES == TWELVE
    assert tuple(registry.OPTIMIZERS)[:12] == TWELVE


def test_make_builds_the_class_with_the_variants_settings():
    nesterov = registry.make("Nesterov", 0.05)
    assert isinstance(nesterov, optim.SGD) and nesterov.hyper["nesterov"] and nesterov.lr == 0.05
    assert registry.make("AMSGrad", 0.1).hyper["amsgrad"] is True


def test_make_without_lr_keeps_pytorchs_defaults():
    assert registry.make("AdamW").hyper["weight_decay"] == 0.01
    assert registry.make("NAdam").lr == registry.default_lr("NAdam") == 2e-3
    assert registry.default_lr("AdaDelta") == 1.0


def test_make_returns_a_fresh_optimizer_each_time():
    assert registry.make("Adam", 0.1) is not registry.make("Adam", 0.1)


def test_gd_is_an_alias_of_sgd_and_names_ignore_case():
    assert registry.get("GD") is registry.get("SGD")
    assert registry.get("adagrad") is registry.get("AdaGrad")


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="name must be one of.*AdaGrad"):
        registry.get("Sophia")


def test_every_optimizer_has_its_own_colour_and_marker():
    entries = [registry.get(n) for n in TWELVE]
    assert len({e.color for e in entries}) == 12
    assert len({e.marker for e in entries}) == 12


def test_line_styles_differ_within_each_group_of_three():
    styles = [registry.get(n).linestyle for n in TWELVE]
    for k in range(0, 12, 3):
        assert len(set(styles[k:k + 3])) == 3


def test_lookup_reads_a_label_that_starts_with_a_name():
    assert registry.lookup("AdamW (wd=0.1)").name == "AdamW"
    assert registry.lookup("Adam, η = 0.1").name == "Adam"
    assert registry.lookup("Adamant") is None


def test_display_name_follows_the_book_not_the_class():
    assert registry.display_name(optim.SGD(lr=0.1)) == "SGD"
    assert registry.display_name(optim.SGD(lr=0.1, momentum=0.9)) == "Momentum"
    assert registry.display_name(optim.SGD(lr=0.1, momentum=0.9, nesterov=True)) == "Nesterov"
    assert registry.display_name(optim.AdamW(amsgrad=True)) == "AMSGrad"
    assert registry.display_name(optim.Adagrad()) == "AdaGrad"


def test_every_entry_builds_an_optimizer_with_its_own_name():
    for name in TWELVE:
        assert registry.display_name(registry.make(name)) == name


def test_register_adds_a_variant_in_its_familys_colour(clean_registry):
    entry = registry.register("Adam, β₂ = 0.99", optim.Adam, {"betas": (0.9, 0.99)})
    assert entry.color == registry.get("Adam").color
    assert registry.make("Adam, β₂ = 0.99", 0.1).hyper["betas"] == (0.9, 0.99)
    assert registry.NAMES == TWELVE


def test_register_refuses_a_taken_name_or_a_non_optimizer(clean_registry):
    with pytest.raises(ValueError, match="already"):
        registry.register("adam", optim.Adam)
    with pytest.raises(TypeError, match="cls"):
        registry.register("Sophia", dict)


def test_entries_cannot_be_changed_by_accident():
    with pytest.raises(AttributeError):
        registry.get("Adam").color = "red"
    with pytest.raises(TypeError):
        registry.get("Nesterov").settings["momentum"] = 0.5
