"""The daily rows in the admin (read-only), with the metrics screen and the CSV exports as
extra URLs (``get_urls``) behind ``admin_site.admin_view`` (sign-in) and the access policy
(chat/policy.py: VIEW_METRICS, and EXPORT for the CSV; the Gestores group): a signed-in
agent without it gets 403.

The list's columns and the detail page's fields are the registry's: each metric's column
reads as on the screen (units.py) under its label and unit. chat/admin/ imports this
module, which registers itself.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import policy
from chat.models import ChatAnalytics

from . import exports, registry, screen
from .units import DURATION, RATING

FIELDS_PER_LINE = 4


def column_name(metric: registry.Metric) -> str:
    """The admin attribute showing a metric (not the field's own name: the admin would show
    the raw stored number instead)."""
    return f"{metric.key}_shown"


def _column(metric: registry.Metric):
    def shown(model_admin, row):
        return metric.unit.text(getattr(row, metric.key))

    shown.__name__ = column_name(metric)
    return admin.display(description=metric.heading, ordering=metric.key)(shown)


def _detail_fields() -> tuple:
    names = [column_name(metric) for metric in registry.stored()]
    lines = [tuple(names[index : index + FIELDS_PER_LINE]) for index in range(0, len(names), FIELDS_PER_LINE)]
    return ("date", *lines, "agents", "computed_at")


class ChatAnalyticsAdmin(admin.ModelAdmin):
    list_display = ("date", *(column_name(metric) for metric in registry.admin_columns()))
    date_hierarchy = "date"
    list_per_page = 62
    change_list_template = "admin/chat/chatanalytics/change_list.html"
    fields = _detail_fields()
    readonly_fields = tuple(
        name for line in fields for name in (line if isinstance(line, tuple) else (line,))
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Who may: the access policy. The daily rows are the metrics screen's.
    def has_module_permission(self, request):
        return policy.can(request.user, policy.VIEW_METRICS)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, policy.VIEW_METRICS)

    @admin.display(description=gettext_lazy("per agent"))
    def agents(self, row):
        return (
            "; ".join(
                _("%(agent)s: %(chats)d chats, first response %(frt)s, satisfaction %(rating)s")
                % {
                    "agent": entry.get("agent_name") or f"#{entry['agent_id']}",
                    "chats": entry.get("chats", 0),
                    "frt": DURATION.text(entry.get("frt_avg")),
                    "rating": RATING.text(entry.get("satisfaction_avg")),
                }
                for entry in row.per_agent or []
            )
            or "—"
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_view_metrics": policy.can(request.user, policy.VIEW_METRICS),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("metrics/", wrap(self.metrics_view), name="chat_metrics"),
            path("export/daily.csv", wrap(exports.export_daily_view), name="chat_metrics_export_daily"),
            path(
                "export/conversations.csv",
                wrap(exports.export_conversations_view),
                name="chat_metrics_export_conversations",
            ),
            *super().get_urls(),
        ]

    def metrics_view(self, request):
        return screen.metrics_view(request, self.admin_site, self.model._meta)


for metric in registry.stored():
    setattr(ChatAnalyticsAdmin, column_name(metric), _column(metric))

admin.site.register(ChatAnalytics, ChatAnalyticsAdmin)
