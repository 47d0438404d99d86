"""Errors the CLI turns into a one-line message and an exit code.

`UserError` (exit 2) is for anything the user can fix: a config key, a file, a line. Its message must say
what is wrong, where (file:line or config key) and what to do. Everything else is a bug or an outside
failure (exit 1).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_SECRETISH = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})")


def shown(value: Any) -> str:
    """A cell as an error message quotes it: ``1.5`` or ``'x'``, not numpy's ``np.float64(1.5)``."""
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        value = value.item()
    return repr(value)


def scrub(text: str) -> str:
    """Remove URL credentials and anything that looks like an API key (for messages, logs and manifests)."""
    return _SECRETISH.sub("[redacted]", _URL_CREDENTIALS.sub("", text))


class ArenaError(Exception):
    """Base class of the errors arena raises on purpose."""


class UserError(ArenaError):
    """Bad input: the CLI prints the message on one line and exits with code 2."""


class ConfigError(UserError):
    """A config file that does not validate."""


class DataError(UserError):
    """A data file (questions, answers, battles, judgments) that cannot be read."""


class ProviderError(ArenaError):
    """A model backend failed in a way retries could not fix (exit 1)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> str:
    """Message for an unknown registry entry: suggestion plus the available names."""
    options = sorted(choices)
    return f"unknown {kind} '{name}'.{did_you_mean(name, options)} Available: {', '.join(options)}"
