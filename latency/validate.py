"""Check a table's predictions against whole networks measured with onnxruntime on this machine.

`validate` samples architectures, predicts each from the table, measures each whole network as one
ONNX graph under the table's protocol, and returns a `ValidationReport` beside the same figures for
a multiply-add-proportional baseline. Plots and CSV files are drawn from the report separately.
"""

from __future__ import annotations

import csv
import math
import platform
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from latency import bundle_runner as runner
from latency.files import write_atomic
from latency.profile import OrtMeasurer, measure_in_passes
from latency.signature import arch_signatures
from latency.table import LatencyTable
from space import Arch, SearchSpace, count_macs

MeasureNetwork = Callable[[Arch], float]


@dataclass(frozen=True)
class Row:
    """One validated network: predictions and measurement (ms)."""

    arch: str
    macs: int
    measured_ms: float
    predicted_ms: float
    baseline_ms: float
    measured_runs: int = 0
    measured_std_ms: float = 0.0
    pass_spread_pct: float = 0.0  # (slowest - fastest pass) / median, in %


@dataclass(frozen=True)
class Metrics:
    """How well one predictor matches the measurements."""

    mape: float
    within_5: float
    within_10: float
    kendall_tau: float
    spearman_rho: float
    max_abs_error: float


@dataclass(frozen=True)
class ValidationReport:
    """A table's validation: per-network rows and the table's and baseline's metrics."""

    device: str
    threads: int
    n: int
    seed: int
    space: dict[str, Any]
    rows: list[Row]
    table: Metrics
    baseline: Metrics
    baseline_fit: str
    ms_per_mmac: float
    passes: int = 1
    median_pass_spread_pct: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


def metrics(predicted: list[float], measured: list[float]) -> Metrics:
    """MAPE, share within ±5 % / ±10 %, Kendall tau, Spearman rho and worst relative error."""
    from scipy import stats

    p = np.asarray(predicted, dtype=float)
    m = np.asarray(measured, dtype=float)
    rel = np.abs(p - m) / m
    tau = stats.kendalltau(p, m).statistic if len(p) > 1 else math.nan
    rho = stats.spearmanr(p, m).statistic if len(p) > 1 else math.nan
    return Metrics(
        mape=float(rel.mean() * 100),
        # The tolerance keeps a boundary case like 2.2 vs 2.0 inside ±10 % despite rounding.
        within_5=float((rel <= 0.05 + 1e-9).mean()),
        within_10=float((rel <= 0.10 + 1e-9).mean()),
        kendall_tau=float(tau),
        spearman_rho=float(rho),
        max_abs_error=float(rel.max() * 100),
    )


def mac_scale(macs: list[int], measured: list[float]) -> float:
    """Least-squares ms per multiply-add through the origin: argmin_s sum (s*macs - measured)^2."""
    x = np.asarray(macs, dtype=float)
    y = np.asarray(measured, dtype=float)
    return float((x @ y) / (x @ x))


def check_same_machine(table: LatencyTable) -> None:
    """``ValueError`` unless ``table`` was measured on a CPU like this one (we measure here)."""
    here_cpu, here_arch = runner.cpu_model(), platform.machine()
    cpu, arch = table.device.get("cpu"), table.device.get("arch")
    if (cpu, arch) != (here_cpu, here_arch):
        raise ValueError(
            f"table of device {table.device_name!r} ({cpu}, {arch}) was not measured on this "
            f"machine ({here_cpu}, {here_arch}): validation measures networks here"
        )


def validate(
    table: LatencyTable,
    space: SearchSpace,
    *,
    n: int,
    seed: int = 0,
    measure: MeasureNetwork | None = None,
    progress: Callable[[int, int], None] | None = None,
    include_baselines: bool = False,
    passes: int = 3,
) -> ValidationReport:
    """Sample ``n`` architectures of ``space`` (seeded), predict, measure in ``passes``, compare."""
    if n < 2:
        raise ValueError(f"validation needs n >= 2 networks, got {n}")
    threads = int(table.device.get("threads", 1))
    if measure is None:
        check_same_machine(table)
        measurer = OrtMeasurer(threads)

        def measure(arch: Arch) -> float:
            timing = measurer.network(arch, table.activation, budget_s=1.0 / passes)
            return float(timing["median_ms"])

    rng = np.random.default_rng(seed)
    archs = [arch for _, arch in space.baselines()] if include_baselines else []
    archs += [space.sample(rng) for _ in range(n - len(archs))]
    missing = table.missing(
        sorted({s for a in archs for s in arch_signatures(a, table.activation, table.dtype)})
    )
    if missing:
        raise ValueError(
            f"the table of device {table.device_name!r} has no entry for layer signature "
            f"{missing[0].key} ({len(missing)} missing): extend it with 'hwnas latency build'"
        )
    runs = measure_in_passes(archs, measure, passes, progress)
    measured = [statistics.median(times) for times in runs]
    spreads = [100 * (max(t) - min(t)) / m for t, m in zip(runs, measured, strict=True)]
    predicted = [table.predict(arch) for arch in archs]
    macs = [count_macs(arch) for arch in archs]
    scale = mac_scale(macs, measured)
    baseline = [scale * m for m in macs]
    rows = [
        Row(
            arch=arch.to_str(),
            macs=mc,
            measured_ms=ms,
            predicted_ms=p,
            baseline_ms=b,
            pass_spread_pct=spread,
        )
        for arch, mc, ms, p, b, spread in zip(
            archs, macs, measured, predicted, baseline, spreads, strict=True
        )
    ]
    return ValidationReport(
        device=table.device_name,
        threads=threads,
        n=len(archs),
        seed=seed,
        space=space.to_dict(),
        rows=rows,
        table=metrics(predicted, measured),
        baseline=metrics(baseline, measured),
        baseline_fit="multiply-adds x one scale factor, least squares through the origin on the "
        "same networks (favours the baseline: it is fitted on the test set)",
        ms_per_mmac=scale * 1e6,
        passes=passes,
        median_pass_spread_pct=statistics.median(spreads),
    )


