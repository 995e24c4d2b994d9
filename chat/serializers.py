"""Output shapes shared by the REST API and the live events (one shape per thing)."""

from rest_framework import serializers

from .models import ChatMessage, ChatSession


class MessageSerializer(serializers.Serializer):
    """Fields spelled out rather than a ModelSerializer: every message sent is serialized
    (its live event and its answer), and building a ModelSerializer's fields from the model
    costs about four times as much (bench/http_bench.py)."""

    id = serializers.IntegerField(read_only=True)
    author = serializers.ChoiceField(choices=ChatMessage.Author.choices, read_only=True)
    content = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    client_id = serializers.UUIDField(read_only=True, allow_null=True)
    agent_name = serializers.SerializerMethodField()
    is_internal = serializers.BooleanField(read_only=True)

    def get_agent_name(self, message) -> str | None:
        return message.agent.public_name if message.agent_id and message.agent else None


class PublicSessionSerializer(serializers.ModelSerializer):
    """What the customer may see of their own chat."""

    agent_name = serializers.SerializerMethodField()

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
        ]
        read_only_fields = fields

    def get_agent_name(self, session) -> str | None:
        agent = session.assigned_agent if session.assigned_agent_id else None
        return agent.public_name if agent else None


class AgentSessionSerializer(serializers.ModelSerializer):
    """What agents see of a chat (no session key: that is the customer's secret)."""

    agent_name = serializers.SerializerMethodField()

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
        ]
        read_only_fields = fields

    def get_agent_name(self, session) -> str | None:
        agent = session.assigned_agent if session.assigned_agent_id else None
        return agent.public_name if agent else None


# The live events' shapes, made by one instance of each serializer: a new instance builds its
# fields again (a ModelSerializer from the model), which costs far more than the
# representation itself, and services make these on every write. Representing is stateless.
_message_shape = MessageSerializer()
_public_session_shape = PublicSessionSerializer()
_agent_session_shape = AgentSessionSerializer()


def message_payload(message: ChatMessage) -> dict:
    return dict(_message_shape.to_representation(message))


def public_session_payload(session: ChatSession) -> dict:
    data = dict(_public_session_shape.to_representation(session))
    data.pop("session_id")  # events travel on the session's own socket; no need to repeat it
    return data


def agent_session_payload(session: ChatSession) -> dict:
    return dict(_agent_session_shape.to_representation(session))
