"""Has this machine's speed drifted since its table was measured? Re-time a sample of entries.

Prints, per op kind, the median of (time measured now / time in the table) over a seeded sample of
the table's entries. On a shared VM this ratio moves by several percent within an hour; a table's
absolute predictions are only as good as that ratio is close to 1 (rankings are not affected).

    flock /tmp/hwnas-cpu.lock .venv/bin/python -m latency.bench.drift [--device NAME] [--n 40]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from latency.devices import resolve_table
from latency.profile import OrtMeasurer
from latency.signature import Signature


def main() -> None:
    """Re-measure ``--n`` random entries of a local table and print now/table ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="table name (default: this machine's)")
    parser.add_argument("--n", type=int, default=40, help="entries to re-measure")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    table, path = resolve_table(device=args.device)
    measurer = OrtMeasurer(threads=int(table.device.get("threads", 1)))
    keys = sorted(table.entries)
    chosen = np.random.default_rng(args.seed).choice(len(keys), min(args.n, len(keys)), False)
    ratios: dict[str, list[float]] = {}
    for index in chosen:
        signature = Signature.from_key(keys[index])
        now = measurer.layer(signature)["median_ms"]
        ratios.setdefault(signature.op, []).append(now / table.entries[keys[index]].median_ms)
    print(f"{path} ({table.device_name}, {measurer.threads} thread(s)), {len(chosen)} entries")
    every = [value for values in ratios.values() for value in values]
    for op, values in [*sorted(ratios.items()), ("all", every)]:
        ratio = statistics.median(values)
        print(f"  {op:10s} {len(values):3d} entries  median now/table {ratio:.3f}")


if __name__ == "__main__":
    main()
