"""The documented RealBasicVSRNet state_dict layout (mmediting 0.x), written out by hand.

Source: the reference table of key patterns and shapes (320 entries, 6,294,834 parameters);
this file is the independent reference the port is checked against.
"""

from __future__ import annotations


def _resblocks(prefix: str, cin: int, n: int = 20) -> dict[str, tuple[int, ...]]:
    out = {f"{prefix}.main.0.weight": (64, cin, 3, 3), f"{prefix}.main.0.bias": (64,)}
    for i in range(n):
        for conv in ("conv1", "conv2"):
            out[f"{prefix}.main.2.{i}.{conv}.weight"] = (64, 64, 3, 3)
            out[f"{prefix}.main.2.{i}.{conv}.bias"] = (64,)
    return out


def expected_layout() -> dict[str, tuple[int, ...]]:
    keys: dict[str, tuple[int, ...]] = {}
    keys.update(_resblocks("image_cleaning.0", 3))
    keys["image_cleaning.1.weight"] = (3, 64, 3, 3)
    keys["image_cleaning.1.bias"] = (3,)
    keys["basicvsr.spynet.mean"] = (1, 3, 1, 1)
    keys["basicvsr.spynet.std"] = (1, 3, 1, 1)
    convs = [(32, 8), (64, 32), (32, 64), (16, 32), (2, 16)]
    for level in range(6):
        for j, (cout, cin) in enumerate(convs):
            base = f"basicvsr.spynet.basic_module.{level}.basic_module.{j}.conv"
            keys[f"{base}.weight"] = (cout, cin, 7, 7)
            keys[f"{base}.bias"] = (cout,)
    keys.update(_resblocks("basicvsr.backward_resblocks", 67))
    keys.update(_resblocks("basicvsr.forward_resblocks", 67))
    keys["basicvsr.fusion.weight"] = (64, 128, 1, 1)
    keys["basicvsr.fusion.bias"] = (64,)
    for up in ("upsample1", "upsample2"):
        keys[f"basicvsr.{up}.upsample_conv.weight"] = (256, 64, 3, 3)
        keys[f"basicvsr.{up}.upsample_conv.bias"] = (256,)
    keys["basicvsr.conv_hr.weight"] = (64, 64, 3, 3)
    keys["basicvsr.conv_hr.bias"] = (64,)
    keys["basicvsr.conv_last.weight"] = (3, 64, 3, 3)
    keys["basicvsr.conv_last.bias"] = (3,)
    return keys
