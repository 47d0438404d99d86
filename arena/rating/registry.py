"""Rating methods by name: what ``rating.method`` and ``arena rate --method`` accept.

A method is one entry: its name, a one-line summary (shown by ``arena rate --help``), the fit function as a
``"module:function"`` path (imported on first use, so this module and :mod:`arena.rating.settings` load
without numpy, pandas or scipy), the scale its ratings live on, and the interval types it can compute.

A fit function is ``fit(encoded, settings, rng, *, interval) -> Fit``: the point estimate, samples of it
under the interval type (the bootstrap's resampled refits), or, for a closed-form interval type (the
sandwich estimate), the covariance of the point estimate, and warnings. The leaderboard takes intervals,
rank bounds and win-rate intervals from those whatever the method, so a new method, interval type or tie
model (:data:`TIE_MODELS`) is one module and one entry here::

    from arena.rating.registry import RatingMethod, register

    register(RatingMethod("mine", "mypkg.rating:fit_mine", "my rater"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, Protocol

from arena.errors import UserError, unknown_name

if TYPE_CHECKING:
    import numpy as np

    from arena.rating.encoding import Encoded
    from arena.rating.settings import RatingSettings

INTERVALS: dict[str, str] = {
    "bootstrap": "percentile intervals of seeded resampled refits (rating.bootstrap rounds)",
    "sandwich": "closed-form robust (M-estimator) normal intervals, clustered by question",
}
"""Interval types the leaderboard knows (name: one line); a method lists the ones it computes in
``RatingMethod.intervals``. ``rating.ci`` picks one."""
DEFAULT_INTERVAL = "bootstrap"


@dataclass(frozen=True)
class TieModel:
    """How a tie enters a Bradley-Terry fit (``rating.ties``)."""

    name: str
    summary: str
    fit: str | None = None
    """``"module:Class"`` of a tie likelihood (:class:`arena.rating.ties.TieLikelihood`, built from the cells), or None for
    the plain Bradley-Terry pair fit (``half``, ``drop``)."""

    def likelihood(self) -> Any:
        """The tie-likelihood class (imports its module the first time); None for ``half``/``drop``."""
        if self.fit is None:
            return None
        module, _, name = self.fit.partition(":")
        try:
            return getattr(import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise UserError(f"tie model {self.name!r}: cannot load {self.fit!r} ({exc})") from None


TIE_MODELS: dict[str, TieModel] = {
    t.name: t
    for t in (
        TieModel("half", "a tie is half a win to each side (tie and tie (bothbad) alike)"),
        TieModel("drop", "ties are left out of the fit (still counted in the ties column)"),
        TieModel(
            "davidson",
            "Davidson: P(tie) = nu sqrt(pi_i pi_j) / Z; tie and tie (bothbad) each get their own nu",
            "arena.rating.ties:Davidson",
        ),
        TieModel(
            "rao-kupper",
            "Rao-Kupper: P(i beats j) = pi_i / (pi_i + theta pi_j); one tie outcome (tie (bothbad) pooled)",
            "arena.rating.ties:RaoKupper",
        ),
    )
}
"""Tie models by name; a new one is one module and one entry here."""


def unknown_interval(name: str) -> str:
    """``unknown interval type 'x'. Did you mean ...? Available: ...``"""
    return unknown_name("interval type", name, INTERVALS)


def unknown_ties(name: str) -> str:
    """``unknown tie model 'x'. Did you mean ...? Available: ...``"""
    return unknown_name("tie model", name, TIE_MODELS)


@dataclass(frozen=True)
class Fit:
    """What a rating method returns."""

    point: np.ndarray
    """One value per model (``encoded.models`` order): natural-scale strengths when the method's
    ``output`` is ``strengths``, else ratings on its own scale."""
    samples: np.ndarray
    """``(rounds, n_models)`` draws on the same scale as ``point`` for the interval; ``(0, n)`` for none."""
    warnings: list[str] = field(default_factory=list)
    cov: np.ndarray | None = None
    """A closed-form interval type (``sandwich``): the ``(n_models, n_models)`` covariance of ``point``
    (same scale); the leaderboard then takes normal intervals from it instead of percentiles of ``samples``."""
    params: dict[str, float] = field(default_factory=dict)
    """Fitted parameters besides the strengths (e.g. a tie model's ``nu``/``theta``), reported in extras."""


class FitFunction(Protocol):
    """``fit(encoded, settings, rng, *, interval) -> Fit``."""

    def __call__(
        self, enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str
    ) -> Fit: ...


@dataclass(frozen=True)
class RatingMethod:
    """One registry entry."""

    name: str
    fit: str | FitFunction
    """The fit function, or its ``"module:function"`` path (imported when first used)."""
    summary: str
    """One line for ``arena rate --help`` and the settings docs."""
    output: Literal["strengths", "ratings"] = "strengths"
    """``strengths``: ``Fit.point`` is on the natural (log-odds) scale and is mapped to ratings with
    ``settings.scale``, ``settings.elo.base``, ``settings.initial`` and the anchor (Bradley-Terry);
    ``ratings``: already ratings, only shifted to the anchor (online Elo)."""
    scale: Callable[[RatingSettings], float] = lambda settings: settings.scale
    """The rating points per ``log(base)`` of odds: the predicted win rates and win-rate intervals use it."""
    intervals: tuple[str, ...] = (DEFAULT_INTERVAL,)

    def fitter(self) -> FitFunction:
        """The fit function (imports its module the first time)."""
        if not isinstance(self.fit, str):
            return self.fit
        module, _, name = self.fit.partition(":")
        try:
            fn: Any = getattr(import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise UserError(f"rating method {self.name!r}: cannot load {self.fit!r} ({exc})") from None
        return fn


_METHODS: dict[str, RatingMethod] = {}


def register(method: RatingMethod, *, replace: bool = False) -> RatingMethod:
    """Add a method under ``method.name``; an existing name needs ``replace=True``."""
    if method.name in _METHODS and not replace:
        raise ValueError(f"rating method {method.name!r} is already registered (pass replace=True)")
    unknown = [i for i in method.intervals if i not in INTERVALS]
    if unknown:
        raise ValueError(f"rating method {method.name!r}: unknown interval type(s) {unknown}; known: {INTERVALS}")
    _METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a method (tests register and remove their own)."""
    _METHODS.pop(name, None)


def names() -> list[str]:
    """Registered method names, in registration order."""
    return list(_METHODS)


def methods() -> list[RatingMethod]:
    """Registered methods, in registration order."""
    return list(_METHODS.values())


def unknown_method(name: str) -> str:
    """``unknown rating method 'x'. Did you mean 'y'? Available: ...``"""
    return unknown_name("rating method", name, _METHODS)


def get(name: str) -> RatingMethod:
    """The method registered as ``name``.

    Raises:
        UserError: no such method (the message suggests the closest name and lists the available ones).
    """
    try:
        return _METHODS[name]
    except KeyError:
        raise UserError(unknown_method(name)) from None


def check_interval(method: RatingMethod, interval: str) -> None:
    """Raise :class:`~arena.errors.UserError` unless ``method`` computes ``interval``."""
    if interval not in method.intervals:
        raise UserError(f"rating method {method.name!r}: " + unknown_name("interval type", interval, method.intervals))


def rating_scale(settings: RatingSettings) -> float:
    """The rating scale of ``settings.method`` (e.g. for predicted win rates)."""
    return get(settings.method).scale(settings)


register(
    RatingMethod(
        "bt",
        "arena.rating.fits:fit_bt",
        "Bradley-Terry maximum likelihood (order-free)",
        intervals=("bootstrap", "sandwich"),
    )
)
register(
    RatingMethod(
        "elo",
        "arena.rating.fits:fit_elo",
        "online Elo (order-dependent, see --elo-order)",
        output="ratings",
        scale=lambda settings: settings.elo.scale,
    )
)
register(
    RatingMethod(
        "bt-position",
        "arena.rating.position:fit_bt_position",
        "Bradley-Terry with a position-A (home-advantage) term and its interval",
        intervals=("bootstrap", "sandwich"),
    )
)
