"""Build latency tables on this machine: time each layer signature's ONNX model with onnxruntime.

The timing protocol (session settings, warm-ups, adaptive run counts, overhead correction) and
the measuring loop (`bundle_runner.run_measurements`) are those of `latency.bundle_runner`, shared
with the bundle that measures other devices. Builds are incremental: entries already in the output
file are kept, and the file is saved atomically every few seconds and on interrupt, so a kill
loses at most the entries of the last few seconds.
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
    """Times the pieces a table is made of; injected so tests can fake the clock and device.

    ``timing`` holds the protocol's settings (warmup, min_runs, max_runs, budget_s);
    ``reorder_handling`` says how boundary layout reorders of layer models are kept out of the
    entries (a `bundle_runner.REORDER_HANDLING` value): ``probed`` asks `build_table` to time the
    reorder pairs (`reorder`) and subtract them.
    """

    @property
    def timing(self) -> dict[str, Any]:
        """The timing settings of the protocol."""
        ...

    @property
    def reorder_handling(self) -> str:
        """How boundary layout reorders are handled (none, stripped or probed: …)."""
        ...

    def call_overhead(self) -> dict[str, Any]:
        """Timing of one run call on a one-element model."""
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
    strip: bool = True

    def call_overhead(self) -> dict[str, Any]:
        """Timing of one run call on a one-element model."""
        from latency.onnx_graphs import call_model

        session = runner.open_session(call_model().SerializeToString(), self.threads)
        return runner.time_session(session, (1, 1, 1, 1), **self.timing)

    @property
    def reorder_handling(self) -> str:
        """How boundary layout reorders of layer models are kept out of the entries."""
        from latency.onnx_graphs import reorder_check_model

        check = reorder_check_model().SerializeToString()
        reorders = runner.uses_layout_reorders(check, self.threads)
        return runner.reorder_handling(reorders, self.strip and runner.onnx_available())

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
    reused. The loop is the bundle runner's (`bundle_runner.run_measurements`): the file is
    rewritten atomically every ``save_every_s`` seconds and when the build ends, also on an
    exception or interrupt.

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
    table = _open_table(out, signatures, threads, device, provenance)
    todo = [s for s in dict.fromkeys(signatures) if s.key not in table.entries]
    protocol = _measure_protocol(table, measurer, out, check_handling=bool(todo))
    calibrate_on = [] if protocol.get("calibration") else list(calibrate_on or [])
    schedule = runner.calibration_schedule(len(calibrate_on), calibration_passes)
    network_times: list[list[float]] = [[] for _ in calibrate_on]
    total = len(set(signatures)) + len(schedule)
    done = len(set(signatures)) - len(todo)

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def measure_layer(index: int) -> None:
        table.entries[todo[index].key] = _measure_entry(todo[index], measurer, protocol)
        advance()

    def measure_network(k: int) -> None:
        index = schedule[k]
        budget_s = 1.0 / calibration_passes
        timing = measurer.network(calibrate_on[index], table.activation, budget_s=budget_s)
        network_times[index].append(float(timing["median_ms"]))
        advance()

    def calibrate() -> None:
        if not calibrate_on:
            return
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

    if progress is not None:
        progress(done, total)
    runner.run_measurements(
        len(todo),
        measure_layer,
        len(schedule),
        measure_network,
        lambda: table.save(out),
        finish=calibrate,
        save_every_s=save_every_s,
        clock=clock,
    )
    return table


def _open_table(
    out: Path,
    signatures: list[Signature],
    threads: int,
    device: dict[str, Any] | None,
    provenance: dict[str, Any] | None,
) -> LatencyTable:
    """The table at ``out`` to extend (same thread count), or a new empty one."""
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
    return table


def _measure_protocol(
    table: LatencyTable, measurer: Measurer, out: Path, *, check_handling: bool
) -> dict[str, Any]:
    """The table's protocol block, with the per-call overhead measured for a new table.

    ``ValueError`` when entries would be added with another reorder handling than the table's.
    """
    protocol = table.protocol
    if "call_overhead_ms" not in protocol:
        handling = measurer.reorder_handling
        protocol.update(runner.protocol_description(measurer.timing, "hwnas latency build"))
        protocol["call_overhead_ms"] = measurer.call_overhead()["median_ms"]
        protocol["layout_reorders"] = not handling.startswith("none")
        protocol["reorder_handling"] = handling
    protocol.setdefault("reorder_ms", {})
    # Tables measured before the handling was recorded all probed the reorder pairs.
    protocol.setdefault("reorder_handling", runner.REORDER_HANDLING["probed"])
    calibration = protocol.get("calibration")
    table.network_overhead_ms = float(
        calibration["overhead_ms"] if calibration else protocol["call_overhead_ms"]
    )
    if check_handling:
        recorded = str(protocol["reorder_handling"]).split(":")[0]
        handling = measurer.reorder_handling.split(":")[0]
        if handling != recorded:
            raise ValueError(
                f"table {str(out)!r} handles layout reorders as {recorded!r}, this build would "
                f"as {handling!r}: entries would not add up; build into a new file"
            )
    return protocol


def _measure_entry(signature: Signature, measurer: Measurer, protocol: dict[str, Any]) -> Entry:
    """One layer's corrected (and, in a calibrated table, calibrated) entry."""
    probed = str(protocol["reorder_handling"]).startswith("probed")
    reorders: dict[str, float] = protocol["reorder_ms"]
    shifts = []
    for shape in reorder_sides(signature):
        if shape is None or not probed:
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
    return _apply(Entry(**entry), protocol.get("calibration"))


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
