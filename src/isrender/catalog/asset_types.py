"""Asset types, export classes (production-system.md §1.5.2, D-9) and type detection."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath

__all__ = ["ASSET_TYPES", "ExportClass", "detect_type", "export_class"]

ASSET_TYPES = (
    "Aco AdjustedView AnimatedGif Asset AssetSet Audio Cabinet Catalog ColorSwatch CuePoint "
    "Excel Flash Font IccProfile Illustrator Image ImageMap ImageSet InDesign LayerView Mask "
    "MasterVideo Pdf PDFSettings PostScript PowerPoint PremierExpressRemix PsdTemplate "
    "RenderScene RenderSet SpinSet Svg Template Video VideoCaption ViewerPreset ViewerSwf "
    "Vignette Watermark WindowsCovering Word Xml Xsl Zip Rtf ZoomTarget"
).split()


class ExportClass(StrEnum):
    SET = "S"  # not supported
    RENDERABLE = "R"  # file-backed, renderable
    FILE = "F"  # file-backed, not renderable
    VIRTUAL = "V"  # renderable, no file of its own
    NONE = "N"  # no file, not renderable


_SETS = frozenset({"ImageSet", "RenderSet", "SpinSet", "Catalog", "AssetSet"})
_RENDERABLE = frozenset({"Image", "AnimatedGif", "Svg"})
_VIRTUAL = frozenset({"AdjustedView", "LayerView", "Template", "Watermark"})
_NO_FILE = frozenset({"ColorSwatch", "ImageMap", "ZoomTarget", "ViewerPreset", "RenderScene"})


def export_class(asset_type: str, sub_type: str | None = None) -> ExportClass:
    """D-9: sets are never exported; everything else by what it is."""
    if asset_type in _SETS or (sub_type or "").endswith("Set"):
        return ExportClass.SET
    if asset_type in _RENDERABLE:
        return ExportClass.RENDERABLE
    if asset_type in _VIRTUAL:
        return ExportClass.VIRTUAL
    if asset_type in _NO_FILE:
        return ExportClass.NONE
    return ExportClass.FILE


# Upload: the type from the file's first bytes, then its extension.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "Image"),
    (b"\x89PNG\r\n\x1a\n", 0, "Image"),
    (b"II*\x00", 0, "Image"),
    (b"MM\x00*", 0, "Image"),
    (b"%PDF-", 0, "Pdf"),
    (b"PK\x03\x04", 0, "Zip"),
    (b"%!PS", 0, "PostScript"),
    (b"8BPS", 0, "Image"),  # Photoshop: the merged image is served (§5.10 of the IS spec)
    (b"BM", 0, "Image"),
)
_EXTENSIONS = {
    ".svg": "Svg", ".mp4": "Video", ".mov": "Video", ".m4v": "Video", ".webm": "Video",
    ".mp3": "Audio", ".wav": "Audio", ".ai": "Illustrator", ".indd": "InDesign",
    ".doc": "Word", ".docx": "Word", ".xls": "Excel", ".xlsx": "Excel", ".ppt": "PowerPoint",
    ".pptx": "PowerPoint", ".xml": "Xml", ".xsl": "Xsl", ".rtf": "Rtf", ".icc": "IccProfile",
    ".icm": "IccProfile", ".ttf": "Font", ".otf": "Font", ".swf": "Flash", ".eps": "PostScript",
    ".vtt": "VideoCaption", ".srt": "VideoCaption",
}  # fmt: skip


def detect_type(name: str, head: bytes) -> str | None:
    """The asset type for an uploaded file, or None when it is not one IPS stores.

    GIF is AnimatedGif when it has more than one frame (a Graphic Control Extension seen twice
    in the first bytes is a cheap and adequate test); WebP and HEIF/AVIF are Images.
    """
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "AnimatedGif" if head.count(b"\x21\xf9\x04") > 1 else "Image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "Image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"avif", b"mif1", b"msf1"):
        return "Image"
    if head[4:8] == b"ftyp":
        return "Video"
    for magic, offset, asset_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return asset_type
    suffix = PurePath(name).suffix.lower()
    if suffix == ".svg" and b"<svg" not in head[:4096].lower():
        return None
    return _EXTENSIONS.get(suffix)
