"""Conformance scenarios X-nn of production-system.md §6 (fixture §6.1, tests/catalog_fixture).

RUNS: (id, caller, entries, export parameters, counters S/E/W/D/T, outcome, outputs).
Entries are fixture aliases (``#102``) or literal handles; outputs map a relative path to
``(media type, width, height)`` or to ``"orig:#102"`` (byte-identical to that original).
FAULTS: (id, caller, submit overrides, expected fault code).
"""

from __future__ import annotations

from typing import Any

TIFF, PNG, JPEG, WEBP = "image/tiff", "image/png", "image/jpeg", "image/webp"

RUNS: list[tuple[str, str, list[str], dict[str, Any], tuple[int, ...], str, dict[str, Any]]] = [
    ("X01", "editor", ["#101"], {"fmt": "convert", "is_modifier": "&fmt=png", "macro": "$test$"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/fileToExport.tiff": (TIFF, 1200, 800)}),
    ("X02", "editor", ["#102"], {"fmt": "orig"}, (1, 0, 0, 0, 1), "Succeeded",
     {"products/shoe.jpg": "orig:#102"}),
    ("X03", "editor", ["#102"], {"fmt": "orig", "is_modifier": "&fmt=png&wid=500", "macro": "$thumb$"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/shoe.jpg": "orig:#102"}),
    ("X04", "editor", ["#102"], {"fmt": "orig", "is_modifier": "wid=abc", "macro": "$nosuch$"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/shoe.jpg": "orig:#102"}),
    ("X05", "editor", ["#102"], {"fmt": "convert", "is_modifier": "&fmt=png&wid=500"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/shoe.png": (PNG, 500, 375)}),
    ("X06", "editor", ["#102"], {"fmt": "convert", "macro": "$thumb$"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.jpg": (JPEG, 200, 200)}),
    ("X07", "editor", ["#102"], {"fmt": "convert", "macro": "thumb"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.jpg": (JPEG, 200, 200)}),
    ("X08", "editor", ["#102"], {"fmt": "convert", "macro": "$THUMB$"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.jpg": (JPEG, 200, 200)}),
    ("X09", "editor", ["#102"], {"fmt": "convert", "is_modifier": "&fmt=png", "macro": "$wide$"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/shoe.png": (PNG, 800, 600)}),
    ("X10", "editor", ["#102"], {"fmt": "convert", "is_modifier": "&fmt=png&wid=100", "macro": "$wide$"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/shoe.png": (PNG, 800, 600)}),
    ("X11", "editor", ["#102"], {"fmt": "convert", "macro": "$nested$"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.png": (PNG, 200, 200)}),
    ("X12", "editor", ["#102"], {"fmt": "convert", "is_modifier": "&wid=300"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.jpg": (JPEG, 300, 225)}),
    ("X13", "editor", ["#102"], {"fmt": "convert", "is_modifier": "&fmt=png"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe.png": (PNG, 2000, 1500)}),
    ("X14", "editor", ["#115"], {"fmt": "convert", "is_modifier": "&fmt=jpeg"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/transparent.jpg": (JPEG, 400, 400)}),
    ("X15", "editor", ["#115"], {"fmt": "convert", "is_modifier": "&fmt=png-alpha"},
     (1, 0, 0, 0, 1), "Succeeded", {"products/transparent.png": (PNG, 400, 400)}),
    ("X16", "editor", ["#101"], {"fmt": "convert", "is_modifier": "&fmt=webp"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/fileToExport.webp": (WEBP, 1200, 800)}),
    ("X17", "editor", ["#104"], {"fmt": "orig"}, (1, 0, 0, 0, 1), "Succeeded",
     {"docs/catalog2020.pdf": "orig:#104"}),
    ("X18", "editor", ["#105"], {"fmt": "orig"}, (1, 0, 0, 0, 1), "Succeeded",
     {"video/promo.mp4": "orig:#105"}),
    ("X20", "editor", ["#102", "#102", "#101"], {"fmt": "orig"}, (2, 0, 0, 1, 3), "Succeeded",
     {"products/shoe.jpg": "orig:#102", "products/fileToExport.jpg": "orig:#101"}),
    ("X21", "editor", ["#102", "#106", "#107"], {"fmt": "orig", "emailSetting": "Error"},
     (1, 2, 0, 0, 3), "PartiallyFailed", {"products/shoe.jpg": "orig:#102"}),
    ("X22", "editor", ["#108", "#109", "#110"], {"fmt": "orig"}, (0, 3, 0, 0, 3), "Failed", {}),
    ("X23", "editor", ["a|99999", "#102"], {"fmt": "orig"}, (1, 1, 0, 0, 2), "PartiallyFailed",
     {"products/shoe.jpg": "orig:#102"}),
    ("X24", "editor", ["not-a-handle"], {"fmt": "orig"}, (0, 1, 0, 0, 1), "Failed", {}),
    ("X25", "editor", ["#201"], {"fmt": "orig"}, (0, 1, 0, 0, 1), "Failed", {}),
    ("X26", "contrib", ["#111", "#102"], {"fmt": "orig"}, (1, 1, 0, 0, 2), "PartiallyFailed",
     {"public/public1.tif": "orig:#111"}),
    ("X27", "editor", ["#112"], {"fmt": "orig"}, (0, 1, 0, 0, 1), "Failed", {}),
    ("X28", "editor", ["#113", "#102"], {"fmt": "orig"}, (1, 1, 0, 0, 2), "PartiallyFailed",
     {"products/shoe.jpg": "orig:#102"}),
    ("X29", "editor", ["#105"], {"fmt": "convert", "is_modifier": "&fmt=jpeg"}, (0, 1, 0, 0, 1),
     "Failed", {}),
    ("X30", "editor", ["#114"], {"fmt": "orig"}, (0, 1, 0, 0, 1), "Failed", {}),
    ("X31", "editor", ["#114"], {"fmt": "convert", "is_modifier": "&fmt=png"}, (1, 0, 0, 0, 1),
     "Succeeded", {"products/shoe_lv.png": (PNG, 2000, 1500)}),
    ("X32", "editor", ["#102", "#103"], {"fmt": "convert", "is_modifier": "&fmt=png"},
     (2, 0, 1, 0, 2), "SucceededWithWarnings",
     {"products/shoe.png": (PNG, 2000, 1500), "products/SHOE-1.png": (PNG, 600, 600)}),
]  # fmt: skip

# The per-entry error texts the spec gives (§2.8.3), by scenario: (substring, fault code)
ERRORS: dict[str, list[tuple[str, int]]] = {
    "X21": [("Asset type ImageSet is not supported by ExportJob", 30001),
            ("Asset type SpinSet is not supported by ExportJob", 30001)],
    "X23": [("Asset not found: a|99999", 30001)],
    "X24": [("Asset not found: not-a-handle", 30001)],
    "X26": [("Read permission denied", 20009)],
    "X27": [("Asset is in the trash", 30001)],
    "X28": [("Original file unavailable", 30000)],
    "X29": [("Asset type Video cannot be converted", 30001)],
    "X30": [("Asset has no original file", 30001)],
}  # fmt: skip

BASE: dict[str, Any] = {
    "company": "c|1",
    "name": "job",
    "export": {"assetHandleArray": ["a|1"], "fmt": "orig"},
}
FAULTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("X35", "editor", {"export": {"assetHandleArray": ["a|1"]}}, 30002),
    ("X36", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "png"}}, 30001),
    ("X37", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "ORIG"}}, 30001),
    ("X38", "editor", {"export": {"assetHandleArray": [], "fmt": "orig"}}, 30002),
    ("X39", "editor", {"export": {"assetHandleArray": ["a|1"] * 1001, "fmt": "orig"}}, 30001),
    ("X40", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert"}}, 30002),
    ("X41", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "is_modifier": "&wid=abc"}}, 30001),
    ("X42", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "is_modifier": "&fmt=bmp"}}, 30001),
    ("X43", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "is_modifier": "&fmt=png&src=Globex/secret"}}, 30001),
    ("X44", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "is_modifier": "&fmt=m3u8"}}, 30001),
    ("X45", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "macro": "$nosuch$"}}, 30001),
    ("X46", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "macro": "$thumb$&$wide$"}}, 30001),
    ("X47", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "orig", "emailSetting": "Sometimes"}}, 30001),
    ("X47", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "orig", "emailSetting": "all"}}, 30001),
    ("X49", "editor", {"other_payloads": 1}, 30001),
    ("X50", "editor", {"export": None}, 30002),
    ("X51", "editor", {"name": ""}, 30002),
    ("X52", "editor", {"company": "c|999"}, 20000),
    ("X53", "outsider", {}, 20006),
    ("X54", "inactive", {}, 20006),
    ("X55", "viewer", {}, 20003),
    ("X57", "editor", {"user": "contrib"}, 20004),
    ("2.1", "editor", {"company": ""}, 30002),
    ("2.1", "editor", {"name": "a|b"}, 30001),
    ("2.1", "editor", {"locale": "french"}, 30001),
    ("2.1", "root", {"user": "u|999|x@y"}, 20002),
    ("2.1", "root", {"user": "outsider"}, 20007),
    ("2.8.12", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "orig", "clientId": "x" * 256}}, 30001),
    ("2.8.13", "editor", {"export": {"assetHandleArray": ["a|1"], "fmt": "convert", "is_modifier": "wid=9000"}}, 30001),
]  # fmt: skip
