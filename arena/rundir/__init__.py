"""A run dir as a whole: write its outputs (:mod:`arena.rundir.outputs`)."""

from arena.rundir.outputs import RunOutputs, rating_baseline, resolve_settings, score_rows, write_outputs

__all__ = ["RunOutputs", "rating_baseline", "resolve_settings", "score_rows", "write_outputs"]
