"""Every distinct layer signature a search space can produce, derived from its choices.

The walk mirrors `space.layers` stage by stage: the set of (input size, input channels) reaching a
stage is the product of the earlier choices, and the widths come from `SearchSpace.stem_widths` /
`SearchSpace.stage_widths`, i.e. from the one channel-rounding rule, so keys cannot drift.
"""

from __future__ import annotations

from latency.signature import Signature
from space import SearchSpace
from space.arch import STEM_KERNEL
from space.layers import conv_out_size


def space_signatures(
    space: SearchSpace, activation: str = "relu", dtype: str = "fp32"
) -> list[Signature]:
    """Sorted distinct signatures over all architectures of ``space`` (exact, not a superset)."""
    found: set[Signature] = set()

    def add(op: str, size: int, cin: int, cout: int, kernel: int, stride: int) -> None:
        found.add(Signature(op, size, size, cin, cout, kernel, stride, activation, dtype))

    # (spatial size, channels) pairs that can enter the next stage.
    states: set[tuple[int, int]] = set()
    stem_stride = space.stem.stride
    for resolution in space.resolutions:
        size = conv_out_size(resolution, stem_stride)
        for width in space.stem_widths():
            add("stem", resolution, space.in_channels, width, STEM_KERNEL, stem_stride)
            states.add((size, width))
    for stage, choices in enumerate(space.stages):
        stride = choices.stride
        widths = space.stage_widths(stage)
        repeats = max(choices.depths) > 1
        out_sizes = set()
        for size, channels in states:
            out = conv_out_size(size, stride)
            out_sizes.add(out)
            for kernel in choices.kernels:
                add("depthwise", size, channels, channels, kernel, stride)
            for width in widths:
                add("pointwise", out, channels, width, 1, 1)
        if repeats:
            for out in out_sizes:
                for width in widths:
                    for kernel in choices.kernels:
                        add("depthwise", out, width, width, kernel, 1)
                    add("pointwise", out, width, width, 1, 1)
        states = {(out, width) for out in out_sizes for width in widths}
    for size, channels in states:
        add("head", size, channels, space.num_classes, size, 1)
    return sorted(found)
