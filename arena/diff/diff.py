"""``arena diff RUN_A RUN_B``: what differs between two runs, and whether their numbers differ by more
than their intervals (and the noise floor, when ``arena repeat`` measured one) explain.

Settings come from :func:`arena.diff.settings.run_settings`; numbers from the two leaderboards. A
delta's interval is ``delta +- 1.96 * sqrt(se_a^2 + se_b^2 + 2 * sd_noise^2)``, with each run's standard
error read off its interval at the run's level (``rating.confidence``; at 95% ``(ci_high - ci_low) / (2 * 1.96)``)
and ``sd_noise`` the run-to-run standard deviation of the rating from ``repeats/noise.json`` (of either run; the
larger when both).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arena.diff.noise import NoiseFloor, load_noise
from arena.diff.settings import GROUPS, run_settings
from arena.records import LeaderboardRow
from arena.rundir.load import Run, load_run

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile: a delta's interval, and a leaderboard's intervals unless its run says another
level (``rating.confidence``, see :func:`interval_z`)."""


def interval_z(run: Run) -> float:
    """The two-sided normal quantile of the level the run's intervals were computed at (``rating.confidence`` in
    its manifest; 95% when it does not say), to read a standard error off them."""
    confidence = ((run.manifest.rating if run.manifest is not None else None) or {}).get("confidence", 0.95)
    try:
        level = float(confidence)
    except (TypeError, ValueError):
        return Z95
    return statistics.NormalDist().inv_cdf(0.5 + level / 2) if 0 < level < 1 else Z95

_CONTENT_SHOWN = 10
"""Question ids listed per changed-content or id-set difference (the count is always given)."""


@dataclass(frozen=True)
class Change:
    """One setting that differs: ``a`` and ``b`` are its values (``in_a``/``in_b``: whether it is set)."""

    group: str
    subject: str
    setting: str
    a: Any = None
    b: Any = None
    in_a: bool = True
    in_b: bool = True


@dataclass
class Delta:
    """One number compared between the runs, with the interval of the difference ``b - a``."""

    a: float | None
    b: float | None
    delta: float | None = None
    low: float | None = None
    high: float | None = None
    beyond_intervals: bool | None = None
    """The difference is outside what the two runs' intervals explain (None: no interval to judge by)."""
    beyond_noise: bool | None = None
    """Also outside the noise floor (None when no noise floor is known)."""


@dataclass
class ModelDiff:
    """A model's numbers in both runs."""

    model: str
    rank_a: int | None
    rank_b: int | None
    rating: Delta
    win_rate: Delta
    only_in: str | None = None
    """``"a"`` or ``"b"`` when the model is on one leaderboard only."""


@dataclass
class RunDiff:
    """Everything ``arena diff`` reports."""

    run_a: str
    run_b: str
    changes: list[Change] = field(default_factory=list)
    models: list[ModelDiff] = field(default_factory=list)
    noise_repeats: int | None = None
    """Repeats behind the noise floor used (None: no ``repeats/noise.json``)."""
    notes: list[str] = field(default_factory=list)

    @property
    def identical_settings(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _se(low: float | None, high: float | None, z: float = Z95) -> float | None:
    """The standard error read off an interval of ``+-z`` standard errors (95%: :data:`Z95`); None when there is
    none (a zero-width interval is a run rated without one, e.g. 0 bootstrap rounds: not a standard error of 0,
    which would make every difference look significant)."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return None
    return (high - low) / (2 * z)


def compare_values(a: float | None, b: float | None, se_a: float | None, se_b: float | None,
                   noise_sd: float | None) -> Delta:
    """``b - a`` with its 95% interval from both standard errors, and with the noise floor when known."""
    out = Delta(a=a, b=b)
    if a is None or b is None:
        return out
    out.delta = b - a
    if se_a is None or se_b is None:
        return out
    base = math.hypot(se_a, se_b)
    out.low, out.high = out.delta - Z95 * base, out.delta + Z95 * base
    out.beyond_intervals = abs(out.delta) > Z95 * base
    if noise_sd is not None:
        with_noise = math.sqrt(base**2 + 2 * noise_sd**2)
        out.low, out.high = out.delta - Z95 * with_noise, out.delta + Z95 * with_noise
        out.beyond_noise = abs(out.delta) > Z95 * with_noise
    return out


def win_share(row: LeaderboardRow, z: float = Z95) -> tuple[float | None, float | None]:
    """The row's win rate and its standard error: ``win_rate`` vs the baseline when the rater wrote one (its
    interval read at ``z``), else the share ``(wins + ties / 2) / battles`` with its binomial standard error."""
    if row.win_rate is not None:
        return row.win_rate, _se(row.win_rate_low, row.win_rate_high, z)
    n = float(row.battles)
    if n <= 0:
        return None, None
    p = (float(row.wins) + float(row.ties) / 2) / n
    return p, math.sqrt(max(p * (1 - p), 0.0) / n)


def rating_se(row: LeaderboardRow, z: float = Z95) -> tuple[float | None, float | None]:
    """The row's rating (or mean score) and the standard error read off its interval of ``+-z`` of them."""
    if row.rating is not None:
        return row.rating, _se(row.ci_low, row.ci_high, z)
    return row.score, _se(row.score_low, row.score_high, z)


