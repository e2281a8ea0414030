"""Full-reference networks cut at their reference side (:class:`~mgld_bench.metrics.backends.base.ReferenceSplit`).

LPIPS (pyiqa's and the ``lpips`` package's, v0.1, not spatial) and DISTS (pyiqa) run the same
backbone on the distorted and the reference image and then combine the two feature stacks.  Here
the reference side (backbone, then what depends on the reference alone: LPIPS's unit
normalisation, DISTS's means and variances) is one function and the rest another; together they
perform the library's operations in the library's order, on the library's own modules, so the
value is the library's (tests/metrics/test_reference_split.py compares them).  A model of any
other form gets no split and is called whole.
"""

from __future__ import annotations

from typing import Any

from mgld_bench.metrics.backends.base import ReferenceSplit


def _unit(feat: Any) -> Any:
    """LPIPS's channel normalisation (eps 1e-10), as both libraries write it."""
    import torch

    return feat / (torch.sqrt(torch.sum(feat**2, dim=1, keepdim=True)) + 1e-10)


def lpips_split(net: Any) -> ReferenceSplit:
    """LPIPS with inputs in [0, 1] (``normalize=True``): ``net(x, y)`` as reference + compare."""

    def prepare(t: Any) -> Any:
        t = 2 * t - 1
        return net.scaling_layer(t) if net.version == "0.1" else t

    def reference(y: Any) -> Any:
        return [_unit(f) for f in net.net.forward(prepare(y))]

    def compare(x: Any, ref: Any) -> Any:
        outs = net.net.forward(prepare(x))
        val = 0
        for kk in range(net.L):
            diff = (_unit(outs[kk]) - ref[kk]) ** 2
            val = val + net.lins[kk](diff).mean([2, 3], keepdim=True)
        return val

    return ReferenceSplit(reference, compare)


def dists_split(net: Any) -> ReferenceSplit:
    """pyiqa's DISTS ``net(x, y)`` as reference + compare (c1 = c2 = 1e-6, as the library)."""
    import torch

    c1 = c2 = 1e-6

    def reference(y: Any) -> Any:
        feats = net.forward_once(y)
        means = [f.mean([2, 3], keepdim=True) for f in feats]
        variances = [((f - m) ** 2).mean([2, 3], keepdim=True) for f, m in zip(feats, means, strict=True)]
        return feats, means, variances

    def compare(x: Any, ref: Any) -> Any:
        feats1, y_means, y_vars = ref
        w_sum = net.alpha.sum() + net.beta.sum()
        alpha = torch.split(net.alpha / w_sum, net.chns, dim=1)
        beta = torch.split(net.beta / w_sum, net.chns, dim=1)
        dist1 = dist2 = 0
        # the distorted side stage by stage (forward_once's operations), each stage's features
        # dropped once its terms are summed: one stage held instead of all (~230 MB less at 720p)
        stages = [net.stage1, net.stage2, net.stage3, net.stage4, net.stage5]
        h = (x - net.mean) / net.std
        for k in range(len(net.chns)):
            if k:
                h = stages[k - 1](h)
            feat = x if k == 0 else h
            x_mean, y_mean = feat.mean([2, 3], keepdim=True), y_means[k]
            s1 = (2 * x_mean * y_mean + c1) / (x_mean**2 + y_mean**2 + c1)
            dist1 = dist1 + (alpha[k] * s1).sum(1, keepdim=True)
            x_var = ((feat - x_mean) ** 2).mean([2, 3], keepdim=True)
            xy_cov = (feat * feats1[k]).mean([2, 3], keepdim=True) - x_mean * y_mean
            s2 = (2 * xy_cov + c2) / (x_var + y_vars[k] + c2)
            dist2 = dist2 + (beta[k] * s2).sum(1, keepdim=True)
        return (1 - (dist1 + dist2)).squeeze(-1).squeeze(-1)

    return ReferenceSplit(reference, compare)


def pyiqa_split(net: Any) -> ReferenceSplit | None:
    """The split of a pyiqa network (``create_metric(...).net``), or None for any other form."""
    from mgld_bench.extras import import_extra

    DISTS = import_extra("pyiqa.archs.dists_arch", used_by="dists").DISTS
    LPIPS = import_extra("pyiqa.archs.lpips_arch", used_by="lpips").LPIPS

    if type(net) is LPIPS and net.lpips and not net.spatial and net.semantic_weight_layer < 0:
        return lpips_split(net)
    if type(net) is DISTS:
        return dists_split(net)
    return None


def lpips_package_split(net: Any) -> ReferenceSplit | None:
    """The split of an ``lpips.LPIPS`` network (linear heads, not spatial), else None."""
    from mgld_bench.extras import import_extra

    lpips = import_extra("lpips", used_by="lpips")
    if type(net) is lpips.LPIPS and net.lpips and not net.spatial:
        return lpips_split(net)
    return None
