"""Block-level latency tables: ProxylessNAS / Once-for-All lookup YAML and HW-NAS-Bench FBNet JSON.

These tables time whole blocks (1x1 expand, depthwise, 1x1 project, residual add, and in OFA's
squeeze-and-excite and h-swish). An ``expanded_conv`` entry is one hwnas ``ir`` signature
(`BlockRecord.block_signature`); its op signatures (`BlockRecord.signatures`) check op-level
models, whose block prediction is the sum of its ops.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from latency.signature import Signature

_OFA_KEY = re.compile(
    r"(?P<op>[A-Za-z][A-Za-z0-9_]*?)-input:(?P<ih>\d+)x(?P<iw>\d+)x(?P<ic>\d+)"
    r"-output:(?:(?P<oh>\d+)x(?P<ow>\d+)x)?(?P<oc>\d+)(?P<rest>(?:-[a-z_]+:\d+)*)"
)
_PARAM = re.compile(r"-([a-z_]+):(\d+)")
_FBNET_KEY = re.compile(
    r"(?P<kind>ConvBlock|Skip|ConvNorm|AvgP|FC)"
    r"(?:_H(?P<h>\d+)_W(?P<w>\d+))?_Cin(?P<cin>\d+)_Cout(?P<cout>\d+)"
    r"(?:_exp(?P<exp>\d+))?(?:_kernel(?P<kernel>\d+))?(?:_stride(?P<stride>\d+))?"
    r"(?:_group(?P<group>\d+))?"
)
#: The stem of the ProxylessNAS and OFA networks is a 3x3 conv (their ``first_conv``).
LUT_STEM_KERNEL = 3


@dataclass(frozen=True)
class BlockRecord:
    """One entry of a ProxylessNAS/OFA lookup table (``expanded_conv-input:…`` style key)."""

    key: str
    op: str
    in_h: int
    in_w: int
    in_channels: int
    out_h: int
    out_w: int
    out_channels: int
    params: dict[str, int] = field(hash=False)
    middle_channels: int
    mean_ms: float
    std_ms: float
    count: int

    def signatures(self, activation: str = "relu6", dtype: str = "fp32") -> list[Signature]:
        """The hwnas op signatures this entry is made of; ``ValueError`` for SE/h-swish blocks."""

        def sig(op: str, size: int, cin: int, cout: int, kernel: int, stride: int) -> Signature:
            return Signature(op, size, size, cin, cout, kernel, stride, activation, dtype)

        stride = max(1, self.in_h // self.out_h) if self.out_h else 1
        if self.op == "expanded_conv":
            if self.params.get("se", 0) or self.params.get("hs", 0):
                raise ValueError(
                    f"block {self.key!r} has squeeze-excitation or h-swish, which no hwnas op has"
                )
            kernel = self.params["kernel"]
            stride = self.params["stride"]
            ops = []
            if self.middle_channels != self.in_channels:
                ops.append(
                    sig("pointwise", self.in_h, self.in_channels, self.middle_channels, 1, 1)
                )
            ops.append(
                sig(
                    "depthwise",
                    self.in_h,
                    self.middle_channels,
                    self.middle_channels,
                    kernel,
                    stride,
                )
            )
            ops.append(sig("pointwise", self.out_h, self.middle_channels, self.out_channels, 1, 1))
            return ops
        if self.op == "Conv":
            return [
                sig("stem", self.in_h, self.in_channels, self.out_channels, LUT_STEM_KERNEL, stride)
            ]
        if self.op.startswith("Conv_"):
            return [sig("pointwise", self.in_h, self.in_channels, self.out_channels, 1, 1)]
        if self.op == "Logits":
            return [sig("head", self.in_h, self.in_channels, self.out_channels, self.in_h, 1)]
        raise ValueError(f"lookup-table op {self.op!r} ({self.key!r}) has no hwnas signature")

    def block_signature(self, activation: str, dtype: str = "fp32") -> Signature:
        """This ``expanded_conv`` entry as one hwnas ``ir`` signature.

        ``activation`` is the network's (ReLU6 for ProxylessNAS, ReLU for OFA's early stages);
        a key flagged ``hs:1`` is h-swish.
        """
        if self.op != "expanded_conv":
            raise ValueError(f"entry {self.key!r} is not an inverted-residual block")
        return Signature(
            "ir",
            self.in_h,
            self.in_w,
            self.in_channels,
            self.out_channels,
            self.params["kernel"],
            self.params["stride"],
            "hswish" if self.params.get("hs", 0) else activation,
            dtype,
            mid_channels=self.middle_channels,
            se=bool(self.params.get("se", 0)),
            residual=self.residual,
        )

    @property
    def residual(self) -> bool:
        """Whether the block ends in an identity-shortcut add."""
        return bool(self.params.get("idskip", 0))


Shape = tuple[int, int, int]


def parse_block_key(key: str) -> tuple[str, Shape, Shape, dict[str, int]]:
    """Split ``op-input:HxWxC-output:HxWxC-name:value…`` into op, shapes and parameters."""
    match = _OFA_KEY.fullmatch(key)
    if match is None:
        raise ValueError(
            f"malformed lookup-table key {key!r}: expected "
            "'<op>-input:HxWxC-output:HxWxC[-name:value…]'"
        )
    inp = (int(match["ih"]), int(match["iw"]), int(match["ic"]))
    if match["oh"] is None:
        out = (1, 1, int(match["oc"]))
    else:
        out = (int(match["oh"]), int(match["ow"]), int(match["oc"]))
    params = {name: int(value) for name, value in _PARAM.findall(match["rest"])}
    return match["op"], inp, out, params


def parse_block_table(
    path: str | Path, *, expand: Literal["ratio", "channels"] = "ratio"
) -> list[BlockRecord]:
    """Read a ProxylessNAS (``expand`` is a ratio) or OFA (``expand`` is channels) YAML table."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"lookup table {str(path)!r} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"lookup table {str(path)!r}: expected a mapping of keys to entries")
    records = []
    for key, value in data.items():
        op, inp, out, params = parse_block_key(str(key))
        if not isinstance(value, dict) or "mean" not in value:
            raise ValueError(f"lookup table {str(path)!r}: entry {key!r} has no 'mean'")
        spread = value.get("std")
        if spread is None and "var" in value:
            spread = float(value["var"]) ** 0.5
        middle = inp[2]
        if "expand" in params:
            middle = params["expand"] if expand == "channels" else inp[2] * params["expand"]
        records.append(
            BlockRecord(
                key=str(key),
                op=op,
                in_h=inp[0],
                in_w=inp[1],
                in_channels=inp[2],
                out_h=out[0],
                out_w=out[1],
                out_channels=out[2],
                params=params,
                middle_channels=middle,
                mean_ms=float(value["mean"]),
                std_ms=float(spread or 0.0),
                count=int(value.get("count", 0)),
            )
        )
    return records


