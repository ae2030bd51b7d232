"""OpenAPI additions: the token scheme, the one error format as a component, documented on
every operation, and the caller's view of the schema (only the endpoints they may use).

A postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) rather than an
`extend_schema` on each view: every operation can answer these errors, and a new endpoint gets
them documented without anyone remembering to.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_mock_request
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated

# What the tenant middleware resolved for a request, which the permission classes read.
_TENANT_ATTRIBUTES = ("organization", "membership", "memberships", "is_agency_staff", "tenant")


def caller_mock_request(method, path, view, original_request, **kwargs):
    """SPECTACULAR_SETTINGS["GET_MOCK_REQUEST"]: drf-spectacular's mock request, plus who the
    caller is to the tenant middleware, so each endpoint's permissions are checked for them
    (SERVE_PUBLIC off): a customer's schema lists no staff endpoint."""
    request = build_mock_request(method, path, view, original_request, **kwargs)
    source = getattr(original_request, "_request", None)
    for name in _TENANT_ATTRIBUTES:
        if source is not None and hasattr(source, name):
            setattr(request._request, name, getattr(source, name))
    return request


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI behind the login; its start script is served as a file (no inline script).

    A browser that is not logged in is sent to the login page rather than shown JSON."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents `accounts.api_tokens.ApiTokenAuthentication` as an API-key header."""

    target_class = "accounts.api_tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`) with a personal API token from "
            "`POST /api/v1/tokens/`.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error format of every 4xx and 5xx answer.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable: invalid, not_authenticated, "
                    "authentication_failed, permission_denied, not_found, method_not_allowed, "
                    "conflict, throttled, server_error, ...",
                },
                "message": {"type": "string", "description": "For humans."},
                "details": {
                    "description": "Field errors (400), allowed methods (405), seconds to "
                    "wait (429), the clashing constraint (409), or null.",
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

ERROR_RESPONSES = {
    "400": "Invalid input: `details` maps each field to its errors.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "Authenticated, but not allowed (role, staff only, no organization).",
    "404": "No such row among those the caller may see (another organization's rows included).",
    "405": "Method not allowed on this path.",
    "429": "Too many requests: retry after `Retry-After` seconds.",
}
PUBLIC_ERRORS = ("404", "405", "429")
HTTP_METHODS = ("get", "put", "patch", "post", "delete", "head", "options", "trace")


def _is_public(operation: dict) -> bool:
    security = operation.get("security")
    return security is not None and (security == [] or {} in security)


def add_error_responses(result, generator, request, public):
    """Register `Error` and reference it from each operation's error responses."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            codes = PUBLIC_ERRORS if _is_public(operation) else tuple(ERROR_RESPONSES)
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": ERROR_RESPONSES[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
            for code, response in responses.items():
                # Errors declared per view (409, 503) without a body get the one format.
                if code[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": ref}}
            if "429" in responses:
                responses["429"].setdefault(
                    "headers",
                    {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before retrying.",
                        }
                    },
                )
    return result
