#!/usr/bin/env python3
"""Measure an hwnas latency bundle on this device; needs only python3, numpy and onnxruntime.

Usage (inside a folder written by ``hwnas latency bundle``)::

    python3 run.py [--threads N] [--out table.json] [--name NAME]

It times every layer model of ``manifest.json`` with onnxruntime and writes a latency table (JSON,
schema version 1) that ``hwnas latency import`` accepts. Re-running resumes: entries (and
whole-network times) already in the output file are kept, and the file is rewritten atomically every
few seconds.
When the manifest lists calibration networks, each is timed whole a few times between the layer
measurements, and the finished table is calibrated on them as a local ``hwnas latency build`` is.

This module is also the timing protocol and the measuring loop (`run_measurements`: resume, spread
calibration networks, periodic saves) of the local profiler (`latency.profile` imports it), so a
table measured on a board and one measured here follow the same procedure:

* sessions: ``intra_op_num_threads=N``, ``inter_op_num_threads=1``, sequential execution, all graph
  optimizations, CPU execution provider; input and output bound once (I/O binding) so that the timed
  call does no Python-side copies;
* per entry: warm-up runs, then timed runs (``time.perf_counter``) until both a minimum run count
  and a time budget are reached (or a maximum run count), median reported;
* per-call overhead: the fixed cost of one ``run`` call is timed on a one-element model and
  subtracted from every entry, then added once per network (``network_overhead_ms``);
* layout reorders: where onnxruntime converts convolutions to a blocked channel layout (NCHWc on
  x86), a single-layer model pays a reorder into and out of that layout that a whole network pays
  only at its ends. With the optional ``onnx`` package, each layer model is timed as onnxruntime
  optimized it but without those two boundary nodes (its input and output channels padded to the
  block as inside a network). Without it, the reorder pair is timed per tensor shape and half of
  it is subtracted per side of each layer, so each intermediate tensor is discounted once (less
  exact: a pair timed alone runs hotter in cache than inside a layer model). Runtimes without a
  blocked layout (onnxruntime on aarch64) need neither.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

SCHEMA_VERSION = 1
PROTOCOL_NAME = "hwnas-ort-v1"
DEFAULTS: dict[str, Any] = {
    "warmup": 5,
    "min_runs": 10,
    "max_runs": 1000,
    "budget_s": 0.3,
}
# The oldest runtimes the runner supports and is tested on (tests/latency/test_bundle_venv.py;
# README, "Latency tables, and profiling your own board"). onnxruntime 1.16 is the last release
# with manylinux2014 wheels, so what pip installs on boards with a glibc older than 2.28, and it
# has wheels for every Python from 3.9 to 3.11.
MIN_PYTHON = (3, 9)
MIN_ONNXRUNTIME = "1.16.0"


# -- device ------------------------------------------------------------------------------------

# ARM cores as /proc/cpuinfo reports them ("CPU implementer", "CPU part"). Codes from the Linux
# kernel's arch/arm64/include/asm/cputype.h (6.1), names as util-linux's lscpu (lscpu-arm.c,
# 2.38.1) prints them; Cortex-X925/A725 and Ampere-1 are in the kernel's list only. A core missing
# here is described by its raw codes, e.g. 'ARM part 0xd99'.
ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "APM",
    0x51: "Qualcomm",
    0x53: "Samsung",
    0x61: "Apple",
    0x6D: "Microsoft",
    0xC0: "Ampere",
}
ARM_PARTS = {
    0x41: {
        0xD03: "Cortex-A53",
        0xD04: "Cortex-A35",
        0xD05: "Cortex-A55",
        0xD07: "Cortex-A57",
        0xD08: "Cortex-A72",
        0xD09: "Cortex-A73",
        0xD0A: "Cortex-A75",
        0xD0B: "Cortex-A76",
        0xD0C: "Neoverse-N1",
        0xD0D: "Cortex-A77",
        0xD0E: "Cortex-A76AE",
        0xD40: "Neoverse-V1",
        0xD41: "Cortex-A78",
        0xD42: "Cortex-A78AE",
        0xD44: "Cortex-X1",
        0xD46: "Cortex-A510",
        0xD47: "Cortex-A710",
        0xD48: "Cortex-X2",
        0xD49: "Neoverse-N2",
        0xD4B: "Cortex-A78C",
        0xD4C: "Cortex-X1C",
        0xD4D: "Cortex-A715",
        0xD4E: "Cortex-X3",
        0xD4F: "Neoverse-V2",
        0xD80: "Cortex-A520",
        0xD81: "Cortex-A720",
        0xD82: "Cortex-X4",
        0xD84: "Neoverse-V3",
        0xD85: "Cortex-X925",
        0xD87: "Cortex-A725",
        0xD8E: "Neoverse-N3",
    },
    0x42: {0x516: "ThunderX2"},
    0x43: {0x0AF: "ThunderX2-99xx"},
    0x46: {0x001: "A64FX"},
    0x48: {0xD01: "Kunpeng-920"},
    0x4E: {0x003: "Denver 2", 0x004: "Carmel"},
    0x51: {
        0x800: "Falkor-V1/Kryo",
        0x801: "Kryo-V2",
        0x802: "Kryo-3XX-Gold",
        0x803: "Kryo-3XX-Silver",
        0x804: "Kryo-4XX-Gold",
        0x805: "Kryo-4XX-Silver",
        0xC00: "Falkor",
        0xC01: "Saphira",
    },
    0x61: {
        0x022: "Icestorm-M1",
        0x023: "Firestorm-M1",
        0x024: "Icestorm-M1-Pro",
        0x025: "Firestorm-M1-Pro",
        0x028: "Icestorm-M1-Max",
        0x029: "Firestorm-M1-Max",
        0x032: "Blizzard-M2",
        0x033: "Avalanche-M2",
    },
    0xC0: {0xAC3: "Ampere-1"},
}


def read_cpuinfo() -> str:
    """The text of /proc/cpuinfo ('' where there is none)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def allowed_cpus() -> set[int]:
    """The processors this process may run on (its affinity; empty where unknown)."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    return set(getaffinity(0)) if getaffinity else set()


def _cpuinfo_sections(text: str) -> tuple[dict[int, dict[str, str]], dict[str, str]]:
    """The fields of each processor of a cpuinfo text, and the machine-wide ones (Model …)."""
    processors: dict[int, dict[str, str]] = {}
    machine: dict[str, str] = {}
    for block in re.split(r"\n\s*\n", text):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and value.strip():
                fields[key.strip()] = " ".join(value.split())
        number = fields.get("processor", "")
        if number.isdigit():
            processors[int(number)] = fields
        else:
            machine.update(fields)
    return processors, machine


def core_name(fields: dict[str, str]) -> str | None:
    """One processor's core type: ARM implementer and part decoded, else its 'model name'."""
    implementer, part = fields.get("CPU implementer"), fields.get("CPU part")
    if implementer and part:
        try:
            vendor_code, part_code = int(implementer, 16), int(part, 16)
        except ValueError:
            return f"implementer {implementer} part {part}"
        known = ARM_PARTS.get(vendor_code, {}).get(part_code)
        if known:
            return known
        vendor = ARM_IMPLEMENTERS.get(vendor_code, f"implementer {vendor_code:#04x}")
        return f"{vendor} part {part_code:#05x}"
    return fields.get("model name") or fields.get("cpu model")


