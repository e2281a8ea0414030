"""RealBasicVSR (Chan et al., CVPR 2022) in plain PyTorch, loading the official weights.

* :mod:`.spynet` -- the SPyNet flow estimator in the mmediting layout (warping with
  :func:`mgld_bench.flow.torch_warp.flow_warp`);
* :mod:`.arch` -- ``RealBasicVSRNet`` (image cleaning + BasicVSR), same state_dict keys as mmediting;
* :mod:`.checkpoint` -- reading the official checkpoint (EMA branch choice, strict load, clear errors);
* :mod:`.adapter` -- the ``realbasicvsr`` method (chunking, tiling, fp16, the 64-px rule).

Only :mod:`.adapter` is imported without torch (``mgld-bench list`` loads it); weights are declared
in :mod:`baselines.weight_files`.
"""
