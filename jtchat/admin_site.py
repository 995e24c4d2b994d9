"""The admin site: agents land on the inbox.

Django's documented way to change the default site (``AdminConfig.default_site``): the
project lists :class:`AdminConfig` instead of ``django.contrib.admin``, so ``admin.site`` is a
:class:`ServiceDeskSite`. Its index sends whoever may view chats to the inbox, where they
work; ``/admin/?sections=1`` is Django's app index, which the inbox links to for managers and
superusers (users, canned responses, metrics, audit log).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpResponseRedirect
from django.urls import reverse

SECTIONS_PARAMETER = "sections"


class ServiceDeskSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        from chat import policy  # the chat app's models load after the admin's

        if SECTIONS_PARAMETER not in request.GET and policy.can(request.user, policy.VIEW_CHATS):
            return HttpResponseRedirect(reverse(f"{self.name}:chat_chatsession_changelist"))
        return super().index(request, extra_context)


class AdminConfig(DjangoAdminConfig):
    default_site = "jtchat.admin_site.ServiceDeskSite"
