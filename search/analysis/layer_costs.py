"""Per-layer costs of a network on a latency table, with their roofline coordinates.

Each layer's predicted milliseconds come from the table; its multiply-adds and the bytes it must
at least move give its arithmetic intensity (MACs per byte) and the throughput it achieves
(GMAC/s). Depthwise layers do k*k MACs per output value against pointwise layers' C_in, so their
intensity is one to two orders of magnitude lower; on a CPU that leaves them bound by memory
traffic, which is why they take a far larger share of the time than of the MACs.
"""

from __future__ import annotations

from dataclasses import dataclass

from latency.table import LatencyTable
from space import Arch, layers


class _Roofline:
    """Roofline coordinates of anything with ``macs``, ``bytes_moved`` and predicted ``ms``."""

    macs: int
    bytes_moved: int
    ms: float

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: multiply-adds per byte moved (inputs, outputs, weights)."""
        return self.macs / self.bytes_moved if self.bytes_moved else 0.0

    @property
    def gmacs_per_s(self) -> float:
        """Achieved throughput: MACs over the predicted time, in GMAC/s."""
        return self.macs / (self.ms * 1e6) if self.ms > 0 else 0.0


@dataclass(frozen=True)
class LayerCost(_Roofline):
    """One layer of a network with its predicted time and its roofline coordinates."""

    index: int
    name: str
    op: str
    signature: str
    macs: int
    bytes_moved: int
    ms: float


@dataclass(frozen=True)
class OpSummary(_Roofline):
    """The layers of one op kind taken together."""

    op: str
    layers: int
    ms: float
    macs: int
    bytes_moved: int
    time_share: float
    mac_share: float


def layer_costs(arch: Arch, table: LatencyTable) -> list[LayerCost]:
    """Each layer's predicted time on ``table``'s device, with its MACs and bytes moved."""
    breakdown = table.breakdown(arch)
    walk = layers(arch)
    if len(breakdown) != len(walk):
        raise ValueError(
            f"the latency table priced {len(breakdown)} layers of {arch.to_str()!r} "
            f"but the network has {len(walk)}"
        )
    return [
        LayerCost(
            index=i,
            name=layer.name,
            op=signature.op,
            signature=signature.key,
            macs=signature.macs,
            bytes_moved=signature.bytes_moved,
            ms=float(ms),
        )
        for i, (layer, (signature, ms)) in enumerate(zip(walk, breakdown, strict=True))
    ]


def op_summaries(costs: list[LayerCost]) -> list[OpSummary]:
    """Totals per op kind, in the order stem, depthwise, pointwise, head."""
    total_ms = sum(c.ms for c in costs) or 1.0
    total_macs = sum(c.macs for c in costs) or 1
    result = []
    for op in ("stem", "depthwise", "pointwise", "head"):
        group = [c for c in costs if c.op == op]
        if not group:
            continue
        ms = sum(c.ms for c in group)
        macs = sum(c.macs for c in group)
        result.append(
            OpSummary(
                op=op,
                layers=len(group),
                ms=ms,
                macs=macs,
                bytes_moved=sum(c.bytes_moved for c in group),
                time_share=ms / total_ms,
                mac_share=macs / total_macs,
            )
        )
    return result
