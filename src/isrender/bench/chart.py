"""``--chart``: throughput against workers (or clients) per modifier string, the floor dashed.

matplotlib is an optional extra (``pip install 'isrender[bench]'``); ``require_matplotlib``
runs before any measuring, so a missing extra costs no benchmark time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from isrender.errors import BenchSetupError

__all__ = ["CHART_SUFFIXES", "Series", "check_chart_path", "draw"]

CHART_SUFFIXES = (".png", ".svg")


@dataclass
class Series:
    """One modifier string: throughput at each count, and the floor's (local mode only)."""

    label: str
    counts: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    floor_rates: list[float] = field(default_factory=list)


def check_chart_path(path: Path) -> None:
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise BenchSetupError(f"--chart writes .png or .svg files, not {path.name!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BenchSetupError(
            "--chart needs matplotlib: install the bench extra, pip install 'isrender[bench]'"
        ) from None


def draw(path: Path, series: list[Series], x_label: str, y_label: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=110)
    try:
        for index, one in enumerate(series):
            colour = f"C{index % 10}"
            label = one.label.replace("$", r"\$")  # $preset$ is not mathtext
            axes.plot(one.counts, one.rates, marker="o", color=colour, label=label)
            if one.floor_rates:
                axes.plot(one.counts, one.floor_rates, linestyle="--", marker="x", color=colour,
                          label=f"floor: {label}")  # fmt: skip
        counts = sorted({c for one in series for c in one.counts})
        axes.set_xticks(counts)
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.set_title(title)
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format=path.suffix.lower().lstrip("."))
    finally:
        pyplot.close(figure)
