"""Schemathesis hooks for the outside fuzzing run (chat/tests/fuzzing/run.py starts it with
``SCHEMATHESIS_HOOKS=chat.tests.fuzzing.hooks``): who is calling, and real test data.

``JTCHAT_FUZZ_IDENTITY`` says who calls: ``anonymous`` (no key, no login), ``customer``
(holds a chat it opened through the API) or ``agent`` (a manager signed in by the run: this
module sends the session cookie as the schema's ``cookieAuth`` and the CSRF token, keeps the
cookie the server renews, and adds the chat keys a staff member's calls through the
customer's door need).

Uploads get real files: small JPEG, PNG, WebP, HEIC and PDF files of random sizes, made
with Pillow, for the media types the schema's upload encoding names.

A generated value that is well formed — a UUID where a chat key goes, a whole number where a
chat, user or file id goes, a string where a reopen token goes — is replaced by a real one,
so calls reach the API's logic instead of stopping at 404 (unknown keys and ids get their
404 in the suite's own tests, and here in the negative cases). A well-formed
password is replaced by a strong one every time: Django's validators also refuse passwords
too like the user's name or too common, which no schema can say. Malformed values (the
negative cases) are left alone: they must be refused with a 4xx as generated.
No Django here: this module runs inside the schemathesis process.
"""

import io
import json
import os
import random
import re
import threading
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

import requests
import schemathesis
from hypothesis import strategies as st

IDENTITY = os.environ.get("JTCHAT_FUZZ_IDENTITY", "anonymous")
DATA = (
    json.loads(Path(os.environ["JTCHAT_FUZZ_DATA"]).read_text()) if "JTCHAT_FUZZ_DATA" in os.environ else {}
)
# The run's seed also drives the hooks' choices (which real value, which password).
RANDOM = random.Random(os.environ.get("JTCHAT_FUZZ_SEED"))
LOGIN_COOKIES = ("sessionid", "csrftoken")
OPTIONAL_KEY_PATHS = {"/api/chat/queue", "/api/chat/attachments/{id}", "/api/chat/attachments/{id}/thumbnail"}
UUID_TEXT = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2213b5a0000000049454e44ae426082"
)


class CustomerChat:
    """The chat this identity holds: opened through the API with a photo in it, and opened
    again once it has ended (a 409) or filled its file quota."""

    def __init__(self):
        self._lock = threading.Lock()
        self.key = None
        self.attachment_ids: list[int] = []

    def current(self) -> tuple[str, list[int]]:
        with self._lock:
            if self.key is None:
                self.key, self.attachment_ids = open_chat(DATA["base_url"])
            return self.key, list(self.attachment_ids)

    def spent(self, key: str) -> None:
        with self._lock:
            if self.key == key:
                self.key = None


def open_chat(base_url: str) -> tuple[str, list[int]]:
    opened = requests.post(
        f"{base_url}/api/chat/session", json={"customer_name": "Cliente de teste"}, timeout=30
    )
    opened.raise_for_status()
    key = opened.json()["session_id"]
    sent = requests.post(
        f"{base_url}/api/chat/attachments",
        headers={"X-Chat-Session": key},
        files={"files": ("foto.png", PNG_1X1, "image/png")},
        data={"content": "Foto da etiqueta"},
        timeout=30,
    )
    sent.raise_for_status()
    return key, [attachment["id"] for attachment in sent.json()["attachments"]]


CHAT = CustomerChat()
KEY_OF_CASE: dict[str, str] = {}  # case id -> the key before_call put in it


def _real(values):
    return RANDOM.choice(values) if values else None


def _is_id(value) -> bool:
    """A whole number an id can be (ids start at 1; ``to_agent``'s schema says so)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _swap_key(case) -> str | None:
    """Put the held chat's key where a well-formed key was generated; the key used."""
    if IDENTITY == "anonymous":
        return None
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if IDENTITY == "customer" and positive and case.operation.path in OPTIONAL_KEY_PATHS:
        # The customer's page sends its key wherever a call takes one, optional or not.
        case.headers.setdefault("X-Chat-Session", str(uuid.uuid4()))
    header = case.headers.get("X-Chat-Session") if case.headers else None
    in_body = isinstance(case.body, dict) and isinstance(case.body.get("session_id"), str)
    if not (isinstance(header, str) and UUID_TEXT.match(header)) and not (
        in_body and UUID_TEXT.match(case.body["session_id"])
    ):
        return None
    key, attachment_ids = CHAT.current()
    if isinstance(header, str) and UUID_TEXT.match(header):
        case.headers["X-Chat-Session"] = key
    if in_body and UUID_TEXT.match(case.body["session_id"]):
        case.body["session_id"] = key
    if case.operation.path.startswith("/api/chat/attachments/") and _is_id(case.path_parameters.get("id")):
        real = _real(attachment_ids)
        case.path_parameters["id"] = real if real is not None else case.path_parameters["id"]
    return key


