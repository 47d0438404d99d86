"""The arena battle browser: a Streamlit app that renders what :mod:`arena.browse` computes.

Start it with ``arena viz RUN_DIR``; the app file is ``viz/app.py`` (see :func:`app_path`).
"""

from __future__ import annotations

from pathlib import Path

RUN_ENV = "ARENA_VIZ_RUN"
"""Environment variable holding the run dir or battles file the browser shows."""


def app_path() -> Path:
    """The Streamlit entry script (``viz/app.py``) of this installation."""
    return Path(__file__).resolve().parent / "app.py"
