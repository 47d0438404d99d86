"""Deterministic content keys.

A key is a short hash of everything that determines a record, so a stage can skip work already on disk
and never pay twice for the same judge call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from json.encoder import encode_basestring as _encode_str
from typing import Any


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal content gives equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_key(obj: Any, length: int = 20) -> str:
    """Hex digest (``length`` chars) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()[:length]


def seed_from(*parts: Any) -> int:
    """A 32-bit seed derived from content, for random choices that must not depend on run order."""
    return int(hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()[:8], 16)


class PartialKey:
    """:func:`content_key` of dicts that share their key names and some of their values, made faster.

    ``PartialKey(fixed, varying)(*values)`` equals ``content_key(fixed | dict(zip(varying, values)))``,
    byte for byte: the canonical JSON of a dict with sorted keys is its sorted ``"name":value`` pieces
    joined by commas, so the fixed pieces are written once and only the varying values are encoded per
    call. For keys made by the thousand (one judgment key per judge call), where encoding the fixed
    part (a judge spec, a prompt hash) each time was most of the cost.
    """

    def __init__(self, fixed: dict[str, Any], varying: Sequence[str], length: int = 20) -> None:
        names = sorted([*fixed, *varying])
        if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"PartialKey: names must be distinct strings, got fixed {sorted(fixed)} and varying {list(varying)}")
        self.varying = tuple(varying)
        self.length = length
        # Between two varying values: the fixed pieces that sort between them (text that never changes).
        self._texts: list[str] = []
        self._order: list[int] = []  # position in ``varying`` of each varying piece, in sorted order
        text = "{"
        for n, name in enumerate(names):
            sep = "," if n else ""
            if name in fixed:
                text += f"{sep}{canonical_json(name)}:{canonical_json(fixed[name])}"
            else:
                self._texts.append(f"{text}{sep}{canonical_json(name)}:")
                self._order.append(self.varying.index(name))
                text = ""
        self._tail = text + "}"

    def __call__(self, *values: Any) -> str:
        if len(values) != len(self.varying):
            raise TypeError(f"PartialKey takes {len(self.varying)} values ({', '.join(self.varying)}), got {len(values)}")
        parts = []
        for text, i in zip(self._texts, self._order, strict=True):
            parts.append(text)
            parts.append(_encode(values[i]))
        parts.append(self._tail)
        return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()[: self.length]


def _encode(value: Any) -> str:
    """:func:`canonical_json` of one value, with the common scalars encoded directly (same text)."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_str(value)  # what json.dumps(ensure_ascii=False) writes for a str
    if kind is int:
        return int.__repr__(value)
    return canonical_json(value)
