"""Typed values the spec's §8 examples (and §5.9's colour table) pin down.

Each row: (id, modifiers, scope, command slot, expected typed value). Scope is ``G``, ``C`` or
``Ln``; ``vars`` reads the variable table instead.
"""

from __future__ import annotations

from typing import Any

from isrender.commands.colors import Color, ColorSpace
from isrender.commands.values import (
    Colorize,
    Fit,
    Format,
    Noise,
    Quality,
    Quantize,
    Rect,
    Unsharp,
)


def rgb(r: int, g: int, b: int, a: int = 255, source: bool = False) -> Color:
    return Color(ColorSpace.RGB, (r / 255, g / 255, b / 255), a / 255, source)


VALUES: list[tuple[str, str, str, str, Any]] = [
    ("E-19", "wid=240&hei=240&fit=fit", "G", "fit", Fit("fit", False)),
    ("E-31", "wid=200&hei=200&fit=crop,1", "G", "fit", Fit("crop", True)),
    ("E-50", "crop=10%2C10,100,100&scl=1", "L0", "crop", Rect(10, 10, 100, 100)),
    ("E-49", "cropN=0.1,0,0.8,1", "L0", "crop", Rect(0.1, 0, 0.8, 1)),
    (
        "E-76",
        "fmt=gif-alpha&wid=100&quantize=adaptive,off,2,000000,ffffff",
        "G",
        "quantize",
        Quantize("adaptive", "off", 2, ((0, 0, 0), (255, 255, 255))),
    ),
    ("E-77", "fmt=png8&quantize=web,off", "G", "quantize", Quantize("web", "off", 256, ())),
    ("E-80", "fmt=tif,cmyk&scl=1", "G", "fmt", Format("tif", "cmyk", None)),
    ("E-82", "fmt=tif,,jpeg", "G", "fmt", Format("tif", None, "jpeg")),
    ("E-128", "WID=200&Fmt=PNG", "G", "fmt", Format("png")),
    ("E-91", "qlt=85,1&wid=240", "G", "qlt", Quality(85, True)),
    ("E-102", "resMode=sharp&wid=200", "G", "resMode", "sharp2"),
    ("E-104", "iccEmbed=true", "G", "iccEmbed", True),
    ("E-106", "bgc=80", "G", "bgc", Color(ColorSpace.GRAY, (0.8,))),
    ("E-107", "bgc=0x80", "G", "bgc", Color(ColorSpace.GRAY, (128 / 255,))),
    ("E-109", "bgc=ff000080", "G", "bgc", rgb(255, 0, 0, 0x80)),
    ("E-112", "bgc=0,0,0,100k", "G", "bgc", Color(ColorSpace.CMYK, (0, 0, 0, 1.0))),
    ("E-113", "bgc=255,255,255S", "G", "bgc", rgb(255, 255, 255, source=True)),
    ("E-114", "op_colorize=240,122,17", "C", "op_colorize", Colorize(rgb(240, 122, 17), "norm", 0)),
    (
        "E-115",
        "op_colorize=a0b0c0,norm,50",
        "C",
        "op_colorize",
        Colorize(rgb(160, 176, 192), "norm", 50),
    ),
    ("E-117", "colorize=0x306090", "C", "op_colorize", Colorize(rgb(0x30, 0x60, 0x90))),
    ("E-119", "op_usm=1,2,6,0&wid=200", "C", "op_usm", Unsharp(1, 2, 6, False)),
    ("E-124", "op_noise=10,gaussian,1", "C", "op_noise", Noise(10, "gaussian", True)),
    ("E-139", "$text=rate%26weight%3D85%25%2027%23", "vars", "text", "rate&weight=85% 27#"),
    (
        "E-140",
        "map=<area%20alt=Scene7%20href=www.scene7.com>",
        "C",
        "map",
        "<area alt=Scene7 href=www.scene7.com>",
    ),
    ("E-141", "$t=a+b&$u=a%2Bb", "vars", "t", "a b"),
    ("E-141", "$t=a+b&$u=a%2Bb", "vars", "u", "a+b"),
    ("E-143", "wid=%32%30%30", "G", "wid", 200),
    ("E-147", "$var2=apple&$var1=my$var2$tree&text=$var1$", "L0", "text", "my$var2$tree"),
    ("E-214", "defaultImage=&layer=0&src=missing", "G", "defaultImage", ""),
]

# §5.9's own colour table: value -> (space, components 0..1, alpha 0..1, source flag)
COLORS: list[tuple[str, ColorSpace, tuple[float, ...], float, bool]] = [
    ("0,100,200", ColorSpace.RGB, (0, 100 / 255, 200 / 255), 1.0, False),
    ("0,100,200,200rs", ColorSpace.RGB, (0, 100 / 255, 200 / 255), 200 / 255, True),
    ("0x010203S", ColorSpace.RGB, (1 / 255, 2 / 255, 3 / 255), 1.0, True),
    ("a0b1c2d3R", ColorSpace.RGB, (160 / 255, 177 / 255, 194 / 255), 211 / 255, False),
    ("ff0000", ColorSpace.RGB, (1, 0, 0), 1.0, False),
    ("0xFF0000", ColorSpace.RGB, (1, 0, 0), 1.0, False),
    ("100S", ColorSpace.GRAY, (1.0,), 1.0, True),
    ("50,75g", ColorSpace.GRAY, (0.5,), 0.75, False),
    ("0X70G", ColorSpace.GRAY, (112 / 255,), 1.0, False),
    ("0xddeegs", ColorSpace.GRAY, (0xDD / 255,), 0xEE / 255, True),
    ("94,11,50,33k", ColorSpace.CMYK, (0.94, 0.11, 0.50, 0.33), 1.0, False),
    ("22,23,24,25,26KS", ColorSpace.CMYK, (0.22, 0.23, 0.24, 0.25), 0.26, True),
    ("38393A3bK", ColorSpace.CMYK, (0x38 / 255, 0x39 / 255, 0x3A / 255, 0x3B / 255), 1.0, False),
    ("0x0a0b0C0d0eks", ColorSpace.CMYK, (10 / 255, 11 / 255, 12 / 255, 13 / 255), 14 / 255, True),
    ("102030", ColorSpace.RGB, (16 / 255, 32 / 255, 48 / 255), 1.0, False),
    ("0100", ColorSpace.GRAY, (1.0,), 1.0, False),
]

BAD_COLORS = [
    "255",
    "fg0000",
    "ff000",
    "0,0,0,0,0",
    "80,90,300",
    "0x8",
    "12,34g,5",
    "0,0,0k",
    "ffzz00",
    "0xff0000k",
    "101",
    "1,2,3,4,5,6",
    "-1",
    "10,20,30g",
]
