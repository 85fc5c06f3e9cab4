"""The conformance fixture of production-system.md §6.1, built in a temporary data directory.

Asset ids are whatever the database gives; ``ids["#102"]`` maps the spec's names to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyvips

from isrender.catalog import Catalog, Role
from isrender.catalog.models import Asset
from isrender.config import Settings
from tests.render_fixtures import gradient


@dataclass
class Fixture:
    catalog: Catalog
    acme: int
    globex: int
    users: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def handle(self, alias: str) -> str:
        return f"a|{self.ids[alias]}"


def _image(path: Path, width: int, height: int, alpha: bool = False) -> Path:
    image = gradient(width, height)
    if alpha:
        image = image.bandjoin(pyvips.Image.black(width, height).linear(0, 128).cast("uchar"))
    image.write_to_file(str(path))
    return path


def build(data_dir: Path, database_url: str = "") -> Fixture:
    catalog = Catalog(Settings(data_dir=data_dir, database_url=database_url))
    acme = catalog.add_company("Acme").id
    globex = catalog.add_company("Globex").id
    fx = Fixture(catalog, acme, globex)
    people = [
        ("root", "root@ips.example", Role.IPS_ADMIN, ((acme, None),)),
        ("editor", "editor@acme.example", Role.IPS_USER, ((acme, None),)),
        ("cadmin", "cadmin@acme.example", Role.IPS_COMPANY_ADMIN, ((acme, None),)),
        ("viewer", "viewer@acme.example", Role.IMAGE_PORTAL_USER, ((acme, None),)),
        ("contrib", "contrib@acme.example", Role.IMAGE_PORTAL_CONTRIB, ((acme, None),)),
        ("inactive", "inactive@acme.example", Role.IPS_USER, ((acme, None),)),
        ("outsider", "outsider@globex.example", Role.IPS_USER, ((globex, None),)),
    ]
    for alias, email, role, memberships in people:
        fx.users[alias] = catalog.add_user(email, "secret", role, memberships).id
    catalog.set_membership(fx.users["inactive"], acme, Role.IPS_USER, active=False)
    studio = catalog.add_group(acme, "Studio", (fx.users["contrib"],))
    catalog.set_folder_permission(acme, "public/", studio.id, allowed=True)
    for name, definition in (("test", "fmt=tif"), ("thumb", "wid=200&hei=200&fmt=jpeg&qlt=80"),
                             ("wide", "wid=800"), ("nested", "$thumb$&fmt=png")):  # fmt: skip
        catalog.save_preset(acme, name, definition)

    files = data_dir / "incoming"
    files.mkdir()
    uploads = {
        "#101": ("products", _image(files / "fileToExport.jpg", 1200, 800)),
        "#102": ("products", _image(files / "shoe.jpg", 2000, 1500)),
        "#103": ("products", _image(files / "SHOE.png", 600, 600)),
        "#111": ("public", _image(files / "public1.tif", 1000, 1000)),
        "#112": ("products", _image(files / "oldshot.jpg", 300, 200)),
        "#113": ("products", _image(files / "broken.jpg", 300, 200)),
        "#115": ("products", _image(files / "transparent.png", 400, 400, alpha=True)),
    }
    (files / "catalog2020.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    (files / "promo.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    uploads["#104"] = ("docs", files / "catalog2020.pdf")
    uploads["#105"] = ("video", files / "promo.mp4")
    for alias, (folder, path) in uploads.items():
        (entry,) = catalog.upload(acme, [path], folder)
        assert entry.asset_id is not None, entry
        fx.ids[alias] = entry.asset_id
    for alias, (kind, name, sub) in {
        "#106": ("ImageSet", "shoeSet", None), "#107": ("SpinSet", "shoeSpin", None),
        "#108": ("AssetSet", "shoeMedia", "MediaSet"), "#109": ("Catalog", "spring", None),
        "#110": ("RenderSet", "fabrics", None),
    }.items():  # fmt: skip
        fx.ids[alias] = catalog.add_asset(acme, name, kind, "sets", sub).id
    fx.ids["#114"] = catalog.add_asset(
        acme, "shoe_lv", "LayerView", "products", owner_id=fx.ids["#102"]
    ).id
    with catalog.session() as s:
        s.get(Asset, fx.ids["#112"]).trash_state = "InTrash"  # type: ignore[union-attr]
    broken = catalog.asset(acme, fx.handle("#113"))
    assert broken is not None and broken.sha256
    catalog.files.path(broken.sha256).unlink()  # original missing from storage
    secret = _image(files / "secret.jpg", 100, 100)
    (entry,) = catalog.upload(globex, [secret], "")
    fx.ids["#201"] = entry.asset_id  # type: ignore[assignment]
    return fx
