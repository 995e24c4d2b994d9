"""The customer's API: thin DRF views over chat.services (writes) and chat.selectors (reads),
and what every API module of the chat shares (the key's header, ``after``, error answers,
request examples). The staff's API is chat/api/staff.py."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from chat import policy, selectors, services
from chat.exceptions import InvalidInput, LinkInvalid
from chat.live import presence
from chat.models import ChatMessage, ChatSession
from jtchat.api_query import DeclaredQuery
from jtchat.network import client_ip

from . import serializers as s
from .throttles import MessageIPThrottle, MessageSessionThrottle, SessionOpenIPThrottle

SESSION_HEADER = "HTTP_X_CHAT_SESSION"
# Where the customer's key travels: calls with a JSON body take it there as `session_id` (the
# seed's contract); calls without one (reads, uploads) in this header. Never in a URL.
SESSION_HEADER_PARAM = OpenApiParameter(
    "X-Chat-Session",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=True,
    description="The customer's session key (`session_id` from opening the chat).",
)
OPTIONAL_SESSION_HEADER_PARAM = OpenApiParameter(
    "X-Chat-Session",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    description="The customer's session key: with it, the answer adds the chat's place in the queue.",
)
MAX_MESSAGE_ID = 2**63 - 1
AFTER_PARAM = OpenApiParameter(
    "after",
    {"type": "integer", "minimum": 0, "maximum": MAX_MESSAGE_ID},
    OpenApiParameter.QUERY,
    description="Return only messages with a greater id (the catch-up cursor).",
)
MESSAGE_CREATE = PolymorphicProxySerializer(
    component_name="MessageCreate",
    serializers=[s.CustomerMessageSerializer, s.StaffMessageSerializer],
    resource_type_field_name=None,
)


# Request examples (Portuguese, as customers and agents write): the docs page shows them and
# the fuzzing's examples phase sends them.
EXAMPLE_KEY = "5f0c2a9e-8d1b-4c3a-9e7f-2b6d4a1c8e30"
EXAMPLE_CLIENT_ID = "0b8f6c1e-3a2d-4e5f-8a9b-7c6d5e4f3a21"


def example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


def errors(*codes: int) -> dict:
    descriptions = {
        400: "Invalid input",
        403: "Not allowed",
        404: "Unknown chat",
        409: "Conflict",
        413: "Body too large",
        415: "Not JSON",
        429: "Too many requests",
    }
    return {code: OpenApiResponse(s.ErrorSerializer, description=descriptions[code]) for code in codes}


def parse_after(request) -> int:
    raw = request.query_params.get("after", "0")
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_MESSAGE_ID:
        raise InvalidInput(fields={"after": [_("Must be a whole number, 0 or more.")]})
    return int(raw)


@extend_schema(tags=["customer"])
class CustomerChatViewSet(DeclaredQuery, viewsets.ViewSet):
    """The customer's side: the seed's three calls plus state, history and queue.

    The customer is whoever holds the chat's ``session_id``: calls with a JSON body carry it
    there, the others in the ``X-Chat-Session`` header; never in the URL.
    """

    permission_classes = [AllowAny]
    query_parameters = {"messages": {"after"}}
    throttles_by_action = {
        "open": [SessionOpenIPThrottle],
        "reopen": [SessionOpenIPThrottle],
        "set_email": [MessageIPThrottle],
        "post_message": [MessageIPThrottle, MessageSessionThrottle],
    }

    def get_throttles(self):
        return [throttle() for throttle in self.throttles_by_action.get(self.action, [])]

    def perform_authentication(self, request):
        """Authenticate when the user is first asked for, not before every call (DRF's
        documented way: ``request.user`` then signs in, CSRF check included). A customer's
        calls never ask; only an agent's post through this door does."""

    @staticmethod
    def _header_session(request) -> ChatSession:
        """The chat named by the X-Chat-Session header: 400 without it or malformed, 404 unknown."""
        return selectors.customer_session(request.META.get(SESSION_HEADER))

    def _session_answer(self, session: ChatSession, code=status.HTTP_200_OK) -> Response:
        queue = selectors.queue_status(session)
        data = s.CustomerSessionSerializer(session, context={"queue": queue}).data
        return Response(data, status=code)

    @extend_schema(
        request=s.SessionOpenSerializer,
        responses={201: s.CustomerSessionSerializer, **errors(400, 413, 415, 429)},
        summary="Open a chat",
        examples=[
            example("Sem dados", {}),
            example(
                "Com nome e rastreio",
                {
                    "customer_name": "Maria Souza",
                    "tracking_code": "JT0012345678BR",
                    "topic": "atraso_entrega",
                },
            ),
        ],
    )
    def open(self, request):
        serializer = s.SessionOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_open(
            **serializer.validated_data,
            user_ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return self._session_answer(session, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SESSION_HEADER_PARAM],
        responses={200: s.CustomerSessionSerializer, **errors(400, 404)},
        summary="The customer's chat and place in the queue",
    )
    def current(self, request):
        return self._session_answer(self._header_session(request))

    @extend_schema(
        request=MESSAGE_CREATE,
        responses={
            201: s.MessageSerializer,
            200: OpenApiResponse(s.MessageSerializer, description="A retried client_id: the first message"),
            **errors(400, 403, 404, 409, 413, 415, 429),
        },
        summary="Send a message",
        examples=[
            example(
                "Mensagem do cliente",
                {
                    "session_id": EXAMPLE_KEY,
                    "author": "user",
                    "content": "Olá, minha encomenda está parada há 5 dias.",
                    "client_id": EXAMPLE_CLIENT_ID,
                },
            ),
        ],
    )
    def post_message(self, request):
        serializer = s.message_create_serializer(request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = data["session_id"]
        if s.AUTHOR_ALIASES[data["author"]] == ChatMessage.Author.AGENT:
            policy.require(request.user, policy.REPLY)
            result = services.agent_message_post(
                session_pk=selectors.customer_session(key).pk,
                agent=request.user,
                content=data["content"],
                client_id=data.get("client_id"),
                is_internal=data["is_internal"],
            )
        else:
            result = services.customer_message_post(
                session_key=key, content=data["content"], client_id=data.get("client_id")
            )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(result.payload, status=code)

    @extend_schema(
        parameters=[SESSION_HEADER_PARAM, AFTER_PARAM],
        responses={200: s.MessageListSerializer, **errors(400, 404)},
        summary="History and catch-up",
    )
    def messages(self, request):
        session = self._header_session(request)
        messages = selectors.messages_after(session=session, after=parse_after(request))
        presence.customer_polled(session.pk)  # a page without a socket is still here
        return Response({"messages": s.MessageSerializer(messages, many=True).data, "status": session.status})

    @extend_schema(
        request=s.ReopenSerializer,
        responses={200: s.CustomerSessionSerializer, **errors(400, 404, 413, 415, 429)},
        summary="Come back to a chat through a reply e-mail's link",
        description="Trades the link's signed, expiring token for the chat (with its `session_id`, "
        "which the page keeps as for any chat). A chat closed for inactivity opens again. A "
        "forged, expired or unknown token gets 404 `link_invalid`, whatever the reason.",
    )
    def reopen(self, request):
        serializer = s.ReopenSerializer(data=request.data)
        if not serializer.is_valid():
            raise LinkInvalid()
        session = selectors.session_from_reopen_link(serializer.validated_data["token"])
        return self._session_answer(services.session_reopen(session=session))

    @extend_schema(
        request=s.CustomerEmailSerializer,
        responses={200: s.CustomerSessionSerializer, **errors(400, 404, 409, 413, 415, 429)},
        summary="Give the e-mail address the answer may be sent to",
        examples=[example("E-mail", {"session_id": EXAMPLE_KEY, "customer_email": "maria@example.com"})],
    )
    def set_email(self, request):
        serializer = s.CustomerEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = selectors.customer_session(data["session_id"])
        session = services.session_set_customer_email(session=session, customer_email=data["customer_email"])
        return self._session_answer(session)

    @extend_schema(
        request=s.SessionEndSerializer,
        responses={200: s.CustomerSessionSerializer, **errors(400, 404, 409, 413, 415)},
        summary="End the chat and rate it 1–5",
        examples=[
            example(
                "Nota e comentário",
                {"session_id": EXAMPLE_KEY, "rating": 5, "comment": "Resolveram rápido, obrigada!"},
            )
        ],
    )
    def end(self, request):
        serializer = s.SessionEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = selectors.customer_session(data["session_id"])
        session = services.session_end(
            session=session,
            ended_by=ChatSession.EndedBy.CUSTOMER,
            rating=data.get("rating"),
            comment=data.get("comment", ""),
        )
        return self._session_answer(session)

    @extend_schema(
        parameters=[OPTIONAL_SESSION_HEADER_PARAM],
        responses={200: s.QueueStatusSerializer, **errors(400, 404)},
        summary="How the service stands: available agents, waiting chats, the customer's position",
    )
    def queue(self, request):
        key = request.META.get(SESSION_HEADER)
        session = selectors.customer_session(key) if key is not None else None
        return Response(selectors.queue_status(session))
