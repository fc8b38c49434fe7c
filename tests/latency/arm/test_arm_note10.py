"""The Note10 block model: parsed blocks, held-out errors per block type, whole-network check."""

from __future__ import annotations

from typing import Any

import pytest

from latency.arm.blocks import parse_block_key
from latency.arm.build_tables import DATA_DIR
from latency.arm.note10 import fit_note10, load_note10_data, sample_subnets


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    return fit_note10(DATA_DIR)


def test_blocks_keep_the_keys_flags() -> None:
    data = load_note10_data(DATA_DIR)
    assert len(data.points()) == 17 * 91 and len(data.keys()) == 17 * 91
    for key, block, _ in data.blocks[224]:
        _, inp, out, params = parse_block_key(key)
        assert (block.in_h, block.in_channels, block.out_channels) == (inp[0], inp[2], out[2])
        assert block.mid_channels == params["expand"] and block.se == bool(params["se"])
        assert (block.activation == "hswish") == bool(params["hs"])
        assert block.residual == bool(params["idskip"])
    activations = {block.activation for _, block, _ in data.blocks[160]}
    assert activations == {"relu", "hswish"}


def test_held_out_errors_per_block_type(fitted: dict[str, Any]) -> None:
    assert fitted["blocks"] == 1547 and fitted["configurations"] == 91
    loo = fitted["loo_by_configuration"]
    assert set(loo) == {"ir", "ir_e1", "ir_hs", "ir_se", "ir_se_hs"}
    assert loo["ir_se_hs"]["n"] == 612 and loo["ir_e1"]["n"] == 17
    for name in ("ir", "ir_hs", "ir_se", "ir_se_hs"):
        assert loo[name]["median_abs_pct"] < 5.0
    # the one expansion-1 configuration, held out entirely, is priced from the others alone
    assert loo["ir_e1"]["median_abs_pct"] == pytest.approx(15.61, abs=0.01)
    # one shape out (the plain leave-one-out) is easier: its configuration stays at other sizes
    plain = fitted["loo_by_shape"]
    assert plain["ir_e1"]["median_abs_pct"] < 5.0
    # unseen widths are harder than unseen configurations
    strict = fitted["loo_by_output_width"]
    assert strict["ir_hs"]["median_abs_pct"] > loo["ir_hs"]["median_abs_pct"]


def test_whole_networks_priced_with_held_out_blocks_stay_near_ofa(fitted: dict[str, Any]) -> None:
    networks = fitted["networks"]
    assert networks["networks"] == 17 * 20
    assert networks["median_abs_pct"] < 3.0 and networks["max_abs_pct"] < 6.0


def test_subnet_sampling_is_seeded() -> None:
    assert sample_subnets(160, 3, seed=1) == sample_subnets(160, 3, seed=1)
    assert sample_subnets(160, 3, seed=1) != sample_subnets(160, 3, seed=2)
