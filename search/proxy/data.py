"""Proxy data for the search: Fashion-MNIST, CIFAR-10, an ImageFolder tree, or a synthetic set.

Every loader returns a `Dataset` of uint8 images ``N x C x H x W`` and int64 labels, read with
numpy and Pillow only (no torchvision, no downloads: this tool runs offline).

* ``fashion-mnist``: the four original IDX files (``train-images-idx3-ubyte`` etc., gzipped or
  not) in ``data_dir``, by default ``/usr/share/datasets/fashion-mnist`` (Debian's
  ``dataset-fashion-mnist`` package).
* ``cifar10``: the python version of CIFAR-10 (``data_batch_1`` … ``data_batch_5``,
  ``test_batch``, ``batches.meta``) in ``data_dir`` or in ``data_dir/cifar-10-batches-py``.
* ``imagefolder``: ``data_dir/train/<class>/*.png|jpg|jpeg|bmp|gif|webp`` and
  ``data_dir/test/<class>/…``. Without a ``test/`` folder, a deterministic 20 % of every class of
  ``train/`` (chosen by ``seed``) becomes the test split. Images are greyscale if every image is
  greyscale, RGB otherwise, and are resized to a square ``image_size`` (default: the height of the
  first training image in sorted order).
* ``synthetic``: `synthetic_dataset`, a small learnable set for tests.

The search tunes on `train_val_split` of the training set only; the test split is for the final
report and is never touched during a search.
"""

from __future__ import annotations

import gzip
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("fashion-mnist", "cifar10", "imagefolder", "synthetic")
DEFAULT_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_BATCHES, "test_batch", "batches.meta")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
IMAGEFOLDER_TEST_FRACTION = 0.2

_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images and labels of a training and a test split; arrays are checked on construction."""

    name: str
    train_images: np.ndarray  # uint8, N x C x H x W
    train_labels: np.ndarray  # int64, N
    test_images: np.ndarray  # uint8, M x C x H x W
    test_labels: np.ndarray  # int64, M
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.classes:
            raise ValueError(f"data set {self.name!r} has no classes")
        for split in ("train", "test"):
            images: np.ndarray = getattr(self, f"{split}_images")
            labels: np.ndarray = getattr(self, f"{split}_labels")
            if images.dtype != np.uint8 or images.ndim != 4:
                raise ValueError(
                    f"{self.name} {split} images must be uint8 N x C x H x W, "
                    f"got {images.dtype} with shape {images.shape}"
                )
            if labels.dtype != np.int64 or labels.shape != (images.shape[0],):
                raise ValueError(
                    f"{self.name} {split} labels must be int64 of shape ({images.shape[0]},), "
                    f"got {labels.dtype} with shape {labels.shape}"
                )
            if len(labels) and (labels.min() < 0 or labels.max() >= len(self.classes)):
                raise ValueError(
                    f"{self.name} {split} labels must be in [0, {len(self.classes)}), "
                    f"got range [{labels.min()}, {labels.max()}]"
                )
        if self.train_images.shape[1:] != self.test_images.shape[1:]:
            raise ValueError(
                f"{self.name} train and test images differ in shape: "
                f"{self.train_images.shape[1:]} vs {self.test_images.shape[1:]}"
            )

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        """Image channels: 1 for greyscale, 3 for RGB."""
        return int(self.train_images.shape[1])

    @property
    def image_size(self) -> int:
        """Image height (images are square, or resized to square)."""
        return int(self.train_images.shape[2])

    def describe(self) -> str:
        """One line for logs: name, split sizes, image shape, classes."""
        return (
            f"{self.name}: {len(self.train_labels)} train / {len(self.test_labels)} test images of "
            f"{self.in_channels}x{self.image_size}x{self.image_size}, {self.num_classes} classes"
        )


def load_dataset(
    name: str = "fashion-mnist",
    data_dir: str | Path | None = None,
    *,
    image_size: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Load a proxy data set by name (see the module docstring); missing data is a ``ValueError``.

    ``image_size`` resizes every image to a square of that side (default: the native size).
    ``seed`` only matters where the loader makes a choice: the synthetic set, and the test split
    of an ImageFolder tree without a ``test/`` folder.
    """
    if image_size is not None and (
        not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 1
    ):
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    if name == "fashion-mnist":
        dataset = _load_fashion_mnist(Path(data_dir) if data_dir else DEFAULT_FASHION_MNIST_DIR)
    elif name == "cifar10":
        dataset = _load_cifar10(_require_dir(name, data_dir, _CIFAR10_HOW))
    elif name == "imagefolder":
        return _load_imagefolder(
            _require_dir(name, data_dir, _IMAGEFOLDER_HOW), image_size=image_size, seed=seed
        )
    elif name == "synthetic":
        if data_dir is not None:
            raise ValueError(
                f"the synthetic data set is generated: it takes no data_dir ({data_dir})"
            )
        return synthetic_dataset(image_size=image_size or 16, seed=seed)
    else:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(DATASETS)}")
    if image_size is not None and image_size != dataset.image_size:
        dataset = Dataset(
            name=dataset.name,
            train_images=resize_images(dataset.train_images, image_size),
            train_labels=dataset.train_labels,
            test_images=resize_images(dataset.test_images, image_size),
            test_labels=dataset.test_labels,
            classes=dataset.classes,
        )
    return dataset


