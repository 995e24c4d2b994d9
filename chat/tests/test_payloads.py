"""One shape per thing: the REST answers and the live events show a message and a chat alike."""

import pytest

from chat import payloads, services
from chat.api import serializers
from chat.models import ChatMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(agent):
    chat = services.session_open(customer_name="Maria", tracking_code="JT1")
    services.customer_message_post(session_key=chat.session_id, content="Cadê meu pacote?")
    services.agent_message_post(session_pk=chat.pk, agent=agent, content="Vou ver.")
    chat.refresh_from_db()
    return chat


def test_the_schema_declares_exactly_what_a_message_carries(answered):
    reply = ChatMessage.objects.select_related("agent").get(author=ChatMessage.Author.AGENT)
    shape = payloads.message(reply)
    assert list(serializers.MessageSerializer().fields) == list(shape)
    assert shape["agent_name"] == "Ana" and shape["author"] == "agent"


def test_the_schema_declares_exactly_what_agents_and_customers_see_of_a_chat(answered):
    agent_view = payloads.agent_session(answered)
    assert list(serializers.AgentSessionSerializer().fields) == list(agent_view)
    assert "session_id" not in agent_view  # the customer's secret
    customer_view = serializers.PublicSessionSerializer(answered).data
    assert list(serializers.PublicSessionSerializer().fields) == list(customer_view)
    assert customer_view["session_id"] == str(answered.session_id)
    assert customer_view["agent_name"] == "Ana" and customer_view["status"] == "active"


def test_times_are_written_as_rest_framework_writes_them(answered):
    from django.utils import timezone
    from rest_framework.fields import DateTimeField

    drf = DateTimeField()
    assert payloads.iso_time(answered.started_at) == drf.to_representation(answered.started_at)
    assert payloads.agent_session(answered)["started_at"].endswith("-03:00")  # São Paulo
    with timezone.override("UTC"):
        assert payloads.iso_time(answered.started_at).endswith("Z")
        assert payloads.iso_time(answered.started_at) == drf.to_representation(answered.started_at)
