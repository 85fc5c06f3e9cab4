"""Compositing templates at the expansion + bind level (spec §2.3-§2.4, §3.5-§3.6, E-176/E-177,
D-18, D-22, D-47): what the bound request holds once ``template=`` brought its body in.

The catalog is stood in for by a dict behind the same ``TemplateLookup`` callable the image
server gets (tests/macros/test_template_catalog.py runs the real catalog and server).
"""

from __future__ import annotations

from typing import Any

import pytest

from isrender.errors import (
    LimitExceededError,
    ModifierError,
    ModifierSyntaxError,
    TemplateError,
    UnknownMacroError,
    UnknownTemplateError,
)
from isrender.language import parse, serialize
from isrender.macros import MacroRegistry
from isrender.macros.templates import (
    MAX_TEMPLATE_DEPTH,
    MAX_TEMPLATE_USES,
    Template,
    check_body,
    expand_request,
)
from isrender.request import ImageRequest, bind
from isrender.request.bind import iter_commands

FRAME = "layer=0&size=500,500&color=000000&layer=1&src=$object$&size=400,400"  # §0.5 fixture
BADGE = "$img=logo&$label=New&layer=0&size=100,100&color=ffffff&layer=1&src=$img$&layer=2,txt&text=$label$"  # noqa: E501

TEMPLATES = {
    "frame": FRAME,
    "badge": BADGE,
    "objdefault": "$object=small&layer=0&size=10,10&color=000000&layer=1&src=$object$",
    "sized": "layer=0&size=$w$,$w$&color=000000&$w=300",
    "withmacro": "layer=0&size=10,10&color=000000&$red$",
    "inner": "layer=0&size=50,50&color=ff0000&layer=1&src=$object$&size=40,40",
    "outer": "layer=0&size=500,500&color=000000&layer=1&src=is{?template=inner}&pos=10,10",
    "self": "layer=0&size=10,10&color=000000&layer=1&src=is{?template=self}",
    "ping": "layer=0&size=10,10&color=000000&layer=1&src=is{?template=pong}",
    "pong": "layer=0&size=10,10&color=000000&layer=1&src=is{?template=ping}",
    "named": "layer=0&size=10,10&color=000000&template=frame",
    "broken": "layer=0&size=10,10&&wid=1&$",
    "unknownmacro": "layer=0&size=10,10&color=000000&$nosuch$",
    **{f"deep{n}": f"layer=0&size=10,10&color=000000&layer=1&src=is{{?template=deep{n + 1}}}"
       for n in range(MAX_TEMPLATE_DEPTH + 2)},
    "leaf": "layer=0&size=10,10&color=000000",
    "fan": "layer=0&size=10,10&color=000000" + "".join(
        f"&layer={n}&src=is{{?template=leaf}}" for n in range(1, 10)),
    "fanfan": "layer=0&size=10,10&color=000000" + "".join(
        f"&layer={n}&src=is{{?template=fan}}" for n in range(1, 10)),
}  # fmt: skip
MACROS = MacroRegistry.from_mapping({"red": "op_colorize=ff0000", "big": "wid=800"})


def lookup(reference: str) -> Template | None:
    """``frame`` or ``cat/frame`` (rootId/objId of the fixture catalog ``cat``)."""
    name = reference.removeprefix("cat/")
    return Template(name, TEMPLATES[name]) if name in TEMPLATES else None


def prepared(
    request: str, obj: str = "photo", *, modifier: str | None = None, post: str | None = None
) -> ImageRequest:
    flat = expand_request(parse(request), MACROS, templates=lookup, modifier=modifier,
                          post_modifier=post)  # fmt: skip
    return bind(flat, strict=True, object=obj)


def scopes(request: ImageRequest) -> dict[str, dict[str, str]]:
    """{scope: {command: decoded, substituted text}}, as the spec's *effective* notation."""
    found: dict[str, dict[str, str]] = {}
    for scope, bound in iter_commands(request):
        found.setdefault(scope, {})[bound.spec.name] = bound.text
    return found


# ---- E-176, E-177 and the §3.6 effective command list ----------------------------------------

E176 = {"G": {"template": "cat/frame"}, "L0": {"size": "500,500", "color": "000000"},
        "L1": {"src": "photo", "size": "400,400"}}  # fmt: skip

