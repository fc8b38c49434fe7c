"""The shipped ARM tables: they load, price the whole space, reproduce from the copied data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latency.arm.build_tables import (
    PIXEL1,
    RESULTS_DIR,
    TABLES_DIR,
    build_pixel1,
    space_signatures,
)
from latency.arm.fbnet_check import fbnet_report
from latency.signature import arch_signatures
from latency.table import LatencyTable
from space import SearchSpace, mobilenet_v1

TASKS = [(3, 1000), (1, 10)]


@pytest.fixture(scope="module")
def pixel1() -> LatencyTable:
    return LatencyTable.load(TABLES_DIR / f"{PIXEL1}.json")


def test_shipped_table_has_provenance_and_marked_entries(pixel1: LatencyTable) -> None:
    assert pixel1.device["threads"] == 1 and pixel1.dtype == "fp32"
    sources = pixel1.provenance["sources"]
    assert {s["licence"] for s in sources} == {"MIT"}
    assert sources[0]["commit"] == "6f22edade82d114c95305174e775b19641330712"
    measured = [k for k, e in pixel1.entries.items() if e.source == "measured"]
    # 37 layers of the op profile, 69 inverted-residual blocks (14 profile, 55 copy_a)
    assert len(measured) == 37 + 69
    assert sum(k.startswith("ir_") for k in measured) == 69
    assert pixel1.entries["stem_h224_w224_ci3_co32_k3_s2_relu6_fp32"].median_ms == 3.246
    assert set(pixel1.cost_model["per_op"]) == {"stem", "depthwise", "pointwise", "head", "ir"}
    assert (TABLES_DIR / f"{PIXEL1}.md").read_text().startswith(f"# {PIXEL1}")


@pytest.mark.parametrize(("channels", "classes"), TASKS)
def test_every_signature_of_the_default_space_has_an_entry(
    pixel1: LatencyTable, channels: int, classes: int
) -> None:
    space = SearchSpace.default().with_task(channels, classes)
    signatures = space_signatures(space, pixel1.activation, pixel1.dtype)
    assert len(signatures) > 700
    for signature in signatures:
        assert signature.key in pixel1.entries
        assert pixel1.lookup(signature) > 0


@pytest.mark.parametrize(("channels", "classes"), TASKS)
def test_sampled_architectures_stay_within_the_enumeration(
    pixel1: LatencyTable, channels: int, classes: int
) -> None:
    space = SearchSpace.default().with_task(channels, classes)
    known = set(space_signatures(space, pixel1.activation, pixel1.dtype))
    rng = np.random.default_rng(7)
    for _ in range(200):
        arch = space.sample(rng)
        assert set(arch_signatures(arch, pixel1.activation, pixel1.dtype)) <= known
        assert 1.0 < pixel1.predict(arch) < 400.0


def test_cost_model_prices_signatures_outside_the_space(pixel1: LatencyTable) -> None:
    arch = mobilenet_v1(1.0, 96, num_classes=37, in_channels=2)
    assert not any(s.key in pixel1.entries for s in arch_signatures(arch, "relu6")[:1])
    assert 5.0 < pixel1.predict(arch) < pixel1.predict(mobilenet_v1(1.0, 224))


def test_mobilenet_v1_prediction_is_plausible(pixel1: LatencyTable) -> None:
    # Published: MobileNetV1 1.0-224 takes 113 ms on one big core of a Pixel 1 with TF-Lite fp32
    # (Sandler et al. 2018, Table 4). Our ProxylessNAS-Mobile source runs at 80.6 ms where the
    # ProxylessNAS paper prints 78 ms, so campaigns on this phone agree within a few %; the
    # cost model is accurate to ~10-15 % per op. A +-20 % band around 113 ms is therefore the
    # honest expectation.
    predicted = pixel1.predict(mobilenet_v1(1.0, 224))
    assert 0.8 * 113 <= predicted <= 1.2 * 113
    widths = [pixel1.predict(mobilenet_v1(a, 224)) for a in (0.25, 0.5, 0.75, 1.0)]
    assert widths == sorted(widths)
    resolutions = [pixel1.predict(mobilenet_v1(1.0, r)) for r in (128, 160, 192, 224)]
    assert resolutions == sorted(resolutions)
    # Fashion-MNIST task: a 1-channel stem and a 10-class head cost less, not more.
    assert pixel1.predict(mobilenet_v1(1.0, 224, 10, 1)) < predicted


def test_report_meets_targets_and_is_reproduced_from_the_copied_data(
    pixel1: LatencyTable,
) -> None:
    report = pixel1.report
    loo = report["leave_one_out"]
    assert loo["depthwise"]["n"] == 13 and loo["pointwise"]["n"] == 22
    assert loo["depthwise"]["median_abs_pct"] <= 15.0
    assert loo["pointwise"]["median_abs_pct"] <= 15.0
    # Kernel-size costs (k5/k7 minus k3 at the same shape) from the block tables: held out one
    # at a time they are predicted without a large bias, unlike a fit on the ops alone.
    kernel = loo["depthwise_kernel_differences"]
    assert kernel["n"] == 38 and abs(kernel["median_bias_pct"]) <= 10.0
    alternative = loo["depthwise_without_kernel_differences"]["kernel_differences"]
    assert alternative["median_bias_pct"] < -15.0
    whole = report["whole_network"]
    assert abs(whole["measured_op_sum_error_pct"]) <= 5.0
    assert abs(whole["model_sum_error_pct"]) <= 5.0
    assert abs(whole["loo_sum_error_pct"]) <= 5.0
    blocks = report["inverted_residual_blocks"]
    assert blocks["mobile_trim_copies"]["chosen"].endswith("mobile_trim_copy_a.yaml")
    for name in ("ir", "ir_e1"):
        assert blocks["leave_one_out"]["by_type"][name]["median_abs_pct"] <= 15.0
    published = {row["network"]: row for row in report["published_networks"]}
    # ProxylessNAS-Mobile is made of measured entries; MobileNetV2 1.0 mostly of modelled ones
    assert abs(published["proxylessnas-mobile"]["error_pct"]) <= 1.0
    assert abs(published["proxylessnas-mobile"]["held_out_blocks_error_pct"]) <= 5.0
    assert abs(published["mobilenet_v2_1.0_224"]["error_pct"]) <= 5.0
    # MobileNetV2 1.4 misses the 5 % target (about -8 %): stated in the README
    assert -10.0 <= published["mobilenet_v2_1.4_224"]["error_pct"] <= -5.0


def test_shipped_table_is_exactly_what_the_build_script_produces(pixel1: LatencyTable) -> None:
    rebuilt = json.loads(json.dumps(build_pixel1().to_dict()))
    assert rebuilt == pixel1.to_dict()


def test_raspberry_pi_4_is_refused_and_the_saved_check_is_current() -> None:
    report = fbnet_report()
    assert report["devices"]["raspi4"]["supported"] is False
    assert report["devices"]["pixel3"]["supported"] is False
    assert report["pixel1_control"]["supported"] is True
    saved = json.loads((RESULTS_DIR / "fbnet_raspi4_pixel3_check.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert not (TABLES_DIR / "raspi4-tflite-fp32.json").exists()
