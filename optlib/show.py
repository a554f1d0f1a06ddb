"""Show optlib's own source in a chapter, and put computed numbers into its prose.

``glue(name, value)`` stores a value a chapter computed so that its text can print it
(``{glue:text}`name:.2f``` in Markdown): the page, and the slides, always say what this
run measured; no number a run produces is typed into the prose.

``show_source(obj)`` prints what a reader should study: the code of a public function
or method, without its docstring (the chapter's text gives the equation) and without
its argument checks (the ``if ...: raise`` blocks and ``checks.*`` calls that every
public function of optlib starts with), so the printed body is the idea alone.
"""
import ast
import inspect
import textwrap

__all__ = ["source", "show_source", "glue"]

# myst-nb's own key for values glued without display (myst_nb.ext.glue.GLUE_PREFIX).
GLUE_PREFIX = "application/papermill.record/"


def glue(name, value, display=False):
    """Glue ``value`` under ``name`` for the chapter's text: ``{glue:text}`name:fmt```.

    Exactly what ``myst_nb.glue`` writes into the cell's output (a display bundle whose
    metadata names it), so the book build inserts it; written here so that a notebook
    needs no myst-nb where it runs live (Colab, a bare Jupyter). The slides converter
    (``tools/course_slides.py``) reads the same outputs. Returns ``value``, so a cell can
    glue and use a number in one line: ``k = glue("k", steps_to(0.6))``.
    """
    import IPython.core.formatters
    from IPython.display import display as ipy_display

    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()        # np.float64(0.5) -> 0.5: myst-nb formats plain numbers
    bundle, metadata = IPython.core.formatters.format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    return value


def _docstring_lines(tree):
    """Line ranges (1-based, inclusive) of every docstring in a parsed source."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
                spans.append((body[0].lineno, body[0].end_lineno))
    return spans


def _is_check(statement):
    """Whether a statement only checks arguments.

    That is an ``if`` whose every branch only raises, or a call to ``optlib.checks``,
    alone (``checks.one_of("rule", rule, RULES)``) or assigned back to the argument it
    checks (``lr = checks.real("lr", lr, low=0)``). A check assigned to another name
    (``T = checks.integer("total_steps", total_steps)``) is kept: the code uses that name.
    """
    if isinstance(statement, ast.If):
        branches = [statement.body] + ([statement.orelse] if statement.orelse else [])
        return all(all(isinstance(s, ast.Raise) or _is_check(s) for s in branch)
                   and isinstance(branch[-1], (ast.Raise, ast.If)) for branch in branches)
    if isinstance(statement, ast.Expr):
        return _is_checks_call(statement.value)
    if isinstance(statement, ast.Assign) and _is_checks_call(statement.value):
        targets, args = statement.targets, statement.value.args
        return (len(targets) == 1 and isinstance(targets[0], ast.Name) and len(args) >= 2
                and isinstance(args[1], ast.Name) and args[1].id == targets[0].id)
    return False


def _is_checks_call(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks")


def _check_lines(tree):
    """Line ranges of the argument checks at the top level of every function's body."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans += [(s.lineno, s.end_lineno) for s in node.body if _is_check(s)]
    return spans


def source(obj, docstring=True, checks=True):
    """The source code of a function, method or class of optlib, as a string.

    Parameters
    ----------
    obj
        What to show, e.g. ``optlib.SGD`` or ``optlib.surfaces.run``.
    docstring : bool
        Keep the docstrings (default). ``False`` drops them, for when the chapter's
        text already gives the equation and only the code should follow.
    checks : bool
        Keep the argument checks (default). ``False`` drops, from the body of every
        function, the statements that only check arguments: an ``if`` that only
        raises, and calls to ``optlib.checks``.
    """
    text = textwrap.dedent(inspect.getsource(obj))
    if docstring and checks:
        return text.rstrip() + "\n"
    tree = ast.parse(text)
    spans = ([] if docstring else _docstring_lines(tree)) + ([] if checks else _check_lines(tree))
    lines = text.splitlines()
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1:end]
    return "\n".join(lines).rstrip() + "\n"


def show_source(*objs, docstring=False, checks=False):
    """Display the source of one or more optlib objects as a highlighted code block.

    By default without docstrings and argument checks (see :func:`source`): the book
    prints the idea, and its text gives the equation. The output is Markdown (a fenced
    ``python`` block), so the book, the notebook and the slides all highlight it with
    their own style.
    """
    from IPython.display import Markdown
    code = "\n\n".join(source(obj, docstring=docstring, checks=checks).rstrip() for obj in objs)
    return Markdown(f"```python\n{code}\n```")
