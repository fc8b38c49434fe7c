"""What a run found, as data objects (compared with ``==`` in tests, drawn by `search.report`).

* `search.analysis.pareto`: the Pareto front, baseline comparisons, choosing one trial;
* `search.analysis.quality`: hypervolume and gains over MobileNetV1 (benchmarks);
* `search.analysis.layer_costs`: per-layer predicted time and roofline coordinates;
* `search.analysis.trials`: the trials grouped once for the plots (PNG and HTML).
"""
