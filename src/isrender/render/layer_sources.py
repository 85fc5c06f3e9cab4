"""Where the sources of layers come from: a layer's ``src=`` object -> a file. Pure.

The renderer reads the header of every object of the request, down nested ``is{...}``
requests (render/nested.py), before planning, so limits hold before anything is decoded. A
catalog passes its own resolver (an asset of the same company: catalog/images.py); outside a
catalog an object is a file next to the request's source file or in the working directory,
with or without an image suffix (attribute::DefaultExt, §5.10).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from isrender.errors import SourceNotFoundError
from isrender.render.nested import nested_object
from isrender.request.model import ImageRequest, NestedSource

__all__ = ["Resolver", "beside", "layer_objects", "layer_source_paths"]

Resolver = Callable[[str], Path | None]  # a layer's src= object -> its file (None: not found)

# The image suffixes tried for an object named without one.
_SUFFIXES = ("", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif")


def layer_objects(request: ImageRequest) -> dict[str, str]:
    """Every object a render reads besides the URL object, by name, with where it is first
    used: each layer's ``src=`` and ``mask=`` objects (layer 0's too: its ``src=`` replaces
    the URL object, §1.9) and, down nested ``is{...}`` requests, their objects and their
    layers' objects (§1.10).
    Other nested groups are left to the plan (which refuses them, naming them)."""
    found: dict[str, str] = {}
    _collect(request, "", found)
    return found


def _collect(request: ImageRequest, prefix: str, found: dict[str, str]) -> None:
    for layer in request.layers:
        mask = layer.attributes.get("mask")  # nested mask= groups: the plan refuses them
        if mask is not None and isinstance(mask.value, str):
            found.setdefault(mask.value, f"{prefix}layer {layer.number} mask=")
        bound = layer.attributes.get("src")
        if bound is None or bound.name != "src":
            continue
        where = f"{prefix}layer {layer.number}"
        if isinstance(bound.value, str):
            found.setdefault(bound.value, where)
            continue
        nested = bound.value
        if not isinstance(nested, NestedSource) or nested.request is None:
            continue
        name = nested_object(nested)
        if name is not None:
            found.setdefault(name, f"{where} is{{}}")
        _collect(nested.request, f"{where} is{{}} ", found)


def layer_source_paths(request: ImageRequest, resolve: Resolver) -> dict[str, Path]:
    """The file of every image layer's ``src=`` object, by object name; a missing object
    is SourceNotFoundError."""
    found: dict[str, Path] = {}
    for name, where in layer_objects(request).items():
        if ".." in name.replace("\\", "/").split("/"):
            raise SourceNotFoundError("'..' is not allowed in an object path (§1.1)")
        path = resolve(name)
        if path is None or not path.is_file():
            raise SourceNotFoundError(f"{where}: source {name!r} not found")
        found[name] = path
    return found


def beside(source: str | Path | bytes | None) -> Resolver:
    """Outside a catalog: a file next to ``source`` (when it is a file), else in the working
    directory, named as written or with an image suffix."""
    folders = [Path(source).parent] if isinstance(source, str | Path) else []
    folders.append(Path.cwd())

    def resolve(name: str) -> Path | None:
        candidates = (folder / f"{name}{suffix}" for folder in folders for suffix in _SUFFIXES)
        return next((path for path in candidates if path.is_file()), None)

    return resolve
