"""The whole exception tree of isrender (a test checks this drawing against the classes)::

    IsRenderError
        BenchSetupError
        CatalogError
        CatalogMissing
        ConfigError
            FontMapError
        CronError
        EntryError
        ExpiredToken
        InvalidToken
        IpsFault
            IdempotencyKeyBusy
            InvalidAttributeError
            InvalidNameError
            JobNotFound
            LoginThrottled
        MacroFileError
        ModifierError
            ConstraintError
            InvalidEncodingError
            InvalidValueError
            LayerNameError
            LimitExceededError
            MacroDefinitionError
            ModifierSyntaxError
            PathSyntaxError
            RtfSyntaxError
            TemplateError
                UnknownTemplateError
            UnknownCommandError
            UnknownMacroError
        PasswordRequired
        QueryTooLongError
        RenderBusy
        RenderError
            CorruptSourceError
            FontNotFoundError
            NestingLimitError
            OutputLimitError
            SourceFormatError
            SourceNotFoundError
            SourceTooLargeError
            UnsupportedFeatureError
                UnservedRequestType
            ViewGeometryError
        RenderTimeout
        RequestRefusedError
        ServiceUnavailable
        StoreFailure
        UiCsrfRejected
        UiLoginRequired


Every error carries its data (position, command, value, ...), an HTTP status and a public message
that is safe to show to anyone: no paths, no tracebacks. Modifier errors point at the character
(0-based ``position`` into ``source``) and, where a fix is obvious, suggest it, the way sqlglot
and jinja do::

    unknown command 'wdi' at 0; did you mean 'wid'?
      wdi=200
      ^^^
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BenchSetupError",
    "CatalogError",
    "CatalogMissing",
    "ConfigError",
    "ConstraintError",
    "CorruptSourceError",
    "CronError",
    "EntryError",
    "ExpiredToken",
    "FontMapError",
    "FontNotFoundError",
    "IdempotencyKeyBusy",
    "InvalidAttributeError",
    "InvalidEncodingError",
    "InvalidNameError",
    "InvalidToken",
    "InvalidValueError",
    "IpsFault",
    "IsRenderError",
    "JobNotFound",
    "LayerNameError",
    "LimitExceededError",
    "Location",
    "LoginThrottled",
    "MacroDefinitionError",
    "MacroFileError",
    "ModifierError",
    "ModifierSyntaxError",
    "NestingLimitError",
    "OutputLimitError",
    "PasswordRequired",
    "PathSyntaxError",
    "QueryTooLongError",
    "RenderError",
    "RequestRefusedError",
    "RtfSyntaxError",
    "ServiceUnavailable",
    "SourceFormatError",
    "SourceNotFoundError",
    "SourceTooLargeError",
    "StoreFailure",
    "TemplateError",
    "UiCsrfRejected",
    "UiLoginRequired",
    "UnknownCommandError",
    "UnknownMacroError",
    "UnknownTemplateError",
    "UnservedRequestType",
    "UnsupportedFeatureError",
    "ViewGeometryError",
    "closest",
]


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` (case-insensitive), or None when nothing is close."""
    by_lower = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[found[0]] if found else None


class IsRenderError(Exception):
    """Base of every error isrender raises on purpose.

    ``public_message`` is what a user or an HTTP client may see; ``http_status`` is the status
    the HTTP service answers with.
    """

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def public_message(self) -> str:
        return self.message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Location:
    """Where in which text a problem is: 0-based ``position``, ``length`` characters long.

    ``origin`` names where the text came from: ``request``, a macro name, ``Modifier``,
    ``PostModifier`` or an ExportJob field.
    """

    source: str = ""
    position: int = 0
    length: int = 1
    origin: str = "request"

    def shifted(self, offset: int, source: str) -> Location:
        """The same place seen from an enclosing string (nested groups are parsed apart)."""
        return Location(source, self.position + offset, self.length, self.origin)


