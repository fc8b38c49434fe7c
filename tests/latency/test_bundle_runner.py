"""The bundle runner on boards: CPU names from /proc/cpuinfo, held I/O buffers, old runtimes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latency import bundle_runner as runner
from latency.onnx_graphs import call_model

REPO = Path(__file__).resolve().parents[2]


def arm_cpuinfo(parts: list[tuple[int, int]], machine: str = "") -> str:
    """An arm64 /proc/cpuinfo in the kernel's layout: one block per processor, then ``machine``."""
    blocks = [
        f"processor\t: {number}\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd evtstrm aes pmull sha1 "
        f"sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
        f"CPU implementer\t: {implementer:#04x}\nCPU architecture: 8\nCPU variant\t: 0x1\n"
        f"CPU part\t: {part:#05x}\nCPU revision\t: 0\n"
        for number, (implementer, part) in enumerate(parts)
    ]
    return "\n".join(blocks) + ("\n" + machine if machine else "")


RASPBERRY_PI_4 = arm_cpuinfo(
    [(0x41, 0xD08)] * 4,
    "Hardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 10000000a1b2c3d4\n"
    "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n",
)
GRAVITON_2 = arm_cpuinfo([(0x41, 0xD0C)] * 2)
# Snapdragon 888: four Cortex-A55, three Cortex-A78 and one Cortex-X1.
SNAPDRAGON_888 = arm_cpuinfo(
    [(0x41, 0xD05)] * 4 + [(0x41, 0xD41)] * 3 + [(0x41, 0xD44)],
    "Hardware\t: Qualcomm Technologies, Inc SM8350\n",
)
# Snapdragon 855: Qualcomm's own part numbers (implementer 0x51).
SNAPDRAGON_855 = arm_cpuinfo([(0x51, 0x805)] * 4 + [(0x51, 0x804)] * 4)
UNKNOWN_PART = arm_cpuinfo([(0x41, 0xD99), (0x99, 0x001)])
X86 = "".join(
    f"processor\t: {number}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
    f"model name\t: Intel(R) Xeon(R) Processor\nstepping\t: 7\ncpu MHz\t\t: 2200.152\n"
    f"cache size\t: 39424 KB\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr\n\n"
    for number in range(2)
)


@pytest.mark.parametrize(
    ("cpuinfo", "cpu", "cores", "board"),
    [
        (
            RASPBERRY_PI_4,
            "Cortex-A72",
            [("Cortex-A72", [0, 1, 2, 3])],
            "Raspberry Pi 4 Model B Rev 1.4",
        ),
        (GRAVITON_2, "Neoverse-N1", [("Neoverse-N1", [0, 1])], None),
        (
            SNAPDRAGON_888,
            "Cortex-A55 + Cortex-A78 + Cortex-X1",
            [("Cortex-A55", [0, 1, 2, 3]), ("Cortex-A78", [4, 5, 6]), ("Cortex-X1", [7])],
            "Qualcomm Technologies, Inc SM8350",
        ),
        (
            SNAPDRAGON_855,
            "Kryo-4XX-Silver + Kryo-4XX-Gold",
            [("Kryo-4XX-Silver", [0, 1, 2, 3]), ("Kryo-4XX-Gold", [4, 5, 6, 7])],
            None,
        ),
        (
            UNKNOWN_PART,
            "ARM part 0xd99 + implementer 0x99 part 0x001",
            [("ARM part 0xd99", [0]), ("implementer 0x99 part 0x001", [1])],
            None,
        ),
        (X86, "Intel(R) Xeon(R) Processor", [("Intel(R) Xeon(R) Processor", [0, 1])], None),
    ],
    ids=["raspberry-pi-4", "graviton-2", "snapdragon-888", "snapdragon-855", "unknown", "x86"],
)
def test_cpu_from_recorded_cpuinfo(
    cpuinfo: str, cpu: str, cores: list[tuple[str, list[int]]], board: str | None
) -> None:
    assert runner.cpu_model(cpuinfo, allowed=range(8)) == cpu
    assert runner.cpu_cores(cpuinfo) == cores
    assert runner.board_model(cpuinfo) == board


@pytest.mark.parametrize(
    ("cpuinfo", "prefix", "name"),
    [
        (RASPBERRY_PI_4, "aarch64", "aarch64-cortex-a72-1t"),
        (GRAVITON_2, "aarch64", "aarch64-neoverse-n1-1t"),
        (SNAPDRAGON_888, "aarch64", "aarch64-cortex-a55-cortex-a78-cortex-x1-1t"),
        (UNKNOWN_PART, "aarch64", "aarch64-arm-part-0xd99-implementer-0x99-part-0x001-1t"),
        # As before the ARM decoding: the committed example run's table keeps its name.
        (X86, "local", "local-intel-xeon-1t"),
    ],
)
def test_device_names_say_which_cores(cpuinfo: str, prefix: str, name: str) -> None:
    device = runner.describe_device(1, prefix=prefix, cpuinfo=cpuinfo, allowed=range(8))
    assert device["name"] == name


