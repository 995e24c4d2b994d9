from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.admin_site import ThrottledAdminLoginForm
from chat.views import ChatPageView
from jtchat.health import health
from jtchat.prometheus import metrics_view

admin.site.site_header = _("JT Chat — service desk")
admin.site.site_title = _("JT Chat")
admin.site.index_title = _("Service desk")
# The inbox and the conversation page need the width more than a menu of five links.
admin.site.enable_nav_sidebar = False
admin.site.login_form = ThrottledAdminLoginForm  # limits password guessing

handler404 = "chat.api.errors.not_found"
handler500 = "chat.api.errors.server_error"

urlpatterns = [
    path("", ChatPageView.as_view(), name="chat-page"),
    path("healthz", health, name="health"),
    path("metrics", metrics_view, name="metrics"),  # operators only: token or allow-list
    path("admin/", admin.site.urls),
    path("api/chat/", include("chat.api.urls")),
    path("api/users/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
