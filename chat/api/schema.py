"""OpenAPI schema generation: the schema is the API's contract (README, "The API").

Here: every error answer an operation can give; text fields' patterns (what DRF's CharField
takes); blank output values; the stored names a slug field takes; OpenAPI links along the
customer's and the desk's flows; the file types an upload takes.

Views document their domain errors with ``errors(...)`` (chat/api/views.py); the answers
that come from the framework around them are added here for every operation, including
those added later, so the schema cannot fall behind the code:

* 400 — any operation: a query parameter it does not take (jtchat/api_query.py), a body or
  parameters it does take but malformed;
* 403 — it needs a signed-in agent, or it writes (CSRF for a signed-in agent);
* 404 — its path names an object;
* 409 — it takes a body with a field that must be unique (a username);
* 413, 415 — it takes a body (size limit, JSON only);
* 429 — it is rate-limited.
"""

from django.core.validators import RegexValidator
from django.db import DatabaseError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.validators import UniqueValidator

from .serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict: a value already in use",
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
        codes = [400]
        takes_body = self.method in BODY_METHODS
        public = all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not public or self.method in WRITE_METHODS:
            codes.append(403)
        if "{" in self.path:
            codes.append(404)
        if takes_body:
            codes += [413, 415]
            if _has_unique_field(self.get_request_serializer()):
                codes.append(409)
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

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer):
            # Each of the shapes has required fields: a call without a body is not one of them.
            required = all(
                any(field.required for field in force_instance(shape).fields.values())
                for shape in serializer.serializers
            )
        return schema, required

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops allow_blank from read-only model fields, so an output field whose column
        # may be blank ("ended_by" of an open chat, a chat's e-mail never given) would be
        # documented without "".
        if (
            isinstance(field, (serializers.ChoiceField, serializers.CharField))
            and field.read_only
            and not field.allow_blank
            and _model_field_allows_blank(field)
        ):
            field.allow_blank = True
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and _is_free_text(field, schema) and not _has_pattern(field):
            schema.setdefault("pattern", text_pattern(field))
        if direction == "request" and isinstance(field, serializers.SlugRelatedField):
            schema.update(_existing_values(field))
        return schema


def _existing_values(field: serializers.SlugRelatedField) -> dict:
    """The names a slug field takes are the stored ones (a user's groups): the schema served
    lists them. Generated without a database (``manage.py spectacular`` on a bare machine),
    the schema says only "a name"."""
    try:
        return {"enum": sorted(field.get_queryset().values_list(field.slug_field, flat=True))}
    except DatabaseError:
        return {}


def _has_unique_field(serializer) -> bool:
    if not isinstance(serializer, serializers.Serializer):
        return False
    return any(
        isinstance(validator, UniqueValidator)
        for field in serializer.fields.values()
        for validator in field.validators
    )


def _has_pattern(field) -> bool:
    """A field with a pattern of its own (a username's): the schema says that one."""
    return any(isinstance(validator, RegexValidator) for validator in field.validators)


def _is_free_text(field, schema: dict) -> bool:
    return (
        isinstance(field, serializers.CharField)
        and schema.get("type") == "string"
        and "format" not in schema
        and "enum" not in schema
    )


def text_pattern(field: serializers.CharField) -> str:
    """What DRF's CharField takes, as a JSON Schema pattern: never a NUL character (which
    PostgreSQL cannot store) and, unless blank is allowed, something besides spaces (a
    value is trimmed before it is checked). A field that may be blank also takes "", which
    drf-spectacular adds as a second choice (``oneOf``), so the pattern leaves "" out."""
    if field.allow_blank or not field.trim_whitespace:
        return r"^[^\x00]+$"
    return r"^[^\x00]*[^\x00\s][^\x00]*$"


# --- OpenAPI links: the flows an integrator follows, which also guide stateful fuzzing ---

