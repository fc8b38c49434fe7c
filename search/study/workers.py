"""Ray workers: one long-lived actor per worker, each pinned to its share of the cores.

Each actor builds its evaluator once (the data set is loaded into the actor's memory at start-up),
so the per-trial path is one remote call. Ray's own start-up (about a few seconds, measured in
``run.json`` as ``timings.ray_start_s``) is paid once per run.

Core pinning: Ray assigns a number of CPUs to an actor, not particular cores, so an actor claims a
core slot on its node with a non-blocking ``flock`` on ``/tmp/hwnas-core-slot-<uid>-<k>.lock``
(released by the kernel when the actor dies, so a restarted actor can take it) and pins itself
there with ``os.sched_setaffinity``. Torch then uses exactly that many threads. With no free slot
(another search on the node) the actor runs unpinned with the same thread count.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from search.run.info import now
from search.study.protocols import Evaluator, Outcome
from space import Arch


class EvaluatorFactory(Protocol):
    """Builds a worker's evaluator inside the worker (picklable, so Ray can ship it)."""

    def __call__(self) -> Evaluator:
        """The evaluator (loads what it needs, e.g. the data set, once)."""
        ...

    def with_threads(self, threads: int) -> EvaluatorFactory:
        """The same factory for workers of ``threads`` threads (known only once Ray is up)."""
        ...


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def run_evaluation(evaluator: Evaluator, number: int, arch: Arch, worker: str) -> Outcome:
    """Evaluate one candidate, turning every failure into an `Outcome` with its reason."""
    started = now()
    clock = time.perf_counter()
    try:
        result = evaluator.evaluate(arch)
    except Exception as err:  # any failure of one candidate must not stop the search
        reason = f"{type(err).__name__}: {err}".splitlines()[0][:500]
        return Outcome(number, None, reason, time.perf_counter() - clock, worker, started, now())
    if not math.isfinite(result.accuracy):
        reason = f"accuracy is {result.accuracy}"
        return Outcome(number, None, reason, result.train_seconds, worker, started, now())
    details = {
        "images_per_second": result.images_per_second,
        "epochs": result.epochs,
        "proxy_resolution": result.proxy_resolution,
        "val_images": result.eval_images,
    }
    return Outcome(
        number, result.accuracy, None, result.train_seconds, worker, started, now(), details
    )


class LocalPool:
    """Evaluates in the driver's process, one candidate at a time (tests, debugging)."""

    def __init__(self, evaluator: Evaluator, *, size: int = 1) -> None:
        self.evaluator = evaluator
        self.size = size
        self._queue: list[tuple[int, Arch]] = []

    def submit(self, number: int, arch: Arch) -> None:
        """Queue the candidate; it is evaluated by the next `wait`."""
        self._queue.append((number, arch))

    def wait(self, timeout: float) -> list[Outcome]:
        """Evaluate the oldest queued candidate."""
        if not self._queue:
            return []
        number, arch = self._queue.pop(0)
        return [run_evaluation(self.evaluator, number, arch, "local")]

    def close(self) -> None:
        """Nothing to release."""


def claim_cores(threads: int) -> tuple[list[int], Any]:
    """Pin this process to a free slot of ``threads`` cores; returns (cores, lock handle)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return [], None
    slots = max(1, len(allowed) // threads)
    for slot in range(slots):
        path = f"/tmp/hwnas-core-slot-{os.getuid()}-{slot}.lock"
        handle = open(path, "a")  # noqa: SIM115 - held for the actor's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        cores = allowed[slot * threads : (slot + 1) * threads] or allowed[:threads]
        os.sched_setaffinity(0, cores)
        return cores, handle
    return [], None


def _use_cluster_token() -> None:
    """Turn on Ray's token auth when a token is at hand (Ray 2.5x clusters require it)."""
    from pathlib import Path

    token_file = Path.home() / ".ray" / "auth_token"
    if "RAY_AUTH_MODE" not in os.environ and (
        "RAY_AUTH_TOKEN" in os.environ or token_file.exists()
    ):
        os.environ["RAY_AUTH_MODE"] = "token"


class WorkerActor:
    """The body of a Ray actor: pins itself, builds its evaluator once, then evaluates trials."""

    def __init__(self, factory: EvaluatorFactory, name: str, threads: int) -> None:
        clock = time.perf_counter()
        self.name = name
        self.cores, self._lock = claim_cores(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)
        self.threads = threads
        self.evaluator = factory()
        self.start_seconds = time.perf_counter() - clock

    def ready(self) -> dict[str, Any]:
        """Where the actor runs and how long its start-up took."""
        import socket

        return {
            "name": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "cores": self.cores,
            "threads": self.threads,
            "start_seconds": self.start_seconds,
        }

    def evaluate(self, number: int, arch: str) -> Outcome:
        """Score one candidate (failures come back as an `Outcome` with a reason)."""
        return run_evaluation(self.evaluator, number, Arch.parse(arch), self.name)


