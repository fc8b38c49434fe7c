"""TFLite ``benchmark_model --enable_op_profiling`` output -> hwnas latency table entries.

Two input forms are read: the text log the tool prints (its "Run Order" table, plus the run count,
thread count and whole-network timings) and a CSV of the run-order rows (the tool's
``--profiling_output_csv_file`` or a transcription, with at least node type, avg ms and name).
The profile has no shapes: they come from the network that was profiled
(`latency.arm.networks`), matched op by op in run order; a profile whose op sequence does not
follow the definition is rejected, never guessed.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latency.arm.networks import (
    NetworkDefinition,
    arch_definition,
    block_token,
    known_networks,
    network_definition,
)
from latency.signature import Signature
from latency.table import Entry, LatencyTable
from space import Arch

_RUN_ORDER = re.compile(r"=+\s*Run Order\s*=+")
_SECTION = re.compile(r"=+\s*[^=]+=+")
_BRACKET = re.compile(r"\[([^\]]*)\]")
#: Newer benchmark_model versions first print a profile of initialization (AllocateTensors, …).
_REGULAR_RUNS = "Profiling Info for Regular Benchmark Runs"
_NUM_RUNS = re.compile(r"Num runs:\s*\[(\d+)\]")
_NUM_THREADS = re.compile(r"Num threads:\s*\[(\d+)\]")
_WARMUP = re.compile(r"Warmup runs:\s*\[(\d+)\]")
_INPUT_TYPE = re.compile(r"--input_layer_type=\"?([A-Za-z0-9_]+)")
_PROFILER_TOTAL = re.compile(r"Timings \(microseconds\):\s*count=(\d+).*?avg=([0-9.]+)")
_BENCH_TOTAL = re.compile(
    r"^count=(\d+) first=\d+ curr=\d+ min=\d+ max=\d+ avg=([0-9.]+)", re.MULTILINE
)
_DTYPES = {"float": "fp32", "float32": "fp32", "uint8": "uint8", "int8": "int8"}


@dataclass(frozen=True)
class ProfiledOp:
    """One row of the run-order table: a TFLite node and its average time per run (ms)."""

    index: int
    node_type: str
    avg_ms: float
    name: str
    first_ms: float | None = None


@dataclass(frozen=True)
class TfliteProfile:
    """A parsed op profile: ops in run order and what the file says about the run."""

    ops: tuple[ProfiledOp, ...]
    total_ms: float | None = None
    benchmark_avg_ms: float | None = None
    runs: int | None = None
    warmup: int | None = None
    threads: int | None = None
    dtype: str | None = None
    file_format: str = "log"

    @property
    def op_sum_ms(self) -> float:
        """Sum of the per-op average times."""
        return sum(op.avg_ms for op in self.ops)


@dataclass(frozen=True)
class LayerTiming:
    """The ops of a profile that make up one layer of the definition, and their summed time."""

    layer: str
    signature: Signature | None
    ms: float
    ops: tuple[int, ...]


def parse_tflite_profile(path: str | Path) -> TfliteProfile:
    """Read a ``benchmark_model`` op-profiling log or run-order CSV; malformed input raises."""
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise ValueError(f"TFLite profile {str(path)!r} is not text: {err}") from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "," in first and "=" not in first and "[" not in first:
        return _parse_csv(text, str(path))
    return _parse_log(text, str(path))


def _parse_log(text: str, source: str) -> TfliteProfile:
    lines = text.splitlines()
    regular = next((i for i, line in enumerate(lines) if _REGULAR_RUNS in line), 0)
    start = next(
        (i for i, line in enumerate(lines) if i >= regular and _RUN_ORDER.search(line)), None
    )
    if start is None:
        raise ValueError(
            f"TFLite profile {source!r} has no 'Run Order' table: run benchmark_model with "
            "--enable_op_profiling=true and save its whole output"
        )
    header_index = start + 1
    while header_index < len(lines) and not lines[header_index].strip():
        header_index += 1
    if header_index >= len(lines):
        raise ValueError(f"TFLite profile {source!r}: the 'Run Order' table has no header")
    columns = [_norm(c) for c in _BRACKET.findall(lines[header_index])]
    for needed in ("node_type", "avg_ms", "name"):
        if needed not in columns:
            raise ValueError(
                f"TFLite profile {source!r}: run-order header {lines[header_index].strip()!r} "
                f"lacks column {needed!r}"
            )
    ops: list[ProfiledOp] = []
    for line in lines[header_index + 1 :]:
        if not line.strip() or _SECTION.search(line):
            break
        names = _BRACKET.findall(line)
        # The name is bracketed (it may hold spaces) in most versions, a plain last field in others.
        values = [*line[: line.rindex("[")].split(), names[-1]] if names else line.split()
        if len(values) != len(columns):
            raise ValueError(
                f"TFLite profile {source!r}: row {line.strip()!r} has {len(values)} fields, "
                f"the header {len(columns)}"
            )
        ops.append(_op(len(ops), dict(zip(columns, values, strict=True)), source))
    if not ops:
        raise ValueError(f"TFLite profile {source!r}: the 'Run Order' table is empty")
    _refuse_delegates(ops, source)
    total = _PROFILER_TOTAL.search(text)
    bench = _BENCH_TOTAL.findall(text)
    total_ms = float(total.group(2)) / 1000 if total else None
    if total_ms is None and bench:
        total_ms = float(bench[-1][1]) / 1000
    input_type = _INPUT_TYPE.search(text)
    return TfliteProfile(
        ops=tuple(ops),
        total_ms=total_ms,
        benchmark_avg_ms=float(bench[-1][1]) / 1000 if bench else None,
        runs=_int(_NUM_RUNS, text) or (int(total.group(1)) if total else None),
        warmup=_int(_WARMUP, text),
        threads=_int(_NUM_THREADS, text),
        dtype=_DTYPES.get(input_type.group(1).lower()) if input_type else None,
        file_format="log",
    )


def _parse_csv(text: str, source: str) -> TfliteProfile:
    reader = csv.reader(io.StringIO(text))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    columns = [_norm(c) for c in rows[0]]
    for needed in ("node_type", "avg_ms", "name"):
        if needed not in columns:
            raise ValueError(
                f"TFLite profile CSV {source!r}: header {rows[0]!r} lacks column {needed!r} "
                "(expected at least node type, avg ms, name)"
            )
    ops: list[ProfiledOp] = []
    for row in rows[1:]:
        if len(row) != len(columns):
            raise ValueError(
                f"TFLite profile CSV {source!r}: row {row!r} has {len(row)} fields, "
                f"the header {len(columns)}"
            )
        ops.append(_op(len(ops), dict(zip(columns, row, strict=True)), source))
    if not ops:
        raise ValueError(f"TFLite profile CSV {source!r} has no rows")
    _refuse_delegates(ops, source)
    return TfliteProfile(ops=tuple(ops), file_format="csv")


def _refuse_delegates(ops: list[ProfiledOp], source: str) -> None:
    """A delegate (XNNPACK, GPU, NNAPI) runs many ops as one node: no per-op times to import."""
    for op in ops:
        if "delegate" in op.node_type.lower():
            raise ValueError(
                f"TFLite profile {source!r} ran through a delegate ({op.node_type}): rerun "
                "benchmark_model with --use_xnnpack=false (and no GPU/NNAPI delegate) so that "
                "every op is timed on its own"
            )


def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9%]+", "_", column.strip().strip("[]").lower()).strip("_")


def _op(index: int, row: dict[str, str], source: str) -> ProfiledOp:
    try:
        avg = float(row["avg_ms"])
        first = float(row["first"]) if "first" in row else None
        first = float(row["first_ms"]) if "first_ms" in row else first
    except ValueError:
        raise ValueError(f"TFLite profile {source!r}: non-numeric time in row {row!r}") from None
    if avg < 0:
        raise ValueError(f"TFLite profile {source!r}: negative time in row {row!r}")
    return ProfiledOp(index, row["node_type"].strip(), avg, row["name"].strip(), first)


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def match_profile(profile: TfliteProfile, definition: NetworkDefinition) -> list[LayerTiming]:
    """Assign every profiled op, in run order, to a layer of ``definition``; mismatches raise."""
    slots = definition.slots
    assigned: dict[str, list[int]] = {}
    position = 0
    for op in profile.ops:
        while True:
            if position >= len(slots):
                raise ValueError(
                    f"op {op.index} ({op.node_type} {op.name!r}) comes after the last layer of "
                    f"network {definition.name!r}: the profile is of another network"
                )
            slot = slots[position]
            if op.node_type in slot.node_types:
                token = block_token(op.name)
                if slot.block_token and token and token != slot.block_token:
                    raise ValueError(
                        f"op {op.index} ({op.node_type} {op.name!r}) is block {token} but "
                        f"layer {slot.layer} of {definition.name!r} is {slot.block_token}"
                    )
                assigned.setdefault(slot.layer, []).append(op.index)
                position += 1
                break
            if slot.optional:
                position += 1
                continue
            raise ValueError(
                f"op {op.index} ({op.node_type} {op.name!r}) does not match network "
                f"{definition.name!r}: expected {' or '.join(slot.node_types)} for layer "
                f"{slot.layer}"
            )
    for slot in slots[position:]:
        if not slot.optional:
            raise ValueError(
                f"the profile ends after {len(profile.ops)} ops but network {definition.name!r} "
                f"still expects {' or '.join(slot.node_types)} for layer {slot.layer}"
            )
    timings = []
    for layer, signature in definition.layer_signatures():
        indices = assigned.get(layer)
        if indices:
            ms = sum(profile.ops[i].avg_ms for i in indices)
            timings.append(LayerTiming(layer, signature, ms, tuple(indices)))
    return timings


def resolve_definition(
    *,
    arch: Arch | None,
    network: str | None,
    dtype: str,
    activation: str | None = None,
) -> NetworkDefinition:
    """The definition a profile belongs to: exactly one of ``arch`` and ``network``."""
    if (arch is None) == (network is None):
        raise ValueError(
            "give exactly one of an arch (the hwnas network you profiled) or a network name "
            f"(one of {', '.join(known_networks())}) to recover the op shapes"
        )
    if arch is not None:
        return arch_definition(arch, dtype=dtype, activation=activation or "relu")
    return network_definition(str(network), dtype=dtype, activation=activation or "relu6")


# Over 80 lines on purpose: parse, match op by op, then the table's provenance written out in
# full next to the matching it describes.
def import_tflite_profile(
    path: Path,
    *,
    arch: Arch | None = None,
    network: str | None = None,
    name: str | None = None,
    dtype: str | None = None,
    activation: str | None = None,
) -> LatencyTable:
    """A table of measured entries from a TFLite op profile of ``arch`` or a named ``network``.

    ``dtype`` defaults to the input type the log states (fp32 if it states none); ``activation``
    to relu6 for the published networks (their definitions use it) and relu for an hwnas arch.
    TFLite fuses either activation into the conv, so the two cost the same there.
    """
    path = Path(path)
    profile = parse_tflite_profile(path)
    dtype = dtype or profile.dtype or "fp32"
    definition = resolve_definition(arch=arch, network=network, dtype=dtype, activation=activation)
    timings = match_profile(profile, definition)
    grouped: dict[str, list[float]] = {}
    excluded = []
    for timing in timings:
        if timing.signature is None:
            excluded.append({"layer": timing.layer, "ms": round(timing.ms, 6)})
        else:
            grouped.setdefault(timing.signature.key, []).append(timing.ms)
    runs = profile.runs or 0
    entries = {
        key: Entry(
            median_ms=statistics.median(times),
            mean_ms=statistics.fmean(times),
            std_ms=statistics.pstdev(times) if len(times) > 1 else 0.0,
            runs=runs,
            source="measured",
        )
        for key, times in grouped.items()
    }
    overhead = 0.0
    if profile.total_ms is not None:
        overhead = max(profile.total_ms - profile.op_sum_ms, 0.0)
    first_signature = next(t.signature for t in timings if t.signature is not None)
    device: dict[str, Any] = {
        "name": name or f"tflite-{definition.name}",
        "runtime": "TFLite benchmark_model (--enable_op_profiling)",
        "threads": profile.threads,
        "dtype": dtype,
    }
    protocol: dict[str, Any] = {
        "warmup": profile.warmup,
        "runs": profile.runs,
        "per_op_time": (
            "benchmark_model's per-op average over the profiled runs; it reports no median, so "
            "median_ms holds that average; std_ms is the spread over repeated identical layers "
            "of the network (0 when a signature occurs once)"
        ),
        "overhead": (
            "network_overhead_ms = the profiled whole-network average minus the sum of all "
            "profiled ops (interpreter cost not attributed to any op)"
        ),
    }
    provenance: dict[str, Any] = {
        "format": f"tflite-profile ({profile.file_format})",
        "file": path.name,
        "network": definition.name,
        "definition": definition.citation,
        "ops": len(profile.ops),
        "profile_total_ms": profile.total_ms,
        "benchmark_avg_ms": profile.benchmark_avg_ms,
        "op_sum_ms": round(profile.op_sum_ms, 6),
        "excluded_ops": excluded,
        "layers": [
            {
                "layer": t.layer,
                "key": t.signature.key if t.signature else None,
                "ms": round(t.ms, 6),
                "ops": list(t.ops),
            }
            for t in timings
        ],
    }
    return LatencyTable(
        device=device,
        protocol=protocol,
        entries=entries,
        network_overhead_ms=overhead,
        provenance=provenance,
        activation=first_signature.activation,
        dtype=dtype,
    )
