"""The RTF control words the reader knows (spec §6.7), one table per kind of word.

Words outside every table are "unknown": ignored with a warning in lenient mode, an error in
strict mode. Words that RTF writers (WordPad, Word, TextEdit) emit in every file but that change
nothing here are in ``NO_EFFECT``, so real-world RTF reads without warnings.
"""

from __future__ import annotations

from isrender.text.document import Alignment, Underline

__all__ = [
    "ALIGNMENTS",
    "CHARACTERS",
    "CODEPAGES",
    "COLOR_COMPONENTS",
    "FONT_FAMILIES",
    "LAST_ALIGNMENTS",
    "NO_EFFECT",
    "PARAGRAPH_TWIPS",
    "SKIPPED_DESTINATIONS",
    "SYMBOLS",
    "TABLE_DESTINATIONS",
    "TEXTPS_ONLY",
    "UNDERLINES",
]

ALIGNMENTS: dict[str, Alignment] = {"ql": "left", "qr": "right", "qc": "center", "qj": "justify"}
LAST_ALIGNMENTS: dict[str, Alignment] = {"last" + k: v for k, v in ALIGNMENTS.items()}

# \ul and its kinds. IS draws every kind as a plain underline except the double one.
UNDERLINES: dict[str, Underline] = {
    "ul": "single", "uld": "single", "uldash": "single", "uldashd": "single",
    "uldashdd": "single", "uldb": "double", "ulth": "single", "ulw": "single",
    "ulwave": "single", "ulnone": "none",
}  # fmt: skip

# paragraph properties measured in twips (1/20 point)
PARAGRAPH_TWIPS = {
    "li": "left_indent", "ri": "right_indent", "fi": "first_indent",
    "sb": "space_before", "sa": "space_after", "sl": "line_spacing",
}  # fmt: skip

FONT_FAMILIES = frozenset("fnil froman fswiss fmodern fscript fdecor ftech fbidi".split())

COLOR_COMPONENTS = {"red": 255, "green": 255, "blue": 255,
                    "cyan": 100, "magenta": 100, "yellow": 100, "black": 100}  # fmt: skip

# destinations whose content is read as a table rather than as text
TABLE_DESTINATIONS = frozenset({"fonttbl", "colortbl", "cmykcolortbl", "iscolortbl"})

# destinations whose whole group is skipped: metadata, pictures, fields' instructions, ...
SKIPPED_DESTINATIONS = frozenset(
    "stylesheet info pict object header headerl headerr headerf footer footerl footerr footerf "
    "footnote annotation fldinst listtable listoverridetable rsidtbl generator themedata "
    "colorschememapping latentstyles datastore xmlnstbl filetbl revtbl pgdsctbl author "
    "operator title subject company comment doccomm keywords bkmkstart bkmkend xe tc txe "
    "panose falt fontemb fontfile mmathPr userprops nonshppict shp shpinst".split()
)

# control symbols and the characters they stand for
SYMBOLS = {"~": "\u00a0", "_": "\u2011", "-": "\u00ad", "|": "", ":": ""}

# character words that name a character
CHARACTERS = {
    "tab": "\t", "emdash": "\u2014", "endash": "\u2013", "emspace": "\u2003",
    "enspace": "\u2002", "qmspace": "\u2005", "bullet": "\u2022", "lquote": "\u2018",
    "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d", "zwj": "\u200d",
    "zwnj": "\u200c",
}  # fmt: skip

# words that are textPs= features only (IS "Text formatting" table); text= ignores them
TEXTPS_ONLY = frozenset(
    "margl margr margt margb qj lastql lastqr lastqc lastqj fi li ri caps scaps copyfit "
    "copyfitlines copyfitmaxlines stextflow iscolortbl".split()
)

# code pages of \ansicpg and the character set words
CODEPAGES = {"ansi": "cp1252", "mac": "mac_roman", "pc": "cp437", "pca": "cp850"}

NO_EFFECT = frozenset(
    "rtf ansicpg deff deflang deflangfe deftab adeflang adeff fcharset fprq cpg "
    "viewkind viewscale lang langfe langnp langfenp nowidctlpar widctlpar hyphpar "
    "cf0 cb highlight chcbpat nouicompat paperw paperh margmirror gutter "
    "sectd pard plain f ltrpar rtlpar ltrsect aspalpha aspnum faauto adjustright "
    "itap insrsid rsid rsidroot charrsid pararsid sectrsid delrsid "
    "stshfdbch stshfloch stshfhich stshfbi fet noqfpromote s cs ds ts outlinelevel "
    "snext sbasedon sqformat spriority noproof cocoartf cocoatextscaling "
    "cocoaplatform cocoasubrtf expandedcolortbl csgenericrgb csgray vieww viewh "
    "pardirnatural partightenfactor slleading tx tqr tqc tqdec qd".split()
)