KEY = "$response.body#/session_id"
CUSTOMER_FLOW = {  # after opening (or reopening) a chat, with its key
    "GetChat": ("chat_session_retrieve", {"parameters": {"header.X-Chat-Session": KEY}}),
    "SendMessage": ("chat_message_create", {"requestBody": {"session_id": KEY}}),
    "History": ("chat_messages_retrieve", {"parameters": {"header.X-Chat-Session": KEY}}),
    "QueuePlace": ("chat_queue_retrieve", {"parameters": {"header.X-Chat-Session": KEY}}),
    "SendFiles": ("chat_attachments_create", {"parameters": {"header.X-Chat-Session": KEY}}),
    "GiveEmail": ("chat_email_create", {"requestBody": {"session_id": KEY}}),
    "End": ("chat_end_create", {"requestBody": {"session_id": KEY}}),
}
SENT_KEY = "$request.body#/session_id"
FIRST_FILE = "$response.body#/attachments/0/id"
UPLOAD_KEY = "$request.header.X-Chat-Session"
FIRST_RESULT = "$response.body#/results/0/id"
THIS_OBJECT = "$response.body#/id"
SAME_OBJECT = "$request.path.id"


def path_id(expression: str) -> dict:
    return {"parameters": {"path.id": expression}}


LINKS = {
    ("chat_session_create", "201"): CUSTOMER_FLOW,
    ("chat_reopen_create", "200"): CUSTOMER_FLOW,
    ("chat_message_create", "201"): {
        "History": ("chat_messages_retrieve", {"parameters": {"header.X-Chat-Session": SENT_KEY}}),
        "End": ("chat_end_create", {"requestBody": {"session_id": SENT_KEY}}),
    },
    ("chat_attachments_create", "201"): {
        "GetFile": (
            "chat_attachments_retrieve",
            {"parameters": {"path.id": FIRST_FILE, "header.X-Chat-Session": UPLOAD_KEY}},
        ),
    },
    ("chat_sessions_list", "200"): {
        "Detail": ("chat_sessions_retrieve", path_id(FIRST_RESULT)),
        "Transcript": ("chat_sessions_messages_retrieve", path_id(FIRST_RESULT)),
        "Claim": ("chat_sessions_claim_create", path_id(FIRST_RESULT)),
    },
    ("chat_sessions_claim_create", "200"): {
        "Reply": ("chat_sessions_messages_create", path_id(THIS_OBJECT)),
        "SendFiles": ("chat_sessions_attachments_create", path_id(THIS_OBJECT)),
        "Transfer": ("chat_sessions_transfer_create", path_id(THIS_OBJECT)),
        "End": ("chat_sessions_end_create", path_id(THIS_OBJECT)),
    },
    ("chat_sessions_messages_create", "201"): {
        "Transcript": ("chat_sessions_messages_retrieve", path_id(SAME_OBJECT)),
        "End": ("chat_sessions_end_create", path_id(SAME_OBJECT)),
    },
    ("users_list", "200"): {
        "Detail": ("users_retrieve", path_id(FIRST_RESULT)),
        "Change": ("users_partial_update", path_id(FIRST_RESULT)),
    },
    ("users_create", "201"): {
        "Detail": ("users_retrieve", path_id(THIS_OBJECT)),
        "Change": ("users_partial_update", path_id(THIS_OBJECT)),
        "Replace": ("users_update", path_id(THIS_OBJECT)),
    },
}


def add_links(result, generator, request, public):
    """drf-spectacular post-processing hook: the OpenAPI links of LINKS, on the answers they
    follow. A link to an operation the schema no longer has is an error, not a silent gap."""
    operations = {
        operation["operationId"]: operation
        for operations_of_path in result["paths"].values()
        for operation in operations_of_path.values()
    }
    for (source, code), links in LINKS.items():
        answer = operations[source]["responses"][code]
        answer["links"] = {}
        for name, (target, spec) in links.items():
            if target not in operations:
                raise KeyError(f"link {source} → {target}: no such operation")
            answer["links"][name] = {"operationId": target, **spec}
    return result


def describe_uploads(result, generator, request, public):
    """drf-spectacular post-processing hook: the media types an upload's ``files`` may have
    (the multipart ``encoding``), from the attachments' own list."""
    from chat.attachments.content import accepted_content_types

    encoding = {"files": {"contentType": ", ".join(accepted_content_types())}}
    for operations_of_path in result["paths"].values():
        for operation in operations_of_path.values():
            form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if form is not None:
                form["encoding"] = encoding
    return result
