"""The isrender command line: exit codes 0 / 2 / 1, caret output, --json for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from isrender.catalog import Catalog
from isrender.cli import main
from isrender.config import Settings


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_parse_prints_tree_and_canonical_text() -> None:
    code, out, _ = run("parse", "?&wid=200&&src=is{photo?hei=1}&$v$&.c")
    assert code == 0
    assert "canonical: wid=200&src=is{photo?hei=1}&$v$&.c" in out
    assert "MacroRef" in out and "object 'photo'" in out


def test_parse_json() -> None:
    code, out, _ = run("parse", "wid=1&src=is{a?b=2}", "--json")
    data = json.loads(out)
    assert code == 0 and data["canonical"] == "wid=1&src=is{a?b=2}"
    assert data["nodes"][1]["nested"]["modifiers"][0]["name"] == "b"


def test_check_ok_and_lenient_warnings() -> None:
    assert run("check", "wid=200&fmt=png")[0] == 0
    code, out, _ = run("check", "--lenient", "wdi=200&wid=3")
    assert code == 0 and "did you mean 'wid'" in out


@pytest.mark.parametrize(
    ("modifiers", "fragment", "caret_col"),
    [
        ("wdi=200", "did you mean 'wid'?", 2),
        ("wid=200&qlt=80,2", "chroma '2' is not a flag", 2 + 15),
        ("src=is{a", "unterminated nested group", 2),
        ("wid=200%", "bad %-escape", 2 + 7),
    ],
)
def test_check_errors_exit_2_with_caret(modifiers: str, fragment: str, caret_col: int) -> None:
    code, _, err = run("check", modifiers)
    assert code == 2
    assert fragment in err
    caret = next(line for line in err.splitlines() if line.strip().startswith("^"))
    assert caret.index("^") == caret_col


def test_explain_shows_scopes_and_json() -> None:
    code, out, _ = run("explain", "rotate=90&flip=lr&wid=200&$w=1")
    assert code == 0 and "L0" in out and "effective:" in out
    code, out, _ = run("explain", "rotate=90&flip=lr&wid=200", "--json")
    data = json.loads(out)
    assert data["request"]["layers"]["0"]["commands"]["rotate"]["value"] == 90.0
    assert data["request"]["comp"]["flip"]["value"] == "lr"


def test_commands_table_and_one_command() -> None:
    code, out, _ = run("commands")
    assert code == 0 and "94 commands" in out
    code, out, _ = run("commands", "QLT")
    assert code == 0 and "qlt=<quality>[,<chroma>]" in out and "1..100" in out
    code, out, _ = run("commands", "fmt", "--json")
    assert "png8-alpha" in json.loads(out)["arguments"][0]["choices"]


def test_commands_unknown_name_exits_2() -> None:
    code, _, err = run("commands", "wdi")
    assert code == 2 and "did you mean 'wid'" in err


def test_internal_failure_exits_1_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("isrender.service.bind", boom)
    code, _, err = run("check", "wid=1")
    assert code == 1 and "internal error" in err and "Traceback" not in err


FIXTURE = "tests/fixtures/spec-macros.tsv"


def test_explain_with_macros_and_catalog_modifiers() -> None:
    code, out, _ = run(
        "explain",
        "$pdp$&wid=480",
        "--macros",
        FIXTURE,
        "--modifier",
        "qlt=70",
        "--post-modifier",
        "qlt=95",
    )
    assert code == 0
    assert "qlt=70&wid=240&fmt=jpeg&qlt=85" in out  # the expanded string
    assert "macro 'pdp' (spec-macros.tsv:4)" in out  # where hei came from
    assert "overridden: qlt=70 (Modifier)" in out
    code, out, _ = run("explain", "$pdp$", "--macros", FIXTURE, "--json")
    assert json.loads(out)["expanded"].endswith("&hei=240")


def test_check_with_macros_errors() -> None:
    code, _, err = run("check", "wid=1&$early$", "--macros", FIXTURE)
    assert code == 2 and "defined later (spec-macros.tsv:10)" in err
    code, _, err = run("check", "$veiw$", "--macros", FIXTURE)
    assert code == 2 and "did you mean '$view$'?" in err


def test_macros_list_show_check() -> None:
    code, out, _ = run("macros", "list", FIXTURE)
    assert code == 0 and "$pdp$" in out and "10 macros, 1 invalid" in out
    code, out, _ = run("macros", "show", "pdp", "--macros", FIXTURE)
    assert code == 0 and "expansion:  wid=240&fmt=jpeg" in out
    code, _, err = run("macros", "show", "early", "--macros", FIXTURE)
    assert code == 2 and "invokes $late$" in err
    code, out, err = run("macros", "check", FIXTURE)
    assert code == 2 and "spec-macros.tsv:9" in err and "1 invalid" in out
    assert run("macros", "check", "examples/macros.toml")[0] == 0


def test_convert_writes_the_file_and_explain_shows_the_plan(tmp_path: Path) -> None:
    pytest.importorskip("pyvips")
    source = tmp_path / "in.png"
    pyvips = __import__("pyvips")
    pyvips.Image.black(300, 200).bandjoin([0, 0]).cast("uchar").pngsave(str(source))
    code, out, _ = run(
        "convert", str(source), "wid=150&fmt=webp", "-o", str(tmp_path / "out") + "/"
    )
    assert code == 0 and (tmp_path / "out" / "in.webp").is_file() and "150x100" in out
    code, out, _ = run("explain", str(source), "wid=150&rotate=90")
    assert code == 0 and "3. render plan (300x200" in out and "rotate(angle=90" in out
    assert "2. bound request" in out and "expanded" not in out  # no macros: no gap (1, 2, 3)
    code, _, err = run("convert", str(tmp_path / "missing.jpg"), "wid=1", "-o", str(tmp_path))
    assert code == 2 and "'missing.jpg' not found" in err


def test_catalog_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyvips")
    pyvips = __import__("pyvips")
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    black = pyvips.Image.black(30, 20).bandjoin([0, 0]).cast("uchar")
    black.jpegsave(str(tmp_path / "a.jpg"))
    (tmp_path / "notes.txt").write_text("not an image")
    assert run("catalog", "init")[0] == 0
    assert "c|1  Acme  root Acme/" in run("company", "add", "Acme")[1]
    code, out, _ = run("user", "add", "e@acme.example", "--password", "pw", "--company", "Acme")
    assert code == 0 and "u|1|e@acme.example  IpsUser" in out
    upload = ("upload", "--company", "Acme", "--user", "e@acme.example", "--password", "pw")
    code, out, _ = run(*upload, "--folder", "products", "a.jpg", "notes.txt")
    assert code == 2 and "UploadSuccess" in out and "not a file type IPS stores" in out
    assert "j|1||upload|1: 2 files, 1 errors" in out
    code, out, _ = run("assets", "list", "--company", "c|1")
    assert code == 0 and "a|1" in out and "products/" in out and "30x20" in out
    code, out, _ = run("assets", "show", "a|1", "--company", "Acme")
    assert code == 0 and "fileName: a.jpg" in out
    assert run("assets", "show", "a|7", "--company", "Acme")[0] == 2
    code, out, _ = run("assets", "set-modifier", "a|1", "--company", "Acme", "--modifier", "wid=10")
    assert code == 0 and "Modifier 'wid=10'" in out
    assert run("assets", "set-modifier", "a|1", "--company", "Acme", "--modifier", "$$")[0] == 2
    assert run("presets", "add", "test", "fmt=tif", "--company", "Acme")[0] == 0
    code, _, err = run("presets", "add", "bad", "$nope$", "--company", "Acme")
    assert code == 2 and "30001" in err
    assert "$test$  fmt=tif" in run("presets", "list", "--company", "Acme")[1]
    assert run("company", "add", "Acme")[0] == 2


def test_export_and_jobs_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyvips")
    pyvips = __import__("pyvips")
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ISRENDER_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    image = pyvips.Image.black(60, 40).bandjoin([0, 0]).cast("uchar")
    image.jpegsave(str(tmp_path / "fileToExport.jpg"))
    run("catalog", "init")
    run("company", "add", "Acme")
    run("user", "add", "e@acme.example", "--password", "pw", "--company", "Acme")
    run("upload", "--company", "Acme", "--user", "e@acme.example", "--folder", "products",
        "fileToExport.jpg")  # fmt: skip
    run("presets", "add", "test", "fmt=tif", "--company", "Acme")
    code, out, _ = run("export", "a|1", "a|99", "--company", "Acme", "--user", "e@acme.example",
                       "--convert", "--modifier", "&fmt=png", "--macro", "$test$")  # fmt: skip
    assert code == 0 and "products/fileToExport.tiff" in out and "PartiallyFailed" in out
    assert "Asset not found: a|99" in out
    code, _, err = run("export", "a|1", "--company", "Acme", "--user", "e@acme.example")
    assert code == 2 and "ipsApiFault 30002" in err  # fmt missing
    code, _, err = run("export", "a|1", "--company", "Acme", "--user", "e@acme.example",
                       "--orig", "--password", "wrong")  # fmt: skip
    assert code == 2 and "10001" in err
    code, out, _ = run("export", "a|1", "--company", "Acme", "--user", "e@acme.example",
                       "--orig", "--no-wait", "--name", "later")  # fmt: skip
    handle = out.split()[-1]
    assert code == 0 and handle.startswith("j|1||later|")  # the upload was job 1
    assert "later" in run("jobs", "list", "--company", "Acme")[1]
    assert "pause requested" in run("jobs", "pause", handle, "--company", "Acme")[1]
    run("jobs", "resume", handle, "--company", "Acme")
    code, out, _ = run("jobs", "run", handle, "--company", "Acme")
    assert code == 0 and "Succeeded" in out
    assert "outcome: Succeeded" in run("jobs", "show", handle, "--company", "Acme")[1]
    assert "ExportSuccess" in run("jobs", "log", handle, "--company", "Acme")[1]
    code, out, _ = run("jobs", "download", handle, "--company", "Acme", "-o", str(tmp_path))
    assert code == 0 and (tmp_path / "later.zip").is_file()
    assert run("jobs", "delete", handle, "--company", "Acme")[0] == 2  # finished: 30001
    assert run("jobs", "show", "j|1||x|999", "--company", "Acme")[0] == 2


def test_demo_runs_the_seed_example(tmp_path: Path) -> None:
    pytest.importorskip("pyvips")
    code, out, _ = run("demo", "--data-dir", str(tmp_path / "demo"))
    assert code == 0
    assert "products/fileToExport.tiff" in out and "Asset type ImageSet is not supported" in out
    assert '[IPS] Export job "seed-example" PartiallyFailed' in out


def test_scheduled_exports_and_the_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyvips")
    pyvips = __import__("pyvips")
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ISRENDER_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    pyvips.Image.black(20, 10).bandjoin([0, 0]).cast("uchar").jpegsave(str(tmp_path / "a.jpg"))
    run("catalog", "init")
    run("company", "add", "Acme")
    run("user", "add", "e@acme.example", "--password", "pw", "--company", "Acme")
    run("upload", "--company", "Acme", "--user", "e@acme.example", "a.jpg")
    common = ("export", "a|1", "--company", "Acme", "--user", "e@acme.example", "--orig")
    code, out, _ = run(*common, "--schedule", "0 0 2 * * ?", "--name", "nightly")
    assert code == 0 and "scheduled: next run" in out
    code, out, _ = run(*common, "--at", "2000-01-01 00:00:00", "--name", "past")
    assert code == 0 and "scheduled" in out  # a time in the past fires at the next pass
    code, out, _ = run(*common, "--no-wait", "--name", "queued")
    assert "nightly" in run("jobs", "scheduled", "--company", "Acme")[1]
    code, out, _ = run("jobs", "worker", "--once")
    assert code == 0 and out.count("Succeeded") == 2  # the past one-shot and the queued job
    nightly = next(line.split()[0] for line in run("jobs", "scheduled", "--company", "Acme")[1]
                   .splitlines() if "nightly" in line)  # fmt: skip
    code, out, _ = run("jobs", "execute", nightly, "--company", "Acme")
    assert code == 0 and "InitiatingJobName" in out
    code, _, err = run(*common, "--schedule", "every night")
    assert code == 2 and "--schedule" in err and "execSchedule" not in err


# ---- issue 15: faults name flags, --at, a missing catalog, convert's extension, upload DIR ----


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A catalog with Acme, e@acme.example (password pw) and a.jpg uploaded as a|1."""
    pyvips = pytest.importorskip("pyvips")
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ISRENDER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ISRENDER_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    pyvips.Image.black(20, 10).bandjoin([0, 0]).cast("uchar").jpegsave(str(tmp_path / "a.jpg"))
    upload = ("upload", "--company", "Acme", "--user", "e@acme.example", "a.jpg")
    user = ("user", "add", "e@acme.example", "--company", "Acme")
    for command in (("catalog", "init"), ("company", "add", "Acme"), user, upload):
        assert run(*command)[0] == 0, command
    return tmp_path