class ModifierError(IsRenderError):
    """A modifier string that cannot be accepted; ``hint`` is the suggested fix, if any."""

    http_status = 400
    kind = "invalid modifier"

    def __init__(self, problem: str, at: Location, hint: str | None = None) -> None:
        self.problem = problem
        self.at = at
        self.hint = hint
        super().__init__(self._format())

    @property
    def position(self) -> int:
        return self.at.position

    @property
    def source(self) -> str:
        return self.at.source

    def _format(self) -> str:
        message = f"{self.problem} at {self.at.position}"
        if self.at.origin != "request":
            message += f" in {self.at.origin}"
        return f"{message}; {self.hint}" if self.hint else message

    def caret(self) -> str:
        """Two lines: the source text and a caret line under the offending characters.

        Long sources are cut to a window around the position so the caret stays readable.
        """
        text, pos, length = self.at.source, self.at.position, max(1, self.at.length)
        start = max(0, pos - 40)
        end = min(len(text), pos + length + 40)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        width = max(1, min(length, end - pos))
        pad = " " * (len(prefix) + pos - start)
        return f"{prefix}{text[start:end]}{suffix}\n{pad}{'^' * width}"

    def render(self) -> str:
        """The one-line message followed by the caret rendering, indented."""
        return f"{self.message}\n  " + self.caret().replace("\n", "\n  ")

    def relocated(self, offset: int, source: str) -> ModifierError:
        """This error re-anchored in an enclosing string; returns self for ``raise ... from``."""
        return self._moved(self.at.shifted(offset, source))

    def from_origin(self, origin: str) -> ModifierError:
        """This error labelled with where its text came from (``Modifier``, a macro, ...)."""
        return self._moved(Location(self.at.source, self.at.position, self.at.length, origin))

    def _moved(self, at: Location) -> ModifierError:
        self.at = at
        self.message = self._format()
        self.args = (self.message,)
        return self


class ModifierSyntaxError(ModifierError):
    """The text does not have the shape of a modifier string (spec §1.3)."""

    kind = "syntax error"


class InvalidEncodingError(ModifierError):
    """A ``%`` escape that is not followed by two hex digits (D-06)."""

    kind = "invalid encoding"


class UnknownCommandError(ModifierError):
    """A command name the command table does not know (strict mode, D-36)."""

    kind = "unknown command"

    def __init__(self, name: str, at: Location, suggestion: str | None = None) -> None:
        self.name = name
        self.suggestion = suggestion
        hint = f"did you mean '{suggestion}'?" if suggestion else "see 'isrender commands'"
        super().__init__(f"unknown command '{name}'", at, hint)


class InvalidValueError(ModifierError):
    """A value of the wrong type, out of range, of the wrong arity, or empty (§5, D-11, D-31).

    ``command`` and ``argument`` name what was being read, ``value`` is the offending (decoded)
    text and ``expected`` the type and range that would have been accepted.
    """

    kind = "invalid value"

    def __init__(
        self,
        problem: str,
        at: Location,
        hint: str | None = None,
        *,
        command: str = "",
        argument: str = "",
        value: str = "",
        expected: str = "",
    ) -> None:
        self.command = command
        self.argument = argument
        self.value = value
        self.expected = expected
        super().__init__(problem, at, hint)


class ConstraintError(ModifierError):
    """Commands that are each valid but not together (fit without wid/hei, fmt vs icc, ...)."""

    kind = "constraint violated"


class LayerNameError(ModifierError):
    """A layer name mapped to two layers, or selected without ever being mapped (§6.6)."""

    kind = "layer name error"


class UnknownMacroError(ModifierError):
    """``$name$`` invokes a macro that no registry defines (D-19)."""

    kind = "unknown macro"

    def __init__(self, name: str, at: Location, known: Iterable[str] = ()) -> None:
        self.name = name
        suggestion = closest(name, known)
        hint = (
            f"did you mean '${suggestion}$'?" if suggestion else "no macro of that name is loaded"
        )
        super().__init__(f"unknown macro '${name}$'", at, hint)


class MacroDefinitionError(ModifierError):
    """A macro definition that cannot be used (D-21): it does not parse, or it invokes a macro
    that is undefined, defined later, itself, or invalid. ``where`` is ``file:line``."""

    kind = "invalid macro"

    def __init__(
        self, macro: str, reason: str, at: Location, where: str = "", hint: str | None = None
    ) -> None:
        self.macro = macro
        self.reason = reason
        self.where = where
        place = f" ({where})" if where else ""
        super().__init__(f"macro '${macro}$'{place} is invalid: {reason}", at, hint)


class LimitExceededError(ModifierError):
    """A limit that protects the server was reached (macro expansion size, MaxPix, ...)."""

    kind = "limit exceeded"


class TemplateError(ModifierError):
    """A compositing template that cannot be used (§3.5, D-47): ``template=`` inside a template
    body or a PostModifier, a template that uses itself, or templates nested too deeply."""

    kind = "template error"


