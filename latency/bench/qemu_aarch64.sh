#!/usr/bin/env bash
# Run an hwnas latency bundle in an emulated aarch64 Debian userland, as on an ARM board.
#
# For maintainers, not CI: it needs root, qemu-user-static, binfmt_misc, debootstrap, a Debian
# mirror and PyPI, and takes about 10 minutes for a first rootfs.
#
# What it shows: whether a bundle's run.py runs to completion on a Debian release's own Python
# (bookworm: 3.11, bullseye: 3.9, what Raspberry Pi OS 11 is built on) with the onnxruntime pip
# picks there or the one asked for; whether a second run resumes without changing the table; and
# whether hwnas imports the result. It reproduced the runner's crash on onnxruntime 1.19
# (bullseye, before the binding fix) and the zip(strict=) failure on Python 3.9
# (results/latency/qemu_aarch64.txt).
#
# What it cannot show: anything about time. qemu-user translates every aarch64 instruction, so
# the table's figures say nothing about any ARM core; never use such a table for a search. It is
# named qemu-aarch64-<suite>-ort<version>, not after a core: the rootfs is shown a Raspberry
# Pi 4's core type (Cortex-A72) so that the device description runs as on a board, and its
# "board" field says it was emulated. Nor does it show what emulation hides: memory ordering,
# the SIMD kernels onnxruntime picks for a real core's features.
#
# Usage (from the repository root, as root):
#   latency/bench/qemu_aarch64.sh [--suite bookworm|bullseye] [--onnxruntime VERSION]
#                                 [--runner FILE] [--work DIR] BUNDLE
#   BUNDLE    a folder written by 'hwnas latency bundle' (copied; never changed)
#   --runner  run this file as run.py instead of the bundle's own (e.g. an older runner)
#   --work    where rootfs, wheels and results are kept (default /var/tmp/hwnas-qemu-aarch64)
# Setup on Debian/Ubuntu: apt-get install qemu-user-static binfmt-support debootstrap
# Example, a calibrated bundle of a small space (a few dozen layers; minutes under emulation):
#   .venv/bin/hwnas latency bundle --out /tmp/bundle --config small.toml --calibrate 4 \
#     --min-runs 3 --max-runs 5 --budget-s 0.001
#   latency/bench/qemu_aarch64.sh --suite bullseye /tmp/bundle
set -euo pipefail

suite=bookworm
onnxruntime=
runner=
work=/var/tmp/hwnas-qemu-aarch64
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
usage="usage: $0 [--suite bookworm|bullseye] [--onnxruntime VERSION] [--runner FILE] [--work DIR] BUNDLE"
die() { echo "qemu_aarch64: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?$usage}; shift 2 ;;
    --onnxruntime) onnxruntime=${2:?$usage}; shift 2 ;;
    --runner) runner=${2:?$usage}; shift 2 ;;
    --work) work=${2:?$usage}; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    -*) die "unknown option '$1': $usage" ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || die "$usage"
bundle=$(realpath "$1")
if [ ! -f "$bundle/manifest.json" ] || [ ! -f "$bundle/run.py" ]; then
  die "'$1' is not a bundle folder (no manifest.json and run.py): make one with 'hwnas latency bundle'"
fi
[ -z "$runner" ] || [ -f "$runner" ] || die "--runner '$runner' is not a file"
case "$suite" in bookworm|bullseye) ;; *) die "--suite '$suite': expected bookworm or bullseye" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
for tool in qemu-aarch64-static debootstrap update-binfmts; do
  command -v "$tool" >/dev/null || die "'$tool' not found: apt-get install qemu-user-static binfmt-support debootstrap"
done
python3 -m pip --version >/dev/null 2>&1 || die "the host's python3 has no pip (it fetches the wheels)"
# The kernel must hand aarch64 binaries to qemu (binfmt_misc), or nothing in the rootfs runs.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 || die "cannot register qemu-aarch64 with binfmt_misc"
fi

root=$work/rootfs-$suite
mkdir -p "$work"
if [ ! -e "$root/.hwnas-ready" ]; then
  echo "qemu_aarch64: debootstrap $suite arm64 into $root (about 10 minutes)"
  rm -rf "$root"
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$root" "$mirror"
  touch "$root/.hwnas-ready"
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || true; done
}
trap cleanup EXIT
# qemu-user shows the host's /proc/cpuinfo, and onnxruntime's CPU probe, finding no ARM core
# there, crashes (1.32 with /sys mounted, 1.19 without). So the rootfs sees a Cortex-A72 (as on
# a Raspberry Pi 4) per host processor, and a Model line that says it is emulated.
cpuinfo=$work/cpuinfo-emulated
: > "$cpuinfo"
for ((cpu = 0; cpu < $(nproc --all); cpu++)); do
  printf '%s\n' "processor	: $cpu" "BogoMIPS	: 108.00" "Features	: fp asimd evtstrm crc32 cpuid" \
    "CPU implementer	: 0x41" "CPU architecture: 8" "CPU variant	: 0x0" "CPU part	: 0xd08" \
    "CPU revision	: 3" "" >> "$cpuinfo"
