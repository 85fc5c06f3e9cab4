"""Draw a text layer (spec §6.7) with libvips' ``text`` operation (Pango) into an RGBA image.

libvips crops what it draws to the ink and reports where the ink sits in Pango's layout
(``xoffset``/``yoffset``), so every block of paragraphs is placed by its layout origin: the
left margin plus the left indent, and the bottom of the block above. A block's height is its
layout height, measured by drawing a marker line under it (its ink bottom minus the marker's own).

Sizing (§6.4 ``size=``, §6.7): without a width the layer grows to the text; with a width only,
the text wraps at it and the height grows; with both, the box is fixed and what does not fit is
cut off (``overflow``). An auto-sized ``text=`` layer may use only one alignment. ``textPs=``
copy-fits (``\\copyfit``: sizes grow from ``\\fs`` towards the ``\\copyfit`` maximum while the
text still fits); ``text=`` with ``textAttr=...,autoRes`` (or ``maxRes``) varies the resolution
instead. Measured sizes: the layout origin to the far edge of the ink, plus the margins.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyvips

from isrender.errors import UnsupportedFeatureError
from isrender.render.text_layout import TextBox, TextLayout, layer_size, text_layout
from isrender.request.model import Attributes
from isrender.text import parse
from isrender.text.document import Run, TextDocument
from isrender.text.fonts import FontFace, FontMap, default_font_map, load_font_map
from isrender.text.markup import Block, MarkupResult, Scale, blocks
from isrender.text.rtf import single_alignment

__all__ = [
    "RenderedText",
    "TextBox",
    "draw_text",
    "font_map_at",
    "measure_text_layer",
    "render_text",
]

MAX_SIDE = 16384  # a text layer larger than this is refused before drawing
_FIT_STEPS = 8  # bisection steps of copy-fitting and autoRes: 1/256 of the range
_ALIGN = {"left": "low", "center": "centre", "right": "high", "justify": "low"}
_WRAP = {"wrap": "word-char", "nbWrap": "word", "noWrap": "none"}
_MARKER = "I"
_loaded_files: set[str] = set()
_DRAWN_CACHE = 32  # text layers drawn lately: planning measures one, the render draws it again
_drawn: OrderedDict[tuple[str, TextBox, bool, int], tuple[RenderedText, FontMap]] = OrderedDict()


@dataclass(frozen=True)
class RenderedText:
    """The drawn layer: ``image`` is 4-band sRGB uchar, ``width`` x ``height``. ``dpi`` and
    ``fit_scale`` are what copy-fitting or autoRes settled on."""

    image: pyvips.Image
    width: int
    height: int
    dpi: float
    fit_scale: float = 1.0
    overflow: bool = False
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Drawn:
    ink: pyvips.Image
    x: int  # ink position in the layer
    y: int


@dataclass(frozen=True)
class _Layout:
    drawn: tuple[_Drawn, ...]
    width: int  # content extent from the box's top-left, margins included
    height: int


_font_maps: dict[tuple[str, int], FontMap] = {}  # the font_map setting's file, by path and mtime


def font_map_at(path: Path | None) -> FontMap:
    """The map of the ``font_map`` setting (CatalogAttributes.font_map): the shipped map plus
    that TOML file's entries, read once per version of the file (a render asks for it each
    time; one map object per version also keeps ``draw_text``'s cache key stable)."""
    if path is None:
        return default_font_map()
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return load_font_map(path)  # raises FontMapError naming the file
    if key not in _font_maps:
        _font_maps.clear()  # one setting: an older version of the file is not used again
        _font_maps[key] = load_font_map(path)
    return _font_maps[key]


def draw_text(text: str, box: TextBox, fonts: FontMap, *, strict: bool = True) -> RenderedText:
    """``text`` as sent (RTF or plain) drawn into ``box``; the last few drawings are kept, so
    measuring a layer while planning and drawing it while rendering costs one drawing."""
    key = (text, box, strict, id(fonts))  # the map is kept in the entry: its id stays its own
    hit = _drawn.get(key)
    if hit is not None:
        _drawn.move_to_end(key)
        return hit[0]
    document = parse(text, dialect=box.dialect, strict=strict)
    drawn = render_text(document, box, fonts, strict=strict, source=text)
    _drawn[key] = (drawn, fonts)
    while len(_drawn) > _DRAWN_CACHE:
        _drawn.popitem(last=False)
    return drawn


