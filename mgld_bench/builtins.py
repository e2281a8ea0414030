"""The names mgld-bench registers itself: one :class:`~mgld_bench.specs.Spec` per name.

A spec is a lazy ``module:attr`` target, default parameters (variants such as ``lpips-vgg`` or
``udm10-bd`` are entries of one class with other parameters), and, for metrics, every static fact
the rest of the suite needs (:class:`~mgld_bench.specs.MetricFacts`): display name, decimals,
direction, kind, the inputs it reads, and the ``compare`` tolerance with its reason.  This file
is the one place those facts are written; tables, figures, ``compare`` and ``list`` read them
from here without importing any implementation.

Everything else -- ``baselines/`` included -- registers through entry points exactly as a
third-party plugin would (see ``pyproject.toml``); a plugin metric declares its facts as a
``facts`` class attribute.
"""

from __future__ import annotations

from mgld_bench.specs import ONE_GPU, MetricFacts, Spec, Tolerance

DATASETS: dict[str, Spec] = {
    "synthetic": Spec.of("mgld_bench.datasets.synthetic:SyntheticDataset"),
    "reds4": Spec.of("mgld_bench.datasets.reds4:REDS4"),
    "reds4-bicubic": Spec.of(
        "mgld_bench.datasets.reds4:REDS4",
        summary="REDS4 (4 x 100 frames, 720p GT) with the official bicubic x4 LR (train_sharp_bicubic)",
        lr="bicubic",
    ),
    "videolq": Spec.of("mgld_bench.datasets.videolq:VideoLQ"),
    "udm10": Spec.of("mgld_bench.datasets.udm10:UDM10"),
    "udm10-bi": Spec.of(
        "mgld_bench.datasets.udm10:UDM10",
        summary="UDM10 (10 clips, GT) with the official bicubic x4 LR (BIx4)",
        lr="bi",
    ),
    "udm10-bd": Spec.of(
        "mgld_bench.datasets.udm10:UDM10",
        summary="UDM10 (10 clips, GT) with the official Gaussian-blur x4 LR (BDx4)",
        lr="bd",
    ),
    "spmcs": Spec.of("mgld_bench.datasets.spmcs:SPMCS"),
    "spmcs-bi": Spec.of(
        "mgld_bench.datasets.spmcs:SPMCS",
        summary="SPMCS (30 x 31 frames, GT) with the official bicubic x4 LR (BIx4)",
        lr="bi",
    ),
    "spmcs-bd": Spec.of(
        "mgld_bench.datasets.spmcs:SPMCS",
        summary="SPMCS (30 x 31 frames, GT) with the official Gaussian-blur x4 LR (BDx4)",
        lr="bd",
    ),
    "folder": Spec.of("mgld_bench.datasets.folder:FolderDataset"),
    "video": Spec.of("mgld_bench.datasets.video:VideoDataset"),
}

METHODS: dict[str, Spec] = {
    "precomputed": Spec.of("mgld_bench.methods.precomputed:Precomputed"),
    "external": Spec.of("mgld_bench.methods.external:External"),
    "mgld": Spec.of("mgld_bench.methods.mgld.method:MGLD"),
    "mgld-official": Spec.of("mgld_bench.methods.mgld.official:MGLDOfficial"),
    "mgld-sd": Spec.of("mgld_bench.methods.mgld.sd:MGLDGuidedSD"),
    "sd-x4": Spec.of("mgld_bench.methods.mgld.sd:SDx4Upscaler"),
}

_FIDELITY = ("color_space", "crop_border")
_NETWORK = "float32 network: CPU vs GPU and cuDNN algorithm choice move it in the 4th decimal"
#: the scene-cut options of the pair metrics (mgld_bench.metrics.base.PAIR_CUT_DEFAULTS)
_CUTS = ("exclude_cuts", "cut_ratio")
_FLOW = "depends on optical flow, whose output varies with the OpenCV build and thread count; 1 % relative"

