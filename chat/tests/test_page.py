"""The customer chat page as the server renders it (the script is covered by the browser tests)."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from chat.models import Issue
from chat.views import UI_STRINGS

pytestmark = pytest.mark.django_db


class PageParser(HTMLParser):
    """Collects what the tests look at: elements by id, labels, scripts and their bodies."""

    def __init__(self):
        super().__init__()
        self.by_id: dict[str, tuple[str, dict]] = {}
        self.label_targets: list[str] = []
        self.scripts: list[dict] = []
        self.script_bodies: dict[int, str] = {}
        self.html_attrs: dict = {}
        self.elements: list[tuple[str, dict]] = []
        self._in_script: int | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if "id" in attrs:
            self.by_id[attrs["id"]] = (tag, attrs)
        if tag == "html":
            self.html_attrs = attrs
        if tag == "label" and "for" in attrs:
            self.label_targets.append(attrs["for"])
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = len(self.scripts) - 1
            self.script_bodies[self._in_script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.script_bodies[self._in_script] += data


@pytest.fixture
def page(client):
    response = client.get(reverse("chat-page"))
    parser = PageParser()
    parser.feed(response.content.decode())
    return response, parser


def test_page_is_served_in_brazilian_portuguese(page):
    response, parsed = page
    assert response.status_code == 200
    assert parsed.html_attrs["lang"] == "pt-BR"
    assert 'lang="pt-BR"' in response.content.decode()


def test_every_form_control_has_a_label(page):
    _, parsed = page
    controls = [
        attrs
        for tag, attrs in parsed.elements
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "radio"}
    ]
    assert {attrs["id"] for attrs in controls} >= {
        "customer-name",
        "customer-email",
        "tracking-code",
        "topic",
        "message-input",
        "rating-comment",
    }
    for attrs in controls:
        assert attrs["id"] in parsed.label_targets, f"no <label for> for #{attrs['id']}"
    for target in parsed.label_targets:
        assert target in parsed.by_id, f"<label for={target}> points at nothing"


def test_rating_is_a_group_of_five_labelled_radios(page):
    _, parsed = page
    radios = [attrs for tag, attrs in parsed.elements if tag == "input" and attrs.get("type") == "radio"]
    assert [radio["value"] for radio in radios] == ["1", "2", "3", "4", "5"]
    assert {radio["name"] for radio in radios} == {"rating"}
    assert all(radio["id"] in parsed.label_targets for radio in radios)
    assert parsed.by_id["rating-stars"][0] == "fieldset"


def test_topics_come_from_the_issue_choices(page):
    _, parsed = page
    options = [attrs.get("value") for tag, attrs in parsed.elements if tag == "option"]
    assert options == ["", *Issue.values]


def test_ui_strings_come_in_a_json_block(page):
    _, parsed = page
    index = next(i for i, attrs in enumerate(parsed.scripts) if attrs.get("id") == "chat-strings")
    assert parsed.scripts[index]["type"] == "application/json"
    strings = json.loads(parsed.script_bodies[index])
    assert set(strings) == set(UI_STRINGS)
    assert all(isinstance(text, str) and text for text in strings.values())


def test_no_inline_executable_script(page):
    _, parsed = page
    for index, attrs in enumerate(parsed.scripts):
        if "src" in attrs:
            assert not parsed.script_bodies[index].strip()
        else:
            assert attrs.get("type") == "application/json", f"inline script: {attrs}"
    entry = [attrs for attrs in parsed.scripts if attrs.get("src", "").endswith("chat/customer/main.js")]
    assert len(entry) == 1 and entry[0]["type"] == "module"


def test_no_inline_event_handlers_or_styles(page):
    _, parsed = page
    for tag, attrs in parsed.elements:
        assert not [name for name in attrs if name.startswith("on")], f"<{tag}> has an inline handler"
        assert "style" not in attrs, f"<{tag}> has an inline style"


def test_config_travels_in_data_attributes(page, settings):
    _, parsed = page
    _, app = parsed.by_id["app"]
    assert app["data-ws-url"] == ""
    assert app["data-max-length"] == str(settings.CHAT_MAX_MESSAGE_LENGTH)
    assert app["data-session-url"] == reverse("chat-session")
    assert app["data-message-url"] == reverse("chat-message")
    assert app["data-messages-url"] == reverse("chat-messages")
    assert app["data-end-url"] == reverse("chat-end")


def test_websocket_url_setting_reaches_the_page(client, settings):
    settings.CHAT_WEBSOCKET_URL = "wss://ws.example.com"
    parsed = PageParser()
    parsed.feed(client.get(reverse("chat-page")).content.decode())
    assert parsed.by_id["app"][1]["data-ws-url"] == "wss://ws.example.com"


def test_message_log_announces_new_messages(page):
    _, parsed = page
    tag, log = parsed.by_id["message-log"]
    assert log["role"] == "log"
    assert log["aria-live"] == "polite"


def test_csrf_cookie_is_set(page):
    response, _ = page
    assert "csrftoken" in response.cookies


def page_modules(settings) -> dict[str, str]:
    """The customer page's modules and the shared ones, by path under static/chat/."""
    root = settings.BASE_DIR / "static/chat"
    return {
        str(path.relative_to(root)): path.read_text()
        for folder in ("customer", "lib")
        for path in sorted((root / folder).glob("*.js"))
    }


