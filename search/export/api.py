"""Two ways to export a network: a trial of a run (`export_trial`) or an arch (`export_arch`)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from latency.table import LatencyTable
from search.analysis.pareto import choose
from search.export.prepare import Prepared, load_data, prepare_model
from search.export.writer import ExportInfo, ExportResult, check_out_dir, export_model
from search.proxy.train import ProxySchedule
from search.run.directory import Run
from space import Arch, baseline_from_name, parse_arch_or_baseline


def export_trial(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    trial: int | None = None,
    best_under: float | None = None,
    epochs: float | None = None,
    force: bool = False,
    threads: int = 1,
    measure_threads: int = 1,
    measure: bool = True,
    data_dir: str | None = None,
) -> ExportResult:
    """Export a trial of a run: by number, or the most accurate under a bound (default: target)."""
    run = Run.load(run_dir)
    record = choose(run.records, trial=trial, best_under=best_under, target_ms=run.target_ms)
    check_out_dir(Path(out_dir), force=force)
    arch = Arch.parse(record.arch)
    settings = run.info.settings
    if run.info.fake and epochs:
        raise ValueError(
            f"run {str(run.path)!r} used fake training (no data set): cannot retrain its networks"
        )
    dataset = load_data(
        settings.dataset, data_dir or settings.data_dir, needed=bool(epochs), seed=settings.seed
    )
    schedule = (
        None
        if run.info.fake
        else ProxySchedule.from_fields(run.info.proxy_schedule, source=f"run {str(run.path)!r}")
    )
    prepared = prepare_model(
        arch,
        dataset=dataset,
        schedule=schedule,
        epochs=epochs,
        threads=threads,
        seed=settings.seed,
    )
    table = run.info.table  # the card names the device already
    info = ExportInfo(
        source=f"trial {record.number} of run `{run.path}`",
        dataset=settings.dataset,
        baseline=record.baseline,
        trial=record.number,
        run_dir=str(run.path),
        proxy_accuracy=record.accuracy,
        test_accuracy=prepared.test_accuracy,
        training=prepared.training,
        predicted_ms=record.latency_ms,
        device=run.device_name,
        table=_card_table(**{k: v for k, v in asdict(table).items() if k != "device"}),
        preprocessing=prepared.preprocessing,
        inputs=prepared.inputs_note,
    )
    return _export(prepared, arch, out_dir, info, force, measure_threads, measure)


def export_arch(
    text: str,
    out_dir: str | Path,
    *,
    dataset: str = "fashion-mnist",
    data_dir: str | None = None,
    table: LatencyTable | None = None,
    epochs: float | None = None,
    force: bool = False,
    threads: int = 1,
    measure_threads: int = 1,
    measure: bool = True,
    seed: int = 0,
) -> ExportResult:
    """Export an arch string or MobileNetV1 baseline name without a run.

    A baseline name is built for ``dataset``'s channels and classes. ``table`` predicts the
    latency; by default this machine's table, with any layer of the arch it lacks measured and
    added (about a second per missing layer: run it under the CPU lock).
    """
    check_out_dir(Path(out_dir), force=force)
    # A baseline name is built for the data set's task, so the data must be there to read it.
    is_baseline = baseline_from_name(text) is not None
    data = load_data(dataset, data_dir, needed=bool(epochs) or is_baseline, seed=seed)
    arch = parse_arch_or_baseline(
        text,
        in_channels=data.in_channels if data is not None else 3,
        num_classes=data.num_classes if data is not None else 1000,
    )
    prepared = prepare_model(
        arch, dataset=data, schedule=None, epochs=epochs, threads=threads, seed=seed
    )
    if table is None:
        from latency.devices import ensure_local_table
        from latency.signature import arch_signatures

        table, _ = ensure_local_table(signatures=arch_signatures(arch))
    extra: dict[str, Any] = {}
    predicted = None
    try:
        predicted = float(table.predict(arch))
    except ValueError as err:
        extra["prediction_error"] = str(err)
    info = ExportInfo(
        source=f"`hwnas export --arch {text}`",
        dataset=dataset if data is not None else None,
        baseline=text.strip() if is_baseline else None,
        test_accuracy=prepared.test_accuracy,
        training=prepared.training,
        predicted_ms=predicted,
        device=table.device_name,
        table=_card_table(
            device=table.device, provenance=table.provenance, protocol=table.protocol
        ),
        preprocessing=prepared.preprocessing,
        inputs=prepared.inputs_note,
        extra=extra,
    )
    return _export(prepared, arch, out_dir, info, force, measure_threads, measure)


def _card_table(**described: Any) -> dict[str, Any]:
    """What the model card says about the latency table (members that are not None)."""
    return {key: value for key, value in described.items() if value is not None}


def _export(
    prepared: Prepared,
    arch: Arch,
    out_dir: str | Path,
    info: ExportInfo,
    force: bool,
    measure_threads: int,
    measure: bool,
) -> ExportResult:
    """Write the prepared network's export (`export_model`)."""
    return export_model(
        prepared.model,
        arch,
        out_dir,
        info=info,
        inputs=prepared.inputs,
        check_inputs=prepared.check_inputs,
        force=force,
        threads=measure_threads,
        measure=measure,
    )
