"""From the samples of one row (a modifier string at a worker count) to the reported numbers.

Each worker alternates an isrender render and the floor on the same image, so both share the
row's wall time. Each gets the part of it that matches its busy time (the sum of its
latencies), and its rate is its image count over that part. The floor ratio is then
isrender's rate over the floor's: 1.0 means isrender runs as fast as raw libvips, 0.8 means
it reaches 80 % of the floor's rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from isrender.bench.worker import Measurement, Sample

__all__ = ["Row", "Side", "percentile", "summarise"]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Side:
    """isrender's or the floor's numbers in one row."""

    images: int
    images_per_s: float
    latency_ms: dict[str, float]
    cpu_s_per_image: float
    output_bytes_mean: float


@dataclass(frozen=True)
class Row:
    modifiers: str
    workers: int
    failures: int
    sources_timed: int  # distinct sources among the timed images
    wall_s: float
    isrender: Side
    floor: Side
    floor_ratio: float | None  # isrender images/s over the floor's; None without images
    input_mpx_per_s: float
    output_bytes_total: int
    peak_rss_mb: float | None  # the largest VmHWM among the row's worker processes
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    error: str = ""  # the row could not finish (a worker process died)


def _side(measurements: list[Measurement], wall_share: float, tails: tuple[str, ...]) -> Side:
    count = len(measurements)
    latencies = [m.seconds * 1000 for m in measurements]
    quantiles = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
    latency = {t: percentile(latencies, quantiles[t]) for t in tails}
    latency["max"] = max(latencies, default=0.0)
    return Side(
        images=count,
        images_per_s=count / wall_share if wall_share > 0 else 0.0,
        latency_ms=latency,
        cpu_s_per_image=sum(m.cpu_seconds for m in measurements) / count if count else 0.0,
        output_bytes_mean=sum(m.output_bytes for m in measurements) / count if count else 0.0,
    )


def summarise(
    modifiers: str, workers: int, samples: list[Sample], wall_s: float, failures: int, error: str
) -> Row:
    timed = [s for s in samples if not s.error and s.render and s.floor]
    renders = [s.render for s in timed if s.render]
    floors = [s.floor for s in timed if s.floor]
    render_busy = sum(m.seconds for m in renders)
    floor_busy = sum(m.seconds for m in floors)
    busy = render_busy + floor_busy
    ours = _side(renders, wall_s * render_busy / busy if busy else 0.0, ("p50", "p95"))
    floor = _side(floors, wall_s * floor_busy / busy if busy else 0.0, ("p50", "p95"))
    mean_mpx = sum(s.source_pixels for s in timed) / len(timed) / 1e6 if timed else 0.0
    peaks: dict[int, int] = {}
    for sample in samples:
        if sample.peak_rss_kb is not None:
            peaks[sample.pid] = max(peaks.get(sample.pid, 0), sample.peak_rss_kb)
    worker_peaks = sorted((kb / 1024 for kb in peaks.values()), reverse=True)
    return Row(
        modifiers=modifiers,
        workers=workers,
        failures=failures + sum(1 for s in samples if s.error),
        sources_timed=len({s.path for s in timed}),
        wall_s=wall_s,
        isrender=ours,
        floor=floor,
        floor_ratio=ours.images_per_s / floor.images_per_s if floor.images_per_s else None,
        input_mpx_per_s=ours.images_per_s * mean_mpx,
        output_bytes_total=sum(m.output_bytes for m in renders),
        peak_rss_mb=worker_peaks[0] if worker_peaks else None,
        worker_peak_rss_mb=worker_peaks,
        error=error,
    )