METRICS: dict[str, Spec] = {
    "psnr": Spec.of(
        "mgld_bench.metrics.fidelity:PSNR",
        MetricFacts(
            "PSNR", "full-reference", True, ("sr", "gt"), decimals=2, unit="dB", protocol_fields=_FIDELITY,
            protocol_options=("max_db",),
            tolerance=Tolerance(
                0.01, 0.0,
                "deterministic given the same frames; 0.01 dB is the last digit papers print and absorbs "
                "float summation-order and resize-kernel differences between numpy/OpenCV builds",
            ),
        ),
    ),
    "ssim": Spec.of(
        "mgld_bench.metrics.fidelity:SSIM",
        MetricFacts(
            "SSIM", "full-reference", True, ("sr", "gt"), decimals=4, protocol_fields=_FIDELITY,
            tolerance=Tolerance(
                1e-4, 0.0, "last printed digit (4 decimals); float32 Y conversion moves the 4th decimal at most"
            ),
        ),
    ),
    "ms-ssim": Spec.of(
        "mgld_bench.metrics.structural:StructuralMetric",
        MetricFacts(
            "MS-SSIM", "full-reference", True, ("sr", "gt"), decimals=4, protocol_fields=_FIDELITY,
            tolerance=Tolerance(
                1e-4, 0.0, "last printed digit (4 decimals); float32 CPU/GPU kernels move ~1e-6 on one backend "
                "(piq and pyiqa differ by up to 3.3e-4 on noisy pairs, but the backend is in the label)",
            ),
        ),
        aliases=("ms_ssim", "msssim"),
        summary="MS-SSIM (5 scales, 11x11 Gaussian sigma 1.5), BT.601 Y by default; piq, or backend=pyiqa",
        model="ms-ssim",
    ),
    "gmsd": Spec.of(
        "mgld_bench.metrics.structural:StructuralMetric",
        MetricFacts(
            "GMSD", "full-reference", False, ("sr", "gt"), decimals=4, protocol_fields=_FIDELITY,
            tolerance=Tolerance(1e-4, 0.0, "last printed digit (4 decimals); float32 CPU/GPU kernels move ~1e-6"),
        ),
        summary="GMSD (gradient magnitude similarity deviation), BT.601 Y by default; piq, or backend=pyiqa",
        model="gmsd",
    ),
    "lpips": Spec.of(
        "mgld_bench.metrics.learned:LearnedMetric",
        MetricFacts(
            "LPIPS", "full-reference", False, ("sr", "gt"), decimals=4, resources=ONE_GPU,
            tolerance=Tolerance(1e-3, 0.0, _NETWORK),
        ),
        summary="LPIPS v0.1 AlexNet (own torch network; backend=pyiqa, or backend=lpips for the BSD lpips package)",
        model="lpips",
        backend="native",
    ),
    "lpips-vgg": Spec.of(
        "mgld_bench.metrics.learned:LearnedMetric",
        MetricFacts(
            "LPIPS-VGG", "full-reference", False, ("sr", "gt"), decimals=4, resources=ONE_GPU,
            tolerance=Tolerance(1e-3, 0.0, _NETWORK),
        ),
        summary="LPIPS v0.1 VGG16 (own torch network; backend=pyiqa, or backend=lpips for the BSD lpips package)",
        model="lpips-vgg",
        backend="native",
    ),
    "dists": Spec.of(
        "mgld_bench.metrics.learned:LearnedMetric",
        MetricFacts(
            "DISTS", "full-reference", False, ("sr", "gt"), decimals=4,
            resources=ONE_GPU, tolerance=Tolerance(1e-3, 0.0, "float32 network, as LPIPS"),
        ),
        summary="DISTS, VGG16, full resolution (own torch network; backend=pyiqa)",
        model="dists",
        backend="native",
    ),
    "niqe": Spec.of(
        "mgld_bench.metrics.learned:NIQE",
        MetricFacts(
            "NIQE", "no-reference", False, ("sr",), decimals=3, protocol_fields=_FIDELITY,
            tolerance=Tolerance(0.01, 0.0, "float32 feature statistics; 3 printed decimals"),
        ),
    ),
    "brisque": Spec.of(
        "mgld_bench.metrics.learned:LearnedMetric",
        MetricFacts(
            "BRISQUE", "no-reference", False, ("sr",), decimals=2,
            tolerance=Tolerance(0.05, 0.0, "float32 features and SVR; 2 printed decimals on a ~0-100 scale"),
        ),
        summary="BRISQUE, LIVE SVR model; own NumPy code (backend=native) or pyiqa",
        model="brisque",
        backend="native",
        # batch 1: batches of 4 ran at half the speed on CPU (benchmarks/bench_metrics.py)
        batch_size=1,
    ),
    "musiq": Spec.of(
        "mgld_bench.metrics.learned:LearnedMetric",
        MetricFacts(
            "MUSIQ", "no-reference", True, ("sr",), decimals=2,
            resources=ONE_GPU, tolerance=Tolerance(
                0.05, 0.0, "float32 transformer on a 0-100 scale, GPU kernels not bitwise deterministic; 2 decimals"
            ),
        ),
        summary="MUSIQ KonIQ-10k; own torch network (backend=native) or pyiqa",
        model="musiq",
        backend="native",
    ),
    **{
        name: Spec.of(
            "mgld_bench.metrics.learned:PyiqaMetric",
            MetricFacts(
                display, "no-reference", True, ("sr",), decimals=2,
                tolerance=Tolerance(0.05, 0.0, "float32 transformer on a 0-100 scale; 2 decimals"),
            ),
            summary=f"MUSIQ trained on {data} (pyiqa {model})",
            model=model,
        )
        for name, model, display, data in (
            ("musiq-koniq", "musiq", "MUSIQ-KonIQ", "KonIQ-10k, 0-100; = musiq backend=pyiqa"),
            ("musiq-spaq", "musiq-spaq", "MUSIQ-SPAQ", "SPAQ, 0-100"),
            ("musiq-paq2piq", "musiq-paq2piq", "MUSIQ-PaQ2PiQ", "PaQ-2-PiQ, 0-100"),
        )
    },
    "musiq-ava": Spec.of(
        "mgld_bench.metrics.learned:PyiqaMetric",
        MetricFacts(
            "MUSIQ-AVA", "no-reference", True, ("sr",), decimals=3,
            tolerance=Tolerance(5e-3, 0.0, "float32 transformer on a 1-10 aesthetics scale; 3 decimals"),
        ),
        summary="MUSIQ trained on AVA aesthetics, 1-10 (pyiqa musiq-ava)",
        model="musiq-ava",
    ),
    **{
        name: Spec.of(
            "mgld_bench.metrics.learned:PyiqaMetric",
            MetricFacts(
                display, "no-reference", True, ("sr",), decimals=4,
                tolerance=Tolerance(1e-3, 0.0, "float32 ViT + transformer on a 0-1 scale, averaged over "
                                    "20 224-px crops"),
            ),
            summary=f"MANIQA trained on {data}, ~0-1, ViT-B/8 (pyiqa {name})",
            model=name,
            backbone_in_checkpoint=True,
        )
        for name, display, data in (
            ("maniqa", "MANIQA", "KonIQ-10k"), ("maniqa-kadid", "MANIQA-KADID", "KADID-10k"),
            ("maniqa-pipal", "MANIQA-PIPAL", "PIPAL"),
        )
    },
    "clipiqa": Spec.of(
        "mgld_bench.metrics.learned:PyiqaMetric",
        MetricFacts("CLIP-IQA", "no-reference", True, ("sr",), decimals=4,
                    tolerance=Tolerance(1e-3, 0.0, "float32 CLIP network on a 0-1 scale")),
        summary="CLIP-IQA: CLIP RN50 with fixed antonym prompts, 0-1 (pyiqa clipiqa)",
        model="clipiqa",
    ),
    "clipiqa+": Spec.of(
        "mgld_bench.metrics.learned:PyiqaMetric",
        MetricFacts("CLIP-IQA+", "no-reference", True, ("sr",), decimals=4,
                    tolerance=Tolerance(1e-3, 0.0, "float32 CLIP network on a 0-1 scale")),
        summary="CLIP-IQA+: CLIP RN50 with learned prompts, 0-1 (pyiqa clipiqa+)",
        model="clipiqa+",
    ),
    "pyiqa": Spec.of(
        "mgld_bench.metrics.learned:PyiqaMetric",
        # the bare entry; pyiqa:NAME takes its facts from pyiqa's table (PyiqaMetric.facts_for)
        MetricFacts("pyiqa:NAME", "no-reference", True, ("sr",)),
        summary="any pyiqa metric by name, pyiqa:NAME (direction, range and FR/NR mode read from pyiqa)",
    ),
    "dover": Spec.of(
        "mgld_bench.metrics.video:DOVER",
        MetricFacts(
            "DOVER", "no-reference", True, ("sr",), decimals=4, uses_frame_subset=False,
            tolerance=Tolerance(1e-3, 0.0, "float32 video networks behind a sigmoid; 0-1 scale, 4 decimals"),
        ),
    ),
    "dover-technical": Spec.of(
        "mgld_bench.metrics.video:DOVER",
        MetricFacts(
            "DOVER-T", "no-reference", True, ("sr",), decimals=4, uses_frame_subset=False,
            tolerance=Tolerance(1e-3, 0.0, "float32 video network behind a sigmoid; 0-1 scale, 4 decimals"),
        ),
        summary="DOVER technical quality (0-1): fragments branch, official sampling, seeded offsets",
        score="technical",
    ),
    "dover-aesthetic": Spec.of(
        "mgld_bench.metrics.video:DOVER",
        MetricFacts(
            "DOVER-A", "no-reference", True, ("sr",), decimals=4, uses_frame_subset=False,
            tolerance=Tolerance(1e-3, 0.0, "float32 video network behind a sigmoid; 0-1 scale, 4 decimals"),
        ),
        summary="DOVER aesthetic quality (0-1): 224-px resized branch, official sampling, seeded offsets",
        score="aesthetic",
    ),
    "warping-error": Spec.of(
        "mgld_bench.metrics.temporal:WarpingError",
        MetricFacts(
            "E*warp", "temporal", False, ("sr", "gt", "lr"), decimals=2, unit="x1e3",
            protocol_fields=("warp_definition", "flow_backend", "flow_source"), uses_frame_subset=False,
            protocol_options=_CUTS,
            tolerance=Tolerance(0.01, 0.01, _FLOW), gt_optional=True,
        ),
        aliases=("warping_error",),
    ),
    "warping-error-evalcrafter": Spec.of(
        "mgld_bench.metrics.temporal:WarpingError",
        MetricFacts(
            "E*warp (EvalCrafter)", "temporal", False, ("sr", "gt", "lr"), decimals=2, unit="x1e3",
            protocol_fields=("flow_backend",), uses_frame_subset=False, protocol_options=_CUTS,
            tolerance=Tolerance(0.01, 0.01, _FLOW), gt_optional=True,
        ),
        aliases=("warping_error-evalcrafter",),
        summary="warping error x1e3, EvalCrafter/STAR/DOVE variant (flow on the output at half size, channel sum)",
        warp_definition="evalcrafter",
        flow_source="sr",
    ),
    "mawe": Spec.of(
        "mgld_bench.metrics.temporal:MAWE",
        MetricFacts(
            "MAWE", "temporal", False, ("sr",), decimals=3, uses_frame_subset=False, protocol_options=_CUTS,
            tolerance=Tolerance(1e-3, 0.02, "ratio of a warp error to the mean RAFT motion; flow varies with "
                                "device and backend build; 2 % relative"),
        ),
    ),
    "tof": Spec.of(
        "mgld_bench.metrics.temporal:TOF",
        MetricFacts(
            "tOF", "temporal", False, ("sr", "gt"), decimals=3, unit="px", uses_frame_subset=False,
            protocol_options=_CUTS,
            tolerance=Tolerance(1e-3, 0.01, "Farneback flow varies with the OpenCV build; 1 % relative"),
        ),
    ),
    "tlp": Spec.of(
        "mgld_bench.metrics.temporal:TLP",
        MetricFacts(
            "tLP", "temporal", False, ("sr", "gt"), decimals=4, unit="x100", uses_frame_subset=False,
            protocol_options=_CUTS,
            resources=ONE_GPU,
            tolerance=Tolerance(0.1, 0.0, "difference of two float32 LPIPS values x100: 1e-3 of LPIPS"),
        ),
        aliases=("tlpips",),
    ),
}
