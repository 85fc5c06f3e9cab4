"""Rendering: a bound request and a source's header -> a plan of typed steps -> pixels.

Everything here but ``vips/`` is pure (no pyvips): catalog attributes (limits, defaults),
geometry (the sizing model of §4), output formats, the typed steps and the phase table that
orders them into a plan. ``vips/`` is the one corner that imports pyvips: it reads headers,
runs plans and encodes. Imports point down: request, commands, language.

``isrender.render(source, modifiers, ...)`` is also the public render function (DESIGN.md):
this package shares its name, so the package itself is callable and forwards to
``isrender.service.render`` (imported on the first call: importing ``isrender.render.plan``
must not load libvips or the service).
"""

import sys
import types
from typing import Any


class _RenderPackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from isrender.service import render

        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _RenderPackage
