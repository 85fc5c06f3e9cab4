"""Settings: the ``[isrender]`` table of ``isrender.toml`` (in the working directory, or the file
``ISRENDER_CONFIG`` names) and ``ISRENDER_<NAME>`` environment variables, which win. Every command
and the server read these; ``isrender config show`` prints each effective value and its origin.

Each field keeps the one-line form ``name: type = default  # comment``: docs/settings.md is
generated from these lines (``isrender config reference``) and a test fails when the two drift.
"""

from __future__ import annotations

import logging
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from isrender.errors import ConfigError

__all__ = ["ConfigError", "Origin", "Settings", "load_with_origins"]

log = logging.getLogger("isrender.config")

Origin = Literal["default", "file", "env"]
PathList = Annotated[tuple[Path, ...], NoDecode]  # NoDecode: the env form is ":"-separated text


class Settings(BaseSettings):
    """Every setting of isrender (docs/settings.md is generated from the lines below)."""

    model_config = SettingsConfigDict(
        env_prefix="ISRENDER_", frozen=True, extra="ignore", allow_inf_nan=False,
        env_ignore_empty=True,
    )  # fmt: skip

    data_dir: Path = Path("isrender-data")  # catalog, originals, outputs; relative to its file
    database_url: str = ""  # empty: SQLite in data_dir; or postgresql+psycopg://user:pw@host/db
    macro_files: PathList = ()  # server-wide macro files (.toml or .tsv); ":"-separated in the env
    strict_role_lists: bool = False  # the reference's literal role lists (D-8)
    mail_transport: str = "log"  # "log" writes job mails to the log; "smtp" sends them
    smtp_host: str = "localhost"  # SMTP server for mail_transport = "smtp"
    smtp_port: int = 25  # SMTP port
    mail_from: str = "isrender@localhost"  # sender address of job mails
    retention_days: float = 7.0  # outputs of finished jobs are deleted after this (logs stay)
    export_layout: str = "folders"  # "flat" drops folder paths from output names (§2.8.8)
    validate_handles_at_submit: bool = False  # §2.8.3 strict mode: unknown handles fail the submit
    render_slots: int = 4  # concurrent renders in `isrender serve`; beyond them: 503
    render_timeout: float = 30.0  # seconds a render may take before the server answers 504
    expiration: int = 86400  # Cache-Control max-age of image replies, seconds
    request_lock: bool = False  # attribute::RequestLock: require the &xxxx hash (§1.11)
    request_obfuscation: bool = False  # attribute::RequestObfuscation: base64 modifier strings
    url_signing_key: str = ""  # when set, every image URL needs &sig=<HMAC-SHA256>
    default_image: str = ""  # attribute::DefaultImage: served for a missing asset
    default_expiration: int = 3600  # Cache-Control max-age of default-image replies, seconds
    soap_strict_namespaces: bool = False  # SOAP: exportJob only in 2012-02-14 and later namespaces
    export_workers: int = 3  # parallel conversions; on 2 cores 1->0.85x 2->1.56x 3->1.66x 4->1.66x
    secret_key: str = ""  # signs tokens and links; empty: generated once into data_dir/secret_key
    broker_url: str = ""  # redis://host:6379/0 runs jobs on Celery; empty: the database backend
    job_lease_seconds: float = 30.0  # a claimed chunk is taken back this long after its last beat
    job_chunk_size: int = 2  # export entries a worker claims at once (2: the tail stays short)
    reveal_unknown_users: bool = False  # true: unknown users get 10002 as in the reference
    login_failures_per_account: int = 5  # failed logins per account within the window -> lockout
    login_failures_per_address: int = 20  # failed logins per client address within the window
    login_failure_window: float = 300.0  # seconds failed logins are counted over
    login_lockout_seconds: float = 60.0  # how long a throttled account or address waits
    max_query_length: int = 8192  # bytes of an image URL's query string; longer: 414
    default_pix: str = "400,400"  # companies' DefaultPix: size with no wid/hei/scl (0,0: none)
    max_pix: str = "2000,2000"  # companies' MaxPix: larger replies are refused (0,0: no limit)
    jpeg_quality: str = "80,0"  # companies' JpegQuality: the qlt= default (quality,chroma)
    bkg_color: str = "ffffff"  # companies' BkgColor: the bgc= default
    res_mode: str = "sharp2"  # companies' ResMode: bilin, bicub, sharp2 or bisharp
    resolution: float = 100.0  # companies' Resolution: the object resolution for res=
    catalog_poll_interval: float = 0.5  # seconds a server trusts its cached catalog lookups
    result_cache_mb: int = 512  # rendered replies kept on disk (LRU); 0 turns the result cache off
    result_cache_dir: str = ""  # where the result cache lives; empty: data_dir/cache
    render_queue: int = 16  # renders that may wait for a slot; beyond slots + queue: 503 at once
    render_queue_timeout: float = 2.0  # seconds a queued render waits for a slot before 503
    render_memory_mb: int = 192  # estimated decode memory of running renders, per process
    font_map: Path | None = None  # TOML font map added to the shipped one (README: Fonts)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @field_validator("macro_files", mode="before")
    @classmethod
    def _split_path_list(cls, value: object) -> object:
        """The environment's form: ``a.toml:b.tsv`` (os.pathsep-separated)."""
        if isinstance(value, str):
            return tuple(part for part in value.split(os.pathsep) if part)
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: object, info: ValidationInfo) -> object:
        """pydantic's lax mode reads true as 1; a TOML ``render_timeout = true`` is a mistake."""
        numeric = cls.model_fields[str(info.field_name)].annotation in (int, float)
        if numeric and isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        return value

    @field_validator("export_workers", "render_slots", "job_chunk_size", mode="after")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        return max(1, value)  # pools need a worker

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``Settings(...)`` uses its arguments only (tests stay hermetic); ``load`` reads the
        file and the environment through the same pydantic-settings sources, explicitly."""
        return (init_settings,)

    @classmethod
    def load(
        cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        return load_with_origins(path, environ)[0]


class _Environment(EnvSettingsSource):
    """``ISRENDER_*`` variables of a given mapping (os.environ unless a test passes one)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, False, True, None)