EXPORT = ("export", "a|1", "--company", "Acme", "--user", "e@acme.example")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ((), "--orig or --convert is required"),
        (("--convert",), "--convert needs --modifier or --macro"),
        (("--convert", "--macro", "$nope$"), "--macro: unknown macro $nope$"),
        (("--convert", "--modifier", "wid=abc"), "invalid --modifier"),
        (
            ("--orig", "--schedule", "0 0 2 * * ?", "--at", "2030-01-01 06:00"),
            "give --at or --schedule, not both",
        ),
        (("--orig", "--schedule", "nightly"), "--schedule:"),
    ],
)
def test_export_faults_name_the_cli_flags(acme: Path, flags: tuple[str, ...], says: str) -> None:
    code, _, err = run(*EXPORT, *flags)
    assert code == 2 and says in err, err
    assert "exportJob/" not in err and "is_modifier" not in err and "execSchedule" not in err


@pytest.mark.parametrize("at", ["2030-12-01 06:00", "2030-12-01T06:00", "2030-12-01 06:00:30"])
def test_at_accepts_a_date_and_a_time_to_the_minute(acme: Path, at: str) -> None:
    code, out, err = run(*EXPORT, "--orig", "--at", at, "--name", "once")
    assert code == 0 and "scheduled: next run 2030-12-01 06:00" in out, err


