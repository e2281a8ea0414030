"""Seeded synthetic degradations that turn GT clips into LR test inputs.

One module per operation family (``kernels``/``blur``, ``resize``, ``noise``, ``jpeg``,
``video``, ``sharpen``, ``bicubic``), all pure numpy/OpenCV/PyAV; ``pipeline`` composes them
into the named degradations (``realbasicvsr``, ``mgld``, ``bicubic``) with a numpy Generator
derived from (dataset, clip, seed, degradation, version).  Frames flow through the operations
one at a time, so a 100-frame 720p clip is never held in memory.
"""
