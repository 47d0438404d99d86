"""Why do two runs differ: ``arena diff``, the noise floor of ``arena repeat`` and ``arena reproduce``.

:mod:`arena.diff.settings` reads what a run was made with, :mod:`arena.diff.diff` compares two runs,
:mod:`arena.diff.repeat` measures run-to-run noise, :mod:`arena.diff.reproduce` re-runs a run from its
manifest; :mod:`arena.diff.format` renders a diff.
"""

from arena.diff.diff import Change, Delta, ModelDiff, RunDiff, diff_runs, setting_changes
from arena.diff.noise import GreedyVariation, ModelNoise, NoiseFloor, load_noise

__all__ = ["Change", "Delta", "GreedyVariation", "ModelDiff", "ModelNoise", "NoiseFloor", "RunDiff", "diff_runs",
           "load_noise", "setting_changes"]
