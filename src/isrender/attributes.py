"""Catalog attributes a render runs with (spec §4.2): the defaults behind absent commands.

The reference publishes no defaults for most of them; these are isrender's, chosen for a
conversion tool: no DefaultPix or MaxPix limit (exports deliver full resolution, D-50), a
100 Mpx source limit against decompression bombs, lanczos3 (sharp2) resampling, JPEG q80.
The spec's test fixture (§0.5) is ``CatalogAttributes.spec_fixture()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isrender.commands.colors import Color, ColorSpace
from isrender.commands.values import Quality

__all__ = ["CatalogAttributes"]

WHITE = Color(ColorSpace.RGB, (1.0, 1.0, 1.0))
QUALITY_80 = Quality(80, False)


@dataclass(frozen=True)
class CatalogAttributes:
    default_pix: tuple[int, int] = (0, 0)  # 0 = unlimited
    max_pix: tuple[int, int] = (0, 0)  # 0 = unlimited
    bkg_color: Color = WHITE
    jpeg_quality: Quality = QUALITY_80
    res_mode: str = "sharp2"
    resolution: float = 100.0  # catalog::Resolution for res=
    max_source_pixels: int = 100_000_000  # checked from the header, before decoding
    max_render_pixels: int = 100_000_000  # the reply (IS::MaxRenderRgnPixels)
    # icc= names beyond the built-in ones (sRGB and the CMYK names): name -> .icc/.icm path
    icc_profiles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def spec_fixture(cls) -> CatalogAttributes:
        """The fixture configuration of image-serving.md §0.5 (what the E-nn examples assume)."""
        return cls(
            default_pix=(400, 400),
            max_pix=(2000, 2000),
            jpeg_quality=QUALITY_80,
            res_mode="bicub",
            resolution=100.0,
            max_render_pixels=16_000_000,
        )
