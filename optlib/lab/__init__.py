"""Chapter code: what only one chapter needs, one module per chapter (``ch02_momentum`` for
``chapters/02_momentum.ipynb``). Tested like the library, but not part of it: nothing
outside ``optlib.lab`` imports it, and the reference page does not document it. A chapter
imports its own module, e.g. ``from optlib.lab import ch02_momentum as lab``."""