@dataclass
class _Slot:
    name: str
    actor: Any
    busy: int | None = None
    arch: Arch | None = None
    started: str = ""
    restarts: int = 0
    info: dict[str, Any] = field(default_factory=dict)


class RayPool:
    """W Ray actors kept busy by the driver; a dead actor fails only its own trial and restarts."""

    def __init__(
        self,
        factory: EvaluatorFactory,
        *,
        workers: int,
        threads: int | None,
        address: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        clock = time.perf_counter()
        import ray

        if not ray.is_initialized():
            if address:
                _use_cluster_token()
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            else:
                # "local": always a new instance of our own size, even if a cluster runs here.
                ray.init(
                    address="local",
                    num_cpus=workers * (threads or 1),
                    include_dashboard=False,
                    logging_level=logging.ERROR,
                    log_to_driver=False,
                    configure_logging=True,
                )
        self.ray_start_seconds = time.perf_counter() - clock
        if threads is None:
            # On a cluster: share all of its CPUs among the workers.
            cpus = int(ray.cluster_resources().get("CPU", workers))
            per_node = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]]
            threads = max(1, min(cpus // workers, max(per_node, default=1)))
            factory = factory.with_threads(threads)
        self._ray = ray
        self._actor_class = ray.remote(num_cpus=threads, max_restarts=0)(WorkerActor)
        self.factory = factory
        self.threads = threads
        self.size = workers
        self._slots = [self._spawn(f"worker-{i}") for i in range(workers)]
        self._futures: dict[Any, _Slot] = {}
        clock = time.perf_counter()
        infos = ray.get([slot.actor.ready.remote() for slot in self._slots])
        for slot, info in zip(self._slots, infos, strict=True):
            slot.info = info
        self.workers_ready_seconds = time.perf_counter() - clock

    def _spawn(self, name: str) -> _Slot:
        return _Slot(name, self._actor_class.remote(self.factory, name, self.threads))

    def describe(self) -> dict[str, Any]:
        """Start-up timings and where each worker runs, for run.json."""
        return {
            "ray_start_s": round(self.ray_start_seconds, 3),
            "workers_ready_s": round(self.workers_ready_seconds, 3),
            "workers": [slot.info for slot in self._slots],
        }

    def submit(self, number: int, arch: Arch) -> None:
        """Send ``arch`` to a free actor."""
        slot = next(slot for slot in self._slots if slot.busy is None)
        slot.busy, slot.arch, slot.started = number, arch, now()
        self._futures[slot.actor.evaluate.remote(number, arch.to_str())] = slot

    def wait(self, timeout: float) -> list[Outcome]:
        """Outcomes of the trials that finished within ``timeout`` seconds."""
        if not self._futures:
            return []
        ready, _ = self._ray.wait(list(self._futures), num_returns=1, timeout=timeout)
        outcomes = []
        for ref in ready:
            slot = self._futures.pop(ref)
            number = slot.busy
            assert number is not None  # a future exists only for a busy slot
            try:
                outcome = self._ray.get(ref)
            except self._ray.exceptions.RayActorError as err:
                reason = f"worker {slot.name} died: {str(err).splitlines()[0][:300]}"
                outcome = Outcome(number, None, reason, None, slot.name, slot.started, now())
                self._restart(slot)
            except self._ray.exceptions.RayError as err:
                reason = f"worker {slot.name}: {type(err).__name__}: {str(err).splitlines()[0]}"
                outcome = Outcome(number, None, reason[:500], None, slot.name, slot.started, now())
            slot.busy = None
            outcomes.append(outcome)
        return outcomes

    def _restart(self, slot: _Slot) -> None:
        with contextlib.suppress(Exception):  # already gone
            self._ray.kill(slot.actor)
        slot.actor = self._actor_class.remote(self.factory, slot.name, self.threads)
        slot.restarts += 1

    def actor(self, index: int) -> Any:
        """The Ray actor handle of worker ``index`` (tests kill it to simulate a crash)."""
        return self._slots[index].actor

    def close(self) -> None:
        """Stop the actors; shut Ray down if this pool started it."""
        for slot in self._slots:
            with contextlib.suppress(Exception):  # already gone
                self._ray.kill(slot.actor)
        self._ray.shutdown()


@dataclass(frozen=True)
class ProxyFactory:
    """Builds a worker's `search.proxy.train.ProxyEvaluator`, loading the data once (picklable)."""

    dataset: str
    data_dir: str | None
    schedule: dict[str, Any]
    threads: int
    seed: int

    def with_threads(self, threads: int) -> ProxyFactory:
        """This factory for workers of ``threads`` threads."""
        return replace(self, threads=threads)

    def __call__(self) -> Evaluator:
        """Load the data set and build the evaluator."""
        from search.proxy.data import load_dataset
        from search.proxy.train import ProxyEvaluator, ProxySchedule

        data = load_dataset(self.dataset, self.data_dir, seed=self.seed)
        return ProxyEvaluator(
            dataset=data,
            schedule=ProxySchedule(**self.schedule),
            threads=self.threads,
            split_seed=self.seed,
        )