class UnknownTemplateError(TemplateError):
    """``template=`` names no template record of the request's catalog."""

    def __init__(self, name: str, at: Location) -> None:
        self.name = name
        super().__init__(
            f"unknown template {name!r}",
            at,
            "a template is a catalog record of type Template of the same company "
            "('isrender templates list')",
        )


class RtfSyntaxError(ModifierError):
    """Text of a ``text=``/``textPs=`` layer that is not readable RTF (unbalanced braces, a
    bad escape, an unknown control word in strict mode); ``at`` points into the text."""

    kind = "invalid text"


class PathSyntaxError(ModifierError):
    """A path definition (§5.11: ``clipPath=``, ``textPath=``, ...) that does not parse;
    ``at`` points at the offending character of the path."""

    kind = "invalid path"


class RenderError(IsRenderError):
    """Rendering could not produce the image; subclasses say why. Messages are public: they
    name the problem, never a server path."""

    http_status = 422


class SourceNotFoundError(RenderError):
    """The source object or file does not exist (spec §7.5 SourceNotFound)."""

    http_status = 404


class SourceFormatError(RenderError):
    """The source is not an image this build can decode (not identifiable, HEVC without a
    decoder, ...)."""

    http_status = 415


class CorruptSourceError(RenderError):
    """The source is truncated or damaged: decoding failed part way."""

    http_status = 422


class SourceTooLargeError(RenderError):
    """The source's header announces more pixels than the configured limit (a decompression
    bomb, or simply too big); refused before any pixel is decoded."""

    http_status = 413


class NestingLimitError(RenderError):
    """Nested ``is{...}`` requests nest deeper than the limit (checked before decoding)."""

    http_status = 403


class OutputLimitError(RenderError):
    """The reply would exceed MaxPix or the render-area limit (spec §7.2 LimitExceeded)."""

    http_status = 403


class UnsupportedFeatureError(RenderError):
    """A valid command or format this implementation does not render (D-48: 403 on the
    IS-compatible surface; a 5xx would tell clients and CDNs the server is failing)."""

    http_status = 403


class ConfigError(IsRenderError):
    """A setting that cannot be used: wrong type (the message names the key and the type),
    invalid TOML, or an unusable secret key file. The operator's problem, not a client's."""

    http_status = 500


class FontNotFoundError(RenderError):
    """Text names a font the font map does not know (§7.2; strict mode: lenient mode falls
    back to the default font with a warning). The message names the font, never a file."""

    http_status = 422


class FontMapError(ConfigError):
    """The ``font_map`` file cannot be used: not TOML, a wrong shape, a missing font file."""


class CatalogMissing(IsRenderError):
    """A command needs a catalog and the data directory has none; the message names the folder
    it looked in and how to create one, so nothing is created silently in the wrong place."""

    http_status = 500

    def __init__(self, data_dir: str) -> None:
        super().__init__(
            f"no catalog in {data_dir}: create one with 'isrender catalog init', or point "
            "ISRENDER_DATA_DIR (or data_dir in isrender.toml) at an existing one"
        )


class BenchSetupError(IsRenderError):
    """An ``isrender bench`` run that cannot start: no sources, a bad --workers list, an
    --against URL that is not an explicit http(s) URL, a cap exceeded, a missing extra."""

    http_status = 400


class IpsFault(IsRenderError):
    """An IPS API fault (production-system.md §4): ``fault`` is ``authenticationFault``,
    ``authorizationFault`` or ``ipsApiFault``; ``code`` the documented number."""

    http_status = 400

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.fault = (
            "authenticationFault"
            if code < 20000
            else "authorizationFault"
            if code < 30000
            else "ipsApiFault"
        )
        # §5.3: 100xx 401, 200xx 403, 30000 (an unexpected failure) 500, other 300xx 400
        self.http_status = (
            401 if code < 20000 else 403 if code < 30000 else 500 if code == 30000 else 400
        )
        super().__init__(f"{self.fault} {code}: {reason}")
        self.reason = reason


class JobNotFound(IpsFault):
    """A job handle that does not name a job of the company: 30001, and 404 over HTTP (§5.3).
    Another company's job is indistinguishable from an absent one (§2.6)."""

    def __init__(self) -> None:
        super().__init__(30001, "job not found: jobHandle does not name a job of this company")
        self.http_status = 404


class IdempotencyKeyBusy(IpsFault):
    """A submit whose ``Idempotency-Key`` another request is still submitting: 409, retry."""

    def __init__(self) -> None:
        super().__init__(30001, "a submit with this Idempotency-Key is in progress; retry")
        self.http_status = 409


