"""Named evaluation protocols.

A protocol fixes every choice that changes a number without changing the method: colour space,
crop border, which frames are scored, and how temporal consistency is measured.  Metrics take
the fields they use from the protocol (``Metric.protocol_fields``); every stored value records
the protocol's name and its resolved fields, and tables never mix protocols in one column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mgld_bench.errors import BenchError, UnknownNameError


@dataclass(frozen=True)
class Protocol:
    """One complete set of scoring conventions (see the README for the reasons behind each)."""

    name: str
    description: str
    #: "y": BT.601 limited-range luma 16 + 65.481 R + 128.553 G + 24.966 B (R,G,B in [0, 1]),
    #: float, unrounded (BasicSR / MATLAB rgb2ycbcr); "rgb": all three channels.
    color_space: str = "y"
    #: Pixels removed from each of the four borders before full-reference scoring.
    crop_border: int = 0
    #: "all", or the frame indices scored by per-frame metrics, e.g. "0,50,99".
    frames: str = "all"
    #: What an index past a short clip's end means: "error", or "last" (the clip's last frame;
    #: indices that then coincide are scored once).
    frames_past_end: str = "error"
    #: Warping-error definition: "lai" (Lai et al. 2018) or "evalcrafter" (STAR/DOVE variant).
    warp_definition: str = "lai"
    #: Optical-flow backend used by temporal metrics.
    flow_backend: str = "dis-medium"
    #: Video the flow is computed on: "gt", "sr", "lr" (bicubic-upsampled), or "auto"
    #: (GT when the dataset has it, else the SR output).
    flow_source: str = "auto"

    def fields(self) -> dict[str, object]:
        """The protocol's settings as a plain dict (name included, description left out)."""
        out = asdict(self)
        out.pop("description")
        return out

    def frame_indices(self, count: int) -> list[int]:
        """The indices of a ``count``-frame clip that per-frame metrics score."""
        if self.frames == "all":
            return list(range(count))
        wanted = [int(t) for t in self.frames.split(",") if t.strip()]
        if self.frames_past_end == "last":
            return sorted({min(i, count - 1) for i in wanted if i >= 0})
        bad = [i for i in wanted if not 0 <= i < count]
        if bad:
            raise BenchError(
                f"protocol {self.name!r} scores frames {self.frames} but the clip has only "
                f"{count} frames"
            )
        return wanted


PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> Protocol:
    """Add a named protocol; names are unique."""
    if protocol.name in PROTOCOLS and PROTOCOLS[protocol.name] != protocol:
        raise BenchError(f"protocol {protocol.name!r} is defined twice")
    PROTOCOLS[protocol.name] = protocol
    return protocol


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; raise listing the valid ones when unknown."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown protocol {name!r}; valid protocols: {', '.join(sorted(PROTOCOLS))}"
        ) from None


DEFAULT = register_protocol(
    Protocol(
        name="default",
        description=(
            "Y channel (BT.601, unrounded), no crop, every frame; warping error after Lai et al. "
            "with DIS-medium flow on the GT (on the output when there is no GT)."
        ),
    )
)


VIDEOLQ = register_protocol(
    Protocol(
        name="videolq",
        description=(
            "RealBasicVSR/VideoLQ practice: no-reference metrics on frames 0, 50 and 99 of each clip (the last "
            "frame instead of an index past the end of a shorter clip), "
            "BT.601 Y, no crop; warping error after Lai et al. with RAFT-large flow on the output itself "
            "(VideoLQ has no GT)."
        ),
        color_space="y",
        crop_border=0,
        frames="0,50,99",
        # VideoLQ's Vid4-derived clips have 34-49 frames; how the authors scored them is unknown.
        # We score their first frame, frame 50 if it exists, and their last frame.
        frames_past_end="last",
        warp_definition="lai",
        flow_backend="raft-large",
        flow_source="sr",
    )
)

STAR_EVALCRAFTER = register_protocol(
    Protocol(
        name="evalcrafter",
        description=(
            "STAR/DOVE practice for E*warp: EvalCrafter definition (output halved, channel sum, x1e3) with "
            "RAFT-large flow on the output; fidelity on BT.601 Y, no crop, every frame."
        ),
        color_space="y",
        crop_border=0,
        frames="all",
        warp_definition="evalcrafter",
        flow_backend="raft-large",
        flow_source="sr",
    )
)
