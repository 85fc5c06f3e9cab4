"""A request bound to meaning (§1.4-§1.9, §2, §5, §6): an expanded ModifierString -> ImageRequest.

``model`` is the bound request (scopes, layers, warnings); ``bind`` checks every command against
the command table; ``constraints`` checks commands against each other; ``views`` turns every
stage into plain data for ``--json`` and ``explain``. Imports point down: commands, language.
"""

from isrender.request.bind import bind, iter_commands
from isrender.request.model import (
    Attributes,
    BindWarning,
    BoundCommand,
    Effect,
    ImageRequest,
    Layer,
    NestedSource,
)

__all__ = [
    "Attributes",
    "BindWarning",
    "BoundCommand",
    "Effect",
    "ImageRequest",
    "Layer",
    "NestedSource",
    "bind",
    "iter_commands",
]
