"""Wall time of a default ``hwnas search`` with 2 workers (target: 30 trials in <= 30 min).

The proposals do not depend on ``--trials``, so the first 30 trained trials of a longer run are
a 30-trial run: the script reports the wall time to 10/30/50/100/... trained trials from the
session's start (after the input checks, Ray start included) and the whole command's wall time.
The run directory is kept as the committed example run (``results/example-run``) that
``hwnas pareto/report/export`` read.

Run: flock /tmp/hwnas-cpu.lock .venv/bin/python search/bench/search_default.py --fresh \\
         -- --trials 100
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from search.bench._common import run_search, run_summary, write_json
from search.run.info import read_run_info


def main() -> None:
    """Run the default search and write results/search/default_search.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=Path("results/example-run"))
    parser.add_argument("--out", type=Path, default=Path("results/search/default_search.json"))
    parser.add_argument("--fresh", action="store_true", help="delete the run dir first")
    parser.add_argument("extra", nargs="*", help="more hwnas search arguments")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(args.run_dir, ignore_errors=True)
    log = args.out.with_suffix(".log")
    wall = run_search(["--run-dir", str(args.run_dir), *args.extra], log)
    summary = run_summary(args.run_dir)
    info = read_run_info(args.run_dir)
    summary["command"] = info.command
    summary["command_wall_s"] = round(wall, 1)
    summary["command_wall_min"] = round(wall / 60, 2)
    summary["target"] = "<= 30 min"
    write_json(args.out, summary)
    print(
        f"default search: {summary['trials']} trials ({summary['trained']} trained, "
        f"{summary['infeasible']} infeasible, {summary['failed']} failed) in {wall / 60:.1f} min "
        f"with {summary['workers']} workers x {summary['threads_per_worker']} thread(s) "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main()