@dataclass(frozen=True)
class FbnetRecord:
    """One HW-NAS-Bench FBNet-space entry and its latency per device (ms)."""

    key: str
    kind: str
    h: int
    w: int
    in_channels: int
    out_channels: int
    expand: int
    kernel: int
    stride: int
    group: int
    latency_ms: dict[str, float] = field(hash=False)


def parse_fbnet(path: str | Path) -> list[FbnetRecord]:
    """Read HW-NAS-Bench's FBNet metrics (JSON dump): every key with its per-device latency."""
    path = Path(path)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"FBNet metrics {str(path)!r} are not JSON: {err}") from None
    devices = [k.removesuffix("_latency") for k in data if k.endswith("_latency")]
    if not devices:
        raise ValueError(f"FBNet metrics {str(path)!r} have no '<device>_latency' tables")
    keys = sorted(set().union(*(data[f"{d}_latency"].keys() for d in devices)))
    records = []
    for key in keys:
        match = _FBNET_KEY.fullmatch(key)
        if match is None:
            raise ValueError(f"unknown FBNet key {key!r} in {str(path)!r}")
        fields = match.groupdict()

        def value(name: str, default: int, fields: dict[str, str | None] = fields) -> int:
            text = fields[name]
            return int(text) if text is not None else default

        records.append(
            FbnetRecord(
                key=key,
                kind=match["kind"],
                h=value("h", 1),
                w=value("w", 1),
                in_channels=value("cin", 0),
                out_channels=value("cout", 0),
                expand=value("exp", 1),
                kernel=value("kernel", 1),
                stride=value("stride", 1),
                group=value("group", 1),
                latency_ms={
                    d: float(data[f"{d}_latency"][key])
                    for d in devices
                    if key in data[f"{d}_latency"]
                },
            )
        )
    return records
