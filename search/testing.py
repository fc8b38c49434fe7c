"""For tests only: a fake accuracy evaluator that trains nothing.

``hwnas search`` uses it instead of proxy training when the environment variable `FAKE_ENV`
(``HWNAS_FAKE_EVALUATOR=SECONDS``) is set, so that tests drive the real CLI, real Optuna and real
Ray in seconds. Nothing in a user's search goes through this module.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from search.proxy.train import EvalResult
from space import Arch
from space.layers import count_macs

#: Seconds per fake evaluation; when set, ``hwnas search`` trains nothing.
FAKE_ENV = "HWNAS_FAKE_EVALUATOR"


def fake_result(accuracy: float, arch: Arch, seconds: float = 0.0) -> EvalResult:
    """An `EvalResult` for a score that no training produced (no images, no steps)."""
    return EvalResult(
        accuracy=accuracy,
        train_seconds=seconds,
        images_per_second=0.0,
        epochs=0.0,
        proxy_resolution=arch.resolution,
        steps=0,
        train_images=0,
        eval_images=0,
        eval_split="val",
        final_loss=0.0,
        prep_seconds=0.0,
        eval_seconds=0.0,
        threads=1,
    )


@dataclass(frozen=True)
class FakeEvaluator:
    """A stand-in scorer for tests of the search loop and CLI.

    Accuracy is a fixed function of the architecture's size (bigger scores higher, saturating),
    so samplers have something to learn; each evaluation sleeps ``seconds``. An architecture whose
    string contains ``fail_token`` raises, as a diverging candidate would; one containing
    ``die_token`` kills the worker process, as an out-of-memory kill would.
    """

    seconds: float = 0.0
    fail_token: str | None = None
    die_token: str | None = None

    def evaluate(self, arch: Arch) -> EvalResult:
        """A deterministic accuracy in (0, 1)."""
        if self.fail_token is not None and self.fail_token in arch.to_str():
            raise FloatingPointError(f"loss is nan (fake failure for {self.fail_token!r})")
        if self.die_token is not None and self.die_token in arch.to_str():
            os._exit(1)
        clock = time.perf_counter()
        time.sleep(self.seconds)
        kernels = sum(stage.kernel for stage in arch.stages)
        accuracy = round(1.0 - 0.5 / (1.0 + count_macs(arch) / 2e6) - 0.001 * kernels, 6)
        return fake_result(accuracy, arch, time.perf_counter() - clock)


@dataclass(frozen=True)
class FakeFactory:
    """Builds a `FakeEvaluator` in a worker (picklable)."""

    seconds: float = 0.0
    fail_token: str | None = None
    die_token: str | None = None

    def with_threads(self, threads: int) -> FakeFactory:
        """The same factory: the fake evaluator does not use threads."""
        return self

    def __call__(self) -> FakeEvaluator:
        """The fake evaluator."""
        return FakeEvaluator(self.seconds, self.fail_token, self.die_token)
