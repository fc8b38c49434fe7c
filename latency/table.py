"""Versioned latency lookup tables: per-signature timings, the device and protocol behind them.

File format (JSON, ``schema_version`` 1)::

    {
      "schema_version": 1,
      "device":   {"name": …, "cpu": …, "arch": "x86_64" | "aarch64" | …, "os": …,
                   "runtime": "onnxruntime 1.32.0" | "tflite …", "threads": 1,
                   "execution_provider": "CPUExecutionProvider", …},
      "protocol": {"warmup": …, "runs": …, "overhead": "how the per-call cost was handled", …},
      "network_overhead_ms": 0.0,     # paid once per whole network, added once by `predict`
      "provenance": {…} | null,       # where published measurements came from (source, licence, …)
      "cost_model": {…} | null,       # fitted per op kind, prices signatures with no entry
      "report": {…} | null,           # validation figures that travel with the table
      "entries": {"<signature key>": {"median_ms": …, "mean_ms": …, "std_ms": …, "runs": …,
                                      "source": "measured" | "modelled"}, …}
    }

Entry times are per layer with the per-call overhead already removed, so a network's latency is
``network_overhead_ms + sum(entry.median_ms for each layer)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from latency.files import write_json_atomic
from latency.signature import Signature, arch_signatures
from space import Arch

SCHEMA_VERSION = 1
EntrySource = Literal["measured", "modelled"]
ENTRY_SOURCES: tuple[str, ...] = ("measured", "modelled")


class LatencyModel(Protocol):
    """What the search needs from a latency predictor."""

    def predict(self, arch: Arch) -> float:
        """Predicted latency of one forward pass of ``arch`` at batch 1, in milliseconds."""
        ...


class MissingEntryError(ValueError):
    """A layer signature that the table neither measured nor can model."""


@dataclass(frozen=True)
class Entry:
    """One signature's timing in milliseconds (per-call overhead removed)."""

    median_ms: float
    mean_ms: float
    std_ms: float
    runs: int
    source: EntrySource = "measured"

    def __post_init__(self) -> None:
        for name in ("median_ms", "mean_ms", "std_ms"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"entry {name} must be a finite number, got {value!r}")
        if not isinstance(self.runs, int) or self.runs < 0:
            raise ValueError(f"entry runs must be a non-negative integer, got {self.runs!r}")
        if self.source not in ENTRY_SOURCES:
            raise ValueError(
                f"entry source {self.source!r} is not one of {', '.join(ENTRY_SOURCES)}"
            )


@dataclass
class LatencyTable:
    """A device's per-layer latency table; `predict` sums a network's layers."""

    device: dict[str, Any]
    protocol: dict[str, Any]
    entries: dict[str, Entry] = field(default_factory=dict)
    network_overhead_ms: float = 0.0
    provenance: dict[str, Any] | None = None
    cost_model: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    activation: str = "relu"
    dtype: str = "fp32"

    @property
    def device_name(self) -> str:
        """The device's short name (falls back to its CPU description)."""
        return str(self.device.get("name") or self.device.get("cpu") or "unknown device")

    def lookup(self, signature: Signature) -> float:
        """Milliseconds for one layer: the entry, else the fitted cost model, else an error."""
        entry = self.entries.get(signature.key)
        if entry is not None:
            return entry.median_ms
        if self.cost_model is not None:
            from latency.cost_model import evaluate

            return evaluate(self.cost_model, signature)
        raise MissingEntryError(
            f"no entry for layer signature {signature.key} in the table of device "
            f"{self.device_name!r}: rebuild or extend it with 'hwnas latency build'"
        )

    def predict(self, arch: Arch) -> float:
        """Predicted milliseconds for one forward pass of ``arch`` (batch 1)."""
        total = self.network_overhead_ms
        for signature in arch_signatures(arch, self.activation, self.dtype):
            total += self.lookup(signature)
        return total

    def breakdown(self, arch: Arch) -> list[tuple[Signature, float]]:
        """Each layer's signature and predicted milliseconds, in execution order."""
        return [(s, self.lookup(s)) for s in arch_signatures(arch, self.activation, self.dtype)]

    def missing(self, signatures: list[Signature]) -> list[Signature]:
        """The signatures this table can price neither from an entry nor from its cost model."""
        if self.cost_model is not None:
            return []
        return [s for s in signatures if s.key not in self.entries]

    # -- files --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (see the module docstring)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "device": self.device,
            "protocol": self.protocol,
            "activation": self.activation,
            "dtype": self.dtype,
            "network_overhead_ms": self.network_overhead_ms,
            "provenance": self.provenance,
            "cost_model": self.cost_model,
            "report": self.report,
            "entries": {key: asdict(entry) for key, entry in sorted(self.entries.items())},
        }

    def save(self, path: str | Path) -> None:
        """Write atomically (temporary file, then rename), so a kill never leaves half a table."""
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def from_dict(cls, data: Any, source: str = "table") -> LatencyTable:
        """Validate and build; anything malformed raises ``ValueError`` naming ``source``."""
        if not isinstance(data, dict):
            raise ValueError(f"{source} is not a latency table: expected a JSON object")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"{source} has schema version {version!r}; this hwnas reads version "
                f"{SCHEMA_VERSION}: rebuild it with 'hwnas latency build'"
            )
        for key in ("device", "protocol", "entries"):
            if not isinstance(data.get(key), dict):
                raise ValueError(f"{source} is corrupt: '{key}' must be a JSON object")
        entries = {}
        for key, value in data["entries"].items():
            try:
                Signature.from_key(key)
                entries[key] = Entry(**value)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{source} is corrupt: entry {key!r}: {err}") from None
        overhead = data.get("network_overhead_ms", 0.0)
        if not isinstance(overhead, int | float) or not math.isfinite(overhead):
            raise ValueError(f"{source} is corrupt: network_overhead_ms={overhead!r}")
        return cls(
            device=data["device"],
            protocol=data["protocol"],
            entries=entries,
            network_overhead_ms=float(overhead),
            provenance=data.get("provenance"),
            cost_model=data.get("cost_model"),
            report=data.get("report"),
            activation=data.get("activation", "relu"),
            dtype=data.get("dtype", "fp32"),
        )

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        """Read a table file; a missing, corrupt or other-version file raises ``ValueError``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"latency table {str(path)!r} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"latency table {str(path)!r} is corrupt (not JSON: {err})") from None
        return cls.from_dict(data, source=f"latency table {str(path)!r}")
