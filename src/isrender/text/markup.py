"""TextDocument -> Pango markup, one string per block of paragraphs that share a layout.

libvips' text operation takes one alignment for its whole layout, so paragraphs are grouped
into blocks of consecutive paragraphs with the same alignment, indents and spacing; the renderer
draws each block and stacks them. Sizes go into the markup in 1024ths of a point (Pango's own
unit, understood by every Pango version); colours as ``#rrggbb`` plus ``fgalpha``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from isrender.text.document import Alignment, Paragraph, Run, TextDocument
from isrender.text.fonts import FontFace, FontMap

__all__ = ["Block", "MarkupResult", "blocks", "run_markup"]

Scale = Callable[[Run], float]  # the factor a run's size is drawn at (copy-fitting)
_UNDERLINE = {"single": "single", "double": "double"}
_EMPTY_LINE = "\u200b"  # a zero-width space gives an empty paragraph its run's line height


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive paragraphs drawn by one text operation. Indents and spacing in points."""

    markup: str
    align: Alignment
    left_indent: float
    right_indent: float
    space_before: float
    space_after: float
    first_size: float  # points, of the first run: the size of the block's default font


@dataclass(frozen=True, slots=True)
class MarkupResult:
    blocks: tuple[Block, ...]
    faces: tuple[FontFace, ...]  # every face used, for loading its files
    warnings: tuple[str, ...]


def _layout_key(p: Paragraph) -> tuple[object, ...]:
    return (p.align, p.left_indent, p.right_indent, p.space_before, p.space_after)


def blocks(
    doc: TextDocument, fonts: FontMap, *, strict: bool = False, scale: Scale = lambda run: 1.0
) -> MarkupResult:
    """The document as markup blocks; fonts looked up in ``fonts`` (FontNotFoundError for an
    unknown one when ``strict``, else the fallback and a warning)."""
    faces: dict[FontFace, None] = {}
    warnings: dict[str, None] = {}

    def face_of(run: Run) -> FontFace:
        face = fonts.face(run.font, run.family, strict=strict)
        if not fonts.knows(run.font):
            warnings.setdefault(f"font {run.font!r} is not in the font map; {face.name} used")
        faces.setdefault(face)
        return face

    groups: list[list[Paragraph]] = []
    for paragraph in doc.paragraphs:
        if groups and _layout_key(groups[-1][-1]) == _layout_key(paragraph):
            groups[-1].append(paragraph)
        else:
            groups.append([paragraph])
    built = tuple(_block(group, face_of, scale) for group in groups)
    if any(p.first_indent for p in doc.paragraphs):
        warnings.setdefault("first-line indents (\\fi) are not drawn")
    if any(p.line_spacing for p in doc.paragraphs):
        warnings.setdefault("line spacing (\\sl) is not drawn; lines are single-spaced")
    return MarkupResult(built, tuple(faces), tuple(warnings))


def _block(group: list[Paragraph], face_of: Callable[[Run], FontFace], scale: Scale) -> Block:
    first = group[0]
    markup = "\n".join(_paragraph(p, face_of, scale) for p in group)
    size = first.runs[0].size * scale(first.runs[0]) if first.runs else 12.0
    return Block(markup, first.align, first.left_indent, first.right_indent,
                 first.space_before, group[-1].space_after, size)  # fmt: skip


def _paragraph(p: Paragraph, face_of: Callable[[Run], FontFace], scale: Scale) -> str:
    if not p.text and p.runs:
        run = p.runs[0]
        return run_markup(Run(_EMPTY_LINE, run.font, run.family, run.size), face_of(run), scale)
    return "".join(run_markup(run, face_of(run), scale) for run in p.runs if run.text)


def run_markup(run: Run, face: FontFace, scale: Scale) -> str:
    """One ``<span>`` with the run's font, size, colour and style; the text escaped."""
    size = run.size * scale(run)
    attrs = {"font_family": face.family, "size": str(max(1, round(size * 1024)))}
    red, green, blue = run.color.to_rgb8() if run.color else (0, 0, 0)
    attrs["foreground"] = f"#{red:02x}{green:02x}{blue:02x}"
    if run.color and run.color.alpha < 1:
        attrs["fgalpha"] = str(max(1, round(run.color.alpha * 65535)))
    if run.bold:
        attrs["weight"] = "bold"
    if run.italic:
        attrs["style"] = "italic"
    if run.underline in _UNDERLINE:
        attrs["underline"] = _UNDERLINE[run.underline]
    if run.small_caps:
        attrs["variant"] = "smallcaps"
    if run.spacing:
        attrs["letter_spacing"] = str(round(run.spacing * scale(run) * 1024))
    text = escape(run.text.upper() if run.caps else run.text)
    if run.baseline != "normal":
        tag = "sup" if run.baseline == "super" else "sub"
        text = f"<{tag}>{text}</{tag}>"
    quoted = " ".join(f'{k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items())
    return f"<span {quoted}>{text}</span>"
