"""Once-for-All's MobileNetV3 latency estimator, re-implemented on the copied Note10 tables.

OFA prices a subnet of its MobileNetV3 space (width 1.2: stem 24, stage widths 32/48/96/136/192,
final expand 1152, feature mix 1536) by summing lookup-table means, one per layer group:

    Conv (3x3 stem) + expanded_conv (fixed first block, 24 -> 24, no expansion)
    + one expanded_conv per active block (20 slots, 4 per stage, the first `d` of each stage)
    + Conv_1 (1x1, 192 -> 1152) + AvgPool2D + Conv_2 (1x1 on the pooled vector, 1152 -> 1536)
    + Logits (1536 -> 1000)

In the keys ``expand:`` is the middle channel count, ``round(in_channels * e)``; a stage's first
block has the stage's stride and no identity skip, the others stride 1 and a skip. This is OFA's
``LatencyEstimator.predict_network_latency_given_spec`` (``ofa/tutorial/latency_table.py``) and
``MBv3LatencyTable`` (``ofa/nas/efficiency_predictor/latency_lookup_table.py``) of the ``ofa``
package 0.1.0.post202307202001 on PyPI (MIT licence, Han Cai et al.; code read, not copied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from latency.arm.blocks import BlockRecord, parse_block_table

#: OFA-MobileNetV3 w1.2 (``ofa_mbv3_d234_e346_k357_w1.2``): per stage its output width, the
#: stride of its first block, squeeze-and-excite and h-swish (MobileNetV3-Large's layout).
OFA_STAGE_WIDTHS = (32, 48, 96, 136, 192)
OFA_STAGE_STRIDES = (2, 2, 2, 1, 2)
OFA_STAGE_SE = (False, True, False, True, True)
OFA_STAGE_HSWISH = (False, False, True, True, True)
OFA_STEM_WIDTH = 24
OFA_FINAL_EXPAND = 1152
OFA_FEATURE_MIX = 1536
OFA_CLASSES = 1000
OFA_DEPTHS = (2, 3, 4)
OFA_KERNELS = (3, 5, 7)
OFA_EXPANSIONS = (3, 4, 6)
OFA_RESOLUTIONS = tuple(range(160, 225, 4))
SLOTS_PER_STAGE = 4
#: The copied tables, one per resolution, under ``latency/tables/data``.
NOTE10_FOLDER = "ofa_note10_lut"
OFA_CITATION = (
    "Cai et al., Once-for-All: Train One Network and Specialize it for Efficient Deployment, "
    "ICLR 2020; estimator as in the ofa package 0.1.0.post202307202001 (PyPI, MIT), "
    "ofa/tutorial/latency_table.py and ofa/nas/efficiency_predictor/latency_lookup_table.py"
)


@dataclass(frozen=True)
class OfaSubnet:
    """A subnet of OFA's MobileNetV3 space in OFA's own terms (its ``spec`` dict).

    ``depths``: blocks per stage (5); ``kernels`` and ``expansions``: one per slot (20), of which
    only the first ``depths[s]`` slots of stage ``s`` are used.
    """

    resolution: int
    depths: tuple[int, ...]
    kernels: tuple[int, ...]
    expansions: tuple[int, ...]

    def __post_init__(self) -> None:
        slots = SLOTS_PER_STAGE * len(OFA_STAGE_WIDTHS)
        if self.resolution not in OFA_RESOLUTIONS:
            raise ValueError(
                f"OFA resolution {self.resolution} has no Note10 table: expected one of "
                f"{', '.join(map(str, OFA_RESOLUTIONS))}"
            )
        checks = (
            ("depths", self.depths, len(OFA_STAGE_WIDTHS), OFA_DEPTHS),
            ("kernels", self.kernels, slots, OFA_KERNELS),
            ("expansions", self.expansions, slots, OFA_EXPANSIONS),
        )
        for name, values, count, allowed in checks:
            if len(values) != count or any(v not in allowed for v in values):
                raise ValueError(
                    f"OFA {name} {list(values)}: expected {count} values from {list(allowed)}"
                )

    @classmethod
    def uniform(cls, resolution: int, depth: int, kernel: int, expansion: int) -> OfaSubnet:
        """Every stage at ``depth``, every block with ``kernel`` and ``expansion``."""
        slots = SLOTS_PER_STAGE * len(OFA_STAGE_WIDTHS)
        return cls(
            resolution,
            (depth,) * len(OFA_STAGE_WIDTHS),
            (kernel,) * slots,
            (expansion,) * slots,
        )


def _key(op: str, inp: tuple[int, ...], out: tuple[int, ...], **params: int) -> str:
    parts = [op, "input:" + "x".join(map(str, inp)), "output:" + "x".join(map(str, out))]
    return "-".join(parts + [f"{name}:{value}" for name, value in params.items()])


def _block_key(
    size: int,
    cin: int,
    out: int,
    cout: int,
    mid: int,
    kernel: int,
    stride: int,
    skip: bool,
    se: bool,
    hswish: bool,
) -> str:
    return _key(
        "expanded_conv",
        (size, size, cin),
        (out, out, cout),
        expand=mid,
        kernel=kernel,
        stride=stride,
        idskip=int(skip),
        se=int(se),
        hs=int(hswish),
    )


def ofa_keys(subnet: OfaSubnet) -> list[str]:
    """The lookup-table keys OFA's estimator sums for ``subnet``, in network order."""
    size = (subnet.resolution + 1) // 2
    keys = [
        _key("Conv", (subnet.resolution, subnet.resolution, 3), (size, size, OFA_STEM_WIDTH)),
        # OFA's first block: no expansion (its middle width is its input width), ReLU, no SE.
        _block_key(
            size, OFA_STEM_WIDTH, size, OFA_STEM_WIDTH, OFA_STEM_WIDTH, 3, 1, True, False, False
        ),
    ]
    channels = OFA_STEM_WIDTH
    for stage, width in enumerate(OFA_STAGE_WIDTHS):
        for slot in range(subnet.depths[stage]):
            index = SLOTS_PER_STAGE * stage + slot
            stride = OFA_STAGE_STRIDES[stage] if slot == 0 else 1
            out = (size - 1) // stride + 1
            keys.append(
                _block_key(
                    size,
                    channels,
                    out,
                    width,
                    round(channels * subnet.expansions[index]),
                    subnet.kernels[index],
                    stride,
                    slot != 0,
                    OFA_STAGE_SE[stage],
                    OFA_STAGE_HSWISH[stage],
                )
            )
            size, channels = out, width
    keys += [
        _key("Conv_1", (size, size, channels), (size, size, OFA_FINAL_EXPAND)),
        _key("AvgPool2D", (size, size, OFA_FINAL_EXPAND), (1, 1, OFA_FINAL_EXPAND)),
        _key("Conv_2", (1, 1, OFA_FINAL_EXPAND), (1, 1, OFA_FEATURE_MIX)),
        _key("Logits", (1, 1, OFA_FEATURE_MIX), (OFA_CLASSES,)),
    ]
    return keys