def rescore(report: ValidationReport, table: LatencyTable) -> ValidationReport:
    """The same measured networks priced by another table (e.g. after a calibration)."""
    rows = [replace(r, predicted_ms=table.predict(Arch.parse(r.arch))) for r in report.rows]
    return replace(
        report,
        device=table.device_name,
        rows=rows,
        table=metrics([r.predicted_ms for r in rows], [r.measured_ms for r in rows]),
    )


def write_csv(report: ValidationReport, path: str | Path) -> Path:
    """One row per network: arch, MACs, measured, table and baseline predictions and errors."""
    return write_atomic(Path(path), lambda tmp: _write_rows(report, tmp))


def _write_rows(report: ValidationReport, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "arch",
                "macs",
                "measured_ms",
                "predicted_ms",
                "predicted_err_pct",
                "baseline_ms",
                "baseline_err_pct",
                "pass_spread_pct",
            ]
        )
        for r in report.rows:
            writer.writerow(
                [
                    r.arch,
                    r.macs,
                    f"{r.measured_ms:.5f}",
                    f"{r.predicted_ms:.5f}",
                    f"{100 * (r.predicted_ms - r.measured_ms) / r.measured_ms:.2f}",
                    f"{r.baseline_ms:.5f}",
                    f"{100 * (r.baseline_ms - r.measured_ms) / r.measured_ms:.2f}",
                    f"{r.pass_spread_pct:.2f}",
                ]
            )


def plot_scatter(report: ValidationReport, path: str | Path) -> Path:
    """Predicted vs measured (log axes) for the table and the MAC baseline, with y = x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    measured = [r.measured_ms for r in report.rows]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(
        measured,
        [r.baseline_ms for r in report.rows],
        s=14,
        marker="x",
        color="tab:gray",
        label=f"MAC baseline: {report.baseline.within_10:.0%} within ±10 %, "
        f"τ={report.baseline.kendall_tau:.3f}",
    )
    ax.scatter(
        measured,
        [r.predicted_ms for r in report.rows],
        s=14,
        color="tab:blue",
        label=f"table: {report.table.within_10:.0%} within ±10 %, τ={report.table.kendall_tau:.3f}",
    )
    values = measured + [r.predicted_ms for r in report.rows] + [r.baseline_ms for r in report.rows]
    low, high = min(values) * 0.8, max(values) * 1.25
    line = np.geomspace(low, high, 50)
    ax.plot(line, line, color="black", linewidth=0.8, label="y = x")
    ax.fill_between(line, line * 0.9, line * 1.1, color="tab:green", alpha=0.12, label="±10 %")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    for axis in (ax.xaxis, ax.yaxis):
        # Plain millisecond labels at 1-2-5 steps; unlabelled minor ticks (no overlapping text).
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(StrMethodFormatter("{x:g}"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("measured whole network (ms)")
    ax.set_ylabel("predicted (ms)")
    ax.set_title(f"{report.device}, {report.threads} thread(s), {report.n} networks")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    try:
        return write_atomic(Path(path), lambda tmp: fig.savefig(tmp, dpi=110))
    finally:
        plt.close(fig)


def report_from_dict(data: dict[str, Any]) -> ValidationReport:
    """Rebuild a report from `ValidationReport.to_dict` output (e.g. a saved validation.json)."""
    return ValidationReport(
        **{
            **data,
            "rows": [Row(**row) for row in data["rows"]],
            "table": Metrics(**data["table"]),
            "baseline": Metrics(**data["baseline"]),
        }
    )
