"""The catalog (production-system.md §1): handles, roles, permissions, upload, presets."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pyvips")

from isrender.catalog import (
    ExportClass,
    HandleKind,
    Operation,
    Role,
    allowed,
    export_class,
    parse_handle,
)
from isrender.catalog.service import CatalogError, hash_password, verify_password
from isrender.errors import IpsFault
from isrender.language import parse
from isrender.macros import expand
from isrender.request import bind
from tests.catalog_fixture import Fixture


@pytest.mark.parametrize(
    ("text", "kind", "expected_id"),
    [
        ("c|1", HandleKind.COMPANY, 1),
        ("u|11|editor@acme.example", HandleKind.USER, 11),
        ("a|101", HandleKind.ASSET, 101),
        ("a|942|1|579", HandleKind.ASSET, 942),
        ("j|1||nightly-export|5412", HandleKind.JOB, 5412),
        ("if|1|3", HandleKind.IMAGE_FORMAT, 3),
        ("a|", HandleKind.ASSET, None),
        ("a|x", HandleKind.ASSET, None),
        ("c|1", HandleKind.ASSET, None),
        ("a|1|2", HandleKind.ASSET, None),
        ("", HandleKind.ASSET, None),
        ("101", HandleKind.ASSET, None),
    ],
)
def test_handles(text: str, kind: HandleKind, expected_id: int | None) -> None:
    handle = parse_handle(text, kind)
    assert (handle.id if handle else None) == expected_id


def test_folder_handles_accept_bare_paths() -> None:
    assert parse_handle("f|Acme/products/", HandleKind.FOLDER).path == "Acme/products/"  # type: ignore[union-attr]
    assert parse_handle("Acme/products/", HandleKind.FOLDER).path == "Acme/products/"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("role", "operation", "strict", "expected"),
    [
        (Role.IPS_USER, Operation.SUBMIT_JOB, False, True),
        (Role.IMAGE_PORTAL_USER, Operation.SUBMIT_JOB, False, False),
        (Role.IMAGE_PORTAL_USER, Operation.JOB_LOGS, False, True),
        (Role.IPS_COMPANY_ADMIN, Operation.SUBMIT_JOB, False, True),  # D-8
        (Role.IPS_COMPANY_ADMIN, Operation.SUBMIT_JOB, True, False),  # the literal list
        (Role.TRIAL_SITE_ADMIN, Operation.JOB_LOG_DETAILS, True, False),
        (Role.WEB_SERVICE_USER, Operation.SUBMIT_JOB, False, True),  # treated as IpsUser
        (Role.TRIAL_SITE_USER, Operation.SAVE_IMAGE_FORMAT, False, False),
    ],
)
def test_role_lists(role: Role, operation: Operation, strict: bool, expected: bool) -> None:
    assert allowed(role, operation, strict_role_lists=strict) is expected


@pytest.mark.parametrize(
    ("asset_type", "sub_type", "expected"),
    [
        ("ImageSet", None, ExportClass.SET),
        ("AssetSet", "MediaSet", ExportClass.SET),
        ("Catalog", None, ExportClass.SET),
        ("Image", "OfferSet", ExportClass.SET),
        ("Image", None, ExportClass.RENDERABLE),
        ("AnimatedGif", None, ExportClass.RENDERABLE),
        ("Pdf", None, ExportClass.FILE),
        ("Video", None, ExportClass.FILE),
        ("LayerView", None, ExportClass.VIRTUAL),
        ("ColorSwatch", None, ExportClass.NONE),
    ],
)
def test_export_classes(asset_type: str, sub_type: str | None, expected: ExportClass) -> None:
    assert export_class(asset_type, sub_type) is expected


def test_effective_roles(fx: Fixture) -> None:
    role = fx.catalog.effective_role
    user = fx.catalog.user
    assert role(user("root@ips.example"), fx.globex) is Role.IPS_ADMIN  # type: ignore[arg-type]
    assert role(user("editor@acme.example"), fx.acme) is Role.IPS_USER  # type: ignore[arg-type]
    assert role(user("inactive@acme.example"), fx.acme) is None  # type: ignore[arg-type]
    assert role(user("outsider@globex.example"), fx.acme) is None  # type: ignore[arg-type]


def test_authentication_faults(fx: Fixture) -> None:
    assert fx.catalog.authenticate("editor@acme.example", "secret").id == fx.users["editor"]
    with pytest.raises(IpsFault) as wrong:
        fx.catalog.authenticate("editor@acme.example", "nope")
    with pytest.raises(IpsFault) as unknown:
        fx.catalog.authenticate("nobody@acme.example", "secret")
    # reveal_unknown_users = false (the default): alike; test_hostile.py covers true -> 10002
    assert (wrong.value.code, unknown.value.code) == (10001, 10001)
    assert wrong.value.reason == unknown.value.reason == "Invalid username/password"


def test_passwords_are_salted_scrypt() -> None:
    one, two = hash_password("secret"), hash_password("secret")
    assert one != two and one.startswith("scrypt$")
    assert verify_password("secret", one) and not verify_password("Secret", one)
    assert not verify_password("secret", "garbage")


def test_portal_users_read_by_group_permission(fx: Fixture) -> None:
    contrib = fx.catalog.user("contrib@acme.example")
    editor = fx.catalog.user("editor@acme.example")
    public = fx.catalog.asset(fx.acme, fx.handle("#111"))
    product = fx.catalog.asset(fx.acme, fx.handle("#102"))
    assert public and product and contrib and editor
    assert fx.catalog.can_read(contrib, Role.IMAGE_PORTAL_CONTRIB, public)
    assert not fx.catalog.can_read(contrib, Role.IMAGE_PORTAL_CONTRIB, product)
    assert fx.catalog.can_read(editor, Role.IPS_USER, product)


def test_foreign_and_malformed_handles_are_not_found(fx: Fixture) -> None:
    assert fx.catalog.asset(fx.acme, fx.handle("#201")) is None  # Globex's asset
    assert fx.catalog.asset(fx.globex, fx.handle("#201")) is not None
    assert fx.catalog.asset(fx.acme, "a|999999") is None
    assert fx.catalog.asset(fx.acme, "nonsense") is None
    legacy = f"a|{fx.ids['#102']}|1|579"
    assert fx.catalog.asset(fx.acme, legacy).name == "shoe"  # type: ignore[union-attr]


def test_upload_types_dimensions_and_storage(fx: Fixture) -> None:
    shoe = fx.catalog.asset(fx.acme, fx.handle("#102"))
    pdf = fx.catalog.asset(fx.acme, fx.handle("#104"))
    video = fx.catalog.asset(fx.acme, fx.handle("#105"))
    assert shoe and pdf and video
    assert (shoe.type, shoe.width, shoe.height, shoe.folder.path) == (
        "Image",
        2000,
        1500,
        "products/",
    )
    assert (pdf.type, video.type) == ("Pdf", "Video")
    original = fx.catalog.original_path(shoe)
    assert original is not None and original.stat().st_size == shoe.file_size
    assert fx.catalog.original_path(fx.catalog.asset(fx.acme, fx.handle("#113"))) is None  # type: ignore[arg-type]
    upper = fx.catalog.asset(fx.acme, fx.handle("#103"))
    assert upper is not None and upper.name == "SHOE"  # names are case-sensitive


def test_upload_overwrite_skip_errors_and_directories(fx: Fixture, tmp_path: Path) -> None:
    catalog = fx.catalog
    shoe_path = tmp_path / "shoe.jpg"
    shoe_path.write_bytes(
        Path(catalog.original_path(catalog.asset(fx.acme, fx.handle("#101")))).read_bytes()
    )  # type: ignore[arg-type]
    (skipped,) = catalog.upload(fx.acme, [shoe_path], "products", overwrite=False)
    assert skipped.status == "DuplicateSkipped" and skipped.asset_id == fx.ids["#102"]
    (text := tmp_path / "notes.txt").write_text("hello")
    (broken := tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 10)
    folder = tmp_path / "batch" / "sub"
    folder.mkdir(parents=True)
    (folder / "deep.png").write_bytes(
        Path(catalog.original_path(catalog.asset(fx.acme, fx.handle("#103")))).read_bytes()
    )  # type: ignore[arg-type]
    entries = {e.source: e for e in catalog.upload(fx.acme, [text, broken, tmp_path / "batch"])}
    assert (
        entries["notes.txt"].status == "UploadError"
        and "not a file type" in entries["notes.txt"].message
    )
    assert entries["cut.jpg"].status == "UploadError" and "/" not in entries["cut.jpg"].message
    assert entries["deep.png"].status == "UploadSuccess"
    deep = catalog.asset(fx.acme, f"a|{entries['deep.png'].asset_id}")
    assert deep is not None and deep.folder.path == "batch/sub/"
    (updated,) = catalog.upload(fx.acme, [folder / "deep.png"], "batch/sub")
    assert updated.status == "FileUpdated" and updated.asset_id == deep.id


def test_presets_are_company_macros(fx: Fixture) -> None:
    registry = fx.catalog.macro_registry(fx.acme)
    scope = f"c|{fx.acme}"
    flat = expand(parse("&fmt=png&$test$"), registry, catalog=scope)
    assert bind(flat).globals.value("fmt").format == "tif"
    nested = bind(expand(parse("$nested$"), registry, catalog=scope)).globals
    assert nested.value("wid") == 200 and nested.value("fmt").format == "png"
    assert fx.catalog.macro_registry(fx.globex).get("test", f"c|{fx.globex}") is None


@pytest.mark.parametrize(
    ("definition", "reason"),
    [("wid=1&$$", "empty macro"), ("$selfish$", "invokes itself"), ("$later$", "not defined")],
)
def test_invalid_presets_are_refused(fx: Fixture, definition: str, reason: str) -> None:
    with pytest.raises(IpsFault) as info:
        fx.catalog.save_preset(fx.acme, "selfish", definition)
    assert info.value.code == 30001 and reason in info.value.reason
    assert all(p.name != "selfish" for p in fx.catalog.presets(fx.acme))


def test_company_names_are_unique(fx: Fixture) -> None:
    with pytest.raises(CatalogError, match="already exists"):
        fx.catalog.add_company("Acme")


@pytest.mark.parametrize(
    ("mode", "file", "folder", "replaces", "new_name"),
    [
        ("OverwriteFullName", "shoe.jpg", "products", True, None),
        ("OverwriteFullName", "shoe.png", "products", False, "shoe-1"),
        ("OverwriteFullName", "shoe.jpg", "other", False, "shoe-1"),
        ("OverwriteAnyExt", "shoe.png", "products", True, None),
        ("OverwriteAnyExt", "shoe.png", "other", False, "shoe-1"),
        ("OverwriteFullNameAnyFolder", "shoe.jpg", "other", True, None),
        ("OverwriteFullNameAnyFolder", "shoe.png", "other", False, "shoe-1"),
        ("OverwriteAnyExtAnyFolder", "shoe.gif", "other", True, None),
    ],
)
def test_overwrite_modes(
    tmp_path: Path, mode: str, file: str, folder: str, replaces: bool, new_name: str | None
) -> None:
    """§1.2 overwriteMode, read literally (FullName/AnyExt; this folder/AnyFolder). A file that
    does not replace an asset but whose name is taken gets a free name (names are unique)."""
    import pyvips

    from isrender.catalog import Catalog
    from isrender.config import Settings

    catalog = Catalog(Settings(data_dir=tmp_path / "data"))
    company = catalog.add_company("Acme").id
    catalog.set_overwrite_mode(company, mode)
    image = pyvips.Image.black(8, 8).bandjoin([0, 0]).cast("uchar")
    image.jpegsave(str(tmp_path / "shoe.jpg"))
    (first,) = catalog.upload(company, [tmp_path / "shoe.jpg"], "products")
    upload = tmp_path / "again" / file
    upload.parent.mkdir()
    image.write_to_file(str(upload))
    (second,) = catalog.upload(company, [upload], folder)
    if replaces:
        assert (second.status, second.asset_id) == ("FileUpdated", first.asset_id)
    else:
        assert second.status == "UploadSuccess" and second.asset_id != first.asset_id
        asset = catalog.asset(company, f"a|{second.asset_id}")
        assert asset is not None and asset.name == new_name and new_name in second.message


def test_overwrite_mode_must_be_known(fx: Fixture) -> None:
    with pytest.raises(CatalogError, match="overwriteMode must be one of"):
        fx.catalog.set_overwrite_mode(fx.acme, "Sometimes")
