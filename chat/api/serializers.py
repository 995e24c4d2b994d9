"""Serializers of the chat API: inputs validated here, outputs shaped by chat/payloads.py.

The output serializers declare their fields for the OpenAPI schema, and represent an object
with the same function the live events use, so an answer and an event never differ
(chat/tests/test_payloads.py holds the declared fields to the payloads' keys).
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from chat import links, payloads
from chat.models import ChatAttachment, ChatMessage, ChatSession, Issue
from chat.selectors import SERVICE_STATES

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

AUTHOR_ALIASES = {"user": "customer", "customer": "customer", "agent": "agent"}


class SessionOpenSerializer(serializers.Serializer):
    customer_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    customer_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    tracking_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    topic = serializers.ChoiceField(choices=Issue.choices, required=False, allow_blank=True)


class SessionKeySerializer(serializers.Serializer):
    session_id = serializers.UUIDField(
        required=False,
        help_text="The customer's session key. May also be sent in the X-Chat-Session header.",
    )


class MessageCreateSerializer(SessionKeySerializer):
    author = serializers.ChoiceField(
        choices=sorted(AUTHOR_ALIASES),
        default="user",
        help_text="`user` (or `customer`) for the customer; `agent` needs an agent's login.",
    )
    content = serializers.CharField(max_length=settings.CHAT_MAX_MESSAGE_LENGTH, trim_whitespace=True)
    client_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Sender-made UUID; a retried send with the same value returns the first message.",
    )
    is_internal = serializers.BooleanField(
        default=False, help_text="Agent-only note, never shown to the customer."
    )


class SessionEndSerializer(SessionKeySerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def to_internal_value(self, data):
        # Refuse ratings that are not whole numbers (4.5, "5 estrelas", true) with a 400.
        rating = data.get("rating") if hasattr(data, "get") else None
        if isinstance(rating, bool) or (isinstance(rating, float) and not rating.is_integer()):
            raise serializers.ValidationError(
                {"rating": [_("The rating must be a whole number from 1 to 5.")]}
            )
        return super().to_internal_value(data)


class AgentMessageSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=settings.CHAT_MAX_MESSAGE_LENGTH)
    client_id = serializers.UUIDField(required=False, allow_null=True)
    is_internal = serializers.BooleanField(default=False)


class FilesUploadSerializer(serializers.Serializer):
    files = serializers.ListField(
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
    client_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Sender-made UUID; a retried upload with the same value returns the first message.",
    )


class StaffFilesUploadSerializer(FilesUploadSerializer):
    is_internal = serializers.BooleanField(
        default=False, help_text="Agent-only note, never shown to the customer."
    )


class TransferSerializer(serializers.Serializer):
    to_agent = serializers.IntegerField(help_text="User id of the agent who takes the chat.")
    note = serializers.CharField(
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
    token = serializers.CharField(max_length=links.MAX_TOKEN_LENGTH, help_text="From the e-mail's link.")


class CustomerEmailSerializer(SessionKeySerializer):
    customer_email = serializers.EmailField(max_length=254)


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
    "MessageCreateSerializer",
    "MessageListSerializer",
    "MessageSerializer",
    "QueueStatusSerializer",
    "ReopenSerializer",
    "SessionEndSerializer",
    "SessionKeySerializer",
    "SessionOpenSerializer",
    "StaffFilesUploadSerializer",
    "TransferSerializer",
]