def ofa_estimate(means: Mapping[str, float], subnet: OfaSubnet) -> float:
    """OFA's predicted latency (ms) of ``subnet`` from one resolution's table of key -> mean."""
    missing = [key for key in ofa_keys(subnet) if key not in means]
    if missing:
        raise ValueError(
            f"the Note10 table for resolution {subnet.resolution} has no entry {missing[0]!r} "
            f"({len(missing)} of the subnet's keys missing)"
        )
    return sum(means[key] for key in ofa_keys(subnet))


def note10_file(resolution: int) -> str:
    """The copied Note10 table of ``resolution``, relative to ``latency/tables/data``."""
    return f"{NOTE10_FOLDER}/{resolution}_lookup_table.yaml"


def load_note10(data_dir: Path) -> dict[int, list[BlockRecord]]:
    """Every resolution's Note10 table (``expand:`` read as the middle channel count)."""
    return {
        resolution: parse_block_table(data_dir / note10_file(resolution), expand="channels")
        for resolution in OFA_RESOLUTIONS
    }


def ofa_arch_string(subnet: OfaSubnet) -> str:
    """``subnet`` in hwnas's architecture string form (one stage per block, as OFA varies them).

    OFA's first block (24 -> 24, no expansion, 3x3, ReLU) is an expansion-1 ``ir`` stage; its
    stem and head use h-swish; h-swish and squeeze-and-excite follow OFA's stage layout.
    """
    tokens = [
        f"stem_r{subnet.resolution}_i3_c{OFA_STEM_WIDTH}_hswish",
        f"ir_r1_k3_s1_e1_c{OFA_STEM_WIDTH}",
    ]
    for stage, width in enumerate(OFA_STAGE_WIDTHS):
        for slot in range(subnet.depths[stage]):
            index = SLOTS_PER_STAGE * stage + slot
            stride = OFA_STAGE_STRIDES[stage] if slot == 0 else 1
            token = f"ir_r1_k{subnet.kernels[index]}_s{stride}_e{subnet.expansions[index]}_c{width}"
            token += "_se" if OFA_STAGE_SE[stage] else ""
            token += "_hswish" if OFA_STAGE_HSWISH[stage] else ""
            tokens.append(token)
    tokens.append(f"head_c{OFA_FINAL_EXPAND}_h{OFA_FEATURE_MIX}_n{OFA_CLASSES}_hswish")
    return ":".join(tokens)
