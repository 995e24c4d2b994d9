"""The staff's API: chats (list, detail, transcript, reply, claim, transfer, end) and the
agent socket's ticket. Thin DRF views over chat.services and chat.selectors, asking the
access policy (chat/policy.py) through their permission classes and querysets."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import policy, selectors, services
from chat.exceptions import AgentNotFound, InvalidInput
from chat.live.tickets import TICKET_MAX_AGE_SECONDS, issue_agent_ticket
from chat.models import ChatSession
from jtchat.api_query import DeclaredQuery

from . import serializers as s
from .permissions import requires
from .views import AFTER_PARAM, EXAMPLE_CLIENT_ID, errors, example, parse_after


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
