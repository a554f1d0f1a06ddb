"""The book's figures: one style and one colour per optimizer (``plot``), animations, and
the explorers (``explorer``, which needs ipywidgets and is imported only when asked for)."""
