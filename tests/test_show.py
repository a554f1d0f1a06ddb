"""optlib.show: chapters display the library's own code."""
import optlib
from optlib.show import show_source, source


def test_source_is_the_code_of_the_object():
    assert source(optlib.SGD).startswith("class SGD(Optimizer):")


def test_source_without_docstrings_drops_them_and_keeps_the_code():
    text = source(optlib.Adam, docstring=False)
    assert "Kingma" not in text and "m *= beta1" in text


def test_show_source_is_a_fenced_python_block():
    md = show_source(optlib.SGD.update).data
    assert md.startswith("```python\n") and md.rstrip().endswith("```")


def _checked(lr, steps, total_steps=10):
    """A function that checks its arguments, then does one thing."""
    from optlib import checks
    lr = checks.real("lr", lr, low=0)
    checks.integer("steps", steps, low=0)
    T = checks.integer("total_steps", total_steps, low=1)
    if lr > 1:
        raise ValueError("lr must be <= 1")
    return lr * steps / T


def test_show_source_drops_the_argument_checks_and_keeps_the_idea():
    md = show_source(_checked).data
    assert "raise" not in md and 'checks.real("lr"' not in md and 'checks.integer("steps"' not in md
    assert "return lr * steps / T" in md


def test_a_check_assigned_to_another_name_is_kept_because_the_code_uses_it():
    assert 'T = checks.integer("total_steps"' in show_source(_checked).data


def test_source_keeps_the_checks_unless_asked():
    assert "raise ValueError" in source(_checked)
    assert "raise ValueError" not in source(_checked, checks=False)