def test_at_refuses_a_time_of_day_alone(acme: Path) -> None:
    code, _, err = run(*EXPORT, "--orig", "--at", "06:00")
    assert code == 2 and "'06:00' does not match the formats" in err


@pytest.mark.parametrize(
    "command",
    [
        ("company", "add", "Acme"),
        ("assets", "list", "--company", "Acme"),
        ("jobs", "list", "--company", "Acme"),
        ("export", "a|1", "--company", "Acme", "--user", "e@x", "--orig"),
        ("upload", "--company", "Acme", "--user", "e@x", "a.jpg"),
        ("jobs", "worker", "--once"),
    ],
)
def test_a_missing_catalog_is_named_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.delenv("ISRENDER_DATA_DIR", raising=False)
    monkeypatch.delenv("ISRENDER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ISRENDER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ISRENDER_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jpg").write_bytes(b"")
    code, _, err = run(*command)
    assert code == 2
    assert f"no catalog in {tmp_path / 'isrender-data'}" in err
    assert "isrender catalog init" in err and "ISRENDER_DATA_DIR" in err
    assert not (tmp_path / "isrender-data").exists()


@pytest.mark.parametrize(
    ("modifiers", "output", "force", "code"),
    [
        ("fmt=png", "out.jpg", False, 2),
        ("fmt=png", "out.jpg", True, 0),
        ("fmt=png", "out.PNG", False, 0),
        ("wid=10", "out.png", False, 2),  # no fmt=: JPEG
        ("wid=10", "out.jpeg", False, 0),
        ("fmt=tif", "out.tif", False, 0),
        ("fmt=webp", "out.avif", False, 2),
        ("fmt=png", "out.bin", False, 0),  # names no format: the user's choice
        ("fmt=png", "out", False, 0),
    ],
)
def test_convert_refuses_an_extension_that_contradicts_fmt(
    tmp_path: Path, modifiers: str, output: str, force: bool, code: int
) -> None:
    pyvips = pytest.importorskip("pyvips")
    pyvips.Image.black(20, 10).pngsave(str(tmp_path / "in.png"))
    extra = ("--force",) if force else ()
    got, _, err = run("convert", str(tmp_path / "in.png"), modifiers, "-o",
                      str(tmp_path / output), *extra)  # fmt: skip
    assert got == code, err
    assert (tmp_path / output).exists() is (code == 0)
    if code == 2:
        assert "pass --force" in err