class UiLoginRequired(IsRenderError):
    """A web UI page or /ui/api call without a valid session: pages redirect to /ui/login."""

    http_status = 401

    def __init__(self, target: str = "/ui/") -> None:
        super().__init__("log in to use the web UI")
        self.target = target  # where to go back to after logging in


class UiCsrfRejected(IsRenderError):
    """A web UI form or call whose CSRF token is missing, forged or from another session."""

    http_status = 403

    def __init__(self) -> None:
        super().__init__("the form's CSRF token is missing or invalid; reload the page")


class ViewGeometryError(RenderError):
    """A size or scale the request asks for cannot be computed: it would make a side larger
    than 2**31-1 pixels (D-32) or shrink the image below one pixel. Names the command."""

    http_status = 400


class QueryTooLongError(IsRenderError):
    """A query string above the server's limit, refused before anything parses it."""

    http_status = 414


class InvalidNameError(IpsFault):
    """An asset, folder, company or user name that breaks the one naming rule
    (catalog/names.py): 30001, naming the kind of name and why."""

    def __init__(self, kind: str, name: str, why: str) -> None:
        shown = name if len(name) <= 60 else name[:57] + "..."
        super().__init__(30001, f"{kind} name {shown!r}: {why}")


class InvalidAttributeError(IpsFault):
    """A catalog attribute value (DefaultPix, MaxPix, JpegQuality, ..., attributes.py) that does
    not read: 30001 naming the attribute and the form it takes."""

    def __init__(self, name: str, value: str, form: str) -> None:
        shown = value if len(value) <= 60 else value[:57] + "..."
        super().__init__(30001, f"attribute {name}={shown!r}: expected {form}")
        self.name = name


class LoginThrottled(IpsFault):
    """Too many failed logins for the account or the client address: the authentication
    fault 10001, HTTP 429 and ``retry_after`` seconds (catalog/throttle.py)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(10001, f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after
        self.http_status = 429


class PasswordRequired(IsRenderError):
    """A command that needs a password got none and has no terminal to ask on."""

    http_status = 401


class ServiceUnavailable(IsRenderError):
    """A service the catalog or the jobs need (database, job broker) cannot be reached.

    ``setting`` names the setting that points at it, so the CLI can say what to check; the
    public message names the part, never the address or credentials."""

    http_status = 503

    def __init__(self, part: str, setting: str, detail: str = "") -> None:
        super().__init__(f"the {part} is unreachable (check the {setting} setting){detail}")
        self.part, self.setting = part, setting

    @property
    def public_message(self) -> str:
        return f"the {self.part} is unavailable; try again later"


class RenderBusy(IsRenderError):
    """Every render slot and queue place is taken (or the queue wait ran out): HTTP 503 with
    ``Retry-After`` (server/gate.py), so a CDN or client backs off instead of piling on."""

    http_status = 503
    retry_after = 1


class RenderTimeout(IsRenderError):
    """A render ran past ``render_timeout``: libvips was stopped, HTTP 504."""

    http_status = 504


# ---- errors of the catalog, the jobs and the server ------------------------------------------


class CatalogError(IsRenderError):
    """A catalog operation that cannot be done (duplicate name, unknown company, ...)."""

    http_status = 400


class MacroFileError(IsRenderError):
    """A macro file that cannot be read at all (missing header columns, bad TOML, ...)."""

    http_status = 400


class CronError(IsRenderError):
    """An expression that is not Quartz cron syntax this project runs."""

    http_status = 400


class EntryError(IsRenderError):
    """One ExportJob entry cannot be exported; the others go on (§2.8.3). ``code`` is the
    IPS fault code logged with it."""

    http_status = 400

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class StoreFailure(IsRenderError):
    """The output store refused a write for a reason that fails the whole job (disk full,
    read-only file system, ...)."""

    http_status = 507

    @property
    def public_message(self) -> str:
        return "the output store is full or read-only"


class InvalidToken(IsRenderError):
    """A bearer token or download link that is forged or malformed."""

    http_status = 403


class ExpiredToken(IsRenderError):
    """A genuine token or link whose time is over."""

    http_status = 410


class RequestRefusedError(IsRenderError):
    """Lock mismatch, bad or missing signature: "request refused" (D-46: 403)."""

    http_status = 403


class UnservedRequestType(UnsupportedFeatureError):
    """A valid ``req=`` this server does not answer: a client error (400), not a fault."""

    http_status = 400
