"""Full-reference networks cut at their reference side (:class:`~mgld_bench.metrics.backends.base.ReferenceSplit`).

LPIPS (pyiqa's and the ``lpips`` package's, v0.1, not spatial) and DISTS (pyiqa) run the same
backbone on the distorted and the reference image and then combine the two feature stacks.  Here
the reference side (backbone, then what depends on the reference alone: LPIPS's unit
normalisation, DISTS's means and variances) is one function and the rest another.  Both run the
library's own modules and weights, with three changes to how (not what) they compute, each
measured to move values by float32 rounding only (figures and tests: docs/metrics.md, Speed;
``tests/metrics/test_learned.py`` and ``tests/runner/test_shared_gt_work.py`` compare with the
libraries called directly):

* the backbone runs in the channels-last layout (oneDNN's and cuDNN's preferred one): the
  network's weights are converted once when the split is made, inputs on entry;
* DISTS's L2 pooling applies the library's own filter, but squares the distorted side's features
  in place (they are no longer needed), and squares centred features in place;
* temporaries are written in place where the library allocates new ones.

A model of any other form gets no split and is called whole.
"""

from __future__ import annotations

from typing import Any

from mgld_bench.metrics.backends.base import ReferenceSplit


def channels_last(net: Any) -> Any:
    """Convert ``net``'s 4-D weights and buffers to channels-last (in place; values unchanged)."""
    import torch

    return net.to(memory_format=torch.channels_last)


def _cl(t: Any) -> Any:
    import torch

    return t.contiguous(memory_format=torch.channels_last)


def _unit(feat: Any) -> Any:
    """LPIPS's channel normalisation (eps 1e-10): ``feat / (||feat||_2 over channels + eps)``."""
    import torch

    norm = torch.linalg.vector_norm(feat, dim=1, keepdim=True)
    return feat / norm.add_(1e-10)


def lpips_split(net: Any) -> ReferenceSplit:
    """LPIPS with inputs in [0, 1] (``normalize=True``): ``net(x, y)`` as reference + compare."""
    channels_last(net)

    def prepare(t: Any) -> Any:
        t = _cl(2 * t - 1)
        return net.scaling_layer(t) if net.version == "0.1" else t

    def reference(y: Any) -> Any:
        return [_unit(f) for f in net.net.forward(prepare(y))]

    def compare(x: Any, ref: Any) -> Any:
        outs = list(net.net.forward(prepare(x)))
        val = 0
        for kk in range(net.L):
            diff = _unit(outs[kk]).sub_(ref[kk])
            outs[kk] = None  # the stage's features are not needed any more
            val = val + net.lins[kk](diff.mul_(diff)).mean([2, 3], keepdim=True)
        return val

    return ReferenceSplit(reference, compare)


def _mean_var(f: Any) -> tuple[Any, Any]:
    """Spatial mean and (biased) variance per channel, two passes as the library (its values);
    ``torch.var_mean`` is 3-4x slower on channels-last maps."""
    m = f.mean([2, 3], keepdim=True)
    d = f - m
    return m, d.mul_(d).mean([2, 3], keepdim=True)


def _dists_stages(net: Any) -> list[tuple[Any, list[Any]]]:
    """DISTS's stages 2-5 as (L2 pooling module, the modules after it)."""
    out = []
    for stage in (net.stage2, net.stage3, net.stage4, net.stage5):
        mods = list(stage)
        out.append((mods[0], mods[1:]))
    return out


def l2pool(pool: Any, h: Any, inplace: bool) -> Any:
    """pyiqa's ``L2pooling`` with its own filter: sqrt(conv(h², hanning) + 1e-12), stride 2."""
    import torch.nn.functional as F

    sq = h.mul_(h) if inplace else h * h
    out = F.conv2d(sq, pool.filter, stride=pool.stride, padding=pool.padding, groups=sq.shape[1])
    return out.add_(1e-12).sqrt_()


def _dists_features(net: Any, x: Any, inplace: bool):
    """Yield DISTS's six feature maps of ``x`` in order (``forward_once``'s operations).  With
    ``inplace`` each map is overwritten once the next is computed (the caller uses it first)."""
    yield x
    h = net.stage1(_cl((x - net.mean) / net.std))
    yield h
    for pool, mods in _dists_stages(net):
        h = l2pool(pool, h, inplace)
        for m in mods:
            h = m(h)
        yield h


def dists_split(net: Any) -> ReferenceSplit:
    """pyiqa's DISTS ``net(x, y)`` as reference + compare (c1 = c2 = 1e-6, as the library)."""
    import torch

    c1 = c2 = 1e-6
    channels_last(net)

    def reference(y: Any) -> Any:
        feats, means, variances = [], [], []
        for f in _dists_features(net, y, inplace=False):
            mean, var = _mean_var(f)
            feats.append(f)
            means.append(mean)
            variances.append(var)
        return feats, means, variances

    def compare(x: Any, ref: Any) -> Any:
        feats1, y_means, y_vars = ref
        w_sum = net.alpha.sum() + net.beta.sum()
        alpha = torch.split(net.alpha / w_sum, net.chns, dim=1)
        beta = torch.split(net.beta / w_sum, net.chns, dim=1)
        dist1 = dist2 = 0
        # the distorted side stage by stage, each stage's features squared in place for the next
        # pooling once its terms are summed: one stage held instead of all
        for k, feat in enumerate(_dists_features(net, x, inplace=True)):
            x_mean, x_var = _mean_var(feat)
            y_mean = y_means[k]
            s1 = (2 * x_mean * y_mean + c1) / (x_mean**2 + y_mean**2 + c1)
            dist1 = dist1 + (alpha[k] * s1).sum(1, keepdim=True)
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
