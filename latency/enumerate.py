"""Every distinct signature a search space can produce, derived from its choices.

The walk goes stage by stage: the set of (input size, input width) that can reach a stage is the
product of the earlier choices. Blocks are built with `space.layers`' own block builders and keyed
with `latency.signature.block_signatures`, the functions that walk and key whole networks, so the
enumeration cannot drift from what a network of the space is priced with.
"""

from __future__ import annotations

from latency.signature import Signature, block_signatures
from space import SearchSpace, Stage
from space.layers import conv_out_size, head_block, stage_block, stem_block


def space_signatures(
    space: SearchSpace, activation: str = "relu", dtype: str = "fp32"
) -> list[Signature]:
    """Sorted distinct signatures over all architectures of ``space`` (exact, not a superset).

    ``activation``: what plain ReLU layers are priced as (`latency.signature.arch_signatures`).
    """
    found: set[Signature] = set()
    # (spatial size, channels) pairs that can enter the next stage.
    states: set[tuple[int, int]] = set()
    for resolution in space.resolutions:
        for width in space.stem_widths():
            for act in space.stem.activations:
                stem = stem_block(resolution, space.in_channels, width, space.stem.stride, act)
                found.update(block_signatures(stem, activation, dtype))
                states.add((stem.out_size, width))
    for index, choices in enumerate(space.stages):
        widths = space.stage_widths(index)
        stages = [
            Stage(width, 1, kernel, choices.stride, block, expansion, se, act)
            for width in widths
            for kernel in choices.kernels
            for block, expansion, se in choices.variants()
            for act in choices.activations
        ]
        out_sizes = {conv_out_size(size, choices.stride) for size, _ in states}
        for size, channels in states:
            for stage in stages:
                block = stage_block(stage, "first", size, channels, choices.stride)
                found.update(block_signatures(block, activation, dtype))
        if max(choices.depths) > 1:
            # Later blocks: stride 1, the stage's own width in and out.
            for size in out_sizes:
                for stage in stages:
                    block = stage_block(stage, "later", size, stage.width, 1)
                    found.update(block_signatures(block, activation, dtype))
        states = {(size, width) for size in out_sizes for width in widths}
    head = space.head
    optional: tuple[int | None, ...] = (None,)
    for size, channels in states:
        for head_width in head.widths or optional:
            for hidden in head.hidden or optional:
                for act in head.activations:
                    block = head_block(size, channels, space.num_classes, head_width, hidden, act)
                    found.update(block_signatures(block, activation, dtype))
    return sorted(found)