def config_path(path: str | Path | None, environ: Mapping[str, str]) -> Path:
    """The file ``load`` reads: ``path``, else ISRENDER_CONFIG, else ./isrender.toml."""
    return Path(path or environ.get("ISRENDER_CONFIG") or "isrender.toml")


def load_with_origins(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Settings, dict[str, Origin]]:
    """The effective settings and, for each field, where its value came from."""
    env = os.environ if environ is None else environ
    config = config_path(path, env)
    from_file = _file_values(config)
    from_env = _Environment(env)()
    origins: dict[str, Origin] = {name: "default" for name in Settings.model_fields}
    origins.update({name: "file" for name in from_file})
    origins.update({name: "env" for name in from_env})
    file_base = config.resolve().parent
    values = {**from_file, **from_env}
    settings = _validated(values, origins, config.name)
    return _with_paths_resolved(settings, origins, file_base), origins


def _file_values(config: Path) -> dict[str, Any]:
    """The ``[isrender]`` table (absent file or table: nothing); unknown keys: a warning."""
    if not config.is_file():
        return {}
    try:
        values = dict(TomlConfigSettingsSource(Settings, config, ("isrender",))())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config.name} is not valid TOML: {exc}") from None
    except KeyError:  # no [isrender] table
        log.warning("%s has no [isrender] table: its settings are ignored", config)
        return {}
    for key in sorted(set(values) - set(Settings.model_fields)):
        log.warning("%s: unknown setting %r ignored (see docs/settings.md)", config.name, key)
        del values[key]
    return values


_TYPE_NAMES: dict[type, str] = {bool: "true or false", int: "an integer", float: "a number",
               str: "a string", Path: "a path"}  # fmt: skip


def _base_type(name: str) -> object:
    """A field's type without ``| None`` (an optional path is a path that may be unset)."""
    annotation = Settings.model_fields[name].annotation
    members = [t for t in typing.get_args(annotation) if t is not type(None)]
    optional = typing.get_origin(annotation) in (types.UnionType, typing.Union)
    return members[0] if optional and len(members) == 1 else annotation


def expected_type(name: str) -> str:
    """How the settings reference and errors name a field's type."""
    kind = _base_type(name)
    known = isinstance(kind, type) and kind in _TYPE_NAMES
    return _TYPE_NAMES[kind] if known else "a list of paths"  # type: ignore[index]


def _validated(values: dict[str, Any], origins: Mapping[str, Origin], file: str) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0])
        where = "ISRENDER_" + name.upper() if origins.get(name) == "env" else file
        raise ConfigError(
            f"setting {name!r} must be {expected_type(name)}, not {values[name]!r} (in {where})"
        ) from None


def _with_paths_resolved(
    settings: Settings, origins: Mapping[str, Origin], file_base: Path
) -> Settings:
    """File paths are relative to the config file's folder, the others to the working one."""

    def resolved(name: str, value: Any) -> Any:
        base = file_base if origins[name] == "file" else Path.cwd()
        if isinstance(value, tuple):
            return tuple(base / path for path in value)
        return base / value if isinstance(value, Path) else value

    paths = [n for n in Settings.model_fields if _base_type(n) in (Path, tuple[Path, ...])]
    return settings.model_copy(
        update={name: resolved(name, getattr(settings, name)) for name in paths}
    )
