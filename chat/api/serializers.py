"""Serializers of the chat API: inputs validated here, outputs shaped by chat/payloads.py.

The output serializers declare their fields for the OpenAPI schema, and represent an object
with the same function the live events use, so an answer and an event never differ
(chat/tests/test_payloads.py holds the declared fields to the payloads' keys).
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat import links, payloads
from chat.models import ChatAttachment, ChatMessage, ChatSession, Issue
from chat.selectors import SERVICE_STATES
from jtchat.api_fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictIntegerField,
    StrictUUIDField,
)

# --- outputs ---------------------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ChatAttachment.Kind.choices, read_only=True)
    name = serializers.CharField(
        read_only=True, help_text="The sender's file name, cleaned; blank once removed."
    )
    content_type = serializers.ChoiceField(
        choices=["image/jpeg", "image/png", "image/webp", "application/pdf"], read_only=True
    )
    size = serializers.IntegerField(read_only=True, help_text="Bytes of the stored file.")
    width = serializers.IntegerField(read_only=True, allow_null=True)
    height = serializers.IntegerField(read_only=True, allow_null=True)
    url = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The file (GET with the chat's key or a staff login); null once removed.",
    )
    thumbnail_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="A JPEG of at most 320×320 (images only)."
    )

    def to_representation(self, instance):
        return payloads.attachment(instance)


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.ChoiceField(choices=ChatMessage.Author.choices, read_only=True)
    content = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    client_id = serializers.UUIDField(read_only=True, allow_null=True)
    agent_name = serializers.CharField(read_only=True, allow_null=True)
    is_internal = serializers.BooleanField(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    def to_representation(self, instance):
        return payloads.message(instance)


class PublicSessionSerializer(serializers.ModelSerializer):
    """What the customer may see of their own chat."""

    agent_name = serializers.CharField(read_only=True, allow_null=True)
    email_given = serializers.BooleanField(
        read_only=True, help_text="Whether the chat has an e-mail address the answer may go to."
    )

    class Meta:
        model = ChatSession
        fields = [
            "session_id",
            "status",
            "agent_name",
            "customer_name",
            "topic",
            "tracking_code",
            "started_at",
            "ended_at",
            "ended_by",
            "satisfaction_rating",
            "email_given",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        return {"session_id": str(instance.session_id), **payloads.public_session(instance)}


class AgentSessionSerializer(serializers.ModelSerializer):
    """What agents see of a chat (no session key: that is the customer's secret)."""

    agent_name = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "status",
            "customer_name",
            "customer_email",
            "tracking_code",
            "topic",
            "issue",
            "assigned_agent",
            "agent_name",
            "started_at",
            "ended_at",
            "ended_by",
            "first_response_at",
            "waiting_since",
            "last_message_at",
            "satisfaction_rating",
            "satisfaction_comment",
            "opened_without_agents",
            "opened_outside_hours",
            "email_status",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        return payloads.agent_session(instance)


# --- inputs ----------------------------------------------------------------------------
# JSON inputs use the strict fields of fields.py: the type the schema names, nothing coerced.

AUTHOR_ALIASES = {"user": "customer", "customer": "customer", "agent": "agent"}
CUSTOMER_AUTHORS = ["customer", "user"]


class SessionOpenSerializer(serializers.Serializer):
    customer_name = StrictCharField(max_length=120, required=False, allow_blank=True)
    customer_email = StrictEmailField(max_length=254, required=False, allow_blank=True)
    tracking_code = StrictCharField(max_length=40, required=False, allow_blank=True)
    topic = StrictChoiceField(choices=Issue.choices, required=False, allow_blank=True)


class SessionKeySerializer(serializers.Serializer):
    session_id = StrictUUIDField(help_text="The customer's session key (from opening the chat).")


def message_content_field():
    """Text with at least one visible character (surrounding spaces are trimmed)."""
    return StrictCharField(max_length=settings.CHAT_MAX_MESSAGE_LENGTH)


@extend_schema_field({"type": "boolean", "enum": [False]})
class FalseField(StrictBooleanField):
    """A flag that may be sent but only as ``false`` (a customer's ``is_internal``)."""

    default_error_messages = {"true": _("Customers cannot write internal notes.")}

    def to_internal_value(self, data):
        if super().to_internal_value(data):
            self.fail("true")
        return False


def client_id_field():
    return StrictUUIDField(
        required=False,
        allow_null=True,
        help_text="Sender-made UUID; a retried send with the same value returns the first message.",
    )


class CustomerMessageSerializer(SessionKeySerializer):
    """A customer's message: the seed's ``{"session_id", "author": "user", "content"}``."""

    author = StrictChoiceField(
        choices=CUSTOMER_AUTHORS, default="user", help_text="`user` (the seed's word) or `customer`."
    )
    content = message_content_field()
    client_id = client_id_field()
    is_internal = FalseField(default=False, help_text="Always false: only agents write internal notes.")


class AgentMessageSerializer(serializers.Serializer):
    content = message_content_field()
    client_id = client_id_field()
    is_internal = StrictBooleanField(default=False, help_text="Agent-only note, never shown to the customer.")


class StaffMessageSerializer(SessionKeySerializer, AgentMessageSerializer):
    """An agent's reply through the seed's call: needs an agent's login with the reply permission."""

    author = StrictChoiceField(choices=["agent"])


def message_create_serializer(data):
    """The shape ``POST /api/chat/message`` reads ``data`` with: the agent's when it says
    ``"author": "agent"``, else the customer's."""
    agent = isinstance(data, dict) and data.get("author") == "agent"
    return (StaffMessageSerializer if agent else CustomerMessageSerializer)(data=data)


class SessionEndSerializer(SessionKeySerializer):
    rating = StrictIntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = StrictCharField(max_length=1000, required=False, allow_blank=True)


BINARY = {"type": "string", "format": "binary"}


@extend_schema_field(
    {
        "oneOf": [
            BINARY,
            {
                "type": "array",
                "items": BINARY,
                "minItems": 1,
                "maxItems": settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE,
            },
        ]
    }
)
class FilesField(serializers.ListField):
    """The ``files`` of a multipart form: one part, or the field repeated for several. On the
    wire one file and a list of one are the same thing, and the schema says both."""


class FilesUploadSerializer(serializers.Serializer):
    files = FilesField(
        child=serializers.FileField(),
        min_length=1,
        max_length=settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE,
        help_text="1–5 files: JPEG, PNG, WebP or HEIC photos, or PDF documents.",
    )
    content = serializers.CharField(
        max_length=settings.CHAT_MAX_MESSAGE_LENGTH,
        required=False,
        allow_blank=True,
        help_text="An optional caption.",
    )
    client_id = StrictUUIDField(
        required=False,
        help_text="Sender-made UUID; a retried upload with the same value returns the first message.",
    )


class StaffFilesUploadSerializer(FilesUploadSerializer):
    is_internal = serializers.BooleanField(
        default=False, help_text="Agent-only note, never shown to the customer."
    )


class TransferSerializer(serializers.Serializer):
    to_agent = StrictIntegerField(min_value=1, help_text="User id of the agent who takes the chat.")
    note = StrictCharField(
        max_length=settings.CHAT_MAX_MESSAGE_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Optional handover note: an internal note for the agents, never shown to the customer.",
    )


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()


class QueueStatusSerializer(serializers.Serializer):
    service = serializers.ChoiceField(
        choices=SERVICE_STATES,
        help_text="available: an agent can take a chat now; busy: agents online, all at their "
        "maximum; closed: nobody available, outside business hours; offline: nobody available.",
    )
    agents_available = serializers.IntegerField(
        help_text="Agents online, accepting chats and under their maximum."
    )
    waiting_chats = serializers.IntegerField()
    opens_at = serializers.DateTimeField(
        allow_null=True, help_text="When the service opens again (when closed), else null."
    )
    position = serializers.IntegerField(required=False)
    estimated_wait_seconds = serializers.IntegerField(
        required=False, allow_null=True, help_text="null when nobody can answer (closed, offline)."
    )
    holidays = HolidaySerializer(
        many=True, required=False, help_text="Without a chat's key: the holidays of the next two weeks."
    )


class ReopenSerializer(serializers.Serializer):
    token = StrictCharField(max_length=links.MAX_TOKEN_LENGTH, help_text="From the e-mail's link.")


class CustomerEmailSerializer(SessionKeySerializer):
    customer_email = StrictEmailField(max_length=254)


class CustomerSessionSerializer(PublicSessionSerializer):
    queue = QueueStatusSerializer(read_only=True)

    class Meta(PublicSessionSerializer.Meta):
        fields = PublicSessionSerializer.Meta.fields + ["queue"]
        read_only_fields = fields

    def to_representation(self, instance):
        return {**super().to_representation(instance), "queue": self.context.get("queue")}


class MessageListSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    status = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


__all__ = [
    "AgentMessageSerializer",
    "AttachmentSerializer",
    "AgentSessionSerializer",
    "CustomerEmailSerializer",
    "CustomerSessionSerializer",
    "ErrorSerializer",
    "FilesUploadSerializer",
    "CustomerMessageSerializer",
    "MessageListSerializer",
    "MessageSerializer",
    "QueueStatusSerializer",
    "ReopenSerializer",
    "SessionEndSerializer",
    "SessionKeySerializer",
    "SessionOpenSerializer",
    "StaffMessageSerializer",
    "StaffFilesUploadSerializer",
    "TransferSerializer",
]