def test_customer_text_is_never_put_in_the_page_as_html(settings):
    modules = page_modules(settings)
    assert "customer/main.js" in modules and "lib/linkify.js" in modules
    for name, script in modules.items():
        assert "innerHTML" not in script, name
        assert "outerHTML" not in script, name
        assert "insertAdjacentHTML" not in script, name
        assert "document.write" not in script, name


def test_every_string_the_script_uses_is_handed_over(settings):
    used = {key for script in page_modules(settings).values() for key in re.findall(r"\bS\.(\w+)", script)}
    assert used, "the modules read their strings as S.<key>"
    assert used <= set(UI_STRINGS), f"missing from UI_STRINGS: {sorted(used - set(UI_STRINGS))}"
    assert set(UI_STRINGS) <= used, f"unused by the page: {sorted(set(UI_STRINGS) - used)}"


IMPORT = re.compile(r"^import\s[^;]*?\sfrom\s+\"(\.{1,2}/[^\"]+)\";", re.MULTILINE)


def module_imports(settings, name: str) -> set[str]:
    """Paths (under static/chat/) that module ``name`` imports, directly or not."""
    root = settings.BASE_DIR / "static/chat"
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for target in IMPORT.findall((root / current).read_text()):
            resolved = str((root / current).parent.joinpath(target).resolve().relative_to(root.resolve()))
            if resolved not in seen:
                seen.add(resolved)
                todo.append(resolved)
    return seen


def test_every_module_of_the_page_is_preloaded(page, settings):
    """The page names each module main.js needs, so the browser fetches them all at once
    rather than one level of imports after another (an extra round trip each on a phone)."""
    _, parsed = page
    preloaded = {
        attrs["href"].split("/static/chat/", 1)[1]
        for tag, attrs in parsed.elements
        if tag == "link" and attrs.get("rel") == "modulepreload"
    }
    assert preloaded == module_imports(settings, "customer/main.js")


def test_page_modules_import_each_other_by_relative_paths_only(settings):
    """Relative imports are what the production storage rewrites to hashed file names."""
    root = settings.BASE_DIR / "static/chat"
    for path in [*root.glob("customer/*.js"), *root.glob("lib/*.js"), *root.glob("admin/*.js")]:
        script = path.read_text()
        statements = re.findall(r"^import\s.*$", script, flags=re.MULTILINE)
        assert len(statements) == len(IMPORT.findall(script)), (path.name, statements)


def test_no_privacy_link_unless_configured(page):
    _, parsed = page
    assert "privacy-link" not in parsed.by_id


def test_privacy_link_beside_the_start_button(client, settings):
    settings.CHAT_PRIVACY_URL = "https://www.jtexpress.com.br/privacidade"
    html = client.get(reverse("chat-page")).content.decode()
    parsed = PageParser()
    parsed.feed(html)
    tag, link = parsed.by_id["privacy-link"]
    assert tag == "a" and link["href"] == "https://www.jtexpress.com.br/privacidade"
    assert link["target"] == "_blank" and link["rel"] == "noopener noreferrer"
    assert "Política de privacidade</a>" in html
    form = html[html.index('id="start-form"') : html.index("</form>", html.index('id="start-form"'))]
    assert 'id="start-button"' in form and 'id="privacy-link"' in form