def model_diffs(rows_a: list[LeaderboardRow], rows_b: list[LeaderboardRow],
                noise: NoiseFloor | None, z_a: float = Z95, z_b: float = Z95) -> list[ModelDiff]:
    """Per model (B's order, then models only in A): rating and win-rate deltas and rank changes (each run's
    intervals read at its level: ``z_a``, ``z_b``)."""
    by_a, by_b = {r.model: r for r in rows_a}, {r.model: r for r in rows_b}
    floor = noise.by_model() if noise is not None else {}
    out = []
    for name in [*by_b, *(m for m in by_a if m not in by_b)]:
        ra, rb = by_a.get(name), by_b.get(name)
        (va, sa), (vb, sb) = (rating_se(ra, z_a) if ra else (None, None)), (rating_se(rb, z_b) if rb else (None, None))
        (wa, swa), (wb, swb) = ((win_share(ra, z_a) if ra else (None, None)),
                                (win_share(rb, z_b) if rb else (None, None)))
        nm = floor.get(name)
        out.append(ModelDiff(
            model=name, rank_a=ra.rank if ra else None, rank_b=rb.rank if rb else None,
            rating=compare_values(va, vb, sa, sb, nm.rating_sd if nm else None),
            win_rate=compare_values(wa, wb, swa, swb, nm.win_rate_sd if nm else None),
            only_in=None if ra and rb else ("a" if ra else "b")))
    return out


def _content_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    changed = sorted(q for q in a.keys() & b.keys() if a[q] != b[q])
    if not changed:
        return []
    return [Change("questions", "content", "content_hash", a=f"{len(changed)} question(s) differ in content",
                   b=changed[:_CONTENT_SHOWN])]


def _id_changes(a: list[str], b: list[str]) -> list[Change]:
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if not only_a and not only_b:
        return []
    return [Change("questions", "ids", "ids", a={"count": len(a), "only_here": only_a[:_CONTENT_SHOWN],
                                                 "only_here_count": len(only_a)},
                   b={"count": len(b), "only_here": only_b[:_CONTENT_SHOWN], "only_here_count": len(only_b)})]


def setting_changes(run_a: Run, run_b: Run) -> list[Change]:
    """Every setting that differs, grouped as :data:`arena.diff.settings.GROUPS`, subjects sorted."""
    sa, sb = run_settings(run_a), run_settings(run_b)
    out: list[Change] = []
    for subject in sorted(sa.keys() | sb.keys(), key=lambda s: (GROUPS.index(s[0]), s[1])):
        a, b = sa.get(subject), sb.get(subject)
        group, name = subject
        if subject == ("questions", "content"):
            out.extend(_content_changes(a or {}, b or {}))
            continue
        if subject == ("questions", "ids"):
            out.extend(_id_changes((a or {}).get("ids", []), (b or {}).get("ids", [])))
            continue
        if a is None or b is None:
            out.append(Change(group, name, "(present)", a=a is not None, b=b is not None,
                              in_a=a is not None, in_b=b is not None))
            continue
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key) or (key in a) != (key in b):
                out.append(Change(group, name, key, a=a.get(key), b=b.get(key), in_a=key in a, in_b=key in b))
    return out


def diff_runs(run_a: Run | Path | str, run_b: Run | Path | str) -> RunDiff:
    """Compare two run dirs (or loaded runs): settings that differ, then the numbers per model."""
    a = run_a if isinstance(run_a, Run) else load_run(run_a, require=True)
    b = run_b if isinstance(run_b, Run) else load_run(run_b, require=True)
    out = RunDiff(run_a=str(a.run_dir), run_b=str(b.run_dir), changes=setting_changes(a, b))
    floors = [n for n in (load_noise(a.run_dir), load_noise(b.run_dir)) if n is not None]
    noise = _widest(floors)
    out.noise_repeats = noise.repeats if noise is not None else None
    out.models = model_diffs(a.leaderboard, b.leaderboard, noise, interval_z(a), interval_z(b))
    for label, run in (("A", a), ("B", b)):
        if run.manifest is None:
            out.notes.append(f"run {label} ({run.run_dir}) has no readable manifest.json: its settings are "
                             "unknown, only its records and numbers are compared")
        if not run.leaderboard:
            out.notes.append(f"run {label} ({run.run_dir}) has no leaderboard: rate it first (arena rate)")
    if a.manifest and b.manifest and (a.manifest.rating or {}).get("anchor") != (b.manifest.rating or {}).get("anchor"):
        out.notes.append("the runs anchor ratings differently: rating deltas mix scale and strength")
    return out


def _widest(floors: list[NoiseFloor]) -> NoiseFloor | None:
    """One noise floor from those of both runs: per model the larger spread."""
    if not floors:
        return None
    if len(floors) == 1:
        return floors[0]
    merged = floors[0].model_copy(deep=True)
    other = floors[1].by_model()
    for m in merged.models:
        o = other.get(m.model)
        if o is not None:
            m.rating_sd = max(m.rating_sd or 0.0, o.rating_sd or 0.0)
            m.win_rate_sd = max(m.win_rate_sd or 0.0, o.win_rate_sd or 0.0)
    merged.repeats = min(f.repeats for f in floors)
    return merged
