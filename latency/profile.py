"""Build latency tables on this machine: time each layer signature's ONNX model with onnxruntime.

The timing protocol (session settings, warm-ups, adaptive run counts, overhead correction) is the
one of `latency.bundle_runner`, shared with the bundle that measures other devices. Builds are
incremental: entries already in the output file are kept, and the file is saved atomically every
few seconds and on interrupt, so a kill loses at most the entries of the last few seconds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from latency import bundle_runner as runner
from latency.signature import Signature
from latency.table import Entry, LatencyTable
from space import Arch

Progress = Callable[[int, int], None]


class Measurer(Protocol):
    """Times the pieces a table is made of; injected so tests can fake the clock and device."""

    def call_overhead(self) -> dict[str, Any]:
        """Timing of one run call on a one-element model."""
        ...

    def layout_reorders(self) -> bool:
        """Whether the layer timings include boundary layout reorders a network would not pay.

        False when the runtime uses no blocked layout, or when the measurer times layer models
        with those reorders removed; True asks `build_table` to subtract the probed pairs.
        """
        ...

    def reorder(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """Timing of the reorder pair (into the blocked layout and back) of a tensor shape."""
        ...

    def layer(self, signature: Signature) -> dict[str, Any]:
        """Raw timing of one layer's model (overheads included)."""
        ...

    def network(
        self, arch: Arch, activation: str = "relu", budget_s: float = 1.0
    ) -> dict[str, Any]:
        """Timing of a whole network as one model (for calibration)."""
        ...


