"""A run dir as a whole: read it back typed (:mod:`arena.rundir.load`), write its outputs (:mod:`arena.rundir.outputs`)
and its manifest (:mod:`arena.rundir.manifest`)."""

from arena.rundir.load import RUN_FILES, Run, load_run
from arena.rundir.outputs import RunOutputs, rating_baseline, resolve_settings, score_rows, write_outputs

__all__ = ["RUN_FILES", "Run", "RunOutputs", "load_run", "rating_baseline", "resolve_settings", "score_rows",
           "write_outputs"]