done
echo "Model		: QEMU user-mode emulation, not a board" >> "$cpuinfo"
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --bind "$cpuinfo" "$root/proc/cpuinfo" && mounted+=("$root/proc/cpuinfo")
mount -t sysfs sysfs "$root/sys" && mounted+=("$root/sys")
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$@"; }

python_version=$(in_root python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
glibc_minor=$(in_root python3 -c 'import platform; print(platform.libc_ver()[1].split(".")[1])')
# Wheels are fetched on the host, which reaches PyPI as the user set it up, for the rootfs's
# Python and glibc, then installed in the rootfs without network.
ort_requirement=onnxruntime${onnxruntime:+==$onnxruntime}
numpy_requirement=numpy
if [ -n "$onnxruntime" ] && [ "$(printf '%s\n' "$onnxruntime" 1.19 | sort -V | sed -n 1p)" != 1.19 ]; then
  numpy_requirement='numpy<2'  # onnxruntime before 1.19 was built against numpy 1
fi
platforms=(--platform manylinux2014_aarch64)
for minor in $(seq 17 "$glibc_minor"); do platforms+=(--platform "manylinux_2_${minor}_aarch64"); done
tag=py$python_version-${onnxruntime:-latest}
wheels=$work/wheels-$tag
rm -rf "$wheels" && mkdir -p "$wheels"
python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
  --python-version "$python_version" "${platforms[@]}" -d "$wheels" \
  "$numpy_requirement" "$ort_requirement"
rm -rf "$root/opt/wheels" "$root/opt/venv" && cp -r "$wheels" "$root/opt/wheels"
in_root python3 -m venv /opt/venv
in_root /opt/venv/bin/pip install --quiet --no-index --find-links /opt/wheels \
  "$numpy_requirement" "$ort_requirement"
ort_version=$(in_root /opt/venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)')
name=qemu-aarch64-$suite-ort$ort_version
echo "qemu_aarch64: $suite arm64, Python $(in_root python3 -c 'import platform; print(platform.python_version())'), onnxruntime $ort_version"

rm -rf "$root/bundle" && cp -r "$bundle" "$root/bundle"
[ -z "$runner" ] || cp "$runner" "$root/bundle/run.py"
run() { in_root sh -c "cd /bundle && /opt/venv/bin/python run.py --threads 1 --quiet --name $name"; }
start=$(date +%s)
status=0
run || status=$?
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 139 ] && echo "qemu_aarch64: run.py crashed with a segmentation fault" >&2
  echo "qemu_aarch64: FAILED: run.py exited $status on $suite, onnxruntime $ort_version" >&2
  exit 1
fi
echo "qemu_aarch64: first run took $(( $(date +%s) - start )) s (emulated: not a timing)"
table=$root/bundle/table-1t.json
before=$(sha256sum < "$table")
run
[ "$(sha256sum < "$table")" = "$before" ] \
  || { echo "qemu_aarch64: FAILED: a second run changed the finished table" >&2; exit 1; }
out=$work/table-$tag.json
cp "$table" "$out"
echo "qemu_aarch64: resumed without changes; table in $out"
python3 - "$out" <<'PY'
import json, sys
table = json.load(open(sys.argv[1]))
device, fit = table["device"], table["protocol"].get("calibration")
print(f"qemu_aarch64: {len(table['entries'])} entries, device {device['name']!r}: "
      f"cpu {device['cpu']!r}, board {device.get('board')!r}, Python {device['python']}, "
      f"{device['runtime']}, " + (f"calibrated on {fit['networks']} networks" if fit else "not calibrated"))
PY
hwnas=$(command -v hwnas || echo "$(dirname "$0")/../../.venv/bin/hwnas")
if [ -x "$hwnas" ]; then
  # Into a throwaway HWNAS_HOME: an emulated table must never land among real ones.
  HWNAS_HOME=$work/home "$hwnas" latency import "$out" --name "$name"
fi
echo "qemu_aarch64: OK: $suite arm64, Python $python_version, onnxruntime $ort_version"