def cpu_cores(cpuinfo: str | None = None) -> list[tuple[str, list[int]]]:
    """Each core type of this machine with its processor numbers, in processor order."""
    processors, _ = _cpuinfo_sections(read_cpuinfo() if cpuinfo is None else cpuinfo)
    cores: dict[str, list[int]] = {}
    for number in sorted(processors):
        name = core_name(processors[number])
        if name:
            cores.setdefault(name, []).append(number)
    return list(cores.items())


def cpu_list(numbers: Iterable[int]) -> str:
    """Processor numbers as ranges, e.g. 'cpu0-3,6'."""
    spans: list[list[int]] = []
    for number in sorted(set(numbers)):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return "cpu" + ",".join(f"{a}-{b}" if b > a else str(a) for a, b in spans)


def cpu_model(cpuinfo: str | None = None, allowed: Collection[int] | None = None) -> str:
    """The types of the cores this process may run on, e.g. 'Cortex-A55 + Cortex-A76'.

    ARM cores by their implementer and part codes, x86 by 'model name'. On a big.LITTLE board a
    run pinned to one cluster (``taskset -c 4-7``) thus names only that cluster's cores.
    ``cpuinfo`` and ``allowed`` default to this machine's /proc/cpuinfo and affinity.
    """
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    usable = allowed_cpus() if allowed is None else set(allowed)
    cores = cpu_cores(text)
    names = [name for name, numbers in cores if usable & set(numbers)]
    if names or cores:
        return " + ".join(names or [name for name, _ in cores])
    _, machine = _cpuinfo_sections(text)
    for field in ("Model", "Hardware", "Processor"):
        if machine.get(field):
            return machine[field]
    return platform.processor() or platform.machine() or "unknown cpu"