def train_val_split(
    num_train: int, *, val_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic, disjoint (train_idx, val_idx) index arrays into the training set, sorted.

    The validation set is ``round(num_train * val_fraction)`` images (at least one) drawn
    without replacement with ``numpy.random.default_rng(seed)``; the test split is never used.
    """
    if not isinstance(num_train, int | np.integer) or isinstance(num_train, bool) or num_train < 2:
        raise ValueError(f"num_train must be an integer >= 2, got {num_train!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    num_val = min(max(1, round(num_train * val_fraction)), num_train - 1)
    order = np.random.default_rng(seed).permutation(num_train)
    val_idx = np.sort(order[:num_val]).astype(np.int64)
    train_idx = np.sort(order[num_val:]).astype(np.int64)
    return train_idx, val_idx


def synthetic_dataset(
    *,
    num_train: int = 512,
    num_test: int = 128,
    num_classes: int = 4,
    in_channels: int = 1,
    image_size: int = 16,
    seed: int = 0,
) -> Dataset:
    """A small learnable data set: each class is a grating of its own orientation, frequency and
    brightness, with a random phase per image and pixel noise (so position alone says nothing)."""
    for key, value, low in (
        ("num_train", num_train, 1),
        ("num_test", num_test, 1),
        ("num_classes", num_classes, 2),
        ("in_channels", in_channels, 1),
        ("image_size", image_size, 4),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{key} must be an integer >= {low}, got {value!r}")
    rng = np.random.default_rng(seed)
    angles = np.pi * np.arange(num_classes) / num_classes
    frequencies = np.where(np.arange(num_classes) % 2 == 0, 2.0, 3.0) * 2 * np.pi / image_size
    offsets = np.linspace(-30.0, 30.0, num_classes)
    channel_gain = rng.uniform(0.6, 1.0, size=(num_classes, in_channels))
    grid = np.arange(image_size, dtype=np.float64)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")

    def make(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(count, dtype=np.int64) % num_classes
        rng.shuffle(labels)
        phase = rng.uniform(0, 2 * np.pi, size=count)
        along = (
            np.cos(angles[labels])[:, None, None] * xx + np.sin(angles[labels])[:, None, None] * yy
        )
        wave = np.sin(frequencies[labels][:, None, None] * along + phase[:, None, None])
        images = (
            128.0
            + offsets[labels][:, None, None, None]
            + 70.0 * channel_gain[labels][:, :, None, None] * wave[:, None]
            + rng.normal(0.0, 12.0, size=(count, in_channels, image_size, image_size))
        )
        return np.clip(np.rint(images), 0, 255).astype(np.uint8), labels

    train_images, train_labels = make(num_train)
    test_images, test_labels = make(num_test)
    return Dataset(
        name="synthetic",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        classes=tuple(f"class{i}" for i in range(num_classes)),
    )


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 ``N x C x H x W`` images to ``size x size`` with Pillow's bilinear filter
    (antialiased when shrinking)."""
    from PIL import Image

    if images.shape[2:] == (size, size):
        return images
    out = np.empty((*images.shape[:2], size, size), dtype=np.uint8)
    for i, image in enumerate(images):
        for c, plane in enumerate(image):
            resized = Image.fromarray(plane).resize((size, size), Image.Resampling.BILINEAR)
            out[i, c] = np.asarray(resized)
    return out


# -- Fashion-MNIST -----------------------------------------------------------------------------


def _load_fashion_mnist(directory: Path) -> Dataset:
    paths = {key: _find_idx(directory, stem) for key, stem in FASHION_MNIST_FILES.items()}
    missing = [FASHION_MNIST_FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise ValueError(
            f"Fashion-MNIST not found: no {', '.join(m + '[.gz]' for m in missing)} in "
            f"{str(directory)!r}; install it with 'sudo apt-get install -y dataset-fashion-mnist' "
            f"(files go to {DEFAULT_FASHION_MNIST_DIR}) or pass --data-dir DIR holding the four "
            "IDX files"
        )
    arrays = {key: _read_idx(path) for key, path in paths.items() if path is not None}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(
                f"{paths[f'{split}_images']} and {paths[f'{split}_labels']} must hold images "
                f"(3 dimensions) and labels (1 dimension), got shapes {images.shape} and "
                f"{labels.shape}"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"{paths[f'{split}_images']} has {len(images)} images but "
                f"{paths[f'{split}_labels']} has {len(labels)} labels"
            )
        if len(labels) and labels.max() >= len(FASHION_MNIST_CLASSES):
            raise ValueError(
                f"{paths[f'{split}_labels']} has label {labels.max()}: Fashion-MNIST has "
                f"{len(FASHION_MNIST_CLASSES)} classes"
            )
    return Dataset(
        name="fashion-mnist",
        train_images=arrays["train_images"][:, None],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"][:, None],
        test_labels=arrays["test_labels"].astype(np.int64),
        classes=FASHION_MNIST_CLASSES,
    )


def _find_idx(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not); a corrupt file raises ``ValueError``."""
    return _read_idx(Path(path))


def _read_idx(path: Path) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise ValueError(f"cannot read IDX file {str(path)!r}: {err}") from None
    if len(raw) < 4:
        raise ValueError(f"{str(path)!r} is not an IDX file: only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC):
        raise ValueError(
            f"{str(path)!r} is not an IDX file of unsigned bytes: magic number 0x{magic:08x}, "
            f"expected 0x{_IDX_IMAGES_MAGIC:08x} (images) or 0x{_IDX_LABELS_MAGIC:08x} (labels)"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{str(path)!r} is truncated: its header needs {header} bytes")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"{str(path)!r} is corrupt: header says shape {shape} ({expected} bytes), "
            f"file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


# -- CIFAR-10 ----------------------------------------------------------------------------------

_CIFAR10_HOW = (
    "pass --data-dir DIR holding the python version of CIFAR-10 (data_batch_1 … data_batch_5, "
    "test_batch, batches.meta; the folder cifar-10-batches-py/ of cifar-10-python.tar.gz, "
    "downloaded and unpacked on a machine with internet access)"
)
_IMAGEFOLDER_HOW = (
    "pass --data-dir DIR with DIR/train/<class>/<image> (and optionally DIR/test/<class>/<image>)"
)


def _require_dir(name: str, data_dir: str | Path | None, how: str) -> Path:
    if data_dir is None:
        raise ValueError(f"data set {name!r} has no default location: {how}")
    directory = Path(data_dir)
    if not directory.is_dir():
        raise ValueError(f"{name} directory {str(directory)!r} does not exist: {how}")
    return directory


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain data and numpy arrays only, so a data file cannot run code."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy._core.numeric", "_frombuffer"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        # The original CIFAR-10 files name numpy.core, which numpy 2 renamed to numpy._core.
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return _ArrayUnpickler(handle, encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as err:
        raise ValueError(f"cannot read CIFAR-10 file {str(path)!r}: {err}") from None


def _field(batch: Any, key: str, path: Path) -> Any:
    if not isinstance(batch, dict):
        raise ValueError(f"{str(path)!r} is not a CIFAR-10 batch: expected a dict")
    for candidate in (key.encode(), key):
        if candidate in batch:
            return batch[candidate]
    raise ValueError(f"{str(path)!r} is not a CIFAR-10 batch: no {key!r} entry")


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    data = np.asarray(_field(batch, "data", path))
    labels = np.asarray(_field(batch, "labels", path), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"{str(path)!r} is corrupt: 'data' must be uint8 N x 3072, "
            f"got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],) or (
        len(labels) and not 0 <= labels.min() <= labels.max() < 10
    ):
        raise ValueError(
            f"{str(path)!r} is corrupt: expected {data.shape[0]} labels in [0, 10), "
            f"got shape {labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _load_cifar10(directory: Path) -> Dataset:
    if not (directory / "test_batch").is_file() and (directory / "cifar-10-batches-py").is_dir():
        directory = directory / "cifar-10-batches-py"
    missing = [name for name in CIFAR10_FILES if not (directory / name).is_file()]
    if missing:
        raise ValueError(
            f"CIFAR-10 not found: no {', '.join(missing)} in {str(directory)!r}; {_CIFAR10_HOW}"
        )
    train = [_cifar_batch(directory / name) for name in CIFAR10_TRAIN_BATCHES]
    test_images, test_labels = _cifar_batch(directory / "test_batch")
    meta = _unpickle(directory / "batches.meta")
    names = [
        n.decode() if isinstance(n, bytes) else str(n)
        for n in _field(meta, "label_names", directory / "batches.meta")
    ]
    if len(names) != 10:
        raise ValueError(f"{str(directory / 'batches.meta')!r} lists {len(names)} classes, not 10")
    return Dataset(
        name="cifar10",
        train_images=np.concatenate([images for images, _ in train]),
        train_labels=np.concatenate([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        classes=tuple(names),
    )


# -- ImageFolder -------------------------------------------------------------------------------


def _image_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _class_dirs(split_dir: Path) -> dict[str, list[Path]]:
    return {d.name: _image_files(d) for d in sorted(split_dir.iterdir()) if d.is_dir()}


def _load_imagefolder(root: Path, *, image_size: int | None, seed: int) -> Dataset:
    train_dir, test_dir = root / "train", root / "test"
    if not train_dir.is_dir():
        raise ValueError(f"ImageFolder {str(root)!r} has no train/ folder: {_IMAGEFOLDER_HOW}")
    train_files = _class_dirs(train_dir)
    classes = tuple(train_files)
    if not classes:
        raise ValueError(f"ImageFolder {str(train_dir)!r} has no class folders: {_IMAGEFOLDER_HOW}")
    empty = [name for name, files in train_files.items() if not files]
    if empty:
        raise ValueError(
            f"ImageFolder class folder {str(train_dir / empty[0])!r} has no images "
            f"({', '.join(IMAGE_SUFFIXES)})"
        )
    if test_dir.is_dir():
        test_files = _class_dirs(test_dir)
        unknown = sorted(set(test_files) - set(classes))
        if unknown:
            raise ValueError(
                f"ImageFolder test class {unknown[0]!r} in {str(test_dir)!r} is not a train "
                f"class: expected one of {', '.join(classes)}"
            )
    else:
        train_files, test_files = _carve_test_split(train_files, seed)
    train = [(path, classes.index(c)) for c, paths in train_files.items() for path in paths]
    test = [(path, classes.index(c)) for c, paths in test_files.items() for path in paths]
    if not test:
        raise ValueError(
            f"ImageFolder {str(root)!r} has no test/ folder and too few images to carve a test "
            "split (a class needs two or more): add DIR/test/<class>/<image>"
        )
    pictures = _open_images([path for path, _ in train + test])
    grey = all(picture.mode in _GREY_MODES for picture in pictures)
    size = image_size or pictures[0].height
    arrays = [_to_array(picture, grey, size) for picture in pictures]
    return Dataset(
        name="imagefolder",
        train_images=np.stack(arrays[: len(train)]),
        train_labels=np.array([label for _, label in train], dtype=np.int64),
        test_images=np.stack(arrays[len(train) :]),
        test_labels=np.array([label for _, label in test], dtype=np.int64),
        classes=classes,
    )


def _carve_test_split(
    files: dict[str, list[Path]], seed: int
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Per class, a seeded 20 % (at least one image of a class with two or more) becomes test."""
    rng = np.random.default_rng(seed)
    train: dict[str, list[Path]] = {}
    test: dict[str, list[Path]] = {}
    for name, paths in files.items():
        count = len(paths)
        num_test = 0 if count < 2 else max(1, round(count * IMAGEFOLDER_TEST_FRACTION))
        chosen = set(rng.permutation(count)[:num_test].tolist())
        test[name] = [p for i, p in enumerate(paths) if i in chosen]
        train[name] = [p for i, p in enumerate(paths) if i not in chosen]
    return train, test


def _open_images(paths: Sequence[Path]) -> list[Any]:
    from PIL import Image, UnidentifiedImageError

    pictures = []
    for path in paths:
        try:
            with Image.open(path) as picture:
                picture.load()
                pictures.append(picture)
        except (OSError, UnidentifiedImageError) as err:
            raise ValueError(f"cannot decode image {str(path)!r}: {err}") from None
    return pictures


def _to_array(picture: Any, grey: bool, size: int) -> np.ndarray:
    from PIL import Image

    if grey:
        # 16-bit and float greyscale: scale to 8 bits instead of clipping.
        if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            values = np.asarray(picture, dtype=np.float64)
            top = 65535.0 if picture.mode.startswith("I;16") or values.max() > 255 else 255.0
            picture = Image.fromarray(np.clip(values * 255.0 / top, 0, 255).astype(np.uint8))
        picture = picture.convert("L")
    else:
        picture = picture.convert("RGB")
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.BILINEAR)
    array = np.asarray(picture, dtype=np.uint8)
    return array[None] if grey else array.transpose(2, 0, 1)
