"""ARM latency from published on-device measurements: importers, network definitions, tables.

* `tflite`: TFLite ``benchmark_model --enable_op_profiling`` output -> measured table entries,
  op shapes recovered from the network the profile belongs to (`networks`).
* `blocks`: ProxylessNAS / Once-for-All block lookup tables and HW-NAS-Bench FBNet blocks.
* `fit`: per-op-kind cost models fitted on a device's measured ops, with leave-one-out errors.
* `ir_model`: the inverted-residual block model and its grouped held-out checks.
* `trim_copies`: which copy of ProxylessNAS's ``mobile_trim`` table agrees with the op profile.
* `pixel1_ir`: the Pixel-1 table's measured blocks and block model.
* `ofa`, `note10`: OFA's estimator re-implemented; the Note10 table, its checks and its report.
* `build_tables`: rebuilds the shipped device tables in ``latency/tables/`` from the copied data.
"""
