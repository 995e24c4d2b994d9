"""Canned responses: the texts agents insert with /shortcut."""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from chat.models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut_column", "title", "text_preview", "updated_at")
    list_display_links = ("shortcut_column", "title")
    search_fields = ("shortcut", "title", "text")
    fields = ("title", "shortcut", "text")

    @admin.display(description=gettext_lazy("shortcut"), ordering="shortcut")
    def shortcut_column(self, canned):
        return f"/{canned.shortcut}"

    @admin.display(description=gettext_lazy("text"))
    def text_preview(self, canned):
        return Truncator(canned.text).chars(100)
