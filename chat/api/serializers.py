"""Input serializers of the chat API. Output shapes live in chat/serializers.py."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from chat.models import Issue
from chat.serializers import AgentSessionSerializer, MessageSerializer, PublicSessionSerializer

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


class TransferSerializer(serializers.Serializer):
    to_agent = serializers.IntegerField(help_text="User id of the agent who takes the chat.")


class QueueStatusSerializer(serializers.Serializer):
    agents_available = serializers.IntegerField()
    waiting_chats = serializers.IntegerField()
    position = serializers.IntegerField(required=False)
    estimated_wait_seconds = serializers.IntegerField(required=False)


class CustomerSessionSerializer(PublicSessionSerializer):
    queue = serializers.SerializerMethodField()

    class Meta(PublicSessionSerializer.Meta):
        fields = PublicSessionSerializer.Meta.fields + ["queue"]
        read_only_fields = fields

    def get_queue(self, session) -> QueueStatusSerializer:
        return self.context.get("queue")


class MessageListSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    status = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


__all__ = [
    "AgentMessageSerializer",
    "AgentSessionSerializer",
    "CustomerSessionSerializer",
    "ErrorSerializer",
    "MessageCreateSerializer",
    "MessageListSerializer",
    "MessageSerializer",
    "QueueStatusSerializer",
    "SessionEndSerializer",
    "SessionKeySerializer",
    "SessionOpenSerializer",
    "TransferSerializer",
]
