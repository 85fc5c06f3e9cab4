"""``/ui/login``, ``/ui/logout``, ``/ui/``, ``/ui/playground`` and ``/ui/presets``."""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from isrender.catalog import Operation
from isrender.catalog.models import Company, User
from isrender.errors import IpsFault, LoginThrottled, ModifierError
from isrender.language import parse
from isrender.server.ui.access import companies_of, may, pick_company, readable
from isrender.server.ui.checking import check, image_url
from isrender.server.ui.views import Ui, guarded, see_other

__all__ = ["pages_router"]

Text = Annotated[str, Form()]
DEFAULT_MODS = "wid=600&fmt=jpeg&qlt=85"


def safe_next(target: str | None) -> str:
    """Only a path inside the UI: a login link cannot send the user to another site."""
    if target and target.startswith("/ui/") and not target.startswith("/ui//"):
        return target
    return "/ui/playground"


def pages_router(ui: Ui) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)
    catalog = ui.catalog

    @router.get("/")
    def home(request: Request) -> Response:
        session = ui.sessions.open(request)
        return see_other("/ui/playground" if session and session.user else "/ui/login")

    @router.get("/login")
    def login_form(request: Request, next: str | None = None) -> Response:
        session = ui.sessions.open(request)
        if session is not None and session.user is not None:
            return see_other(safe_next(next))
        response = HTMLResponse("")
        anonymous = ui.sessions.start(response, request, 0)
        page = ui.page("login.html", anonymous, title="Log in", next=safe_next(next),
                       error="", username="", active="")  # fmt: skip
        page.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
        return page

    @router.post("/login")
    def login(
        request: Request, username: Text, password: Text, csrf: Text = "", next: Text = ""
    ) -> Response:
        session = ui.sessions.open(request)
        if session is None:
            return see_other("/ui/login")  # cookie expired or absent: start over
        ui.sessions.check_csrf(session, csrf)
        address = request.client.host if request.client else ""  # throttled per address too
        try:
            user = catalog.authenticate(username, password, address)
        except IpsFault as fault:  # LoginThrottled included: 429 with Retry-After
            page = ui.page("login.html", session, fault.http_status, title="Log in",
                           next=safe_next(next), error=fault.reason, username=username,
                           active="")  # fmt: skip
            if isinstance(fault, LoginThrottled):
                page.headers["Retry-After"] = str(fault.retry_after)
            return page
        response = see_other(safe_next(next))
        ui.sessions.start(response, request, user.id)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: Text = "") -> Response:
        _, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        response = see_other("/ui/login")
        ui.sessions.end(response)
        return response

    @router.get("/playground")
    @guarded(ui)
    def playground(
        request: Request, asset: str = "", mods: Annotated[str | None, Query()] = None
    ) -> Response:
        user, session = ui.sessions.user(request)
        company_name, _, asset_ref = asset.partition("/")
        company = pick_company(catalog, user, company_name or None)
        assets = readable(catalog, user, company, Operation.GET_ASSETS)
        images = [a for a in assets if a.width]
        if not asset_ref and images:
            asset_ref = images[0].name
        mods = DEFAULT_MODS if mods is None else mods
        result = check(ui.images, company.name, asset_ref, mods) if asset_ref else None
        return ui.page(
            "playground.html", session, title="Playground", active="playground",
            company=company, companies=companies_of(catalog, user), asset=asset_ref,
            images=images, mods=mods, result=result, macros=macro_choices(company),
            original=image_url(company.name, asset_ref, "wid=800") if asset_ref else "",
        )  # fmt: skip

    def macro_choices(company: Company) -> list[tuple[str, str, str]]:
        """(name, definition, kind) for the picker: the company's presets, then server macros."""
        registry = catalog.macro_registry(company.id)
        presets = {p.name.lower() for p in catalog.presets(company.id)}
        choices = []
        for name in registry.names(f"c|{company.id}"):
            macro = registry.get(name, f"c|{company.id}")
            if macro is not None and macro.valid:
                kind = "preset" if name.lower() in presets else "macro"
                choices.append((name, macro.definition, kind))
        return choices

    @router.get("/presets")
    @guarded(ui)
    def presets(request: Request, company: str = "", edit: str = "") -> Response:
        user, session = ui.sessions.user(request)
        found = pick_company(catalog, user, company or None)
        listed = ui.call("getImageFormats", user, companyHandle=f"c|{found.id}")
        current = next((p for p in listed["imageFormatArray"] if p["name"] == edit), None)
        form = {"name": edit, "urlModifier": current["urlModifier"] if current else ""}
        return presets_page(user, session, found, listed, form)

    def presets_page(
        user: User, session: Any, company: Company, listed: dict[str, Any],
        form: dict[str, str], error: dict[str, Any] | None = None, status: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        images = [a for a in readable(catalog, user, company, Operation.GET_ASSETS) if a.width]
        can_save = may(catalog, user, company, Operation.SAVE_IMAGE_FORMAT)
        return ui.page(
            "presets.html", session, status, title="Presets", active="presets", company=company,
            companies=companies_of(catalog, user), presets=listed["imageFormatArray"],
            form=form, error=error, images=images, can_save=can_save,
            preview_asset=images[0].name if images else "",
        )  # fmt: skip

    @router.post("/presets")
    @guarded(ui)
    def save_preset(
        request: Request, company: Text, name: Text, urlModifier: Text = "", csrf: Text = ""
    ) -> Response:
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        found = pick_company(catalog, user, company)
        try:
            ui.call("saveImageFormat", user, companyHandle=f"c|{found.id}", name=name.strip(),
                    urlModifier=urlModifier)  # fmt: skip
        except IpsFault as fault:
            if fault.http_status == 403:
                raise
            listed = ui.call("getImageFormats", user, companyHandle=f"c|{found.id}")
            error = {"message": fault.reason, "caret": _caret(urlModifier)}
            form = {"name": name, "urlModifier": urlModifier}
            return presets_page(user, session, found, listed, form, error, 400)
        return see_other(f"/ui/presets?company={found.name}&saved={name.strip()}")

    @router.post("/presets/delete")
    @guarded(ui)
    def delete_preset(request: Request, company: Text, name: Text, csrf: Text = "") -> Response:
        user, session = ui.sessions.user(request)
        ui.sessions.check_csrf(session, csrf)
        found = pick_company(catalog, user, company)
        ui.call("deleteImageFormat", user, companyHandle=f"c|{found.id}", imageFormatHandle=name)
        return see_other(f"/ui/presets?company={found.name}")

    return router


def _caret(definition: str) -> str:
    """The caret rendering of why a refused definition does not parse (the API's reason
    names the problem; this shows where)."""
    try:
        parse(definition)
    except ModifierError as exc:
        return exc.caret()
    return ""
