"""Settings (src/isrender/config.py): isrender.toml + ISRENDER_* through pydantic-settings,
typed errors, origins, `isrender config show`, and docs/settings.md kept in step with the model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from isrender.cli import main
from isrender.cli.config import documented_fields, reference_markdown
from isrender.config import ConfigError, Settings, load_with_origins

ROOT = Path(__file__).resolve().parents[1]


def _toml(folder: Path, body: str) -> Path:
    path = folder / "isrender.toml"
    path.write_text("[isrender]\n" + body + "\n", "utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "env", "name", "value", "origin"),
    [
        ("", {}, "smtp_port", 25, "default"),
        ("smtp_port = 2525", {}, "smtp_port", 2525, "file"),
        ("smtp_port = 2525", {"ISRENDER_SMTP_PORT": "26"}, "smtp_port", 26, "env"),
        ("", {"ISRENDER_REQUEST_LOCK": "yes"}, "request_lock", True, "env"),
        ("request_lock = true", {"ISRENDER_REQUEST_LOCK": "0"}, "request_lock", False, "env"),
        ("render_timeout = 5", {}, "render_timeout", 5.0, "file"),
        ("", {"ISRENDER_RENDER_TIMEOUT": "2.5"}, "render_timeout", 2.5, "env"),
        (
            "broker_url = 'redis://b'",
            {"ISRENDER_BROKER_URL": ""},
            "broker_url",
            "redis://b",
            "file",
        ),
        ("export_workers = 0", {}, "export_workers", 1, "file"),  # pools need a worker
    ],
)
def test_the_environment_wins_over_the_file_and_the_file_over_the_default(
    tmp_path: Path, toml: str, env: dict[str, str], name: str, value: object, origin: str
) -> None:
    settings, origins = load_with_origins(_toml(tmp_path, toml), env)
    assert getattr(settings, name) == value
    assert origins[name] == origin


@pytest.mark.parametrize(
    ("toml", "env", "says"),
    [
        ('smtp_port = "x"', {}, "setting 'smtp_port' must be an integer, not 'x' (in isrender"),
        ("", {"ISRENDER_SMTP_PORT": "2.5"}, "an integer, not '2.5' (in ISRENDER_SMTP_PORT)"),
        ("", {"ISRENDER_REQUEST_LOCK": "maybe"}, "'request_lock' must be true or false"),
        ("render_timeout = true", {}, "'render_timeout' must be a number"),
        ("", {"ISRENDER_RENDER_TIMEOUT": "nan"}, "'render_timeout' must be a number"),
        ("", {"ISRENDER_RENDER_TIMEOUT": "inf"}, "'render_timeout' must be a number"),
        ("database_url = 5", {}, "'database_url' must be a string, not 5"),
        ("macro_files = [1]", {}, "'macro_files' must be a list of paths"),
        ("data_dir = []", {}, "'data_dir' must be a path"),
        ("smtp_port = ", {}, "isrender.toml is not valid TOML"),
    ],
)
def test_a_wrong_type_names_the_key_the_type_and_where_it_was_set(
    tmp_path: Path, toml: str, env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        Settings.load(_toml(tmp_path, toml), env)
    assert says in str(caught.value)


def test_an_unknown_key_is_a_warning_and_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "isrender.config"):
        settings = Settings.load(_toml(tmp_path, "exprot_workers = 3\nexport_workers = 2"), {})
    assert settings.export_workers == 2
    assert "unknown setting 'exprot_workers' ignored" in caplog.text


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ('macro_files = ["a.toml", "sub/b.tsv"]', {}, ["conf/a.toml", "conf/sub/b.tsv"]),
        ("", {"ISRENDER_MACRO_FILES": "a.toml:/abs/b.tsv"}, ["cwd/a.toml", "/abs/b.tsv"]),
        ("", {"ISRENDER_MACRO_FILES": ""}, []),
    ],
)
def test_macro_files_are_a_list_in_the_file_and_colon_separated_in_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    env: dict[str, str],
    expected: list[str],
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    settings = Settings.load(_toml(tmp_path / "conf", toml), env)
    shown = [str(p).replace(str(tmp_path) + "/", "") for p in settings.macro_files]
    assert shown == expected


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("", {}, "cwd/isrender-data"),
        ('data_dir = "data"', {}, "conf/data"),  # relative to the config file's folder
        ('data_dir = "data"', {"ISRENDER_DATA_DIR": "here"}, "cwd/here"),  # to the working one
        ("", {"ISRENDER_DATA_DIR": "/srv/isrender"}, "/srv/isrender"),
    ],
)
def test_paths_are_relative_to_where_they_were_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    env: dict[str, str],
    expected: str,
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    settings = Settings.load(_toml(tmp_path / "conf", toml), env)
    assert str(settings.data_dir).replace(str(tmp_path) + "/", "") == expected
    assert settings.database == f"sqlite:///{settings.data_dir / 'catalog.db'}"


def test_isrender_config_names_the_file_and_a_missing_one_means_defaults(tmp_path: Path) -> None:
    config = _toml(tmp_path, "smtp_port = 2525")
    assert Settings.load(environ={"ISRENDER_CONFIG": str(config)}).smtp_port == 2525
    absent = {"ISRENDER_CONFIG": str(tmp_path / "absent.toml")}
    assert Settings.load(environ=absent).smtp_port == 25


def test_settings_built_in_code_ignore_the_environment_and_are_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISRENDER_SMTP_PORT", "26")
    settings = Settings(data_dir=Path("d"))
    assert settings.smtp_port == 25 and settings.originals_dir == Path("d/originals")
    with pytest.raises(ValidationError):
        settings.smtp_port = 1  # type: ignore[misc]
    assert hash(settings) == hash(Settings(data_dir=Path("d")))


# ---- the reference page ----------------------------------------------------------------------


def test_every_setting_has_its_one_line_form_with_a_comment() -> None:
    """docs/settings.md is generated from these lines: a field without one would be missing."""
    assert [f["name"] for f in documented_fields()] == list(Settings.model_fields)


def test_docs_settings_md_matches_the_model() -> None:
    page = (ROOT / "docs" / "settings.md").read_text("utf-8")
    assert page == reference_markdown(), (
        "docs/settings.md is out of date: run `isrender config reference -o docs/settings.md`"
    )


def test_the_readme_links_the_settings_reference() -> None:
    assert "docs/settings.md" in (ROOT / "README.md").read_text("utf-8")


# ---- isrender config show ---------------------------------------------------------------------


def test_config_show_prints_every_value_and_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _toml(tmp_path, 'smtp_port = 2525\nsecret_key = "s3cret"')
    monkeypatch.setenv("ISRENDER_CONFIG", str(config))
    monkeypatch.setenv("ISRENDER_MAIL_FROM", "ops@example.com")
    monkeypatch.setenv("ISRENDER_DATABASE_URL", "postgresql://user:pw@db/isr")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:]}
    assert set(lines) == set(Settings.model_fields)
    assert lines["smtp_port"] == ["file", "2525"]
    assert lines["mail_from"] == ["env", '"ops@example.com"']
    assert lines["render_slots"] == ["default", "4"]
    assert "s3cret" not in result.output and "pw" not in result.output
    assert lines["database_url"] == ["env", '"postgresql://***@db/isr"']
    assert f"config file: {config} (read)" in result.output


def test_config_show_json_and_a_bad_value_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISRENDER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ISRENDER_EXPORT_WORKERS", "2")
    result = CliRunner().invoke(main, ["config", "show", "--json"])
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["export_workers"] == {"name": "export_workers", "value": 2, "origin": "env"}
    monkeypatch.setenv("ISRENDER_EXPORT_WORKERS", "two")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 2
    assert "'export_workers' must be an integer, not 'two'" in result.output
