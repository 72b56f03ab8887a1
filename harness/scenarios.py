"""What the load test's students do and what is kept of each: the four scenarios (the page each is on), a
person's pause between moves, the digit photos they upload, and the :class:`Session` record of one student's
latencies, errors and warnings. Both kinds of client (:mod:`harness.browser_session`,
:mod:`harness.protocol_session`) and the run (:mod:`harness.classroom`) share it.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

SCENARIOS = ["draw", "upload", "denoise", "vae"]
PAGE = {"draw": "draw", "upload": "draw", "denoise": "denoise", "vae": "vae"}  # the page each scenario is on
THINK_S = {"protocol": (0.5, 2.0), "browser": (0.2, 0.8)}  # a person's pause between moves (browser: as first measured)


def digit_png(rng: random.Random, corrupt: bool = False) -> bytes:
    """A dark digit-like scribble on light paper, as a phone photo would be (and sometimes cut short)."""
    img = Image.new("L", (rng.randint(60, 240), rng.randint(60, 240)), rng.randint(190, 255))
    d = ImageDraw.Draw(img)
    w, h = img.size
    pts = [(rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.85) * h) for _ in range(rng.randint(2, 5))]
    d.line(pts, fill=rng.randint(0, 60), width=max(3, min(w, h) // 10))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    return data[: len(data) // 2] if corrupt else data


@dataclass
class Session:
    """One student's tally: what they did, how long each rerun took, what went wrong and what the pages warned."""

    index: int
    scenario: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    interactions: int = 0
    note: str = ""
    prep_ms: list[float] = field(default_factory=list)  # protocol uploads: URL request + PUT, before the rerun
    media_ms: list[float] = field(default_factory=list)  # protocol: fetching a run's images after it finished
    details: list[str] = field(default_factory=list)  # what the first few errors said
    warnings: set[str] = field(default_factory=set)  # st.warning texts seen (not errors; reported)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if detail and len(self.details) < 3:
            self.details.append(f"{kind}: {detail[:160]}")

