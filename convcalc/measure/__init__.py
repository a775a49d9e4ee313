"""Measuring this machine (the latency extra: onnxruntime or numpy): `convcalc calibrate` writes a device profile that
the latency pass (convcalc.passes.latency) reads. The only package that runs anything."""
