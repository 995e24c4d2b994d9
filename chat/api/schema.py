"""OpenAPI schema generation: every error answer an operation can give is documented.

Views document their domain errors with ``errors(...)`` (chat/api/views.py); the answers
that come from the framework around them are added here for every operation, including
those added later, so the schema cannot fall behind the code:

* 400 — the operation takes a body or parameters;
* 403 — it needs a signed-in agent, or it writes (CSRF for a signed-in agent);
* 404 — its path names an object;
* 413, 415 — it takes a body (size limit, JSON only);
* 429 — it is rate-limited.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input",
    403: "Not allowed",
    404: "Not found",
    413: "Body too large",
    415: "Not JSON",
    429: "Too many requests",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}
WRITE_METHODS = BODY_METHODS | {"DELETE"}


def _model_field_allows_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except Exception:  # noqa: BLE001 (a source that is not a model field)
        return False


class ChatAutoSchema(AutoSchema):
    def _implied_errors(self) -> list[int]:
        codes = []
        takes_body = self.method in BODY_METHODS
        has_parameters = "{" in self.path or bool(self._get_parameters())
        if takes_body or has_parameters:
            codes.append(400)
        public = all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not public or self.method in WRITE_METHODS:
            codes.append(403)
        if "{" in self.path:
            codes.append(404)
        if takes_body:
            codes += [413, 415]
        if self.view.get_throttles():
            codes.append(429)
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._implied_errors():
            if str(code) not in responses:
                answer = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(answer, str(code), direction=direction)
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops allow_blank from read-only model fields, so an output choice field whose
        # column may be blank ("ended_by" of an open chat) would be documented without "".
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and _model_field_allows_blank(field)
        ):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)
