"""What a chapter claims and what checks it: read from the notebook's cells.

* a *check cell* is a hidden code cell (``remove-cell``) with ``assert`` statements;
* a *glued value* is ``glue("name", expression)`` (``optlib.show.glue``): a number the
  prose prints with ``{glue:text}`name```;
* a glued value is *checked* when some assert of a check cell uses a variable that its
  expression is computed from (or the variable it is assigned to).

``tests/test_notebooks.py`` fails on a glued value that no check uses, and on a glue
role in the prose whose name nothing glues; ``tests/conftest.py`` prints the count per
chapter at the end of every test run.
"""
import ast
import json
import re
from dataclasses import dataclass, field

GLUE_ROLE = re.compile(r"\{glue(?::text|:md|:)?\}`([^`:]+)")


@dataclass
class Claims:
    check_cells: int = 0
    asserts: int = 0
    glued: dict = field(default_factory=dict)      # name -> variables it is computed from
    asserted: set = field(default_factory=set)     # variables the asserts read
    roles: set = field(default_factory=set)        # glue names the prose prints

    @property
    def unchecked(self):
        return sorted(n for n, names in self.glued.items() if not names & self.asserted)

    @property
    def unglued(self):
        return sorted(self.roles - set(self.glued))


def _parse(source):
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _loads(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def claims(path):
    nb = json.loads(path.read_text())
    found = Claims()
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found.roles |= set(GLUE_ROLE.findall(source))
            continue
        tree = _parse(source)
        if tree is None:
            continue
        hidden = "remove-cell" in cell.get("metadata", {}).get("tags", [])
        asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        if hidden and asserts:
            found.check_cells += 1
            found.asserts += len(asserts)
            for a in asserts:
                found.asserted |= _loads(a.test)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                node = node.value
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "glue"
                    and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)):
                found.glued[node.args[0].value] = _loads(node.args[1]) | set(targets)
    return found