def board_model(cpuinfo: str | None = None) -> str | None:
    """The board or SoC that /proc/cpuinfo names ('Model', else 'Hardware'), if any."""
    _, machine = _cpuinfo_sections(read_cpuinfo() if cpuinfo is None else cpuinfo)
    return machine.get("Model") or machine.get("Hardware")


def slug(text: str) -> str:
    """Lower-case dash-separated form of ``text`` for device names, e.g. 'intel-xeon-processor'."""
    text = re.sub(r"\((r|tm|c)\)", "", text.lower())
    text = re.sub(r"\b(cpu|processor|@.*)$", "", text)
    return "-".join(re.findall(r"[a-z0-9.]+", text))[:48].strip("-.") or "cpu"


def describe_device(
    threads: int,
    name: str | None = None,
    prefix: str = "local",
    *,
    cpuinfo: str | None = None,
    allowed: Collection[int] | None = None,
) -> dict[str, Any]:
    """What the table was measured on: CPU, cores, board, OS, runtime, threads, provider.

    ``cpuinfo`` and ``allowed`` default to this machine's /proc/cpuinfo and affinity.
    """
    import onnxruntime as ort

    cpuinfo = read_cpuinfo() if cpuinfo is None else cpuinfo
    allowed = allowed_cpus() if allowed is None else set(allowed)
    cpu = cpu_model(cpuinfo, allowed)
    return {
        "name": name or f"{prefix}-{slug(cpu)}-{threads}t",
        "cpu": cpu,
        "cores": ", ".join(
            f"{core} on {cpu_list(numbers)}" for core, numbers in cpu_cores(cpuinfo)
        ),
        "affinity": cpu_list(allowed) if allowed else None,
        "board": board_model(cpuinfo),
        "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "runtime": f"onnxruntime {ort.__version__}",
        "threads": threads,
        "execution_provider": "CPUExecutionProvider",
        "logical_cpus": os.cpu_count(),
    }


# -- sessions and timing -----------------------------------------------------------------------


def open_session(model: bytes | str | Path, threads: int) -> Any:
    """An onnxruntime CPU session under the protocol's settings (``model``: bytes or a path)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


class BoundIo(NamedTuple):
    """A session's I/O binding together with every buffer it points into.

    onnxruntime 1.16 to 1.19 (at least) keep no reference to a bound OrtValue or its numpy
    array: a buffer bound as a temporary is freed while the runtime still reads or writes it
    (the runner crashed on its first layer there). Whoever holds this holds them all.
    """

    binding: Any
    input: np.ndarray
    output: np.ndarray
    values: tuple[Any, Any]


def bind_io(session: Any, shape: tuple[int, ...] | list[int]) -> BoundIo:
    """Bind one random input of ``shape`` and a preallocated output to ``session``'s first ones."""
    import onnxruntime as ort

    input_name = session.get_inputs()[0].name
    output_name = session.get_outputs()[0].name
    data = np.random.default_rng(0).uniform(-1.0, 1.0, size=tuple(shape)).astype(np.float32)
    # A preallocated output, as a network's intermediate tensors are planned ahead: the timed
    # call then allocates nothing. Its shape comes from one run, so that a model with symbolic
    # sizes (an exported network's batch) gets one too.
    out_shape = session.run([output_name], {input_name: data})[0].shape
    output = np.zeros(out_shape, dtype=np.float32)
    values = (ort.OrtValue.ortvalue_from_numpy(data), ort.OrtValue.ortvalue_from_numpy(output))
    binding = session.io_binding()
    binding.bind_ortvalue_input(input_name, values[0])
    binding.bind_ortvalue_output(output_name, values[1])
    return BoundIo(binding, data, output, values)


