"""Text for people: names and ids written into Markdown (tables, the browser's headings) as the text they are."""

from __future__ import annotations

import re

_ALWAYS = re.compile(r"([\\`*\[\]<>|~$])")
"""Characters Markdown (CommonMark, GitHub tables, Streamlit's ``$`` maths) may read as syntax wherever they are."""
_LOOSE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
"""An underscore that can open or close emphasis: one not inside a word (``Q4_K_M`` is literal, ``_x_`` is not)."""
_NEWLINE = re.compile(r"\r\n|\r|\n")


def md_escape(text: object, *, newlines: bool = False) -> str:
    """``text`` as Markdown that shows it literally: a model named ``*e*``, ``$1 $2``, ``a|b`` or ``[x](y)`` is shown
    as written, in a table cell too (a ``|`` is escaped, a line break shown as ``␤``, which a cell cannot hold;
    ``newlines=True`` keeps line breaks, for text outside a table). A heading's ``#`` and a list's ``-`` only
    count at the start of a line, which an escaped name never is here. :func:`md_unescape` inverts it (but for
    ``␤``)."""
    out = _ALWAYS.sub(r"\\\1", str(text))
    out = _LOOSE_UNDERSCORE.sub(r"\\_", out)
    return out if newlines else _NEWLINE.sub("\u2424", out)


_ESCAPED = re.compile(r"\\([\\`*\[\]<>|~$_])")


def md_unescape(text: str) -> str:
    """The text :func:`md_escape` was given (with ``newlines=True``): every backslash it wrote is taken away."""
    return _ESCAPED.sub(r"\1", text)
