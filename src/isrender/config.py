"""Settings: ``isrender.toml`` (in the working directory, or ``ISRENDER_CONFIG``) and
``ISRENDER_*`` environment variables, which win. Every command and the server read these.

```toml
[isrender]
data_dir = "/srv/isrender"            # catalog, originals and outputs (ISRENDER_DATA_DIR)
database_url = "postgresql://..."     # default: SQLite in data_dir (ISRENDER_DATABASE_URL)
macro_files = ["presets.toml"]        # server-wide macros (ISRENDER_MACRO_FILES, ":"-separated)
strict_role_lists = false             # the reference's literal role lists (D-8)
mail_transport = "log"                # or "smtp" (ISRENDER_MAIL_TRANSPORT)
smtp_host = "localhost"               # ISRENDER_SMTP_HOST, ISRENDER_SMTP_PORT
smtp_port = 25
mail_from = "isrender@localhost"
export_workers = 3                    # parallel conversions; 3 measured best on 2 cores
render_slots = 4                      # concurrent renders in `isrender serve`; beyond: 503
render_timeout = 30                   # seconds a render may take before the server answers 504
expiration = 86400                    # Cache-Control max-age of image replies, seconds
request_lock = false                  # attribute::RequestLock: require the &xxxx hash (§1.11)
request_obfuscation = false           # attribute::RequestObfuscation: base64 modifier strings
url_signing_key = ""                  # when set, every image URL needs &sig=<HMAC-SHA256>
default_image = ""                    # attribute::DefaultImage: served for a missing asset
default_expiration = 3600             # Cache-Control max-age of default-image replies
soap_strict_namespaces = false        # SOAP: exportJob only in 2012-02-14 and later namespaces
secret_key = ""                       # signs tokens and links; generated into data_dir when empty
broker_url = ""                       # redis://host:6379/0: jobs on Celery (ISRENDER_BROKER_URL)
job_lease_seconds = 30                # a claimed chunk is taken back this long after its last beat
job_chunk_size = 4                    # entries a worker claims at once
reveal_unknown_users = false          # true: unknown users get 10002 as the reference (enumerable)
login_failures_per_account = 5        # failed logins per account within the window -> lockout
login_failures_per_address = 20       # failed logins per client address within the window
login_failure_window = 300            # seconds failed logins are counted over
login_lockout_seconds = 60            # how long a throttled account or address waits
max_query_length = 8192               # bytes of an image URL's query string; longer: 414
```
"""

from __future__ import annotations

import functools
import logging
import math
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from isrender.errors import IsRenderError

__all__ = ["ConfigError", "Settings"]

log = logging.getLogger("isrender.config")


class ConfigError(IsRenderError):
    http_status = 500


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("isrender-data")
    database_url: str = ""
    macro_files: tuple[Path, ...] = ()
    strict_role_lists: bool = False
    mail_transport: str = "log"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    mail_from: str = "isrender@localhost"
    retention_days: float = 7.0  # outputs of finished jobs are deleted after this (logs stay)
    export_layout: str = "folders"  # "flat" drops folder paths from output names (§2.8.8)
    validate_handles_at_submit: bool = False  # strict mode of §2.8.3
    render_slots: int = 4
    render_timeout: float = 30.0
    expiration: int = 86400
    request_lock: bool = False
    request_obfuscation: bool = False
    url_signing_key: str = ""
    default_image: str = ""
    default_expiration: int = 3600
    soap_strict_namespaces: bool = False
    export_workers: int = 3  # measured on 2 cores: 1 -> 0.85x, 2 -> 1.56x, 3 -> 1.66x, 4 -> 1.66x
    secret_key: str = ""  # empty: generated once into data_dir/secret_key (see server/tokens.py)
    broker_url: str = ""  # empty: the local backend (worker processes claim from the database)
    job_lease_seconds: float = 30.0
    job_chunk_size: int = 4
    reveal_unknown_users: bool = False  # D: unknown users answer 10001 like a wrong password
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_failure_window: float = 300.0
    login_lockout_seconds: float = 60.0
    max_query_length: int = 8192

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @classmethod
    def load(
        cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        config = Path(path or env.get("ISRENDER_CONFIG", "isrender.toml"))
        if config.is_file():
            try:
                values.update(tomllib.loads(config.read_text("utf-8")).get("isrender", {}))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{config.name} is not valid TOML: {exc}") from None
        for key in _field_types():
            if f"ISRENDER_{key.upper()}" in env:
                values[key] = env[f"ISRENDER_{key.upper()}"]
        return cls._from(values, config.parent if config.is_file() else Path.cwd())

    @classmethod
    def _from(cls, values: dict[str, object], base: Path) -> Settings:
        """Typed settings: each key converted to its field's type, or ConfigError naming the
        key and the type; unknown keys are logged as a warning and ignored."""
        types = _field_types()
        for key in sorted(set(values) - set(types)):
            log.warning("isrender.toml: unknown setting %r ignored (see the README)", key)
        typed: dict[str, Any] = {
            key: _typed(key, value, types[key]) for key, value in values.items() if key in types
        }
        typed["data_dir"] = base / typed.get("data_dir", Path("isrender-data"))
        typed["macro_files"] = tuple(base / f for f in typed.get("macro_files", ()))
        for key in _AT_LEAST_ONE:
            if key in typed:
                typed[key] = max(1, typed[key])
        return cls(**typed)


_AT_LEAST_ONE = ("export_workers", "render_slots", "job_chunk_size")  # pools need a worker
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               Path: "a path", tuple: "a list of paths"}  # fmt: skip


@functools.cache
def _field_types() -> dict[str, type]:
    """Each setting's type, from the Settings dataclass itself (one table: its fields)."""
    hints = typing.get_type_hints(Settings)
    return {f.name: typing.get_origin(hints[f.name]) or hints[f.name] for f in fields(Settings)}


def _typed(key: str, value: object, kind: type) -> object:
    """``value`` (TOML, or an ISRENDER_* string) as ``kind``; ConfigError when it is not one."""
    text = value.strip() if isinstance(value, str) else None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if text is not None and len(text) <= 20 and text.lstrip("+-").isdigit():
            return int(text)
    elif kind is float:
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if text is not None and len(text) <= 40:
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is not None and math.isfinite(number):
            return float(number)
    elif kind is str or kind is Path:
        if isinstance(value, str):
            return value if kind is str else Path(value)
    elif kind is tuple:  # macro_files: a TOML list, or os.pathsep-separated text
        if text is not None:
            return tuple(Path(f) for f in text.split(os.pathsep) if f)
        if isinstance(value, list) and all(isinstance(f, str) for f in value):
            return tuple(Path(f) for f in value)
    raise ConfigError(f"setting {key!r} must be {_TYPE_NAMES[kind]}, not {value!r}")
