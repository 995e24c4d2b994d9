from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .analytics import AnalyticsView
from .views import AgentTicketView, CustomerChatViewSet, StaffSessionViewSet

router = SimpleRouter()
router.register("sessions", StaffSessionViewSet, basename="staff-session")

customer = CustomerChatViewSet.as_view

urlpatterns = [
    # The seed's contract, as written (no trailing slash).
    path("session", customer({"post": "open", "get": "current"}), name="chat-session"),
    path("message", customer({"post": "post_message"}), name="chat-message"),
    path("end", customer({"post": "end"}), name="chat-end"),
    path("messages", customer({"get": "messages"}), name="chat-messages"),
    path("queue", customer({"get": "queue"}), name="chat-queue"),
    path("agent-ticket", AgentTicketView.as_view(), name="chat-agent-ticket"),
    path("analytics/", AnalyticsView.as_view(), name="chat-analytics"),
    path("", include(router.urls)),
]
