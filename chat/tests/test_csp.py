"""Content-Security-Policy: no inline scripts on the chat page, the admin and the API docs."""

from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from jtchat.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db

PAGES = ["/", "/admin/login/", "/api/docs/"]
# Script types a browser does not run (data blocks such as json_script).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class InlineCodeFinder(HTMLParser):
    """Collects inline scripts and event-handler attributes, which a strict CSP blocks."""

    def __init__(self):
        super().__init__()
        self.problems = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "script" and not attributes.get("src"):
            script_type = (attributes.get("type") or "").lower()
            self._in_inline_script = script_type not in DATA_SCRIPT_TYPES

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


@pytest.mark.parametrize("path", PAGES)
def test_pages_forbid_inline_scripts(path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]


def test_admin_screens_carry_the_policy(admin_client):
    for path in ["/admin/?sections=1", "/admin/accounts/user/", "/admin/accounts/user/add/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert directives(response)["script-src"] == ["'self'"], path


def test_sockets_are_allowed_to_this_host_and_the_configured_socket_host(settings):
    settings.CHAT_WEBSOCKET_URL = "wss://ws.chat.example.com/ws/"
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    plain = directives(Client().get("/", HTTP_HOST="chat.example.com"))["connect-src"]
    assert plain == ["'self'", "ws://chat.example.com", "wss://ws.chat.example.com"]
    secure = directives(Client().get("/", HTTP_HOST="chat.example.com", secure=True))["connect-src"]
    assert "wss://chat.example.com" in secure and "ws://chat.example.com" not in secure


def test_a_view_may_set_its_own_policy():
    own = HttpResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'none'"})
    middleware = ContentSecurityPolicyMiddleware(lambda request: own)
    assert middleware(RequestFactory().get("/"))["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_code(path):
    response = Client().get(path)
    assert inline_code(response.content.decode()) == []


def admin_paths(user_pk: int) -> list[str]:
    """Every registered model's change list and add form, and one change form."""
    paths = ["/admin/?sections=1", f"/admin/accounts/user/{user_pk}/change/"]
    for model in (model for model in apps.get_models() if admin.site.is_registered(model)):
        info = (model._meta.app_label, model._meta.model_name)
        for view in ("changelist", "add"):
            try:
                paths.append(reverse(f"admin:{info[0]}_{info[1]}_{view}"))
            except NoReverseMatch:
                continue
    return paths


def test_every_admin_screen_has_no_inline_code(admin_client, admin_user):
    for path in admin_paths(admin_user.pk):
        response = admin_client.get(path)
        if response.status_code != 200:  # a model whose admin refuses adding, for instance
            continue
        assert inline_code(response.content.decode()) == [], path


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_and_docs_work_in_chromium_with_no_policy_violation(admin_user, live_server, request):
    paths = admin_paths(admin_user.pk)
    # Started after the database work: Playwright's event loop makes the ORM refuse to run.
    page = request.getfixturevalue("browser").new_page()
    violations = []

    def collect(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", collect)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/chat/chatsession/")  # superusers land on the inbox

    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
    # The change form's JavaScript widgets ran: the groups selector became a two-box filter.
    page.goto(f"{live_server.url}/admin/accounts/user/{admin_user.pk}/change/")
    page.wait_for_selector("#id_groups_from", state="attached")

    # The API docs: Swagger UI built the operation list from the schema.
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15000)

    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("load")
    page.close()
    assert violations == []