def measure_text_layer(
    attributes: Attributes,
    fonts: FontMap,
    *,
    canvas: tuple[int, int] = (0, 0),
    strict: bool = True,
) -> tuple[TextLayout, tuple[int, int]]:
    """A text layer's layout (render/text_layout.py) and its size in pixels (§6.7), measured
    by drawing it: what planning needs to place the layer before anything is rendered."""
    layout = text_layout(attributes, canvas=canvas)
    drawn = draw_text(attributes.value("text"), layout.box, fonts, strict=strict)
    return layout, layer_size(layout, (drawn.width, drawn.height))


def render_text(
    doc: TextDocument, box: TextBox, fonts: FontMap, *, strict: bool = False, source: str = ""
) -> RenderedText:
    """Draw ``doc`` into ``box``. ``source`` is the text as sent, for error carets."""
    auto_size = box.width == 0 or box.height == 0
    if auto_size and box.dialect == "text":
        single_alignment(doc, source)
    warnings = list(doc.warnings)
    dpi, scale = float(box.dpi), 1.0
    if not auto_size and box.dialect == "textPs" and doc.copyfits:
        scale = _best_fit(lambda f: _fits(doc, box, fonts, strict, dpi, f), 1.0, _copyfit_top(doc))
    elif not auto_size and box.dialect == "text" and box.resolution_mode != "fixedRes":
        top = 1.0 if box.resolution_mode == "maxRes" else 16.0
        dpi *= _best_fit(lambda f: _fits(doc, box, fonts, strict, dpi * f, 1.0), 1 / 16, top)
    markup = blocks(doc, fonts, strict=strict, scale=_run_scale(scale))
    warnings.extend(markup.warnings)
    layout = _layout(markup, doc, box, dpi)
    width = box.width or layout.width
    height = box.height or layout.height
    if width > MAX_SIDE or height > MAX_SIDE:
        raise UnsupportedFeatureError(f"a text layer of {width}x{height} is too large")
    image = _compose(layout, max(1, width), max(1, height), _vertical_shift(doc, box, layout))
    overflow = layout.width > width or layout.height > height
    return RenderedText(image, max(1, width), max(1, height), dpi, scale, overflow,
                        tuple(dict.fromkeys(warnings)))  # fmt: skip


def _run_scale(factor: float) -> Scale:
    """Copy-fitting scales the runs that have a \\copyfit range, capped at their maximum."""

    def scale(run: Run) -> float:
        if run.copyfit > run.size:
            return min(factor, run.copyfit / run.size)
        return 1.0

    return scale


def _copyfit_top(doc: TextDocument) -> float:
    ratios = [r.copyfit / r.size for p in doc.paragraphs for r in p.runs if r.copyfit > r.size]
    return min(ratios) if ratios else 1.0


