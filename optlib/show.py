"""Show optlib's own source in a chapter, so the book never re-types an algorithm."""
import ast
import inspect
import textwrap

__all__ = ["source", "show_source"]


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


def source(obj, docstring=True):
    """The source code of a function, method or class of optlib, as a string.

    Parameters
    ----------
    obj
        What to show, e.g. ``optlib.SGD`` or ``optlib.Adam._update``.
    docstring : bool
        Keep the docstrings (default). ``False`` drops them, for when the chapter's
        text already gives the equation and only the code should follow.
    """
    text = textwrap.dedent(inspect.getsource(obj))
    if docstring:
        return text.rstrip() + "\n"
    lines = text.splitlines()
    for start, end in sorted(_docstring_lines(ast.parse(text)), reverse=True):
        del lines[start - 1:end]
    return "\n".join(lines).rstrip() + "\n"


def show_source(*objs, docstring=False):
    """Display the source of one or more optlib objects as a highlighted code block.

    The output is Markdown (a fenced ``python`` block), so the book, the notebook and the
    slides all highlight it with their own style.
    """
    from IPython.display import Markdown
    code = "\n\n".join(source(obj, docstring=docstring).rstrip() for obj in objs)
    return Markdown(f"```python\n{code}\n```")
