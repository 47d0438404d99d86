"""The rating-method registry: listing, unknown names, a method registered here used by the library and
``arena rate``; the shared Newton helper; the lazy ``arena.rating`` package."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import arena.rating
from arena.cli.rate import command
from arena.errors import UserError
from arena.rating import RatingSettings, compute_leaderboard, registry
from arena.rating.bt import (
    _objective,
    aggregate,
    bradley_terry_mm,
    canonical,
    fit_pairs,
    pair_design,
)
from arena.rating.encoding import Encoded
from arena.rating.newton import bt_hessian, pair_hessian, solve
from arena.rating.registry import Fit, RatingMethod


def fit_mm(enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str) -> Fit:
    """Bradley-Terry by Zermelo/Hunter MM (ties as half wins), no interval: a method the registry lacks."""
    wins = np.zeros((enc.n_items, enc.n_items))
    credit = np.where(enc.outcome == 0, 1.0, np.where(enc.outcome == 1, 0.0, 0.5))
    np.add.at(wins, (enc.a, enc.b), enc.weight * credit)
    np.add.at(wins, (enc.b, enc.a), enc.weight * (1.0 - credit))
    p = bradley_terry_mm(wins, tol=1e-12, max_iter=10_000)
    s = np.log(p)
    return Fit(s - s.mean(), np.empty((0, enc.n_items)), ["mm: no interval"])


@pytest.fixture()
def mm() -> Iterator[RatingMethod]:
    method = registry.register(RatingMethod("mm", fit_mm, "Bradley-Terry by MM iterations (test)"))
    yield method
    registry.unregister("mm")


@pytest.fixture()
def frame(llmfao_frame: pd.DataFrame) -> pd.DataFrame:
    return llmfao_frame.head(3000).reset_index(drop=True)


def test_builtin_methods_listed_in_settings_and_help() -> None:
    assert registry.names()[:2] == ["bt", "elo"]
    res = CliRunner().invoke(command, ["--help"])
    assert res.exit_code == 0
    flat = " ".join(res.output.split())
    assert f"--method [{'|'.join(registry.names())}]" in flat
    dense = "".join(res.output.split())  # click wraps long help lines, also at hyphens
    for m in registry.methods():
        assert "".join(f"{m.name}: {m.summary}".split()) in dense


def test_unknown_method_suggests_and_lists(tmp_path) -> None:
    available = ", ".join(sorted(registry.names()))
    with pytest.raises(ValidationError, match=rf"unknown rating method 'btt'. Did you mean 'bt'\? Available: {available}"):
        RatingSettings(method="btt")
    with pytest.raises(UserError, match=f"Available: {available}"):
        registry.get("glicko")
    path = tmp_path / "b.csv"
    pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["model_a"]}).to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), "--method", "eol"])
    assert res.exit_code == 2
    assert f"unknown rating method 'eol'. Did you mean 'elo'? Available: {available}" in " ".join(res.output.split())


def test_registered_method_is_used_by_compute_leaderboard(mm: RatingMethod, frame: pd.DataFrame) -> None:
    assert "mm" in registry.names()
    res = compute_leaderboard(frame, RatingSettings(method="mm", bootstrap=50, seed=1))
    bt = compute_leaderboard(frame, RatingSettings(method="bt", bootstrap=0))
    assert res.method == "mm" and "mm: no interval" in res.warnings
    ours = {r["model"]: r["rating"] for r in res.rows}
    # MM and Newton reach the same maximum likelihood (up to the tiny ridge Newton adds).
    assert ours == pytest.approx({r["model"]: r["rating"] for r in bt.rows}, abs=0.5)
    assert np.mean(list(ours.values())) == pytest.approx(1000.0)
    assert all(r["ci_low"] == r["rating"] == r["ci_high"] for r in res.rows)  # no samples: no interval
    base = bt.rows[-1]["model"]
    anchored = compute_leaderboard(frame, RatingSettings(method="mm", bootstrap=0), baseline=base)
    row = next(r for r in anchored.rows if r["model"] == base)
    assert row["rating"] == pytest.approx(1000.0) and row["win_rate"] == pytest.approx(0.5)


def test_registered_method_is_accepted_by_arena_rate(mm: RatingMethod, frame: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), "--method", "mm", "--format", "json", "--bootstrap", "0"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    want = compute_leaderboard(frame, RatingSettings(method="mm", bootstrap=0, seed=0)).rows
    assert [r["model"] for r in rows] == [r["model"] for r in want]
    assert [r["rating"] for r in rows] == pytest.approx([r["rating"] for r in want], abs=1e-9)
    help_text = " ".join(CliRunner().invoke(command, ["--help"]).output.split())
    assert f"--method [{'|'.join(registry.names())}]" in help_text and "|mm]" in help_text and "mm: Bradley-Terry by MM iterations (test)" in help_text


def test_method_by_module_path_and_output_ratings(frame: pd.DataFrame) -> None:
    """A ``module:function`` entry is imported on use; an ``output="ratings"`` method is only anchored."""
    registry.register(RatingMethod("bt-path", "arena.rating.fits:fit_bt", "bt again"))
    registry.register(RatingMethod("elo-again", "arena.rating.fits:fit_elo", "elo again", output="ratings",
                                   scale=lambda s: s.elo.scale))
    registry.register(RatingMethod("broken", "arena.rating.fits:no_such_fit", "missing"))
    try:
        for name, same in (("bt-path", "bt"), ("elo-again", "elo")):
            settings = {"bootstrap": 20, "seed": 4, "anchor": {"model": frame["model_a"][0], "rating": 1200}}
            got = compute_leaderboard(frame, RatingSettings(method=name, **settings))
            want = compute_leaderboard(frame, RatingSettings(method=same, **settings))
            assert got.rows == want.rows and got.extras == want.extras
        with pytest.raises(UserError, match="rating method 'broken': cannot load 'arena.rating.fits:no_such_fit'"):
            compute_leaderboard(frame, RatingSettings(method="broken"))
    finally:
        for name in ("bt-path", "elo-again", "broken"):
            registry.unregister(name)


def test_interval_type_is_a_parameter(frame: pd.DataFrame) -> None:
    with pytest.raises(UserError, match="rating method 'bt': unknown interval type 'sandwhich'"):
        compute_leaderboard(frame, RatingSettings(bootstrap=5), interval="sandwhich")
    with pytest.raises(ValueError, match="unknown interval type"):
        registry.register(RatingMethod("x", fit_mm, "x", intervals=("jackknife",)))
    assert "x" not in registry.names()
    with pytest.raises(ValueError, match="already registered"):
        registry.register(RatingMethod("bt", fit_mm, "shadow"))


def test_pair_hessian_is_the_objectives_second_derivative(frame: pd.DataFrame) -> None:
    """The shared helper's Hessian matches finite differences of the penalised objective fit_pairs minimises."""
    models = sorted(set(frame["model_a"]) | set(frame["model_b"]))
    idx = {m: k for k, m in enumerate(models)}
    a = frame["model_a"].map(idx).to_numpy()
    b = frame["model_b"].map(idx).to_numpy()
    outcome = frame["winner"].map({"model_a": 0, "model_b": 1, "tie": 2}).to_numpy()
    n = len(models)
    cells, _ = aggregate(n, *canonical(a, b, outcome))
    design = pair_design(n, cells)
    wins, total = design.totals(cells.weight)
    ridge = 1e-4
    s = np.random.default_rng(0).normal(0, 0.5, n)
    hess = bt_hessian(s, design.i, design.j, total, ridge)

    def grad(x: np.ndarray) -> np.ndarray:
        eps = 1e-5
        e = np.eye(n) * eps
        f = lambda y: _objective(y, design.i, design.j, wins, total, ridge)  # noqa: E731
        return np.array([(f(x + e[k]) - f(x - e[k])) / (2 * eps) for k in range(n)])

    eps = 1e-4
    numeric = np.stack([(grad(s + eps * np.eye(n)[k]) - grad(s - eps * np.eye(n)[k])) / (2 * eps) for k in range(n)])
    assert hess == pytest.approx(numeric, rel=1e-3, abs=1e-2)
    assert np.allclose(hess, hess.T)
    # At the fitted optimum the gradient vanishes, so a Newton step from it is (numerically) zero.
    opt = fit_pairs(n, design.i, design.j, wins, total, ridge=ridge)
    assert np.abs(grad(opt)).max() < 1e-3
    p = 1.0 / (1.0 + np.exp(-(opt[design.i] - opt[design.j])))
    assert np.allclose(pair_hessian(n, design.i, design.j, total * p * (1 - p), ridge), bt_hessian(opt, design.i, design.j, total, ridge))
    assert np.abs(solve(bt_hessian(opt, design.i, design.j, total, ridge), -grad(opt))).max() < 1e-4


def test_rating_package_is_lazy() -> None:
    code = (
        "import sys, arena.rating.settings, arena.rating.registry; "
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in arena.rating.__all__:
        assert getattr(arena.rating, name) is not None
    with pytest.raises(AttributeError):
        _ = arena.rating.no_such_name


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    """A lazily exported name equal to a submodule's name turns into the module once that submodule is imported
    (the import system sets the attribute), so ``from arena.rating import x`` would depend on import order."""
    import pkgutil

    import arena
    import arena.rating

    for package in (arena, arena.rating):
        submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        assert not submodules & set(package.__all__), package.__name__
