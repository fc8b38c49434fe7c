"""Export a chosen network: PyTorch checkpoint, verified ONNX model, arch.json, a model card.

* `search.export.api`: `export_trial` (a trial of a run) and `export_arch` (an arch string);
* `search.export.prepare`: build, retrain (``--epochs``) and the real images the export is
  checked on;
* `search.export.writer`: the export directory, the ONNX parity check and the latency
  measurement of the exported file;
* `search.export.card`: MODEL_CARD.md.
"""
