"""What a chapter claims and what checks it: read from the notebook's cells.

* a *check cell* is a hidden code cell (``remove-cell``) with ``assert`` statements;
* a *glued value* is ``glue("name", expression)`` (``optlib.show.glue``): a number the
  prose prints with ``{glue:text}`name```;
* a glued value is *checked* when some assert of a check cell uses a variable that its
  expression is computed from (or the variable it is assigned to), directly or through
  variables computed from it (a number shown beside the ratio that is asserted).

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
    sources: dict = field(default_factory=dict)    # variable -> variables it is computed from
    roles: set = field(default_factory=set)        # glue names the prose prints

    @property
    def checked_variables(self):
        """The asserted variables and, transitively, those they are computed from."""
        seen, todo = set(), list(self.asserted)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += self.sources.get(name, ())
        return seen

    @property
    def unchecked(self):
        checked = self.checked_variables
        return sorted(n for n, names in self.glued.items() if not names & checked)

    @property
    def unglued(self):
        return sorted(self.roles - set(self.glued))


def _parse(source):
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


# Names every cell reads, which say nothing about which computation a check checks.
COMMON = {"np", "math", "float", "int", "round", "abs", "min", "max", "len", "sum", "list",
          "dict", "sorted", "any", "all", "range", "zip", "str", "optlib", "plot", "lab"}


def _loads(node):
    return {n.id for n in ast.walk(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - COMMON


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
                targets = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                for target in targets:
                    found.sources.setdefault(target, set()).update(_loads(node.value))
                node = node.value
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "glue"
                    and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)):
                name = node.args[0].value            # visited twice when assigned: keep both
                found.glued[name] = found.glued.get(name, set()) | _loads(node.args[1]) | set(targets)
    return found
