"""OFA's Note10 estimator re-implemented on the copied tables: keys, sums, bad specs."""

from __future__ import annotations

import pytest

from latency.arm.build_tables import DATA_DIR
from latency.arm.ofa import OFA_RESOLUTIONS, OfaSubnet, load_note10, ofa_estimate, ofa_keys


@pytest.fixture(scope="module")
def means() -> dict[int, dict[str, float]]:
    return {r: {x.key: x.mean_ms for x in records} for r, records in load_note10(DATA_DIR).items()}


def test_every_resolution_is_copied_with_96_entries(means: dict[int, dict[str, float]]) -> None:
    assert sorted(means) == list(OFA_RESOLUTIONS) and len(OFA_RESOLUTIONS) == 17
    assert {len(table) for table in means.values()} == {96}


def test_smallest_and_largest_subnets_sum_as_ofa_does(means: dict[int, dict[str, float]]) -> None:
    smallest = OfaSubnet.uniform(160, depth=2, kernel=3, expansion=3)
    largest = OfaSubnet.uniform(224, depth=4, kernel=7, expansion=6)
    # 2 fixed layers + 10 or 20 blocks + Conv_1, AvgPool2D, Conv_2, Logits
    assert len(ofa_keys(smallest)) == 16 and len(ofa_keys(largest)) == 26
    assert ofa_estimate(means[160], smallest) == pytest.approx(9.8900, abs=5e-4)
    assert ofa_estimate(means[224], largest) == pytest.approx(92.398, abs=5e-3)
    keys = ofa_keys(largest)
    assert keys[0] == "Conv-input:224x224x3-output:112x112x24"
    assert keys[1] == (
        "expanded_conv-input:112x112x24-output:112x112x24-expand:24-kernel:3-stride:1"
        "-idskip:1-se:0-hs:0"
    )
    # stage 4 keeps 14x14 (stride 1) and has SE and h-swish; its first block has no skip
    assert (
        "expanded_conv-input:14x14x96-output:14x14x136-expand:576-kernel:7-stride:1-idskip:0"
        "-se:1-hs:1"
    ) in keys
    assert keys[-1] == "Logits-input:1x1x1536-output:1000"


def test_bad_subnets_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="resolution 150 has no Note10 table"):
        OfaSubnet.uniform(150, 2, 3, 3)
    with pytest.raises(ValueError, match=r"OFA kernels \[9, .*expected 20 values from \[3, 5, 7\]"):
        OfaSubnet(160, (2,) * 5, (9,) * 20, (3,) * 20)
    with pytest.raises(ValueError, match="OFA depths"):
        OfaSubnet(160, (2,) * 4, (3,) * 20, (3,) * 20)


def test_a_table_without_a_needed_key_names_it(means: dict[int, dict[str, float]]) -> None:
    table = dict(means[160])
    del table["Logits-input:1x1x1536-output:1000"]
    with pytest.raises(ValueError, match="no entry 'Logits-input:1x1x1536-output:1000'"):
        ofa_estimate(table, OfaSubnet.uniform(160, 2, 3, 3))
