import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = _("The request body is too large.")


class LimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over ``CHAT_MAX_BODY_BYTES`` with 413.

    It reads at most one byte past the limit, so a huge body costs nothing to refuse,
    whether or not the client sent a Content-Length.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.CHAT_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge()
        return super().parse(io.BytesIO(body), media_type, parser_context)
