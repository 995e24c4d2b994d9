"""The inbox: the chat changelist, its tabs, columns and actions, and the rows its live
script (static/chat/admin/inbox.js) is handed and fetches when an event lacks a column.

Every column is an annotation made once in :func:`chat.selectors.inbox_sessions`, so the inbox
costs the same number of queries for 5 rows or 500.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET

from chat import payloads, policy, selectors, services
from chat.exceptions import ChatError
from chat.models import ChatMessage, ChatSession, EmailStatus, Issue

from . import desk
from .common import error_text

Status = ChatSession.Status
LAST_MESSAGE_CHARS = 90
ROWS_MAX_IDS = 50
# Choice labels by value, built once: Model.get_FOO_display() rebuilds (and hashes) the
# whole choice list on every call, which costs the inbox a few milliseconds per page.
TOPIC_LABELS = dict(Issue.choices)
STATUS_LABELS = dict(Status.choices)


def short_duration(seconds: float) -> str:
    """A waiting time as an agent reads it at a glance: "4 min", "1 h 05 min", "2 days"."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    days = hours // 24
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


class InboxTabFilter(admin.SimpleListFilter):
    """The inbox tabs. Rendered above the list (not in the side panel), with counts."""

    title = gettext_lazy("inbox")
    parameter_name = "tab"
    template = "admin/chat/chatsession/inbox_tabs.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.counts = selectors.inbox_tab_counts(agent=request.user)

    def lookups(self, request, model_admin):
        return [
            ("waiting", gettext_lazy("Waiting")),
            ("mine", gettext_lazy("Mine")),
            ("active", gettext_lazy("Active")),
            # A tab of many chats ("Encerradas"), where the status label is one chat's.
            ("ended", pgettext_lazy("inbox tab", "Ended")),
        ]

    def choices(self, changelist):
        values = [""] + [value for value, _label in self.lookup_choices]
        for value, choice in zip(values, super().choices(changelist), strict=True):
            if not value:  # the default tab: every open chat (ended ones have their own tab)
                choice = {**choice, "display": pgettext("inbox tab", "Open")}
            yield {**choice, "value": value or "open", "count": self.counts.get(value or "open")}

    def queryset(self, request, queryset):
        return selectors.inbox_filter(queryset, tab=self.value() or "", agent=request.user)


