"""optlib.show: chapters display the library's own code."""
import optlib
from optlib.show import show_source, source


def test_source_is_the_code_of_the_object():
    assert source(optlib.SGD).startswith("class SGD(Optimizer):")


def test_source_without_docstrings_drops_them_and_keeps_the_code():
    text = source(optlib.Adam, docstring=False)
    assert "Kingma" not in text and "m *= beta1" in text


def test_show_source_is_a_fenced_python_block():
    md = show_source(optlib.SGD._update).data
    assert md.startswith("```python\n") and md.rstrip().endswith("```")
