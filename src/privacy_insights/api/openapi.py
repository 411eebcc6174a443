"""What ``/openapi.json``, ``/docs`` and ``/redoc`` say, and how the pages work offline.

The slice endpoint takes its parameters as text and validates them itself, after the API key
(so every request a buyer's key makes is counted, and answered with a rule name); the OpenAPI
document states the rules it applies: required parameters, enumerated values from the seeds,
date pattern, limits from export_policy.yml, the bearer key, every error status and its
``Refusal`` body, the headers. schemathesis checks the two agree (tests_py/test_api_conformance.py).

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load their scripts, stylesheet and icon from
this server: the files shipped by the PyPI package ``fastapi-offline`` (MIT; Swagger UI is
Apache-2.0, ReDoc MIT), no CDN and no web fonts, so they render on a machine with no network;
a Content-Security-Policy keeps the pages from reaching anywhere else
(tests_py/test_api_docs_offline.py renders them in a headless Chromium and reads its net log).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from privacy_insights.export import writer
from privacy_insights.export.policy import DAY_RULE, GRANULARITIES, Enumerations, ExportPolicy
from privacy_insights.export.records import DATASET

ASSETS = "/docs-assets"
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")
SLICE_PATH = f"/v1/{DATASET}"
BEARER = "bearerAuth"
# The docs pages may load from this server only: ReDoc's side menu shows a logo from its CDN,
# which this policy blocks before any request is made (the link text stays).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


class Refusal(BaseModel):
    """Every error answer of the API: refused (4xx) or failed (5xx), with the rule that decided it."""

    error: Literal["refused", "failed"]
    rule: str = Field(description="the rule that refused or failed the request, e.g. max_days_per_request")
    field: str | None = Field(None, description="the request field the rule is about, when there is one")
    message: str = Field(description="what is wrong and how to fix it; starts with the field")
    retry_after_seconds: int | None = Field(None, description="with 429 and some 403s: when to ask again")


class ReleaseInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    release_id: str = Field(description="first 32 hexadecimal digits (128 bits) of the SHA-256 of the records")
    published_at: str
    rows: int
    released_rows: int
    last_released_bucket: dict[str, str]
    source_target: str


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    dataset: str | None = None
    schema_version: str | None = None
    problem: str | None = Field(None, description="what is wrong, in generic terms (details: the server log)")
    release: ReleaseInfo | None = None


REFUSAL_REF = {"$ref": "#/components/schemas/Refusal"}


def _refusals(*statuses: int) -> dict:
    texts = {
        400: "invalid request (the rule and field are named)",
        401: "no valid, unrevoked API key",
        403: "not allowed for this buyer or key (rule named)",
        406: "the Accept header names no served format",
        429: "too many requests: the buyer's rate or row quota, or refused requests without a key from this "
        "address (Retry-After)",
        503: "no release, or the delivery store is busy: nothing is served unaudited (Retry-After)",
    }
    out = {}
    for status in statuses:
        entry: dict = {"description": texts[status], "content": {"application/json": {"schema": REFUSAL_REF}}}
        if status in (429, 503):
            entry["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


SLICE_RESPONSES = {
    200: {
        "description": "the records of the slice (contract 000 §4.2), in the format asked for",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            **{m: {"schema": {"type": "string"}} for f, m in writer.MEDIA_TYPES.items() if f != "json"},
        },
        "headers": {
            "X-Release-Id": {"description": "the release served", "schema": {"type": "string"}},
            "X-Rows": {"description": "records in the body", "schema": {"type": "integer"}},
            "X-Schema-Version": {"schema": {"type": "string"}},
        },
    },
    **_refusals(400, 401, 403, 406, 429, 503),
}
PUBLIC_RESPONSES = _refusals(429, 503)


def _array(values, description: str, required: bool = False, max_items: int | None = None) -> dict:
    schema: dict = {"type": "array", "items": {"type": "string", "enum": sorted(values)}}
    if max_items is not None:
        schema["maxItems"] = max_items
    if required:
        schema["minItems"] = 1
    return {"required": required, "schema": schema, "description": description, "style": "form", "explode": True}


def slice_parameters(enums: Enumerations, policy: ExportPolicy) -> dict[str, dict]:
    """The slice endpoint's parameters as the server checks them (export/policy.py)."""
    # policy.FIRST_DAY to LAST_DAY: years 2000 to 2999 (a day the calendar lacks, 2026-02-30, is refused too)
    day = {"type": "string", "pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}
    return {
        "start": {"required": True, "schema": day, "description": f"first bucket day: {DAY_RULE}"},
        "end": {
            "required": True,
            "schema": day,
            "description": f"last bucket day (inclusive), not before start and at most "
            f"{policy.max_days_per_request} days after it: {DAY_RULE}",
        },
        "granularity": {
            "required": False,
            "schema": {"type": "string", "enum": list(GRANULARITIES), "default": "day"},
            "description": "hour only for buyers listed in export_policy.yml, and within the key's scope",
        },
        "cities": _array(
            enums.cities,
            f"city codes, repeated or comma-separated; at most {policy.max_cities_per_request} "
            "(and the key's max_cities)",
            required=True,
            max_items=policy.max_cities_per_request,
        ),
        "categories": _array(enums.categories, "categories (default: all)"),
        "door_types": _array(enums.door_types, "door types (default: all)"),
        "contexts": _array(enums.contexts, "contexts (default: all)"),
        "include_suppressed": {
            "required": False,
            "schema": {"type": "boolean", "default": False},
            "description": "also suppressed cells (keys and reason, null metrics)",
        },
        "format": {
            "required": False,
            "schema": {"type": "string", "enum": list(writer.FORMATS)},
            "description": "default: from the Accept header, else json",
        },
    }


def install_schema(app: FastAPI, enums: Enumerations, policy: ExportPolicy) -> None:
    """``app.openapi`` with the slice parameters and the bearer key as the server applies them."""
    parameters = slice_parameters(enums, policy)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for path in schema["paths"].values():  # validation errors are 400 with a Refusal, not 422
                for op in path.values():
                    if op.get("responses", {}).pop("422", None) is not None:
                        op["responses"]["400"] = _refusals(400)[400]
            operation = schema["paths"][SLICE_PATH]["get"]
            for parameter in operation["parameters"]:
                parameter.update(parameters.get(parameter["name"], {}))
            operation["security"] = [{BEARER: []}]
            components = schema.setdefault("components", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.get("schemas", {}).pop(unused, None)
            components.setdefault("schemas", {})["Refusal"] = Refusal.model_json_schema()
            components["securitySchemes"] = {
                BEARER: {"type": "http", "scheme": "bearer", "description": "the API key: pik_<key id>_<secret>"}
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def _same_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def install_offline_docs(app: FastAPI) -> None:
    """/docs and /redoc from the package's own copies of Swagger UI and ReDoc."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _same_origin_only(
            get_swagger_ui_html(
                openapi_url=f"{root}{app.openapi_url}",
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
                swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
                swagger_ui_parameters={"validatorUrl": None},  # no badge from an online validator
            )
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _same_origin_only(
            get_redoc_html(
                openapi_url=f"{root}{app.openapi_url}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )
