"""One DRF view: validate the body ``POST /api/chat/message`` takes, then one INSERT."""

from django.db import connection
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

INSERT_MESSAGE = """
    INSERT INTO chat_chatmessage (session_id, author, content, created_at, client_id, is_internal)
    SELECT id, 'customer', %s, now(), %s, false FROM chat_chatsession WHERE session_id = %s
    RETURNING id, created_at
"""


class MessageBodySerializer(serializers.Serializer):
    """The fields and limits of chat.api.serializers.CustomerMessageSerializer, with DRF's
    stock fields (the framework's defaults: the floor)."""

    session_id = serializers.UUIDField()
    author = serializers.ChoiceField(choices=["agent", "customer", "user"], default="user")
    content = serializers.CharField(max_length=4000)
    client_id = serializers.UUIDField(required=False, allow_null=True)
    is_internal = serializers.BooleanField(default=False)


class FloorMessageView(APIView):
    def post(self, request):
        serializer = MessageBodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with connection.cursor() as cursor:
            cursor.execute(INSERT_MESSAGE, [data["content"], data.get("client_id"), data["session_id"]])
            row = cursor.fetchone()
        if row is None:
            return Response({"error": "Chat session not found.", "code": "session_not_found"}, status=404)
        return Response(
            {
                "id": row[0],
                "author": "customer",
                "content": data["content"],
                "created_at": row[1],
                "client_id": data.get("client_id"),
            },
            status=status.HTTP_201_CREATED,
        )
