"""Test helpers for latency tables: a fake measurer (a device with a per-call cost and layout
reorders), a tiny space config and quick timing options for the CLI."""

from __future__ import annotations

from typing import Any, ClassVar

from latency.signature import Signature, arch_signatures
from space import Arch

TINY_TOML = """\
resolutions = [32]
width_multipliers = [0.25, 0.5]
kernels = [3]
in_channels = 1
num_classes = 10
depths = [[1], [1], [1], [1, 2], [1]]
"""

QUICK = ["--warmup", "1", "--min-runs", "3", "--max-runs", "5", "--budget-s", "0.001"]


def true_ms(signature: Signature) -> float:
    """A fake layer cost: 1 ns per multiply-add plus 2 us."""
    return signature.macs * 1e-6 + 0.002


class FakeMeasurer:
    """Raw timings as a device with a per-call cost and layout reorders would give them."""

    timing: ClassVar[dict[str, Any]] = {"warmup": 0, "min_runs": 1, "max_runs": 1, "budget_s": 0.0}
    call_ms = 0.01
    reorder_handling = "probed: fake reorder pairs"

    # A layer inside a whole network runs this much slower than alone (what calibration finds).
    in_network_factor = 1.05

    def __init__(self, fail_after: int | None = None) -> None:
        self.layers: list[str] = []
        self.calls: list[str] = []  # "layer" / "network", in the order measured
        self.reorders: list[tuple[int, ...]] = []
        self.fail_after = fail_after

    @staticmethod
    def pair_ms(shape: tuple[int, ...]) -> float:
        """Reorder pair cost of a tensor: 1 us per 1000 elements."""
        count = 1
        for d in shape:
            count *= d
        return count * 1e-6

    def call_overhead(self) -> dict[str, Any]:
        return _timing(self.call_ms)

    def reorder(self, shape: tuple[int, ...]) -> dict[str, Any]:
        self.reorders.append(shape)
        return _timing(self.call_ms + self.pair_ms(shape))

    def layer(self, signature: Signature) -> dict[str, Any]:
        from latency.profile import reorder_sides

        if self.fail_after is not None and len(self.layers) >= self.fail_after:
            raise KeyboardInterrupt
        self.layers.append(signature.key)
        self.calls.append("layer")
        # A single-layer model reorders its input into the blocked layout (30 % of the pair) and
        # its output back (70 %); a network pays both once per intermediate tensor.
        before, after = reorder_sides(signature)
        total = true_ms(signature) + self.call_ms
        total += 0.3 * self.pair_ms(before) if before is not None else 0.0
        total += 0.7 * self.pair_ms(after) if after is not None else 0.0
        return _timing(total)

    def network(
        self, arch: Arch, activation: str = "relu", budget_s: float = 1.0
    ) -> dict[str, Any]:
        """A whole network: its layers, each `in_network_factor` slower, and one call cost."""
        self.calls.append("network")
        layers = sum(true_ms(s) for s in arch_signatures(arch, activation))
        return _timing(self.call_ms + self.in_network_factor * layers)


def _timing(ms: float) -> dict[str, Any]:
    return {"median_ms": ms, "mean_ms": ms, "std_ms": 0.0, "runs": 1}
