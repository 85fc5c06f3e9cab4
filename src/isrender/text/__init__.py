"""Text layers (spec §6.7), the pure part: read RTF or plain text into a typed document, turn it
into Pango markup, and map RTF font names to installed fonts. The drawing is vips_text.py."""

from __future__ import annotations

from isrender.text.document import Margins, Paragraph, Run, TextDocument
from isrender.text.rtf import parse, parse_plain, single_alignment

__all__ = [
    "Margins",
    "Paragraph",
    "Run",
    "TextDocument",
    "parse",
    "parse_plain",
    "single_alignment",
]
