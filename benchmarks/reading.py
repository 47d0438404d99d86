"""Reading a battles file: arena's reader against pandas' own reader of the same file, side by side in one run.

    python benchmarks/reading.py                      # 1.67M battles (Chatbot Arena shape), 3 repeats
    python benchmarks/reading.py --battles 200000

For each format (CSV, JSON lines, parquet) the same battles are written once to a temporary folder, then each
reader runs ``--repeats`` times and the fastest run is kept:

- pandas: ``pd.read_csv``, ``pd.read_json(lines=True)``, ``pd.read_parquet``: the file as a DataFrame, no checks;
- arena read: :func:`arena.tables.read_table`, the file as a DataFrame as every entry point reads it (names and
  question ids as the text the file holds, where pandas reads ``007`` as 7 and ``NA`` as missing);
- validation: :func:`arena.rating.validate_frame` on that frame (question ids as strings, defaults filled, winner
  labels checked, self-pairs dropped): work pandas does not do, timed on its own;
- arena total: :func:`arena.rating.read.read_battles`, both together.

Goal (issue 13): any battle file's reading no slower than pandas reads it: the ``read / pandas`` column. The
validation is on top of it (the ``total / pandas`` column). The header gives the machine's load average: a busy
machine measures its own load, not the code.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

from rating import synthetic  # noqa: E402

from arena.rating import validate_frame  # noqa: E402
from arena.rating.read import read_battles  # noqa: E402
from arena.tables import read_table  # noqa: E402


def fastest(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=1_670_000)
    parser.add_argument("--models", type=int, default=129)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame = synthetic(args.models, args.battles, 0.35)
    load = os.getloadavg()[0]
    print(f"{args.battles:,} battles, {args.models} models; load average {load:.2f}; pandas {pd.__version__}")
    writers: dict[str, tuple[Callable[[Path], Any], Callable[[Path], Any]]] = {
        "csv": (lambda p: frame.to_csv(p, index=False), pd.read_csv),
        "jsonl": (lambda p: frame.to_json(p, orient="records", lines=True), lambda p: pd.read_json(p, lines=True)),
        "parquet": (lambda p: frame.to_parquet(p), pd.read_parquet),
    }
    print(f"{'format':<8} {'size':>9} {'pandas':>8} {'read':>8} {'checks':>8} {'total':>8}  read / pandas  total / pandas")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, (write, pandas_read) in writers.items():
            path = Path(tmp) / f"battles.{suffix}"
            write(path)
            t_pandas = fastest(lambda: pandas_read(path), args.repeats)  # noqa: B023
            t_read = fastest(lambda: read_table(path), args.repeats)  # noqa: B023
            table = read_table(path)
            t_check = fastest(lambda: validate_frame(table, where=str(path)), args.repeats)  # noqa: B023
            t_total = fastest(lambda: read_battles(path), args.repeats)  # noqa: B023
            size = path.stat().st_size / 1e6
            print(f"{suffix:<8} {size:>7.1f}MB {t_pandas:>7.3f}s {t_read:>7.3f}s {t_check:>7.3f}s {t_total:>7.3f}s"
                  f"  {t_read / t_pandas:>13.2f}  {t_total / t_pandas:>14.2f}")


if __name__ == "__main__":
    main()