def time_session(
    session: Any,
    shape: tuple[int, ...] | list[int],
    *,
    warmup: int = DEFAULTS["warmup"],
    min_runs: int = DEFAULTS["min_runs"],
    max_runs: int = DEFAULTS["max_runs"],
    budget_s: float = DEFAULTS["budget_s"],
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Median/mean/std/p10/p90 (ms) and run count of ``session`` on one random input of ``shape``.

    Times any single-input, single-output model: the layer models here, and an exported network.
    """
    io = bind_io(session, shape)
    for _ in range(warmup):
        session.run_with_iobinding(io.binding)
    times: list[float] = []
    start = clock()
    while len(times) < max_runs and (len(times) < min_runs or clock() - start < budget_s):
        before = clock()
        session.run_with_iobinding(io.binding)
        times.append((clock() - before) * 1e3)
    return summarize(times)


def summarize(times_ms: list[float]) -> dict[str, Any]:
    """The entry fields of a list of run times (ms), and their 10th and 90th percentiles."""
    p10, p90 = (float(v) for v in np.percentile(times_ms, [10, 90]))
    return {
        "median_ms": float(statistics.median(times_ms)),
        "mean_ms": float(statistics.fmean(times_ms)),
        "std_ms": float(statistics.pstdev(times_ms)) if len(times_ms) > 1 else 0.0,
        "runs": len(times_ms),
        "p10_ms": p10,
        "p90_ms": p90,
    }


def uses_layout_reorders(model: bytes | str | Path, threads: int) -> bool:
    """Whether onnxruntime inserts layout reorders (NCHWc) around a convolution of ``model``."""
    with tempfile.TemporaryDirectory() as tmp:
        optimized = optimized_model(model, threads, Path(tmp) / "optimized.onnx")
        return b"ReorderInput" in optimized.read_bytes()


def optimized_model(model: bytes | str | Path, threads: int, path: Path) -> Path:
    """Let onnxruntime optimize ``model`` as for timing and save the result at ``path``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(path)
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return path


def onnx_available() -> bool:
    """Whether the optional ``onnx`` package (needed to strip reorders) is importable."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def strip_reorders(
    model: bytes | str | Path, threads: int, input_shape: list[int], output_shape: list[int]
) -> tuple[bytes, list[int]] | None:
    """The optimized layer model without its boundary layout reorders, and its input shape.

    A network runs its convolutions back to back in the blocked layout and reorders only at its
    ends; a single-layer model reorders its input in and its output back. Timing the optimized
    graph with those two nodes removed times the layer as the network runs it. Needs the ``onnx``
    package; returns None without it or when the runtime inserted no reorders.
    """
    try:
        import onnx
    except ImportError:
        return None
    # Beside a model file, so that initializers it keeps in external data still resolve.
    where = None if isinstance(model, bytes) else str(Path(model).parent)
    fd, name = tempfile.mkstemp(dir=where, prefix=".optimized-", suffix=".onnx")
    os.close(fd)
    try:
        graph_model = onnx.load(str(optimized_model(model, threads, Path(name))))
    finally:
        Path(name).unlink(missing_ok=True)
    graph = graph_model.graph
    nodes = list(graph.node)
    first = nodes[0] if nodes and nodes[0].op_type == "ReorderInput" else None
    last = nodes[-1] if nodes and nodes[-1].op_type == "ReorderOutput" else None
    if first is None and last is None:
        return None
    weights = {init.name: list(init.dims) for init in graph.initializer}
    in_shape, out_shape = list(input_shape), list(output_shape)
    if first is not None:
        consumer = next(n for n in nodes if first.output[0] in n.input)
        dims = weights.get(consumer.input[1], []) if len(consumer.input) > 1 else []
        group = next((a.i for a in consumer.attribute if a.name == "group"), 1)
        if consumer.op_type == "Conv" and len(dims) == 4:
            in_shape[1] = dims[1] * group
        consumer.input[list(consumer.input).index(first.output[0])] = first.input[0]
        graph.node.remove(first)
    if last is not None:
        producer = next(n for n in graph.node if last.input[0] in n.output)
        dims = weights.get(producer.input[1], []) if len(producer.input) > 1 else []
        if len(dims) == 4:
            out_shape[1] = dims[0]
        producer.output[list(producer.output).index(last.input[0])] = last.output[0]
        graph.node.remove(last)
    for value, shape in ((graph.input[0], in_shape), (graph.output[0], out_shape)):
        dims_proto = value.type.tensor_type.shape.dim
        del dims_proto[:]
        for d in shape:
            dims_proto.add().dim_value = int(d)
    return graph_model.SerializeToString(), in_shape


def shape_key(shape: tuple[int, ...] | list[int]) -> str:
    """Key of a tensor shape in the protocol's reorder table, e.g. '1x32x56x56'."""
    return "x".join(str(int(d)) for d in shape)


def corrected_entry(
    raw: dict[str, Any],
    call_ms: float,
    reorder_in_ms: float = 0.0,
    reorder_out_ms: float = 0.0,
    floor_fraction: float = 0.05,
) -> dict[str, Any]:
    """A layer entry with the per-call overhead and half of each reorder pair removed.

    The correction shifts median and mean alike; the result is floored at ``floor_fraction`` of
    the raw median, because a layer never costs nothing and noise can exceed a tiny layer's time.
    """
    shift = call_ms + 0.5 * reorder_in_ms + 0.5 * reorder_out_ms
    floor = floor_fraction * raw["median_ms"]
    return {
        "median_ms": max(raw["median_ms"] - shift, floor),
        "mean_ms": max(raw["mean_ms"] - shift, floor),
        "std_ms": raw["std_ms"],
        "runs": raw["runs"],
        "source": "measured",
    }


def reorder_cost(probe_ms: float, call_ms: float) -> float:
    """The reorder pair's own time: the probe model's time less its own per-call overhead."""
    return max(probe_ms - call_ms, 0.0)


# Fewer whole networks than this cannot outvote one measured in a slow moment.
MIN_CALIBRATION_NETWORKS = 4


def check_calibration_size(networks: int) -> None:
    """``ValueError`` unless a calibration is asked on no networks or on enough of them."""
    if 0 < networks < MIN_CALIBRATION_NETWORKS or networks < 0:
        raise ValueError(
            f"a calibration needs 0 (none) or at least {MIN_CALIBRATION_NETWORKS} networks, "
            f"got {networks}"
        )


def fit_calibration(
    sums_ms: list[float], measured_ms: list[float], overhead_ms: float
) -> dict[str, Any]:
    """Fit ``measured ≈ overhead + scale * sum(entries)`` on whole networks: one robust scale.

    Where a layer inside a network runs slower than the same layer timed alone (its weights and
    input are not where a tight loop over one layer leaves them), it does so by about the same
    factor in small and large networks. The scale is the median of the per-network ratios, so
    one network measured in a slow moment cannot pull it. An earlier three-term fit (fitted
    overhead, scale, per-layer constant) did worse on held-out networks (93 % vs 98 % within
    ±10 %). Opt-in: on the development machine even this fit made predictions worse.
    """
    if len(measured_ms) < MIN_CALIBRATION_NETWORKS:
        raise ValueError(
            f"a calibration needs at least {MIN_CALIBRATION_NETWORKS} networks, "
            f"got {len(measured_ms)}"
        )
    if len(sums_ms) != len(measured_ms):
        raise ValueError(
            f"a calibration needs one sum per measured network, got {len(sums_ms)} sums "
            f"and {len(measured_ms)} networks"
        )
    # Python 3.9's zip has no strict=: the lengths are checked equal above.
    ratios = [(m - overhead_ms) / s for s, m in zip(sums_ms, measured_ms) if s > 0]
    if len(ratios) < MIN_CALIBRATION_NETWORKS:
        raise ValueError(
            f"a calibration needs at least {MIN_CALIBRATION_NETWORKS} networks with a positive "
            "entry sum"
        )
    return {
        "overhead_ms": float(overhead_ms),
        "scale": float(statistics.median(ratios)),
        # Always 0 now; tables calibrated by the three-term fit carry theirs, and still load.
        "per_layer_ms": 0.0,
        "networks": len(ratios),
        "ratio_range": [float(min(ratios)), float(max(ratios))],
        "fit": "median over whole networks of (measured - per-call overhead) / sum of entries",
    }


def calibration_schedule(networks: int, passes: int) -> list[int]:
    """The order of a calibration's network measurements: pass after pass over all networks."""
    return [index for _ in range(passes) for index in range(networks)]


def networks_due(measured: int, todo: int, scheduled: int) -> int:
    """How many of ``scheduled`` network measurements are due after ``measured`` of ``todo`` layers.

    Spreads the network measurements evenly between the layer measurements (all at once when
    there are no layers left to measure), so that the networks see the machine as the entries did.
    """
    return scheduled if not todo else measured * scheduled // todo


def calibrated(median_ms: float, calibration: dict[str, Any] | None) -> float:
    """An entry's time after a whole-network calibration (unchanged without one)."""
    if not calibration:
        return median_ms
    return max(calibration["scale"] * median_ms + calibration["per_layer_ms"], 0.05 * median_ms)


def protocol_description(timing: dict[str, Any], measured_by: str) -> dict[str, Any]:
    """The table's ``protocol`` block (without the measured overheads)."""
    return {
        "name": PROTOCOL_NAME,
        **{k: timing[k] for k in ("warmup", "min_runs", "max_runs", "budget_s") if k in timing},
        "statistic": "median",
        "timer": "time.perf_counter",
        "io_binding": True,
        "graph_optimization": "ORT_ENABLE_ALL",
        "execution_mode": "sequential",
        "inter_op_threads": 1,
        "overhead": "per-call cost timed on a one-element model, subtracted from every entry and "
        "added once per network; blocked-layout reorders at a layer model's boundaries are "
        "handled as 'reorder_handling' says",
        "measured_by": measured_by,
    }


REORDER_HANDLING = {
    "none": "none: the runtime inserts no layout reorders here",
    "stripped": "stripped: layer models timed as optimized, without their boundary reorders",
    "probed": "probed: half the timed reorder pair of each input and output tensor subtracted",
}


def reorder_handling(layout_reorders: bool, strip: bool) -> str:
    """How a build keeps boundary layout reorders out of its entries (the protocol's wording)."""
    if not layout_reorders:
        return REORDER_HANDLING["none"]
    return REORDER_HANDLING["stripped" if strip else "probed"]


def run_measurements(
    layers: int,
    measure_layer: Callable[[int], None],
    networks: int,
    measure_network: Callable[[int], None],
    save: Callable[[], None],
    *,
    finish: Callable[[], None] | None = None,
    save_every_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """The measuring loop of every table build: this bundle's and `latency.profile.build_table`'s.

    Measures ``layers`` layers (``measure_layer(i)``) and spreads ``networks`` whole-network
    measurements (``measure_network(k)``, the k-th still due) evenly between them (see
    `networks_due`), so that the networks see the machine as the entries did. ``save`` runs every
    ``save_every_s`` seconds and once at the end, also on an exception or an interrupt, so a
    resumed build loses at most the last few seconds; ``finish`` runs once all is measured.
    """
    done = 0

    def measure_networks_due(measured_layers: int) -> None:
        nonlocal done
        while done < networks_due(measured_layers, layers, networks):
            measure_network(done)
            done += 1

    last_save = clock()
    try:
        for index in range(layers):
            measure_layer(index)
            measure_networks_due(index + 1)
            if clock() - last_save >= save_every_s:
                save()
                last_save = clock()
        measure_networks_due(layers)
        if finish is not None:
            finish()
    finally:
        save()


# A twin of latency.files.write_json_atomic: this file runs on its own as a bundle's run.py, on
# boards where hwnas is not installed, so it cannot import it.
def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temporary file in the same directory and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- the bundle --------------------------------------------------------------------------------


def _load_partial(out: Path) -> dict[str, Any] | None:
    if not out.exists():
        return None
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        return None
    return data


def calibrated_entry(entry: dict[str, Any], calibration: dict[str, Any]) -> dict[str, Any]:
    """A corrected entry after a whole-network calibration (median, mean and spread scaled)."""
    return {
        **entry,
        "median_ms": calibrated(entry["median_ms"], calibration),
        "mean_ms": calibrated(entry["mean_ms"], calibration),
        "std_ms": entry["std_ms"] * calibration["scale"],
    }


def _load_network_raw(partial: dict[str, Any] | None, networks: int) -> list[list[dict[str, Any]]]:
    """The whole-network timings of a partial output, or none if it is not of this bundle."""
    kept = partial.get("network_raw") if partial else None
    if not isinstance(kept, list) or len(kept) != networks:
        return [[] for _ in range(networks)]
    return [list(times) if isinstance(times, list) else [] for times in kept]


def run_bundle(
    folder: Path,
    out: Path,
    threads: int,
    name: str | None = None,
    log: Callable[[str], None] | None = None,
    save_every_s: float = 5.0,
) -> dict[str, Any]:
    """Measure every model of the bundle in ``folder`` and write the table to ``out``.

    Calibration networks listed in the manifest are each timed ``passes`` times, spread evenly
    between the layer measurements (`run_measurements`, as `latency.profile.build_table` does);
    once all of them and every layer are measured, the table is calibrated on them (see
    `fit_calibration`).
    """
    bundle = _Bundle(folder, json.loads((folder / "manifest.json").read_text()), threads, name)
    bundle.resume(_load_partial(out))
    bundle.measure_protocol()
    todo = [item for item in bundle.layers if item["key"] not in bundle.raw]
    schedule = calibration_schedule(len(bundle.networks), bundle.passes)
    # A resumed run spreads what is left of the schedule over the layers left to measure.
    done_before = min(sum(map(len, bundle.network_raw)), len(schedule))
    start = time.monotonic()
    position = {item["key"]: index for index, item in enumerate(bundle.layers, start=1)}

    def measure_layer(index: int) -> None:
        key = todo[index]["key"]
        bundle.measure_layer(todo[index])
        if log is not None:
            log(
                f"[{position[key]}/{len(bundle.layers)}] {key} "
                f"{bundle.raw[key]['median_ms']:.3f} ms (elapsed {time.monotonic() - start:.0f} s)"
            )

    def measure_network(k: int) -> None:
        index = schedule[done_before + k]
        times = bundle.measure_network(index)
        if log is not None:
            log(
                f"[network {index + 1}/{len(bundle.networks)}, pass {len(times)}/{bundle.passes}] "
                f"{times[-1]['median_ms']:.3f} ms (elapsed {time.monotonic() - start:.0f} s)"
            )

    run_measurements(
        len(todo),
        measure_layer,
        len(schedule) - done_before,
        measure_network,
        lambda: write_json_atomic(out, bundle.document()),
        save_every_s=save_every_s,
    )
    return bundle.document()


class _Bundle:
    """A bundle's manifest and what has been measured of it (raw timings, protocol state)."""

    def __init__(
        self, folder: Path, manifest: dict[str, Any], threads: int, name: str | None
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.threads = threads
        settings = {**DEFAULTS, **manifest.get("protocol", {})}
        self.timing = {k: settings[k] for k in ("warmup", "min_runs", "max_runs", "budget_s")}
        plan = manifest.get("calibration") or {}
        self.networks: list[dict[str, Any]] = list(plan.get("networks", []))
        self.passes = int(plan.get("passes", 3))
        # A network's timing settings are those of `latency.profile.OrtMeasurer.network`: its
        # budget is split over its passes, and the run cap is lifted so that budget is honoured.
        self.network_timing = {
            **self.timing,
            "budget_s": float(plan.get("network_budget_s", 1.0)) / self.passes,
            "max_runs": max(self.timing["max_runs"], 1000),
        }
        self.layers: list[dict[str, Any]] = manifest["layers"]
        self.device = describe_device(threads, name=name, prefix=platform.machine() or "device")
        self.raw: dict[str, Any] = {}
        self.network_raw: list[list[dict[str, Any]]] = [[] for _ in self.networks]
        self.protocol_state: dict[str, Any] = {}
        self.strip = False

    def resume(self, partial: dict[str, Any] | None) -> None:
        """Keep what a partial output of the same thread count already measured."""
        if partial is None or partial.get("device", {}).get("threads") != self.threads:
            return
        self.raw = dict(partial.get("raw", {}))
        self.network_raw = _load_network_raw(partial, len(self.networks))
        self.protocol_state = dict(partial["protocol"])
        # Refitted from the raw timings by `document`, never carried over.
        self.protocol_state.pop("calibration", None)

    def measure_protocol(self) -> None:
        """The per-call overhead, whether the runtime reorders layouts, and the reorder probes."""
        state, folder, threads = self.protocol_state, self.folder, self.threads
        if "call_overhead_ms" not in state:
            session = open_session(folder / self.manifest["call_model"], threads)
            state["call_overhead_ms"] = time_session(session, [1, 1, 1, 1], **self.timing)[
                "median_ms"
            ]
        if "layout_reorders" not in state:
            state["layout_reorders"] = uses_layout_reorders(
                folder / self.manifest["reorder_check_model"], threads
            )
        self.strip = bool(state["layout_reorders"]) and onnx_available()
        state["reorder_handling"] = reorder_handling(bool(state["layout_reorders"]), self.strip)
        reorders: dict[str, float] = dict(state.get("reorder_ms", {}))
        if state["layout_reorders"] and not self.strip:
            for item in self.manifest["reorder_probes"]:
                key = shape_key(item["shape"])
                if key not in reorders:
                    probe = open_session(folder / item["file"], threads)
                    pair = time_session(probe, item["shape"], **self.timing)["median_ms"]
                    reorders[key] = reorder_cost(pair, state["call_overhead_ms"])
        state["reorder_ms"] = reorders

    def measure_layer(self, item: dict[str, Any]) -> None:
        """Time one layer model (without its boundary reorders where they can be stripped)."""
        path, shape = self.folder / item["file"], item["input_shape"]
        stripped = (
            strip_reorders(path, self.threads, item["input_shape"], item["output_shape"])
            if self.strip
            else None
        )
        model: bytes | Path = path if stripped is None else stripped[0]
        if stripped is not None:
            shape = stripped[1]
        measured = time_session(open_session(model, self.threads), shape, **self.timing)
        self.raw[item["key"]] = {**measured, "stripped": stripped is not None}

    def measure_network(self, index: int) -> list[dict[str, Any]]:
        """Time calibration network ``index`` once more; returns all its timings so far."""
        network = self.networks[index]
        session = open_session(self.folder / network["file"], self.threads)
        times = self.network_raw[index]
        times.append(time_session(session, network["input_shape"], **self.network_timing))
        return times

    def entries(self) -> dict[str, Any]:
        """Corrected entries of the layers measured so far."""
        call_ms = self.protocol_state["call_overhead_ms"]
        reorders = self.protocol_state["reorder_ms"]
        entries = {}
        for item in self.layers:
            raw = self.raw.get(item["key"])
            if raw is None:
                continue
            if raw.get("stripped"):
                entries[item["key"]] = corrected_entry(raw, call_ms)
                continue
            entries[item["key"]] = corrected_entry(
                raw,
                call_ms,
                reorders.get(shape_key(item["input_shape"]), 0.0) if item["reorder_in"] else 0,
                reorders.get(shape_key(item["output_shape"]), 0.0) if item["reorder_out"] else 0,
            )
        return entries

    def calibration(self, entries: dict[str, Any]) -> dict[str, Any] | None:
        """The fit on the networks once every layer and every network pass is measured."""
        complete = all(len(times) >= self.passes for times in self.network_raw)
        if not self.networks or not complete or any(i["key"] not in entries for i in self.layers):
            return None
        measured = [
            float(statistics.median(t["median_ms"] for t in times[: self.passes]))
            for times in self.network_raw
        ]
        sums = [sum(entries[key]["median_ms"] for key in n["layers"]) for n in self.networks]
        return {
            **fit_calibration(sums, measured, self.protocol_state["call_overhead_ms"]),
            "passes": self.passes,
            "archs": [n["arch"] for n in self.networks],
            "measured_ms": measured,
        }

    def document(self) -> dict[str, Any]:
        """The table as JSON, with the raw timings a resumed run continues from."""
        entries = self.entries()
        fit = self.calibration(entries)
        protocol = {**protocol_description(self.timing, "bundle runner"), **self.protocol_state}
        if fit is not None:
            entries = {key: calibrated_entry(entry, fit) for key, entry in entries.items()}
            protocol["calibration"] = fit
        return {
            "schema_version": SCHEMA_VERSION,
            "device": self.device,
            "protocol": protocol,
            "activation": self.manifest.get("activation", "relu"),
            "dtype": self.manifest.get("dtype", "fp32"),
            "network_overhead_ms": (
                fit["overhead_ms"] if fit else self.protocol_state["call_overhead_ms"]
            ),
            "provenance": {"source": "hwnas latency bundle", "space": self.manifest.get("space")},
            "cost_model": None,
            "report": None,
            "entries": entries,
            "raw": self.raw,
            "network_raw": self.network_raw,
        }


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading release numbers of a version string, e.g. (1, 17, 0) for '1.17.0+cpu'."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def runtime_problem(python: tuple[int, ...], onnxruntime: str | None) -> str | None:
    """Why this Python or onnxruntime (None: not installed) cannot run the bundle, or None."""
    if python[:2] < MIN_PYTHON:
        found = ".".join(map(str, python[:3]))
        return (
            f"Python {found} is too old: the bundle needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+"
        )
    if onnxruntime is None:
        return "onnxruntime is not installed: python3 -m pip install numpy onnxruntime"
    if version_tuple(onnxruntime) < version_tuple(MIN_ONNXRUNTIME):
        return (
            f"onnxruntime {onnxruntime} is too old: the bundle needs onnxruntime "
            f"{MIN_ONNXRUNTIME}+ (python3 -m pip install 'onnxruntime>={MIN_ONNXRUNTIME}')"
        )
    return None


def installed_onnxruntime() -> str | None:
    """The version of the importable onnxruntime, or None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    return str(ort.__version__)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of the bundle."""
    parser = argparse.ArgumentParser(description="Measure an hwnas latency bundle on this device.")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    parser.add_argument(
        "--out", type=Path, default=None, help="table file (default table-<N>t.json)"
    )
    parser.add_argument("--name", default=None, help="device name recorded in the table")
    parser.add_argument("--quiet", action="store_true", help="no per-layer progress lines")
    args = parser.parse_args(argv)
    problem = runtime_problem(sys.version_info[:3], installed_onnxruntime())
    if problem:
        print(f"run.py: error: {problem}", file=sys.stderr)
        return 2
    if args.threads < 1:
        print(f"run.py: error: --threads must be >= 1, got {args.threads}", file=sys.stderr)
        return 2
    folder = Path(__file__).resolve().parent
    out = args.out or folder / f"table-{args.threads}t.json"

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    table = run_bundle(folder, out, args.threads, args.name, None if args.quiet else log)
    print(f"wrote {out}: {len(table['entries'])} entries for {table['device']['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