def _swap_ids(case) -> None:
    path = case.operation.path
    parameters = case.path_parameters or {}
    if IDENTITY == "agent" and _is_id(parameters.get("id")):
        if path.startswith("/api/chat/sessions/"):
            pool = DATA["chat_ids"]
        elif path.startswith("/api/users/"):
            pool = DATA["user_ids"]
        elif path.startswith("/api/chat/attachments/"):
            pool = DATA["attachment_ids"]
        else:
            pool = []
        real = _real(pool)
        if real is not None:
            parameters["id"] = real
    body = case.body if isinstance(case.body, dict) else {}
    if IDENTITY == "agent" and path.endswith("/transfer/") and _is_id(body.get("to_agent")):
        real = _real(DATA["agent_ids"])
        if real is not None:
            body["to_agent"] = real
    if path == "/api/chat/reopen" and isinstance(body.get("token"), str) and len(body["token"]) <= 200:
        real = _real(DATA["reopen_tokens"])
        if real is not None:
            body["token"] = real


class AgentLogin:
    """The signed-in manager's cookies: from the run's sign-in, then as the server renews
    them (a manager who changes their own password gets a new session, as in a browser)."""

    def __init__(self, cookies: dict):
        self._lock = threading.Lock()
        self.cookies = dict(cookies)

    def mark(self, case) -> None:
        """The case is to be sent signed in (schemathesis may prepare it well before it goes)."""
        case.cookies = {**(case.cookies or {}), "sessionid": "", "csrftoken": ""}

    def apply(self, case) -> None:
        """Just before the call: the cookies as they are now."""
        if not case.cookies or "sessionid" not in case.cookies:
            return  # a case that tests a call without the login
        with self._lock:
            case.cookies = {**case.cookies, **self.cookies}
            case.headers["X-CSRFToken"] = self.cookies["csrftoken"]

    def renewed(self, response) -> None:
        renewed = {}
        for name, values in response.headers.items():
            if name.lower() == "set-cookie":
                for value in values:
                    cookie = SimpleCookie()
                    cookie.load(value)
                    renewed.update({key: morsel.value for key, morsel in cookie.items() if morsel.value})
        with self._lock:
            self.cookies.update({name: renewed[name] for name in LOGIN_COOKIES if name in renewed})


LOGIN = AgentLogin(DATA.get("agent_cookies", {}))


if IDENTITY == "agent":

    @schemathesis.auth()
    class ManagerSession:
        """``cookieAuth`` as the schema declares it: left out when a case tests its absence."""

        def get(self, case, ctx):
            return True

        def set(self, case, data, ctx):
            LOGIN.mark(case)


def _image(kind: str):
    @st.composite
    def files(draw):
        from PIL import Image

        size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
        colour = tuple(draw(st.integers(0, 255)) for _ in range(3))
        buffer = io.BytesIO()
        image = Image.new("RGB", size, colour)
        if kind == "HEIF":
            import pillow_heif

            pillow_heif.from_pillow(image).save(buffer, format="HEIF")
        else:
            image.save(buffer, format=kind)
        return buffer.getvalue()

    return files()


for media_type, kind in {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "application/pdf": "PDF",
}.items():
    schemathesis.openapi.media_type(media_type, _image(kind))


def _fix_form(case) -> None:
    """Schemathesis draws one file for an array of files that has an ``encoding`` and sends it
    without a filename, which makes it a plain form field for any multipart parser: send it
    as the one-item array the schema describes."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and isinstance(case.body, dict) and isinstance(case.body.get("files"), bytes):
        case.body["files"] = [case.body["files"]]


def _strong_password(case) -> None:
    body = case.body if isinstance(case.body, dict) else {}
    password = body.get("password")
    if case.operation.path.startswith("/api/users/") and isinstance(password, str) and len(password) >= 8:
        body["password"] = "Senha-" + "".join(RANDOM.choices("abcdefghjkmnpqrstuvwxyz23456789", k=16))


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if IDENTITY == "agent":
        LOGIN.apply(case)
    _fix_form(case)
    _strong_password(case)
    key = _swap_key(case)
    if key is not None:
        KEY_OF_CASE[case.id] = key
    _swap_ids(case)


@schemathesis.hook
def after_call(ctx, case, response):
    if IDENTITY == "agent":
        LOGIN.renewed(response)
    key = KEY_OF_CASE.pop(case.id, None)
    ended = case.operation.path == "/api/chat/end" and response.status_code == 200
    if key is not None and (ended or response.status_code == 409):
        CHAT.spent(key)
