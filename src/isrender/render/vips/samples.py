"""Sample images made from nothing (``isrender demo``): a gradient photo and a logo."""

from __future__ import annotations

from pathlib import Path

import pyvips

__all__ = ["write_samples"]


def write_samples(folder: Path) -> list[Path]:
    """``fileToExport.jpg`` (1200x800 gradient) and ``logo.png`` (400x200, transparent
    margins) in ``folder``."""
    xy = pyvips.Image.xyz(1200, 800)
    photo = xy[0].linear(255 / 1199, 0).bandjoin([xy[1].linear(255 / 799, 0), xy[0] * 0 + 90])
    photo = photo.cast("uchar").copy(interpretation="srgb")
    photo.jpegsave(str(folder / "fileToExport.jpg"), Q=90)
    logo = pyvips.Image.black(400, 200).new_from_image([20, 60, 200]).cast("uchar")
    alpha = pyvips.Image.black(400, 200).draw_rect(255, 100, 50, 200, 100, fill=True)
    logo.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb").pngsave(str(folder / "logo.png"))
    return [folder / "fileToExport.jpg", folder / "logo.png"]
