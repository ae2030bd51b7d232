"""One error format for every 4xx and 5xx the API answers:

    {"error": {"code": "not_found", "message": "Not found.", "details": null}}

`code` is stable and machine-readable, `message` is for humans, `details` carries field errors
(400), the allowed methods (405) or the wait (429). DRF exceptions come through
`api_exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]); Django's own 400/403/404/500
answers come through the `handler*` views installed in `salesbrain.urls`, which answer JSON under
/api/ and Django's usual pages elsewhere, so no API client ever has to parse an HTML error page.
"""

from __future__ import annotations

import logging

from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("salesbrain.api")

API_PATH_PREFIX = "/api/"
UNIQUE_VIOLATION = "23505"


class Conflict(exceptions.APIException):
    """409: the request is valid but clashes with the current state (a duplicate, a row in use)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state of the resource."
    default_code = "conflict"


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _conflict_from(exc: Exception) -> Conflict | None:
    """Unique violations and deletes blocked by references are conflicts, not server errors."""
    if isinstance(exc, ProtectedError | RestrictedError):
        return Conflict(
            "This resource is still referenced and cannot be deleted.", code="still_referenced"
        )
    if isinstance(exc, IntegrityError):
        cause = exc.__cause__
        if getattr(cause, "sqlstate", None) == UNIQUE_VIOLATION:
            conflict = Conflict("A resource with these values already exists.", code="conflict")
            constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
            conflict.constraint = constraint
            return conflict
    return None


def _details(exc: exceptions.APIException, view):
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            return {api_settings.NON_FIELD_ERRORS_KEY: detail}
        return detail
    if isinstance(exc, exceptions.Throttled):
        return {"retry_after": exc.wait}  # whole seconds, as in Retry-After
    if isinstance(exc, exceptions.MethodNotAllowed) and view is not None:
        return {"allowed": list(view.allowed_methods)}
    constraint = getattr(exc, "constraint", None)
    if constraint:
        return {"constraint": constraint}
    return None


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid", "Invalid input."
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    if isinstance(detail, list | dict):
        return code, str(exc.default_detail)
    return code, str(detail)


def _roll_back_request(request) -> None:
    """An error answer writes nothing: roll back the request's transaction.

    The tenant middleware opens that transaction (like ATOMIC_REQUESTS, which DRF's own handler
    knows about but we do not use). Only authenticated requests have one (`request.tenant`).
    """
    if getattr(request, "tenant", None) is not None and connection.in_atomic_block:
        transaction.set_rollback(True)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception raised in an API view becomes the one format."""
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    conflict = _conflict_from(exc)
    if conflict is not None:
        exc = conflict
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if django_request is not None:
        _roll_back_request(django_request)

    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an API exception: a bug. Tell Django's listeners (logging, error trackers, the
        # test client) as Django itself would, and answer in the one format.
        logger.error("Unhandled API error", exc_info=exc)
        signals.got_request_exception.send(sender=None, request=django_request)
        return Response(
            error_body("server_error", "Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code, message = _code_and_message(exc)
    response.data = error_body(code, message, _details(exc, context.get("view")))
    return response


# --- Django's error views, JSON under /api/ ----------------------------------------------------


def is_api_request(request) -> bool:
    return request.path.startswith(API_PATH_PREFIX) or request.path == API_PATH_PREFIX[:-1]


def _json(status_code: int, code: str, message: str, details=None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status_code)


def bad_request(request, exception=None):
    if is_api_request(request):
        return _json(400, "bad_request", "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api_request(request):
        return _json(403, "permission_denied", "You do not have permission to do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api_request(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return _json(500, "server_error", "Internal server error.")
    return defaults.server_error(request)


@csrf_exempt  # it changes nothing; a CSRF failure would answer an HTML 403 instead of a 404
def api_not_found(request, *args, **kwargs):
    """Any /api/ path no endpoint serves; hints at the slash when that would have matched."""
    from django.urls import Resolver404, resolve

    details = None
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            details = {"did_you_mean": request.path + "/"}
    return _json(404, "not_found", "No API endpoint at this path.", details)
