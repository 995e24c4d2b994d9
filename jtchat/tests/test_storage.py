"""Production static files (jtchat/storage.py): module imports point at the hashed files.

The page scripts are ES modules importing each other by relative paths. In production every
static file gets a hashed name and is cached forever, so a module's imports must name the
hashed files too, or a browser would fetch (and keep) unhashed copies from another deploy.
"""

import json
import mimetypes
import posixpath
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from jtchat.testing import CHROMIUM, skip_or_fail

IMPORTED = re.compile(r'^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)";', re.MULTILINE)
ENTRY_POINTS = ["chat/customer/main.js", "chat/admin/inbox.js", "chat/admin/conversation.js"]


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic with the production storage into a fresh STATIC_ROOT: its manifest."""
    root = tmp_path_factory.mktemp("static_root")
    production = {"BACKEND": "jtchat.storage.ModuleManifestStaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": production}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield json.loads((root / "staticfiles.json").read_text())["paths"]


def imports_of(root, hashed_name: str) -> list[str]:
    """The files (relative to STATIC_ROOT) that a built module imports."""
    folder = posixpath.dirname(hashed_name)
    text = (root / hashed_name).read_text()
    return [posixpath.normpath(posixpath.join(folder, target)) for target in IMPORTED.findall(text)]


def test_production_settings_select_the_module_aware_storage():
    from jtchat import settings as production  # read with DEBUG off, as in production

    assert not production.DEBUG
    assert production.STORAGES["staticfiles"]["BACKEND"] == "jtchat.storage.ModuleManifestStaticFilesStorage"


def test_built_modules_import_the_hashed_files_all_the_way_down(collected):
    root = settings.STATIC_ROOT
    hashed = set(collected.values())
    seen, todo = set(), [collected[name] for name in ENTRY_POINTS]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for target in imports_of(root, module):
            assert target in hashed, f"{module} imports {target}, which is not a hashed file"
            assert (root / target).is_file(), target
            todo.append(target)
    main = collected["chat/customer/main.js"]
    assert re.fullmatch(r"chat/customer/main\.[0-9a-f]{12}\.js", main)
    direct = imports_of(root, main)
    assert collected["chat/customer/transport.js"] in direct
    assert "../lib/http.js" not in (root / main).read_text()
    # Deep imports too: lib/http.js names the hashed back-off and CSRF modules.
    assert collected["chat/lib/backoff.js"] in imports_of(root, collected["chat/lib/http.js"])
    # Every module of the three pages was reached, plus the compressed copies for WhiteNoise.
    assert {collected[f"chat/lib/{name}.js"] for name in ("socket", "linkify", "time")} <= seen
    assert (root / (main + ".gz")).is_file()


class Preloads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.modules: list[str] = []
        self.preloaded: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("type") == "module":
            self.modules.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "modulepreload":
            self.preloaded.append(attrs["href"])


@pytest.mark.django_db
def test_the_page_preloads_the_same_hashed_files_its_modules_import(collected):
    """Preloading a name the imports do not use would fetch every module twice."""
    parser = Preloads()
    parser.feed(Client().get("/").content.decode())
    static = "/" + settings.STATIC_URL.strip("/") + "/"
    assert parser.modules == [static + collected["chat/customer/main.js"]]
    wanted, todo = set(), [collected["chat/customer/main.js"]]
    while todo:
        for target in imports_of(settings.STATIC_ROOT, todo.pop()):
            if target not in wanted:
                wanted.add(target)
                todo.append(target)
    assert {href.removeprefix(static) for href in parser.preloaded} == wanted


@pytest.mark.browser
def test_chromium_loads_the_built_module_graph(collected):
    """The built files, served as a CDN would (nothing but STATIC_ROOT), load in Chromium."""
    import os

    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    root = settings.STATIC_ROOT
    origin = "http://static.test"
    requested: list[tuple[str, int]] = []

    def serve(route):
        path = route.request.url.removeprefix(origin + "/").split("?")[0]
        target = root / path
        if path == "index.html":
            route.fulfill(body="<!doctype html><title>modules</title>", content_type="text/html")
        elif target.is_file():
            requested.append((path, 200))
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            route.fulfill(body=target.read_bytes(), content_type=kind)
        else:
            requested.append((path, 404))
            route.fulfill(status=404, body="missing")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.route(origin + "/**", serve)
            page.goto(origin + "/index.html")
            entries = [collected[name] for name in ENTRY_POINTS]
            loaded = page.evaluate(
                "async (entries) => {"
                " for (const entry of entries) { await import('/' + entry); } return true; }",
                entries,
            )
        finally:
            browser.close()
    assert loaded is True
    assert requested and all(status == 200 for _path, status in requested), requested
    assert all(re.search(r"\.[0-9a-f]{12}\.js$", path) for path, _status in requested), requested
    assert {path for path, _status in requested} >= {collected["chat/lib/socket.js"], *entries}