@dataclass
class OrtMeasurer:
    """Measures with onnxruntime on this machine under the bundle runner's protocol."""

    threads: int = 1
    timing: dict[str, Any] = field(default_factory=lambda: dict(runner.DEFAULTS))

    def call_overhead(self) -> dict[str, Any]:
        """Timing of one run call on a one-element model."""
        from latency.onnx_graphs import call_model

        session = runner.open_session(call_model().SerializeToString(), self.threads)
        return runner.time_session(session, (1, 1, 1, 1), **self.timing)

    strip: bool = True

    @property
    def reorder_handling(self) -> str:
        """How boundary layout reorders of layer models are kept out of the entries."""
        from latency.onnx_graphs import reorder_check_model

        check = reorder_check_model().SerializeToString()
        if not runner.uses_layout_reorders(check, self.threads):
            return "none: the runtime inserts no layout reorders here"
        if self.strip and runner.onnx_available():
            return "stripped: layer models timed as optimized, without their boundary reorders"
        return "probed: half the timed reorder pair of each input and output tensor subtracted"

    def layout_reorders(self) -> bool:
        """Whether the timed layer models still carry boundary reorders (see `Measurer`)."""
        return self.reorder_handling.startswith("probed")

    def reorder(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """Timing of a NCHW -> NCHWc -> NCHW model of ``shape``."""
        from latency.onnx_graphs import reorder_model

        session = runner.open_session(reorder_model(shape).SerializeToString(), self.threads)
        return runner.time_session(session, shape, **self.timing)

    def layer(self, signature: Signature) -> dict[str, Any]:
        """Raw timing of the layer's ONNX model."""
        from latency.onnx_graphs import input_shape, layer_model, output_shape

        model = layer_model(signature).SerializeToString()
        shape = list(input_shape(signature))
        if self.strip:
            stripped = runner.strip_reorders(
                model, self.threads, shape, list(output_shape(signature))
            )
            if stripped is not None:
                model, shape = stripped
        return runner.time_session(runner.open_session(model, self.threads), shape, **self.timing)

    def network(
        self, arch: Arch, activation: str = "relu", budget_s: float = 1.0
    ) -> dict[str, Any]:
        """Timing of the whole network as one ONNX graph (same builders, same protocol)."""
        from latency.onnx_graphs import network_model

        session = runner.open_session(
            network_model(arch, activation).SerializeToString(), self.threads
        )
        timing = {
            **self.timing,
            "budget_s": budget_s,
            "max_runs": max(self.timing["max_runs"], 1000),
        }
        return runner.time_session(
            session, (1, arch.in_channels, arch.resolution, arch.resolution), **timing
        )


def reorder_sides(signature: Signature) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    """The tensor shapes a single-layer model reorders that a network would not (input, output).

    The stem reads the network's NCHW input directly and the head ends in a pooled vector, so the
    stem has no input side and the head no output side.
    """
    from latency.onnx_graphs import input_shape, output_shape

    return (
        None if signature.op == "stem" else input_shape(signature),
        None if signature.op == "head" else output_shape(signature),
    )


def build_table(
    signatures: list[Signature],
    out: str | Path,
    *,
    threads: int = 1,
    device: dict[str, Any] | None = None,
    measurer: Measurer | None = None,
    progress: Progress | None = None,
    save_every_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    provenance: dict[str, Any] | None = None,
    calibrate_on: list[Arch] | None = None,
    calibration_passes: int = 3,
) -> LatencyTable:
    """Measure every signature not yet in the table at ``out`` and save it (incrementally).

    An existing file at ``out`` must be a valid table with the same thread count; its entries are
    reused. The file is rewritten atomically every ``save_every_s`` seconds and when the build
    ends, also on an exception or interrupt.

    With ``calibrate_on`` (whole networks) an uncalibrated table is calibrated at the end (see
    `calibrate_table`). Each network is measured ``calibration_passes`` times, and those
    measurements are spread evenly between the layer measurements, so that the networks see
    the machine in the same states as the entries they are compared with: this VM's speed
    wanders by several percent from one minute to the next.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    runner.check_calibration_size(len(calibrate_on or []))
    out = Path(out)
    measurer = measurer or OrtMeasurer(threads)
    activation = signatures[0].activation if signatures else "relu"
    dtype = signatures[0].dtype if signatures else "fp32"
    if out.exists():
        table = LatencyTable.load(out)
        had = table.device.get("threads")
        if had != threads:
            raise ValueError(
                f"table {str(out)!r} was measured at {had} threads, not {threads}: "
                "use another --out or the same --threads"
            )
    else:
        table = LatencyTable(
            device=device or runner.describe_device(threads),
            protocol={},
            activation=activation,
            dtype=dtype,
            provenance=provenance or {"source": "hwnas latency build"},
        )
    for signature in signatures:
        if (signature.activation, signature.dtype) != (table.activation, table.dtype):
            raise ValueError(
                f"signature {signature.key} does not match the table's activation/dtype "
                f"({table.activation}, {table.dtype})"
            )
    protocol = table.protocol
    if "call_overhead_ms" not in protocol:
        timing = getattr(measurer, "timing", runner.DEFAULTS)
        protocol.update(runner.protocol_description(timing, "hwnas latency build"))
        protocol["call_overhead_ms"] = measurer.call_overhead()["median_ms"]
        protocol["layout_reorders"] = bool(measurer.layout_reorders())
        protocol["reorder_handling"] = str(
            getattr(
                measurer, "reorder_handling", "probed" if protocol["layout_reorders"] else "none"
            )
        )
        protocol.setdefault("reorder_ms", {})
    calibration = protocol.get("calibration")
    table.network_overhead_ms = float(
        calibration["overhead_ms"] if calibration else protocol["call_overhead_ms"]
    )
    reorders: dict[str, float] = protocol.setdefault("reorder_ms", {})

    todo = [s for s in dict.fromkeys(signatures) if s.key not in table.entries]
    handling = getattr(measurer, "reorder_handling", None) if todo else None
    recorded = str(protocol.get("reorder_handling") or "probed")
    if handling is not None and handling.split(":")[0] != recorded.split(":")[0]:
        raise ValueError(
            f"table {str(out)!r} handles layout reorders as {recorded.split(':')[0]!r}, this "
            f"build would as {handling.split(':')[0]!r}: entries would not add up; build into "
            "a new file"
        )
    calibrate_on = [] if protocol.get("calibration") else list(calibrate_on or [])

    def measure_network(arch: Arch) -> float:
        timing = measurer.network(arch, activation, budget_s=1.0 / calibration_passes)
        return float(timing["median_ms"])

    # Calibration measurements (network index per pass), due after the k-th todo signature.
    schedule = runner.calibration_schedule(len(calibrate_on), calibration_passes)
    network_times: list[list[float]] = [[] for _ in calibrate_on]
    total = len(set(signatures)) + len(schedule)
    done = len(set(signatures)) - len(todo)
    if progress is not None:
        progress(done, total)
    last_save = clock()

    def measure_networks_due(measured_signatures: int) -> None:
        nonlocal done
        due = runner.networks_due(measured_signatures, len(todo), len(schedule))
        while sum(map(len, network_times)) < due:
            index = schedule[sum(map(len, network_times))]
            network_times[index].append(measure_network(calibrate_on[index]))
            done += 1
            if progress is not None:
                progress(done, total)

    try:
        for measured_signatures, signature in enumerate(todo, start=1):
            shifts = []
            for shape in reorder_sides(signature):
                if shape is None or not protocol["layout_reorders"]:
                    shifts.append(0.0)
                    continue
                key = runner.shape_key(shape)
                if key not in reorders:
                    reorders[key] = runner.reorder_cost(
                        measurer.reorder(shape)["median_ms"], protocol["call_overhead_ms"]
                    )
                shifts.append(reorders[key])
            raw = measurer.layer(signature)
            entry = runner.corrected_entry(raw, protocol["call_overhead_ms"], *shifts)
            table.entries[signature.key] = _apply(Entry(**entry), protocol.get("calibration"))
            done += 1
            if progress is not None:
                progress(done, total)
            measure_networks_due(measured_signatures)
            if clock() - last_save >= save_every_s:
                table.save(out)
                last_save = clock()
        if calibrate_on:
            measure_networks_due(len(todo))
            measured = [
                (arch, statistics.median(times))
                for arch, times in zip(calibrate_on, network_times, strict=True)
            ]
            calibrate_table(
                table,
                measured,
                passes=calibration_passes,
                archs=[arch.to_str() for arch in calibrate_on],
                measured_ms=[ms for _, ms in measured],
            )
    finally:
        table.save(out)
    return table


def _apply(entry: Entry, calibration: dict[str, Any] | None) -> Entry:
    if not calibration:
        return entry
    return Entry(**runner.calibrated_entry(asdict(entry), calibration))


def calibrate_table(
    table: LatencyTable, measured: list[tuple[Arch, float]], **context: Any
) -> dict[str, Any]:
    """Fit a whole-network calibration on ``measured`` (arch, ms) pairs and apply it in place.

    Every entry becomes ``scale * entry`` (see `bundle_runner.fit_calibration`); the fit is
    stored in ``protocol['calibration']`` (with ``context``, e.g. the seed and the networks) and
    applied to entries measured later. A table is calibrated once.
    """
    from latency.signature import arch_signatures

    if table.protocol.get("calibration"):
        raise ValueError(f"the table of device {table.device_name!r} is already calibrated")
    sums, times = [], []
    for arch, ms in measured:
        signatures = arch_signatures(arch, table.activation, table.dtype)
        sums.append(sum(table.lookup(s) for s in signatures))
        times.append(ms)
    fit = {**runner.fit_calibration(sums, times, table.network_overhead_ms), **context}
    table.entries = {key: _apply(entry, fit) for key, entry in table.entries.items()}
    table.network_overhead_ms = fit["overhead_ms"]
    table.protocol["calibration"] = fit
    return fit


def measure_in_passes(
    archs: list[Arch],
    measure: Callable[[Arch], float],
    passes: int,
    progress: Progress | None = None,
) -> list[list[float]]:
    """Each network's times over ``passes`` passes: pass after pass over all, not one at a time.

    This VM's speed wanders by several percent over minutes; a network measured only in one
    slow minute would be judged against a table measured in another. Spreading each network's
    runs over the whole session lets its median see the machine as the table did.
    """
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    runs: list[list[float]] = [[] for _ in archs]
    for done_passes in range(passes):
        for index, arch in enumerate(archs):
            runs[index].append(measure(arch))
            if progress is not None:
                progress(done_passes * len(archs) + index + 1, passes * len(archs))
    return runs


def calibration_networks(space: Any, n: int, seed: int = 1000) -> list[Arch]:
    """The whole networks a build of ``space`` calibrates on (seeded apart from validation)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]