@pytest.mark.parametrize(
    ("arguments", "folder", "expected"),
    [
        (("photos",), "products", ["products/photos/boot", "products/photos/shoe"]),
        (("photos/",), "products", ["products/photos/boot", "products/photos/shoe"]),
        (("photos/shoe.jpg", "photos/boot.jpg"), "products", ["products/boot", "products/shoe"]),
        (("photos",), "", ["photos/boot", "photos/shoe"]),
    ],
)
def test_upload_keeps_a_directorys_name_under_folder(
    acme: Path, arguments: tuple[str, ...], folder: str, expected: list[str]
) -> None:
    """Documented in the README ("Catalog and ExportJob"): like `cp -r photos products/`."""
    pyvips = pytest.importorskip("pyvips")
    (acme / "photos").mkdir()
    for name in ("shoe", "boot"):
        pyvips.Image.black(8, 8).jpegsave(str(acme / "photos" / f"{name}.jpg"))
    code, _, err = run("upload", "--company", "Acme", "--user", "e@acme.example",
                       "--folder", folder, *arguments)  # fmt: skip
    assert code == 0, err
    catalog = Catalog(Settings(data_dir=acme / "data"))
    assets = catalog.assets(catalog.require_company("Acme").id)
    stored = sorted(f"{a.folder.path}{a.name}" for a in assets if a.name != "a")
    catalog.close()
    assert stored == expected


def test_commands_shows_the_render_fate_and_the_format_table() -> None:
    code, out, _ = run("commands", "fmt")
    assert code == 0 and "rendered by: encode" in out
    heic = next(line.split() for line in out.splitlines() if line.strip().startswith("heic "))
    assert heic == ["heic", ".heic", "image/heic", "yes"]  # written (if HEVC), never exported
    code, out, _ = run("commands", "fmt", "--json")
    rows = {row["name"]: row for row in json.loads(out)["formats"]}
    assert rows["avif"]["export"] and not rows["heic"]["export"] and not rows["pdf"]["writable"]
    code, out, _ = run("commands", "text")
    assert "rendered by:" in out
