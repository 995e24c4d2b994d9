"""One exception handler: every error answer is ``{"error", "code"[, "fields"]}``."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from chat.exceptions import ChatError, InvalidInput


def error_body(message, code: str, fields: dict | None = None) -> dict:
    body = {"error": str(message), "code": code}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, ChatError):
        fields = getattr(exc, "fields", None) or None
        message = exc.message
        if isinstance(exc, InvalidInput) and fields and message == exc.default_message:
            message = _("Some fields are invalid.")
        set_rollback()
        return Response(error_body(message, exc.code, fields), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(_("The request body is too large."), "too_large"),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real fault: let Django log it and answer 500

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        code = "conflict" if exc.status_code == status.HTTP_409_CONFLICT else "invalid"
        if isinstance(detail, dict):
            fields = {key: list(messages(value)) for key, value in detail.items()}
            message = (
                _("Some values are already in use.") if code == "conflict" else _("Some fields are invalid.")
            )
            body = error_body(message, code, fields)
        else:
            body = error_body(" ".join(messages(detail)), code)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(_("The body is not valid JSON."), "parse_error")
    else:
        codes = exc.get_codes()
        body = error_body(exc.detail, codes if isinstance(codes, str) else exc.default_code)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def messages(detail):
    """The texts of a field's errors: a list of them, or, for a list of values (files),
    ``{index: [errors]}``, each text once."""
    if isinstance(detail, dict):
        seen = []
        for value in detail.values():
            seen += [text for text in messages(value) if text not in seen]
        yield from seen
    elif isinstance(detail, list):
        for item in detail:
            yield from messages(item)
    else:
        yield str(detail)


def not_found(request, exception=None):
    """``handler404``: JSON under /api/ (URLs no route matches), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(_("Not found."), "not_found"), status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: JSON under /api/, so API clients always get the error shape."""
    if request.path.startswith("/api/"):
        body = error_body(_("Internal error. Please try again."), "server_error")
        return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
