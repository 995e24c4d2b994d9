"""Thin DRF views over chat.services (writes) and chat.selectors (reads)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import policy, selectors, services
from chat.exceptions import AgentNotFound, InvalidInput, LinkInvalid
from chat.live import presence
from chat.live.tickets import TICKET_MAX_AGE_SECONDS, issue_agent_ticket
from chat.models import ChatMessage, ChatSession
from jtchat.api_query import DeclaredQuery
from jtchat.network import client_ip

from . import serializers as s
from .permissions import requires
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


@extend_schema(tags=["staff"])
class StaffSessionViewSet(
    DeclaredQuery, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Agents' view of chats: list, detail, transcript, reply, claim, transfer, end."""

    permission_classes = [requires(policy.VIEW_CHATS)]
    serializer_class = s.AgentSessionSerializer
    query_parameters = {"list": {"status"}, "messages": {"after"}}

    def get_queryset(self):
        wanted = self.request.query_params.get("status") or None
        if wanted and wanted not in ChatSession.Status.values:
            raise InvalidInput(fields={"status": [_("Use waiting, active or ended.")]})
        return selectors.staff_sessions(user=self.request.user, status=wanted)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ChatSession.Status.values),
        ],
        responses={200: s.AgentSessionSerializer(many=True), **errors(400, 403)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.AgentSessionSerializer, **errors(403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _session_pk(self) -> int:
        pk = self.kwargs["pk"]
        if not str(pk).isdigit():
            raise InvalidInput(fields={"id": [_("Invalid id.")]})
        return int(pk)

    def _session(self, capability: policy.Capability = policy.VIEW_CHATS) -> ChatSession:
        return selectors.chat_for_staff(self.request.user, self._session_pk(), capability)

    @extend_schema(
        methods=["GET"],
        parameters=[AFTER_PARAM],
        responses={200: s.MessageListSerializer, **errors(400, 403, 404)},
        summary="Transcript (with internal notes) after a message id",
    )
    @extend_schema(
        methods=["POST"],
        request=s.AgentMessageSerializer,
        responses={
            201: s.MessageSerializer,
            200: s.MessageSerializer,
            **errors(400, 403, 404, 409, 413, 415),
        },
        summary="Reply (or write an internal note)",
        examples=[
            example(
                "Resposta",
                {"content": "Oi, Maria! Já localizei sua encomenda.", "client_id": EXAMPLE_CLIENT_ID},
            ),
            example("Nota interna", {"content": "Pedir foto da etiqueta.", "is_internal": True}),
        ],
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        if request.method == "GET":
            session = self._session()
            messages = selectors.messages_after(
                session=session, after=parse_after(request), include_internal=True
            )
            return Response(
                {"messages": s.MessageSerializer(messages, many=True).data, "status": session.status}
            )
        serializer = s.AgentMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.agent_message_post(
            session_pk=self._session_pk(),  # found and locked by the service: one query
            agent=request.user,
            content=data["content"],
            client_id=data.get("client_id"),
            is_internal=data["is_internal"],
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(result.payload, status=code)

    @extend_schema(request=None, responses={200: s.AgentSessionSerializer, **errors(403, 404, 409)})
    @action(detail=True, methods=["post"], permission_classes=[requires(policy.CLAIM)])
    def claim(self, request, pk=None):
        session = services.session_claim(session=self._session(policy.CLAIM), agent=request.user)
        return Response(s.AgentSessionSerializer(session).data)

    @extend_schema(
        request=s.TransferSerializer,
        responses={200: s.AgentSessionSerializer, **errors(400, 403, 404, 409)},
        examples=[example("Para outro agente", {"to_agent": 7, "note": "Cliente pediu reembolso."})],
    )
    @action(detail=True, methods=["post"], permission_classes=[requires(policy.TRANSFER)])
    def transfer(self, request, pk=None):
        serializer = s.TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_agent = get_user_model().objects.filter(pk=serializer.validated_data["to_agent"]).first()
        if to_agent is None:
            raise AgentNotFound()
        session = services.session_transfer(
            session=self._session(policy.TRANSFER),
            agent=request.user,
            to_agent=to_agent,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(s.AgentSessionSerializer(session).data)

    @extend_schema(request=None, responses={200: s.AgentSessionSerializer, **errors(403, 404)})
    @action(detail=True, methods=["post"], permission_classes=[requires(policy.END)])
    def end(self, request, pk=None):
        session = services.session_end(
            session=self._session(policy.END), ended_by=ChatSession.EndedBy.AGENT, agent=request.user
        )
        return Response(s.AgentSessionSerializer(session).data)


@extend_schema(tags=["staff"])
class AgentTicketView(DeclaredQuery, APIView):
    """A short-lived ticket for the agent socket, for when sockets are served from another host.

    The browser does not send the admin's session cookie to the socket host, so the admin
    page asks here (same origin, session login) and sends the ticket in the first frame:
    ``{"type": "hello", "ticket": "..."}``.
    """

    permission_classes = [requires(policy.VIEW_CHATS)]

    @extend_schema(
        responses={
            200: inline_serializer(
                "AgentTicket",
                {"ticket": drf_serializers.CharField(), "expires_in": drf_serializers.IntegerField()},
            ),
            **errors(403),
        },
        summary="Ticket for the agent WebSocket",
    )
    def get(self, request):
        response = Response(
            {"ticket": issue_agent_ticket(request.user), "expires_in": TICKET_MAX_AGE_SECONDS}
        )
        response["Cache-Control"] = "no-store"
        return response
