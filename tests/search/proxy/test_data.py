"""Proxy data: IDX, CIFAR-10 and ImageFolder loaders on small files written here, the synthetic
set, the train/validation split, and the real Fashion-MNIST when it is installed."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.proxy.data import (
    DATASETS,
    DEFAULT_FASHION_MNIST_DIR,
    FASHION_MNIST_CLASSES,
    Dataset,
    load_dataset,
    read_idx,
    synthetic_dataset,
    train_val_split,
)

# -- IDX (Fashion-MNIST) -------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def tiny_fashion(
    directory: Path, *, compress: bool = True, n_train: int = 12, n_test: int = 5
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 6, 6)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 6, 6)),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10,
    }
    for name, array in arrays.items():
        write_idx(directory / name, array, compress)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_reads_idx_files(tmp_path: Path, compress: bool) -> None:
    arrays = tiny_fashion(tmp_path, compress=compress)
    data = load_dataset("fashion-mnist", tmp_path)
    assert data.name == "fashion-mnist"
    assert data.train_images.shape == (12, 1, 6, 6) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (5, 1, 6, 6)
    assert data.train_labels.dtype == np.int64
    np.testing.assert_array_equal(data.train_images[:, 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert data.classes == FASHION_MNIST_CLASSES
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 1, 6)
    assert data.describe() == "fashion-mnist: 12 train / 5 test images of 1x6x6, 10 classes"


def test_fashion_mnist_resized(tmp_path: Path) -> None:
    tiny_fashion(tmp_path)
    data = load_dataset("fashion-mnist", str(tmp_path), image_size=9)
    assert data.train_images.shape == (12, 1, 9, 9)
    assert data.test_images.shape == (5, 1, 9, 9)
    # A constant image stays constant when resized.
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.full((5, 6, 6), 77))
    assert set(np.unique(load_dataset("fashion-mnist", tmp_path, image_size=3).test_images)) == {77}


def test_missing_fashion_mnist_says_where_it_looked_and_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        load_dataset("fashion-mnist", tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "sudo apt-get install -y dataset-fashion-mnist" in message
    assert "--data-dir DIR" in message
    assert "train-images-idx3-ubyte[.gz]" in message


def test_one_missing_idx_file_is_named(tmp_path: Path) -> None:
    tiny_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match=r"no t10k-labels-idx1-ubyte\[\.gz\] in"):
        load_dataset("fashion-mnist", tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("train-images-idx3-ubyte.gz", b"not gzip at all", "cannot read IDX file"),
        ("train-images-idx3-ubyte.gz", gzip.compress(b"\x00\x00"), "only 2 bytes"),
        (
            "train-images-idx3-ubyte.gz",
            gzip.compress(b"\x00\x00\x0d\x03" + bytes(12)),
            "magic number 0x00000d03",
        ),
        (
            "train-images-idx3-ubyte.gz",
            gzip.compress(idx_bytes(np.zeros((12, 6, 6)))[:-7]),
            "is corrupt: header says shape (12, 6, 6)",
        ),
        ("train-images-idx3-ubyte.gz", gzip.compress(b"\x00\x00\x08\x03\x00"), "truncated"),
        (
            "train-labels-idx1-ubyte.gz",
            gzip.compress(idx_bytes(np.zeros(11))),
            "has 12 images but",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            gzip.compress(idx_bytes(np.full(12, 10))),
            "has label 10",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            gzip.compress(idx_bytes(np.zeros((12, 2)))),
            "magic number 0x00000802",
        ),
        (
            "train-images-idx3-ubyte.gz",
            gzip.compress(idx_bytes(np.zeros(12))),
            "must hold images (3 dimensions) and labels (1 dimension)",
        ),
    ],
    ids=[
        "not-gzip",
        "too-short",
        "bad-magic",
        "short-data",
        "short-header",
        "count-mismatch",
        "bad-label",
        "labels-2d",
        "images-1d",
    ],
)
def test_corrupt_idx_files_are_named(
    tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    tiny_fashion(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError) as info:
        load_dataset("fashion-mnist", tmp_path)
    assert fragment in str(info.value)
    assert name in str(info.value)


def test_read_idx_round_trips(tmp_path: Path) -> None:
    array = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", array, False)), array)


REAL = DEFAULT_FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz"


@pytest.mark.skipif(not REAL.exists(), reason=f"Fashion-MNIST not installed ({REAL} missing)")
def test_real_fashion_mnist() -> None:
    data = load_dataset()
    assert data.train_images.shape == (60000, 1, 28, 28)
    assert data.test_images.shape == (10000, 1, 28, 28)
    assert data.num_classes == 10
    assert np.bincount(data.train_labels).tolist() == [6000] * 10
    assert np.bincount(data.test_labels).tolist() == [1000] * 10
    assert data.train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


# -- CIFAR-10 ------------------------------------------------------------------------------------

CIFAR_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def write_cifar(directory: Path, *, per_batch: int = 3, bytes_keys: bool = True) -> np.ndarray:
    """Tiny CIFAR-10 python-format batches; returns all training data rows in order."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)

    def key(k: str) -> str | bytes:
        return k.encode() if bytes_keys else k

    rows = []
    for i, name in enumerate([*(f"data_batch_{j}" for j in range(1, 6)), "test_batch"]):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(i + j) % 10 for j in range(per_batch)]
        batch = {key("batch_label"): name, key("labels"): labels, key("data"): data}
        with (directory / name).open("wb") as handle:
            pickle.dump(batch, handle, protocol=2 if bytes_keys else 5)
        if name != "test_batch":
            rows.append(data)
    names = [n.encode() for n in CIFAR_NAMES] if bytes_keys else CIFAR_NAMES
    meta = {key("label_names"): names, key("num_vis"): 3072}
    (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return np.concatenate(rows)


@pytest.mark.parametrize("bytes_keys", [True, False])
def test_cifar10_reads_python_batches(tmp_path: Path, bytes_keys: bool) -> None:
    rows = write_cifar(tmp_path / "cifar-10-batches-py", bytes_keys=bytes_keys)
    # Either the batches folder itself or its parent.
    for directory in (tmp_path, tmp_path / "cifar-10-batches-py"):
        data = load_dataset("cifar10", directory)
        assert data.train_images.shape == (15, 3, 32, 32)
        assert data.test_images.shape == (3, 3, 32, 32)
        assert data.classes == tuple(CIFAR_NAMES)
        assert data.train_labels.tolist()[:6] == [0, 1, 2, 1, 2, 3]
        # Row layout: 1024 red, then 1024 green, then 1024 blue values, row-major.
        assert data.train_images[4, 1, 2, 5] == rows[4, 1024 + 2 * 32 + 5]
        np.testing.assert_array_equal(data.train_images.reshape(15, -1), rows)


def test_cifar10_resized(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    assert load_dataset("cifar10", tmp_path, image_size=16).train_images.shape == (15, 3, 16, 16)


def test_missing_cifar10_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no default location: pass --data-dir DIR"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset("cifar10", tmp_path / "nope")
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(
        ValueError, match=r"CIFAR-10 not found: no data_batch_3 in .*cifar-10-python"
    ):
        load_dataset("cifar10", tmp_path)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_cifar10_refuses_pickles_that_run_code(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps({b"data": _Evil()}))
    with pytest.raises(ValueError, match=r"data_batch_2.*refusing to load"):
        load_dataset("cifar10", tmp_path)


@pytest.mark.parametrize(
    ("batch", "fragment"),
    [
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, "uint8 N x 3072"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "expected 2 labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "in [0, 10)"),
        ({b"labels": [0, 1]}, "no 'data' entry"),
        ([1, 2, 3], "expected a dict"),
    ],
)
def test_corrupt_cifar10_batches_are_named(tmp_path: Path, batch: object, fragment: str) -> None:
    write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10", tmp_path)
    assert fragment in str(info.value) and "test_batch" in str(info.value)


# -- ImageFolder ---------------------------------------------------------------------------------


def write_png(path: Path, value: int, size: tuple[int, int] = (10, 10), mode: str = "L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    color: int | tuple[int, int, int] = value if mode == "L" else (value, 255 - value, 7)
    Image.new(mode, size, color).save(path)


def test_imagefolder_with_test_folder(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("test", 2)):
        for label, name in enumerate(("cat", "dog")):
            for i in range(count):
                write_png(tmp_path / split / name / f"{i}.png", 100 * label + i)
    (tmp_path / "train" / "cat" / "notes.txt").write_text("not an image")
    data = load_dataset("imagefolder", tmp_path)
    assert data.classes == ("cat", "dog")
    assert data.train_images.shape == (6, 1, 10, 10)
    assert data.test_images.shape == (4, 1, 10, 10)
    assert data.train_labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.train_images[:, 0, 0, 0].tolist() == [0, 1, 2, 100, 101, 102]


def test_imagefolder_rgb_detected_and_resized(tmp_path: Path) -> None:
    write_png(tmp_path / "train" / "a" / "0.png", 50, (12, 8), mode="RGB")
    write_png(tmp_path / "train" / "a" / "1.png", 60, (12, 12))  # grey, but the set is RGB
    write_png(tmp_path / "train" / "b" / "0.jpg", 0, (20, 20), mode="RGB")
    write_png(tmp_path / "test" / "b" / "0.png", 200, (6, 6), mode="RGB")
    data = load_dataset("imagefolder", tmp_path, image_size=16)
    assert data.in_channels == 3 and data.image_size == 16
    assert data.train_images.shape == (3, 3, 16, 16)
    assert data.train_images[0, :, 5, 5].tolist() == [50, 205, 7]
    assert data.train_images[1, :, 5, 5].tolist() == [60, 60, 60]
    assert data.test_images[0, :, 3, 3].tolist() == [200, 55, 7]
    # Default size: the first training image's height.
    assert load_dataset("imagefolder", tmp_path).image_size == 8


def test_imagefolder_without_test_folder_carves_a_deterministic_split(tmp_path: Path) -> None:
    for label, name in enumerate(("x", "y", "z")):
        for i in range(10):
            write_png(tmp_path / "train" / name / f"{i:02d}.png", 10 * label + i, (4, 4))
    first = load_dataset("imagefolder", tmp_path, seed=3)
    again = load_dataset("imagefolder", tmp_path, seed=3)
    other = load_dataset("imagefolder", tmp_path, seed=4)
    assert len(first.test_labels) == 6 and len(first.train_labels) == 24
    assert np.bincount(first.test_labels).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(first.test_images, again.test_images)
    assert not np.array_equal(first.test_images, other.test_images)
    train_values = set(first.train_images[:, 0, 0, 0].tolist())
    test_values = set(first.test_images[:, 0, 0, 0].tolist())
    assert not train_values & test_values
    assert train_values | test_values == set(range(30))


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ({}, "has no train/ folder"),
        ({"train/a/0.png": "ok", "test/b/0.png": "ok"}, "test class 'b'"),
        ({"train/a/0.png": "ok", "train/b/readme.txt": "text"}, "has no images"),
        ({"train/a/0.png": "broken", "train/a/1.png": "ok"}, "cannot decode image"),
        ({"train/a/0.png": "ok", "train/b/0.png": "ok"}, "too few images to carve a test split"),
        ({"train/x.png": "ok"}, "has no class folders"),
    ],
)
def test_bad_imagefolders(tmp_path: Path, layout: dict[str, str], fragment: str) -> None:
    tmp_path.joinpath("train").mkdir() if layout else None
    for relative, kind in layout.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "ok":
            write_png(path, 1)
        else:
            path.write_text(kind)
    with pytest.raises(ValueError) as info:
        load_dataset("imagefolder", tmp_path)
    assert fragment in str(info.value)


def test_imagefolder_needs_a_directory() -> None:
    with pytest.raises(
        ValueError, match=r"no default location: pass --data-dir DIR with DIR/train"
    ):
        load_dataset("imagefolder")


# -- synthetic, split, names ---------------------------------------------------------------------


def test_synthetic_is_deterministic_and_well_formed() -> None:
    a, b = synthetic_dataset(seed=5), synthetic_dataset(seed=5)
    np.testing.assert_array_equal(a.train_images, b.train_images)
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    assert not np.array_equal(a.train_images, synthetic_dataset(seed=6).train_images)
    assert a.train_images.shape == (512, 1, 16, 16) and a.test_images.shape == (128, 1, 16, 16)
    assert np.bincount(a.train_labels).tolist() == [128] * 4
    rgb = synthetic_dataset(num_train=20, num_test=10, num_classes=10, in_channels=3, image_size=8)
    assert (rgb.in_channels, rgb.image_size, rgb.num_classes) == (3, 8, 10)
    assert load_dataset("synthetic", image_size=12, seed=5).image_size == 12
    with pytest.raises(ValueError, match="takes no data_dir"):
        load_dataset("synthetic", "/tmp")


def _spectrum(images: np.ndarray) -> np.ndarray:
    """Translation-invariant features: magnitude of the 2-D spectrum plus the mean brightness."""
    x = images.astype(np.float64).mean(axis=1)
    return np.abs(np.fft.fft2(x - x.mean(axis=(1, 2), keepdims=True))).reshape(len(x), -1)


@pytest.mark.parametrize("num_classes", [2, 4, 10])
def test_synthetic_is_learnable_from_shift_invariant_features(num_classes: int) -> None:
    data = synthetic_dataset(
        num_train=40 * num_classes, num_test=20 * num_classes, num_classes=num_classes, seed=1
    )
    features = np.hstack(
        [_spectrum(data.train_images), data.train_images.mean(axis=(1, 2, 3))[:, None]]
    )
    tests = np.hstack([_spectrum(data.test_images), data.test_images.mean(axis=(1, 2, 3))[:, None]])
    centroids = np.stack([features[data.train_labels == c].mean(0) for c in range(num_classes)])
    predicted = np.argmin(((tests[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (predicted == data.test_labels).mean() > 0.9
    # Raw pixels are no shortcut: the phase is random, so class means of pixels are nearly flat.
    pixel_means = np.stack(
        [data.train_images[data.train_labels == c].mean(0) for c in range(num_classes)]
    )
    assert pixel_means.std(axis=(1, 2, 3)).max() < 25


def test_train_val_split_is_deterministic_disjoint_and_complete() -> None:
    train, val = train_val_split(1000, val_fraction=0.1, seed=0)
    again = train_val_split(1000, val_fraction=0.1, seed=0)
    other = train_val_split(1000, val_fraction=0.1, seed=1)
    assert (len(train), len(val)) == (900, 100)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(val, again[1])
    assert not np.array_equal(val, other[1])
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted([*train.tolist(), *val.tolist()]) == list(range(1000))
    assert train.dtype == val.dtype == np.int64
    assert list(train) == sorted(train)
    assert [len(v) for v in train_val_split(3, val_fraction=0.01)] == [2, 1]
    assert [len(v) for v in train_val_split(2, val_fraction=0.99)] == [1, 1]
    assert len(train_val_split(60000, val_fraction=1 / 6)[1]) == 10000


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((1, 0.1), "num_train must be an integer >= 2"),
        ((10.0, 0.1), "num_train must be an integer >= 2"),
        ((10, 0.0), "val_fraction must be in (0, 1)"),
        ((10, 1.0), "val_fraction must be in (0, 1)"),
    ],
)
def test_train_val_split_rejects_bad_arguments(args: tuple[int, float], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        train_val_split(args[0], val_fraction=args[1])
    assert fragment in str(info.value)


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match="unknown data set 'mnist': expected one of " + ", ".join(DATASETS)
    ):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="image_size must be a positive integer"):
        load_dataset("synthetic", image_size=0)


def test_dataset_checks_its_arrays() -> None:
    good = synthetic_dataset(num_train=8, num_test=4)
    with pytest.raises(ValueError, match="train images must be uint8"):
        Dataset(
            "x",
            good.train_images.astype(np.float32),
            good.train_labels,
            good.test_images,
            good.test_labels,
            good.classes,
        )
    with pytest.raises(ValueError, match="labels must be in"):
        Dataset(
            "x",
            good.train_images,
            good.train_labels + 10,
            good.test_images,
            good.test_labels,
            good.classes,
        )
    with pytest.raises(ValueError, match="test labels must be int64"):
        Dataset(
            "x",
            good.train_images,
            good.train_labels,
            good.test_images,
            good.test_labels[:2],
            good.classes,
        )
