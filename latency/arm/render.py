"""Plain-text and Markdown views of a shipped table (drawn from its data, never recomputed)."""

from __future__ import annotations

from typing import Any

from latency.table import LatencyTable

REPLACE_IT = (
    "For any other board, runtime, thread count or dtype, measure your own: `hwnas latency "
    "bundle` -> run the bundle on the board -> `hwnas latency import`, or profile your exported "
    "network with TFLite's `benchmark_model --enable_op_profiling=true` and import it with "
    "`hwnas latency import FILE --format tflite-profile --arch ARCH`."
)


def coverage_lines(table: LatencyTable) -> list[str]:
    """How many signatures of each preset and task the table holds, and how many are measured."""
    return [
        f"preset {item['preset']}, {item['in_channels']} channel(s) / {item['num_classes']} "
        f"classes: {item['signatures']} signatures, {item['measured']} measured"
        for item in (table.provenance or {}).get("coverage", [])
    ]


def summary_line(name: str, item: dict[str, Any]) -> str:
    """One line of an error summary (|error| %)."""
    return (
        f"  {name:9s} n={item['n']:4d}  median {item['median_abs_pct']:6.2f}  "
        f"max {item['max_abs_pct']:6.2f}  median bias {item['median_bias_pct']:+6.2f}"
    )


def render_markdown(
    table: LatencyTable, *, what: str, report: str, cannot_know: list[str], trust: str
) -> str:
    """The ``latency/tables/<name>.md`` that travels with a shipped table."""
    device = table.device
    sources = (table.provenance or {}).get("sources", [])
    measured = sum(e.source == "measured" for e in table.entries.values())
    threads = device.get("threads")
    lines = [
        f"# {table.device_name}",
        "",
        f"**Device**: {device.get('cpu')}. **Runtime**: {device.get('runtime')}, "
        f"{f'{threads} thread' if threads else 'threads not stated'}, batch {device.get('batch')}.",
        "",
        f"{len(table.entries)} entries: {measured} `measured`, the rest `modelled`. {what} The "
        "stored `cost_model` prices any other signature, so the table works for any task or "
        "space config.",
        "",
        "Rebuild: `python -m latency.arm.build_tables` (from the copied sources below).",
        "",
        "## Sources",
        "",
    ]
    for source in sources:
        lines.append(
            f"- `{source['file']}`: {source['repo']} : {source['path']} @ {source['commit']} "
            f"({source['licence']}). {source['what']}."
        )
    fitted_on = (table.cost_model or {}).get("fitted_on", {})
    lines += ["", "## How modelled entries are priced", ""]
    lines += [f"- **{kind}**: {text}." for kind, text in fitted_on.items()]
    lines += [
        "",
        "## Validation",
        "",
        "```",
        report,
        "```",
        "",
        "## What the model cannot know",
        "",
    ]
    lines += [f"- {item}" for item in cannot_know]
    lines += ["", "## When to trust it, and how to replace it", "", f"{trust} {REPLACE_IT}", ""]
    return "\n".join(lines)
