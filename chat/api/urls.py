from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .analytics import AnalyticsView
from .attachments import AttachmentFileView, AttachmentThumbnailView, CustomerUploadView, StaffUploadView
from .staff import AgentTicketView, StaffSessionViewSet
from .views import CustomerChatViewSet

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
    path("attachments", CustomerUploadView.as_view(), name="chat-attachments"),
    path("attachments/<int:pk>", AttachmentFileView.as_view(), name="chat-attachment"),
    path(
        "attachments/<int:pk>/thumbnail", AttachmentThumbnailView.as_view(), name="chat-attachment-thumbnail"
    ),
    path("sessions/<int:pk>/attachments/", StaffUploadView.as_view(), name="staff-session-attachments"),
    path("email", customer({"post": "set_email"}), name="chat-email"),
    path("reopen", customer({"post": "reopen"}), name="chat-reopen"),
    path("agent-ticket", AgentTicketView.as_view(), name="chat-agent-ticket"),
    path("analytics/", AnalyticsView.as_view(), name="chat-analytics"),
    path("", include(router.urls)),
]