def _best_fit(fits: Callable[[float], bool], low: float, high: float) -> float:
    """The largest factor in [low, high] for which ``fits`` holds (low when none does)."""
    if fits(high):
        return high
    for _ in range(_FIT_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def _fits(doc: TextDocument, box: TextBox, fonts: FontMap, strict: bool, dpi: float,
          factor: float) -> bool:  # fmt: skip
    layout = _layout(blocks(doc, fonts, strict=strict, scale=_run_scale(factor)), doc, box, dpi)
    return layout.width <= box.width and layout.height <= box.height


def _px(points: float, dpi: float) -> int:
    return round(points * dpi / 72)


def _layout(markup: MarkupResult, doc: TextDocument, box: TextBox, dpi: float) -> _Layout:
    _load_fonts(markup.faces)
    m = doc.margins
    left, top = _px(m.left, dpi), _px(m.top, dpi)
    right, bottom = _px(m.right, dpi), _px(m.bottom, dpi)
    area = box.width - left - right if box.width else 0
    drawn = _stack(markup.blocks, box, dpi, left, top, area)
    if not box.width and len(markup.blocks) > 1 and any(b.align != "left" for b in markup.blocks):
        widest = max((d.x + d.ink.width for d in drawn), default=left) - left
        drawn = _stack(markup.blocks, box, dpi, left, top, widest)  # align on the widest block
    far_x = max((d.x + d.ink.width for d in drawn), default=left)
    far_y = max((d.y + d.ink.height for d in drawn), default=top)
    return _Layout(tuple(drawn), far_x + right, far_y + bottom)


def _stack(
    parts: Iterable[Block], box: TextBox, dpi: float, left: int, top: int, area: int
) -> list[_Drawn]:
    drawn: list[_Drawn] = []
    parts = list(parts)
    y = top
    for index, block in enumerate(parts):
        y += _px(block.space_before, dpi)
        indent = _px(block.left_indent, dpi)
        width = max(1, area - indent - _px(block.right_indent, dpi)) if area else 0
        options = _options(block, box, dpi, width)
        ink = _draw(block.markup, options)
        drawn.append(_Drawn(ink, left + indent + ink.xoffset, y + ink.yoffset))
        if index + 1 < len(parts):
            y += _block_height(block.markup, options) + _px(block.space_after, dpi)
    return drawn


def _draw(markup: str, options: dict[str, object]) -> pyvips.Image:
    """The ink of ``markup``; text without ink (spaces only) is one transparent pixel."""
    try:
        return pyvips.Image.text(markup, **options)
    except pyvips.Error as exc:
        if "no text to render" not in str(exc):
            raise
        return pyvips.Image.black(1, 1, bands=4).copy(interpretation="srgb")


def _options(block: Block, box: TextBox, dpi: float, width: int) -> dict[str, object]:
    options: dict[str, object] = {
        "rgba": True,
        "dpi": max(1, round(dpi)),
        "align": _ALIGN[block.align],
        "justify": block.align == "justify",
        "font": f"Sans {block.first_size:.2f}",
    }
    if width and not (box.wrap == "noWrap" and box.dialect == "text"):
        options["width"] = width
        options["wrap"] = _WRAP[box.wrap if box.dialect == "text" else "wrap"]
    return options


def _block_height(markup: str, options: dict[str, object]) -> int:
    """The layout height of ``markup``: a marker line drawn under it starts where the layout
    ends, so the marker's ink bottom there minus its ink bottom alone is that height."""
    both = pyvips.Image.text(f"{markup}\n{_MARKER}", **options)
    alone = pyvips.Image.text(_MARKER, **options)
    return int((both.yoffset + both.height) - (alone.yoffset + alone.height))


def _vertical_shift(doc: TextDocument, box: TextBox, layout: _Layout) -> int:
    if not box.height or doc.vertical_align == "top":
        return 0
    free = box.height - layout.height
    return free if doc.vertical_align == "bottom" else free // 2


def _compose(layout: _Layout, width: int, height: int, shift: int) -> pyvips.Image:
    canvas = pyvips.Image.black(width, height, bands=4).copy(interpretation="srgb")
    if not layout.drawn:
        return canvas.cast("uchar")
    inks = [d.ink for d in layout.drawn]
    xs = [d.x for d in layout.drawn]
    ys = [d.y + shift for d in layout.drawn]
    # "over": blocks do not overlap except for descenders, which must stay visible
    composite = canvas.composite(inks, ["over"] * len(inks), x=xs, y=ys)
    return composite.cast("uchar").copy(interpretation="srgb")


def _load_fonts(faces: Iterable[FontFace]) -> None:
    """Load each face's files into fontconfig once per process (libvips' ``fontfile``)."""
    for face in faces:
        for file in face.files:
            name = str(file)
            if name not in _loaded_files:
                pyvips.Image.text(".", fontfile=name)
                _loaded_files.add(name)
