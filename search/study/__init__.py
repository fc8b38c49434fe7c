"""The study: Optuna set-up, the ask-price-dispatch-tell loop, worker pools, a whole search.

* `search.study.protocols`: the seams (`Evaluator`, `WorkerPool`, `Outcome`);
* `search.study.setup`: sampler, storage, baselines enqueued first, recovery after a kill;
* `search.study.loop`: `run_search`, the loop that keeps every worker busy, and `Progress`;
* `search.study.workers`: Ray actors pinned to cores, and an in-process pool;
* `search.study.job`: a whole ``hwnas search`` from validated settings (plan, start, run).
"""
