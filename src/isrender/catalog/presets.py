"""Company image presets (IPS ImageFormat), invoked as ``$name$`` macros: saving checks that a
preset parses and expands (30001, §1.8); the registry puts them before the server-wide macro
files (D-2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isrender.catalog.core import CatalogCore
from isrender.catalog.models import ImageFormat
from isrender.errors import IpsFault, ModifierError
from isrender.language import parse
from isrender.macros import MacroRegistry
from isrender.macros.files import MacroEntry

__all__ = ["Presets"]


class Presets(CatalogCore):
    """The presets (ImageFormat) part of ``Catalog``."""

    def save_preset(self, company_id: int, name: str, definition: str) -> ImageFormat:
        """Create or update a preset; one that does not parse or cannot be expanded (unknown
        or cyclic invocations) is refused (30001, §1.8)."""
        try:
            parse(definition)
        except ModifierError as exc:
            raise IpsFault(30001, f"imageFormat/urlModifier: {exc.message}") from None
        with self.session() as s:
            preset = s.scalar(
                select(ImageFormat).where(
                    ImageFormat.company_id == company_id, ImageFormat.name == name
                )
            )
            preset = preset or ImageFormat(company_id=company_id, name=name)
            preset.url_modifier = definition
            s.add(preset)
            s.flush()
            registry = self._registry(s, company_id)
        problem = registry.get(name, f"c|{company_id}")
        if problem is not None and problem.problem is not None:
            self.delete_preset(company_id, name)
            raise IpsFault(30001, f"imageFormat/urlModifier: {problem.problem.message}")
        return preset

    def delete_preset(self, company_id: int, name: str) -> None:
        with self.session() as s:
            preset = s.scalar(
                select(ImageFormat).where(
                    ImageFormat.company_id == company_id, ImageFormat.name == name
                )
            )
            if preset is not None:
                s.delete(preset)

    def presets(self, company_id: int) -> list[ImageFormat]:
        with self.session() as s:
            query = select(ImageFormat).where(ImageFormat.company_id == company_id)
            return list(s.scalars(query.order_by(ImageFormat.id)).all())

    def macro_registry(self, company_id: int) -> MacroRegistry:
        """Company presets first, then the server-wide macro files (D-2); use it with
        ``catalog=f"c|{company_id}"``."""
        with self.session() as s:
            return self._registry(s, company_id)

    def _server_macros(self) -> MacroRegistry:
        """The server-wide macro files, loaded once and again only when one changes."""
        stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in self.settings.macro_files)
        if self._base_macros is None or self._base_stamp != stamp:
            self._base_macros = MacroRegistry.from_files(*self.settings.macro_files)
            self._base_stamp = stamp
        return self._base_macros

    def _registry(self, s: Session, company_id: int) -> MacroRegistry:
        base = self._server_macros()
        presets = s.scalars(
            select(ImageFormat).where(ImageFormat.company_id == company_id).order_by(ImageFormat.id)
        ).all()
        entries = [MacroEntry(p.name, p.url_modifier, f"preset {p.name}") for p in presets]
        return base.with_macros(entries, catalog=f"c|{company_id}")
