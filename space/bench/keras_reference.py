"""Count the MobileNetV2/V3 networks Keras builds, for `space.baselines.REFERENCE_COUNTS`.

An independent check of our channel rounding and counts: Keras' ``keras.applications`` code
builds the reference networks (TF-Slim's rules, ported), and here we only read its layer shapes.
Keras is not an hwnas dependency; run this in a separate environment that has it and torch::

    python -m venv /tmp/keras-env && /tmp/keras-env/bin/pip install torch==2.13.0 keras==3.6.0
    KERAS_BACKEND=torch /tmp/keras-env/bin/python -m space.bench.keras_reference \\
        > results/space/keras_reference.json

Multiply-adds: for every Conv2D, output elements x kernel height x width x input channels; for
every DepthwiseConv2D, output elements x kernel height x width; for every Dense, its weights.
Parameters: ``count_params()`` minus BatchNorm's four vectors; trainable: Keras' trainable count.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from space.baselines import Baseline, published_baselines


def keras_counts(model: Any) -> tuple[int, int, int]:
    """(multiply-adds, parameters without BatchNorm, trainable parameters) of a Keras model."""
    from keras import layers

    macs = 0
    batch_norm = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel.shape[:2]
            macs += h * w * c * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c = layer.output.shape
            kh, kw, cin = layer.kernel.shape[:3]
            macs += h * w * c * kh * kw * cin
        elif isinstance(layer, layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, layers.BatchNormalization):
            batch_norm += sum(int(v.numpy().size) for v in layer.weights)
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
    return int(macs), int(model.count_params()) - batch_norm, trainable


def keras_model(baseline: Baseline) -> Any:
    """Keras' network for a V2 or V3 baseline (1000 classes, no weights, channels last)."""
    import keras

    shape = (baseline.resolution, baseline.resolution, 3)
    if baseline.family == "v2":
        return keras.applications.MobileNetV2(
            input_shape=shape, alpha=baseline.alpha, weights=None, classifier_activation=None
        )
    build = {
        "large": keras.applications.MobileNetV3Large,
        "small": keras.applications.MobileNetV3Small,
    }[baseline.variant]
    return build(
        input_shape=shape,
        alpha=baseline.alpha,
        weights=None,
        include_preprocessing=False,
        classifier_activation=None,
    )


def main() -> None:
    if os.environ.get("KERAS_BACKEND") is None:
        os.environ["KERAS_BACKEND"] = "torch"
    import keras

    counts = {
        baseline.name: keras_counts(keras_model(baseline))
        for family in ("v2", "v3")
        for baseline in published_baselines(family)
    }
    json.dump({"keras": keras.__version__, "counts": counts}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