class StartedFilter(admin.DateFieldListFilter):
    """The date filter on started_at, titled so that "By start date" reads well."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = gettext_lazy("start date")


class InboxMixin:
    """The changelist side of ChatSessionAdmin (chat/admin/chats.py)."""

    list_display = (
        "customer_column",
        "topic_column",
        "last_message_column",
        "waiting_column",
        "agent_column",
        "unread_column",
    )
    list_display_links = ("customer_column",)
    list_filter = (InboxTabFilter, ("started_at", StartedFilter))
    list_select_related = ("assigned_agent",)
    list_per_page = 50
    list_max_show_all = 200
    # The paginator's one COUNT of the filtered rows is enough; no second COUNT of the table.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    search_fields = ("customer_name", "customer_email", "tracking_code")
    search_help_text = gettext_lazy(
        "Name, e-mail, tracking code, chat number or words from the conversation. "
        "Searches the chats of the tab you are on; ended chats are in the Ended tab."
    )
    actions = ("claim_selected", "end_selected")

    def get_queryset(self, request):
        # Ordered by get_ordering(), which the changelist applies.
        return policy.visible_chats(request.user, selectors.inbox_sessions(agent=request.user).order_by())

    def get_ordering(self, request):
        return selectors.INBOX_ORDERING

    def get_search_results(self, request, queryset, search_term):
        return selectors.inbox_search(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        # The tab filter counted the open chats already: the desk bar reuses its counts.
        response = super().changelist_view(request, extra_context=extra_context)
        if hasattr(response, "context_data") and response.context_data is not None:
            changelist = response.context_data.get("cl")
            counts = self._tab_counts(changelist)
            response.context_data.update(
                {
                    "title": _("Inbox"),
                    "inbox_config": self._inbox_config(request, changelist),
                    "accepting_url": reverse("admin:chat_chatsession_accepting"),
                    "sections_url": reverse("admin:index") + "?sections=1"
                    if policy.can(request.user, policy.VIEW_METRICS) or request.user.is_superuser
                    else "",
                    "metrics_url": reverse("admin:chat_metrics")
                    if policy.can(request.user, policy.VIEW_METRICS)
                    else "",
                    "team_url": reverse("admin:chat_chatsession_team")
                    if policy.can(request.user, policy.VIEW_METRICS)
                    else "",
                    **desk.desk_context(request, counts=counts),
                    **(extra_context or {}),
                }
            )
        return response

    @staticmethod
    def _tab_counts(changelist) -> dict | None:
        for spec in getattr(changelist, "filter_specs", ()):
            if isinstance(spec, InboxTabFilter):
                return spec.counts
        return None

    def _inbox_config(self, request, changelist) -> dict:
        """What the inbox's script needs to keep the rows true from events: the tab, whether
        the rows on screen are decided by the tab alone (no search, no other filter, the
        first page) so that an event can add, move or drop one, and the row's strings."""
        tab = request.GET.get("tab", "")
        params = {key for key in request.GET if key not in ("tab", "o")}
        # The page's rows, as the script keeps them (the changelist's own query: its rows are
        # read once, here, and the template draws the same rows).
        rows = [payloads.inbox_row(chat) for chat in changelist.result_list] if changelist else []
        return {
            "tab": tab if tab in ("waiting", "mine", "active", "ended") else "",
            "patchable": changelist is not None and not params,
            "morePages": bool(changelist and changelist.multi_page),
            "rows": rows,
            "perPage": self.list_per_page,
            "previewChars": LAST_MESSAGE_CHARS,
            "strings": {
                "agent": _("Agent"),
                "customer": _("Customer"),
                # Django's label for a row's checkbox, "{}" standing for the chat
                "selectRow": _("Select this object for an action - {}"),
                "results": ngettext("%(counter)s result", "%(counter)s results", 1),
                "resultsMany": ngettext("%(counter)s result", "%(counter)s results", 2),
                "chats": "%(count)s " + str(ChatSession._meta.verbose_name),
                "chatsMany": "%(count)s " + str(ChatSession._meta.verbose_name_plural),
                "unread": ngettext("%(count)d unread message", "%(count)d unread messages", 1),
                "unreadMany": ngettext("%(count)d unread message", "%(count)d unread messages", 2),
                "staleList": _("The list changed. Clear your selection to update it."),
                # the marks of customer_column, by kind
                "marks": {
                    "outside-hours": _("outside hours"),
                    "no-agents": _("no agent available"),
                    "email-failed": _("e-mail not sent"),
                },
            },
        }

    @admin.display(description=gettext_lazy("Customer"))
    def customer_column(self, session):
        name = session.customer_name or _("Customer #%(id)s") % {"id": session.pk}
        marks = []
        if session.opened_outside_hours:
            marks.append(("outside-hours", _("outside hours")))
        elif session.opened_without_agents:
            marks.append(("no-agents", _("no agent available")))
        if session.email_status == EmailStatus.FAILED:
            marks.append(("email-failed", _("e-mail not sent")))
        return format_html(
            '<span class="inbox-name">{}</span><span class="inbox-sub">{}</span>{}',
            name,
            session.customer_email or f"#{session.pk}",
            format_html_join(
                "",
                '<span class="inbox-mark inbox-mark-{}" data-mark="{}">{}</span>',
                ((kind, kind, text) for kind, text in marks),
            ),
        )

    @admin.display(description=gettext_lazy("Topic"))
    def topic_column(self, session):
        topic = TOPIC_LABELS.get(session.topic) or TOPIC_LABELS.get(session.issue) or "—"
        if not session.tracking_code:
            return topic
        return format_html('{}<span class="inbox-sub inbox-code">{}</span>', topic, session.tracking_code)

    @admin.display(description=gettext_lazy("Last message"), empty_value="")
    def last_message_column(self, session):
        if session.last_message_preview is None:
            return ""
        text = Truncator(" ".join(session.last_message_preview.split())).chars(LAST_MESSAGE_CHARS)
        if not text:  # only a message with files has no text
            text = "📎 " + _("Photo or document")
        who = _("Agent") if session.last_message_author == ChatMessage.Author.AGENT else _("Customer")
        return format_html('<span class="inbox-sub inbox-who">{}</span>{}', who, text)

    @admin.display(description=gettext_lazy("Waiting for"), empty_value="")
    def waiting_column(self, session):
        since = session.waiting_since_for_inbox
        if since is None:
            return ""
        seconds = (timezone.now() - since).total_seconds()
        late = seconds > settings.CHAT_SLA_FIRST_RESPONSE_SECONDS
        return format_html(
            '<time class="inbox-wait{}" datetime="{}" data-since="{}">{}</time>',
            " inbox-late" if late else "",
            since.isoformat(),
            since.isoformat(),
            short_duration(seconds),
        )

    @admin.display(description=gettext_lazy("Agent"))
    def agent_column(self, session):
        return format_html(
            '<span class="inbox-agent">{}</span>'
            '<span class="chat-status chat-status-{}" data-status="{}">{}</span>',
            session.assigned_agent.public_name if session.assigned_agent_id else "—",
            session.status,
            session.status,
            STATUS_LABELS.get(session.status, session.status),
        )

    @admin.display(description=gettext_lazy("Unread"), empty_value="")
    def unread_column(self, session):
        if not session.unread_count:
            return ""
        label = ngettext("%(count)d unread message", "%(count)d unread messages", session.unread_count)
        return format_html(
            '<span class="inbox-unread" title="{}">{}</span>',
            label % {"count": session.unread_count},
            session.unread_count,
        )

    # --- what a live list fetches when an event lacks it --------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("rows/", self.admin_site.admin_view(require_GET(self.rows_view)), name=f"{info}_rows"),
        ] + super().get_urls()

    def rows_view(self, request):
        """``GET rows/?ids=1,2``: those chats as the live lists show them (JSON), for an
        event that lacks a column (the last message, the unread count). Reads only."""
        if not policy.can(request.user, policy.VIEW_CHATS):
            raise PermissionDenied
        raw = [part.strip() for part in request.GET.get("ids", "").split(",") if part.strip()]
        if not raw or len(raw) > ROWS_MAX_IDS or not all(part.isdigit() and len(part) < 19 for part in raw):
            return JsonResponse(
                {
                    "error": _("Send ids: up to %(max)d chat numbers separated by commas.")
                    % {"max": ROWS_MAX_IDS},
                    "code": "invalid",
                },
                status=400,
            )
        chats = selectors.inbox_rows(agent=request.user, ids={int(part) for part in raw})
        return JsonResponse({"rows": [payloads.inbox_row(chat) for chat in chats]})

    # --- actions on the inbox ------------------------------------------------------

    @admin.action(description=gettext_lazy("Take the selected chats"), permissions=["claim"])
    def claim_selected(self, request, queryset):
        taken = 0
        for session in queryset.order_by("id"):
            try:
                services.session_claim(session=session, agent=request.user)
                taken += 1
            except ChatError as exc:
                self._report_for(request, session, exc)
        if taken:
            self.message_user(
                request,
                ngettext("You took %(count)d chat.", "You took %(count)d chats.", taken) % {"count": taken},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("End the selected chats"), permissions=["end"])
    def end_selected(self, request, queryset):
        ended = 0
        for session in queryset.exclude(status=Status.ENDED).order_by("id"):
            try:
                services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=request.user)
                ended += 1
            except ChatError as exc:
                self._report_for(request, session, exc)
        self.message_user(
            request,
            ngettext("%(count)d chat ended.", "%(count)d chats ended.", ended) % {"count": ended},
            messages.SUCCESS if ended else messages.WARNING,
        )

    def _report_for(self, request, session, exc: ChatError):
        self.message_user(
            request,
            _("Chat #%(id)s: %(error)s") % {"id": session.pk, "error": error_text(exc)},
            messages.ERROR,
        )