def test_big_little_device_says_which_cores_ran() -> None:
    everywhere = runner.describe_device(
        1, prefix="aarch64", cpuinfo=SNAPDRAGON_888, allowed=range(8)
    )
    assert everywhere["cores"] == "Cortex-A55 on cpu0-3, Cortex-A78 on cpu4-6, Cortex-X1 on cpu7"
    assert everywhere["affinity"] == "cpu0-7"
    assert everywhere["board"] == "Qualcomm Technologies, Inc SM8350"
    # Pinned to the big cores (taskset -c 4-7), the table names only those.
    big = runner.describe_device(1, prefix="aarch64", cpuinfo=SNAPDRAGON_888, allowed={4, 5, 6, 7})
    assert big["name"] == "aarch64-cortex-a78-cortex-x1-1t"
    assert big["cpu"] == "Cortex-A78 + Cortex-X1" and big["affinity"] == "cpu4-7"
    assert big["cores"] == everywhere["cores"]
    prime = runner.describe_device(1, prefix="aarch64", cpuinfo=SNAPDRAGON_888, allowed={7})
    assert prime["name"] == "aarch64-cortex-x1-1t"


def test_cpu_list_compresses_ranges() -> None:
    assert runner.cpu_list([0, 1, 2, 3]) == "cpu0-3"
    assert runner.cpu_list([6, 0, 2, 1]) == "cpu0-2,6"
    assert runner.cpu_list([5]) == "cpu5"


def test_cpu_model_without_per_processor_names_falls_back_to_the_board() -> None:
    old_arm = "Processor\t: ARMv6-compatible processor rev 7 (v6l)\nHardware\t: BCM2708\n"
    assert runner.cpu_model(old_arm, allowed=[0]) == "BCM2708"


def test_bound_buffers_are_the_ones_the_runtime_uses() -> None:
    session = runner.open_session(call_model().SerializeToString(), 1)
    io = runner.bind_io(session, [1, 1, 1, 1])
    session.run_with_iobinding(io.binding)
    # The call model is a Relu: the held output array is where the runtime wrote its result.
    np.testing.assert_array_equal(io.output, np.maximum(io.input, 0.0))
    assert io.values[0].numpy().tobytes() == io.input.tobytes()
    io.input[...] = 0.5
    session.run_with_iobinding(io.binding)
    np.testing.assert_array_equal(io.output, [[[[0.5]]]])


@pytest.mark.parametrize(
    ("python", "onnxruntime", "problem"),
    [
        ((3, 9, 2), "1.16.0", None),
        ((3, 13, 1), "1.32.0", None),
        ((3, 11, 2), "1.17.0+cpu", None),
        ((3, 8, 10), "1.16.0", "Python 3.8.10 is too old: the bundle needs Python 3.9+"),
        (
            (3, 11, 2),
            "1.15.1",
            "onnxruntime 1.15.1 is too old: the bundle needs onnxruntime 1.16.0+ "
            "(python3 -m pip install 'onnxruntime>=1.16.0')",
        ),
        (
            (3, 11, 2),
            None,
            "onnxruntime is not installed: python3 -m pip install numpy onnxruntime",
        ),
    ],
)
def test_runtime_problem_names_the_version_and_the_minimum(
    python: tuple[int, ...], onnxruntime: str | None, problem: str | None
) -> None:
    assert runner.runtime_problem(python, onnxruntime) == problem


def _python39_check(path: Path) -> subprocess.CompletedProcess[str]:
    vermin = Path(sys.executable).parent / "vermin"
    return subprocess.run(
        [str(vermin), "--config-file", str(REPO / ".ci" / "vermin.ini"), str(path)],
        capture_output=True,
        text=True,
    )


def test_the_runner_passes_ci_python39_check_which_catches_newer_apis(tmp_path: Path) -> None:
    runner_file = REPO / "latency" / "bundle_runner.py"
    assert _python39_check(runner_file).returncode == 0
    # The check .ci/test runs is not vacuous: the zip(strict=) that failed on boards fails it.
    newer = tmp_path / "run.py"
    newer.write_text(runner_file.read_text() + "\npairs = list(zip([1], [2], strict=True))\n")
    result = _python39_check(newer)
    assert result.returncode != 0 and "'zip(strict)' requires !2, 3.10" in result.stdout
