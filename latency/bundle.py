"""Write a self-contained profiling bundle: layer models, shared weights, manifest and runner.

The folder needs only python3, numpy and onnxruntime on the target device: ``python3 run.py``
writes a table JSON (schema version 1) that ``hwnas latency import`` accepts. With calibration
networks, the runner also times those whole networks between the layers and calibrates the table
on them, as ``hwnas latency build`` does locally.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from latency import bundle_runner as runner
from latency.files import write_json_atomic
from latency.onnx_graphs import (
    WEIGHTS_FILE,
    call_model,
    input_shape,
    layer_model,
    network_model,
    output_shape,
    reorder_model,
    shared_weights,
    weight_count,
)
from latency.profile import reorder_sides
from latency.signature import Signature, arch_signatures
from space import Arch

README = """hwnas latency bundle
====================

Measures {count} layer signatures with onnxruntime on the device you run it on.{calibration}
Needs Python {python}+, numpy and onnxruntime {onnxruntime}+ (with onnxruntime older than 1.19,
numpy < 2: those releases were built against numpy 1).

    python3 -m pip install numpy onnxruntime     # if not installed
    python3 -m pip install onnx                  # optional: exact layout handling on x86 CPUs
    python3 run.py --threads 1                   # writes table-1t.json (resumes if interrupted)

On a board with big and little cores, pin the run to one kind (e.g. taskset -c 4-7 python3
run.py ...): the table then names only those cores, and its times are theirs alone.

Copy the table back and add it to hwnas with:  hwnas latency import table-1t.json
"""


# Over 80 lines on purpose: the manifest is written out as one document, as run.py reads it.
def write_bundle(
    signatures: list[Signature],
    out: str | Path,
    *,
    space: dict[str, Any] | None = None,
    timing: dict[str, Any] | None = None,
    calibrate_on: list[Arch] | None = None,
    calibration_passes: int = 3,
    network_budget_s: float = 1.0,
) -> Path:
    """Write the bundle for ``signatures`` into the folder ``out`` (created; must be empty).

    ``calibrate_on`` are whole networks (none, or at least 4) the runner times
    ``calibration_passes`` times each within ``network_budget_s`` per network, to calibrate the
    table as `latency.profile.build_table` does; every layer of theirs must be in ``signatures``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"bundle folder {str(out)!r} is not empty: choose a new --out")
    if not signatures:
        raise ValueError("a bundle needs at least one layer signature")
    calibrate_on = list(calibrate_on or [])
    runner.check_calibration_size(len(calibrate_on))
    if calibration_passes < 1:
        raise ValueError(f"calibration_passes must be >= 1, got {calibration_passes}")
    activation, dtype = signatures[0].activation, signatures[0].dtype
    keys = {s.key for s in signatures}
    for arch in calibrate_on:
        outside = [s.key for s in arch_signatures(arch, activation, dtype) if s.key not in keys]
        if outside:
            raise ValueError(
                f"calibration network {arch.to_str()!r} has layer {outside[0]} that is not "
                "among the bundle's signatures: calibrate on networks of the bundled space"
            )
    (out / "layers").mkdir(parents=True, exist_ok=True)
    (out / "probes").mkdir(exist_ok=True)
    pool = shared_weights(max(weight_count(s) for s in signatures) + 4096)
    # External data resolves relative to the model file, so the weights sit beside the models.
    pool.tofile(out / "layers" / WEIGHTS_FILE)

    def save(model: Any, relative: str) -> str:
        (out / relative).write_bytes(model.SerializeToString())
        return relative

    layers, probes = _layer_entries(signatures, pool, save)
    manifest = {
        "schema_version": runner.SCHEMA_VERSION,
        "space": space,
        "activation": signatures[0].activation,
        "dtype": signatures[0].dtype,
        "protocol": dict(timing or runner.DEFAULTS),
        "call_model": save(call_model(), "probes/call.onnx"),
        "reorder_check_model": save(
            reorder_check_model_external(pool), "layers/reorder_check.onnx"
        ),
        "reorder_probes": [
            {"shape": list(shape), "file": save(reorder_model(shape), f"probes/reorder_{key}.onnx")}
            for key, shape in sorted(probes.items())
        ],
        "layers": layers,
    }
    if calibrate_on:
        manifest["calibration"] = {
            "passes": calibration_passes,
            "network_budget_s": network_budget_s,
            # In layers/ beside the layer models: a model's external data resolves relative to
            # the model file, so networks and layers read the one weights.bin.
            "networks": [
                {
                    "arch": arch.to_str(),
                    "file": save(
                        network_model(arch, activation, dtype, pool, external=True),
                        f"layers/network_{index}.onnx",
                    ),
                    "input_shape": [1, arch.in_channels, arch.resolution, arch.resolution],
                    "layers": [s.key for s in arch_signatures(arch, activation, dtype)],
                }
                for index, arch in enumerate(calibrate_on)
            ],
        }
    write_json_atomic(out / "manifest.json", manifest)
    runner_source = resources.files("latency").joinpath("bundle_runner.py")
    with resources.as_file(runner_source) as source:
        shutil.copyfile(source, out / "run.py")
    calibration = (
        f"\nIt also times {len(calibrate_on)} whole networks {calibration_passes} times each, "
        "spread between the layers,\nand calibrates the table on them (layers inside a network "
        "run a few percent slower\nthan timed alone), as 'hwnas latency build' does."
        if calibrate_on
        else ""
    )
    (out / "README.txt").write_text(
        README.format(
            count=len(layers),
            calibration=calibration,
            python=".".join(map(str, runner.MIN_PYTHON)),
            onnxruntime=runner.MIN_ONNXRUNTIME,
        )
    )
    return out


def _layer_entries(
    signatures: list[Signature], pool: Any, save: Callable[[Any, str], str]
) -> tuple[list[dict[str, Any]], dict[str, tuple[int, ...]]]:
    """The manifest's layer entries (each model saved) and the reorder probe shapes they need."""
    layers = []
    probes: dict[str, tuple[int, ...]] = {}
    for signature in sorted(set(signatures)):
        before, after = reorder_sides(signature)
        for shape in (before, after):
            if shape is not None:
                probes[runner.shape_key(shape)] = shape
        layers.append(
            {
                "key": signature.key,
                "file": save(
                    layer_model(signature, pool, external=True), f"layers/{signature.key}.onnx"
                ),
                "input_shape": list(input_shape(signature)),
                "output_shape": list(output_shape(signature)),
                "reorder_in": before is not None,
                "reorder_out": after is not None,
            }
        )
    return layers, probes


def reorder_check_model_external(pool: Any) -> Any:
    """`latency.onnx_graphs.reorder_check_model` reading its weights from ``weights.bin``."""
    return layer_model(Signature("pointwise", 8, 8, 64, 64, 1, 1), pool, external=True)