EFFECTIVE: list[tuple[str, str, dict[str, str | None], dict[str, dict[str, str]]]] = [
    ("E-176", "template=cat/frame", {}, E176),
    ("E-177", "template=cat/frame&$object=tall", {},
     {**E176, "L1": {"src": "tall", "size": "400,400"}}),
    ("same catalog, no rootId", "template=frame", {},
     {**E176, "G": {"template": "frame"}}),
    ("$object= before template=: all definitions first (D-18)", "$object=tall&template=frame",
     {}, {**E176, "G": {"template": "frame"}, "L1": {"src": "tall", "size": "400,400"}}),
    ("global request commands join the template's", "template=frame&wid=200&fmt=png", {},
     {**E176, "G": {"template": "frame", "wid": "200", "fmt": "png"}}),
    ("request commands override the body's, same scope", "template=frame&layer=1&size=200,200",
     {}, {**E176, "G": {"template": "frame"}, "L1": {"src": "photo", "size": "200,200"}}),
    ("the request continues in the body's last scope (§3.6: concatenation)",
     "template=frame&pos=5,5", {},
     {**E176, "G": {"template": "frame"}, "L1": {"src": "photo", "size": "400,400",
                                                 "pos": "5,5"}}),
    ("the path Modifier is not used with template= (§3.5)", "template=frame",
     {"modifier": "wid=999&op_sharpen=1"}, {**E176, "G": {"template": "frame"}}),
    ("the path PostModifier is applied at the end (D-22)", "template=frame&qlt=60",
     {"post": "qlt=95"}, {**E176, "G": {"template": "frame", "qlt": "95"}}),
    ("the last template= wins", "template=nosuch&template=frame", {},
     {**E176, "G": {"template": "frame"}}),
    ("a macro may carry template=", "$big$&template=frame", {},
     {**E176, "G": {"wid": "800", "template": "frame"}}),
    ("template= from a variable", "$t=frame&template=$t$", {},
     {**E176, "G": {"template": "frame"}}),
    ("the body's macros are expanded", "template=withmacro", {},
     {"G": {"template": "withmacro"},
      "L0": {"size": "10,10", "color": "000000", "op_colorize": "ff0000"}}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "options", "expected"), [r[1:] for r in EFFECTIVE], ids=[r[0] for r in EFFECTIVE]
)
def test_the_bound_request_has_the_layers_the_spec_shows(
    request_: str, options: dict[str, Any], expected: dict[str, dict[str, str]]
) -> None:
    assert scopes(prepared(request_, **options)) == expected


def test_the_expanded_string_is_body_then_request_then_post_modifier() -> None:
    flat = expand_request(parse("template=cat/frame&$object=tall"), templates=lookup,
                          modifier="wid=999", post_modifier="qlt=95")  # fmt: skip
    assert serialize(flat) == f"{FRAME}&template=cat/frame&$object=tall&qlt=95"
    labels = {flat.origin_of(i).label for i in range(len(flat))}
    assert labels == {"template 'frame'", "request", "PostModifier"}


def test_without_a_catalog_template_is_only_validated() -> None:
    """``isrender check``/``explain`` have no catalog: template= stays a request attribute."""
    flat = expand_request(parse("template=frame&wid=10"))
    assert serialize(flat) == "template=frame&wid=10"
    assert scopes(bind(flat, object="photo")) == {"G": {"template": "frame", "wid": "10"}}


# ---- variables: definition, precedence (D-18), $object (§2.4) --------------------------------

VARIABLES = [
    ("the body's defaults", "template=badge", {}, {"src": "logo", "text": "New"}),
    ("the request overrides a default", "template=badge&$img=small", {},
     {"src": "small", "text": "New"}),
    ("wherever the request defines it", "$label=Sale&template=badge", {},
     {"src": "logo", "text": "Sale"}),
    ("the last definition of the request wins", "$img=a&template=badge&$img=b", {},
     {"src": "b", "text": "New"}),
    ("the PostModifier overrides the request", "template=badge&$img=small",
     {"post": "$img=swatch"}, {"src": "swatch", "text": "New"}),
    ("names are not case-sensitive", "template=badge&$IMG=small&$Label=x", {},
     {"src": "small", "text": "x"}),
    ("+ is a space and %-escapes decode (D-05)", "template=badge&$label=about+the%20image", {},
     {"src": "logo", "text": "about the image"}),
    ("a definition is not expanded again (§2.1)", "template=badge&$label=$img$", {},
     {"src": "logo", "text": "$img$"}),
    ("an undefined reference stays literal (D-17)", "template=badge&$img=my$x$file", {},
     {"src": "my$x$file", "text": "New"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "options", "expected"), [r[1:] for r in VARIABLES], ids=[r[0] for r in VARIABLES]
)
def test_variable_precedence(
    request_: str, options: dict[str, Any], expected: dict[str, str]
) -> None:
    found = scopes(prepared(request_, **options))
    assert {"src": found["L1"]["src"], "text": found["L2"]["text"]} == expected


OBJECTS = [
    ("the request path", "template=frame", "photo", "photo"),
    ("an explicit $object= in the request", "template=frame&$object=tall", "photo", "tall"),
    ("a template's own $object= default beats the path", "template=objdefault", "photo", "small"),
    ("the request beats the template's $object=", "template=objdefault&$object=tall", "photo",
     "tall"),
    ("a folder path", "template=frame", "products/shoes/red", "products/shoes/red"),
]  # fmt: skip


@pytest.mark.parametrize(("request_", "obj", "src"), [r[1:] for r in OBJECTS],
                         ids=[r[0] for r in OBJECTS])  # fmt: skip
def test_object_variable(request_: str, obj: str, src: str) -> None:
    assert scopes(prepared(request_, obj))["L1"]["src"] == src


def test_a_default_defined_after_its_use_in_the_body_still_applies() -> None:
    """D-18 two passes: ``size=$w$,$w$`` before ``$w=300`` in the same body."""
    assert scopes(prepared("template=sized"))["L0"]["size"] == "300,300"
    assert scopes(prepared("template=sized&$w=120"))["L0"]["size"] == "120,120"


# ---- templates inside nested requests ---------------------------------------------------------


def test_a_template_may_use_another_inside_a_nested_request() -> None:
    request = prepared("template=outer&$object=tall")
    found = scopes(request)
    assert found["L0"] == {"size": "500,500", "color": "000000"}
    nested = next(b for b in request.layers[1].attributes if b.spec.name == "src").value
    assert nested.request is not None
    inner = scopes(nested.request)
    assert inner["L0"] == {"size": "50,50", "color": "ff0000"}
    # $object$ is the main request's object at every nesting level (§2.4, §2.5)
    assert inner["L1"] == {"src": "tall", "size": "40,40"}


def test_a_nested_request_of_the_request_may_use_a_template() -> None:
    request = prepared("layer=0&size=600,600&color=ffffff&layer=1&src=is{?template=inner}")
    nested = next(b for b in request.layers[1].attributes if b.spec.name == "src").value
    assert scopes(nested.request)["L1"]["src"] == "photo"


# ---- errors ----------------------------------------------------------------------------------

ERRORS: list[tuple[str, str, dict[str, str], type[ModifierError], str, str, int]] = [
    # (id, request, options, error, words in the message, origin, position)
    ("unknown template", "wid=10&template=nosuch", {}, UnknownTemplateError,
     "unknown template 'nosuch'", "request", 7),
    ("unknown rootId/objId", "template=cat/nosuch", {}, UnknownTemplateError,
     "'cat/nosuch'", "request", 0),
    ("empty template=", "template=", {}, TemplateError, "needs the name of a template", "request",
     0),
    ("a template naming a template", "template=named", {}, TemplateError,
     "may not name a template", "template 'named'", 32),
    ("template= in a PostModifier (D-47)", "wid=10", {"post": "template=frame"}, TemplateError,
     "may not be used in a PostModifier", "PostModifier", 0),
    ("template= in a catalog Modifier (D-47)", "wid=10", {"modifier": "qlt=5&template=frame"},
     TemplateError, "may not be used in a catalog Modifier", "Modifier", 6),
    ("a template using itself", "template=self", {}, TemplateError,
     "uses itself (self -> self)", "template 'self'", 48),
    ("two templates using each other", "template=ping", {}, TemplateError,
     "uses itself (ping -> pong -> ping)", "template 'pong'", 48),
    ("templates nested too deeply", "template=deep0", {}, TemplateError,
     f"nest deeper than {MAX_TEMPLATE_DEPTH}", f"template 'deep{MAX_TEMPLATE_DEPTH - 1}'", 48),
    ("too many template expansions", "template=fanfan", {}, LimitExceededError,
     f"more than {MAX_TEMPLATE_USES} templates", "template 'fan'", 0),
    ("a body that does not parse", "template=broken", {}, ModifierSyntaxError, "",
     "template 'broken'", 26),
    ("an unknown macro in the body", "template=unknownmacro", {}, UnknownMacroError,
     "unknown macro '$nosuch$'", "template 'unknownmacro'", 32),
    ("an unknown template in a nested request", "layer=1&src=is{?template=nosuch}", {},
     UnknownTemplateError, "'nosuch'", "request", 16),
]  # fmt: skip


@pytest.mark.parametrize(("request_", "options", "error", "words", "origin", "position"),
                         [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])  # fmt: skip
def test_errors_say_what_and_where(
    request_: str, options: dict[str, Any], error: type[ModifierError], words: str,
    origin: str, position: int,
) -> None:  # fmt: skip
    with pytest.raises(error) as caught:
        prepared(request_, **options)
    assert words in caught.value.message
    assert caught.value.at.origin == origin
    if error is not LimitExceededError:  # the budget runs out at whichever use comes 65th
        assert caught.value.at.position == position
    assert caught.value.http_status == 400  # a client's request, never a 500


def test_check_body_refuses_what_a_request_would() -> None:
    with pytest.raises(TemplateError):
        check_body(Template("t", "layer=0&size=1,1&color=000000&template=frame"))
    with pytest.raises(UnknownMacroError):
        check_body(Template("t", "$nosuch$"), MACROS)
    body = check_body(Template("t", "layer=0&size=1,1&color=000000&$red$"), MACROS)
    assert serialize(body) == "layer=0&size=1,1&color=000000&op_colorize=ff0000"
    assert body.origin_of(0).label == "template 't'"
