"""Every door of the project × every role, from one table (over 400 lines: the table is
the point, and reads whole).

Roles: anonymous, two customers (each holding their own chat's key), a staff user in no group
(clerk), an agent (Agentes), read-only staff (may view chats only), a manager (Gestores) and a
superuser. Every URL pattern of the project is listed here: the test walks the URL resolver,
so a new endpoint without a row fails the suite, as does a row for a route that is gone.
Each cell is the answer that role must get; every cell runs on the same data, rolled back
after it. The admin and the API must agree for every role on every capability they share,
the README's table must say what the policy does, and both sockets are tried by every role.
"""

from dataclasses import dataclass, field

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from audit.models import AuditEntry
from chat import links, policy, services
from chat.models import CannedResponse, ChatAnalytics, ChatSession, Holiday
from chat.tests import files
from chat.tests.sockets import WAIT, agent_socket, close_code, run, session_cookie
from conftest import bring_online, make_staff
from jtchat.settings import BASE_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sockets_share_the_test_transaction")]

ROLES = ("anonymous", "customer_a", "customer_b", "clerk", "agent", "reader", "manager", "superuser")
OUTSIDERS = {"anonymous", "customer_a", "customer_b"}
STAFF = set(ROLES) - OUTSIDERS
CUSTOMERS = {"customer_a", "customer_b"}

# Who has which capability: the README's "Who may do what", written out by hand so that the
# policy is checked against it (test_the_policy_grants_what_the_table_says).
HAS = {
    policy.VIEW_CHATS: {"agent", "reader", "manager", "superuser"},
    policy.REPLY: {"agent", "manager", "superuser"},
    policy.WRITE_NOTES: {"agent", "manager", "superuser"},
    policy.CLAIM: {"agent", "manager", "superuser"},
    policy.TRANSFER: {"agent", "manager", "superuser"},
    policy.END: {"agent", "manager", "superuser"},
    policy.USE_CANNED: {"agent", "manager", "superuser"},
    policy.MANAGE_CANNED: {"manager", "superuser"},
    policy.VIEW_METRICS: {"manager", "superuser"},
    policy.EXPORT: {"manager", "superuser"},
    policy.MANAGE_HOURS: {"manager", "superuser"},
    policy.MANAGE_USERS: {"manager", "superuser"},
    policy.VIEW_AUDIT: {"superuser"},
}
VIEW, REPLY, CLAIM, TRANSFER, END = (
    HAS[c] for c in (policy.VIEW_CHATS, policy.REPLY, policy.CLAIM, policy.TRANSFER, policy.END)
)
USE_CANNED, MANAGE_CANNED = HAS[policy.USE_CANNED], HAS[policy.MANAGE_CANNED]
METRICS, EXPORT, USERS, AUDIT = (
    HAS[c] for c in (policy.VIEW_METRICS, policy.EXPORT, policy.MANAGE_USERS, policy.VIEW_AUDIT)
)
HOURS = HAS[policy.MANAGE_HOURS]
GROUP_VIEWERS = {"manager", "superuser"}  # Gestores may read the groups (not change them)
NOBODY: set = set()


class Expect(dict):
    """Role -> status, and which roles the answer lets in (an admin POST that worked is a
    302 too, like the sign-in redirect outsiders get)."""

    def __init__(self, codes: dict, allowed: set):
        super().__init__(codes)
        self.allowed = set(allowed)


def admin(ok: int, allowed: set, **special: int) -> Expect:
    """An admin page: outsiders are sent to sign in, staff without the right get 403."""
    codes = {role: ok if role in allowed else 302 if role in OUTSIDERS else 403 for role in ROLES}
    return Expect({**codes, **special}, allowed)


def api(ok: int, allowed: set) -> Expect:
    """A staff endpoint of the API: 403 for everyone else, signed in or not."""
    return Expect({role: ok if role in allowed else 403 for role in ROLES}, allowed)


def customers(ok: int, others: int) -> dict:
    """A customer's endpoint: the key (in the X-Chat-Session header) opens its own chat."""
    return {role: ok if role in CUSTOMERS else others for role in ROLES}


def everyone(code: int) -> dict:
    return dict.fromkeys(ROLES, code)


@dataclass
class Case:
    method: str
    path: str  # may name objects: {chat}, {user}, {root}, {canned}, {day}, {audit}, {group}, {ct}
    expected: dict
    data: dict = field(default_factory=dict)
    capability: str = ""  # a name shared by the admin's and the API's case for one capability
    files: bool = False  # sent as multipart/form-data with a real PNG in ``files``


def get(path, expected, **kw):
    return Case("get", path, expected, **kw)


def post(path, expected, data=None, **kw):
    return Case("post", path, expected, data or {}, **kw)


def model_admin(
    prefix: str, *, view: set, add: set, change: set, delete: set, obj: str, hidden=False
) -> dict:
    """Django's five routes of a registered model (change asked with GET: view or change).
    ``hidden``: the model's list is scoped by the policy, so for staff who may not see it the
    object's history page answers as for an object that does not exist (back to the index)."""
    history = admin(200, view, **dict.fromkeys(STAFF - view, 302)) if hidden else admin(200, view)
    return {
        f"admin/{prefix}/": [get(f"/admin/{prefix}/", admin(200, view))],
        f"admin/{prefix}/add/": [get(f"/admin/{prefix}/add/", admin(200, add))],
        f"admin/{prefix}/<path:object_id>/history/": [get(f"/admin/{prefix}/{obj}/history/", history)],
        f"admin/{prefix}/<path:object_id>/delete/": [
            get(f"/admin/{prefix}/{obj}/delete/", admin(200, delete))
        ],
        f"admin/{prefix}/<path:object_id>/change/": [
            get(f"/admin/{prefix}/{obj}/change/", admin(200, view | change))
        ],
        f"admin/{prefix}/<path:object_id>/": [get(f"/admin/{prefix}/{obj}/", everyone(302))],  # to change/
    }


CHAT = "/admin/chat/chatsession/{chat}"
FILE = Expect(
    {**everyone(404), "customer_a": 200, "clerk": 403, **dict.fromkeys(VIEW, 200)}, {"customer_a"} | VIEW
)
ROWS: dict[str, list[Case]] = {
    "": [get("/", everyone(200))],
    "healthz": [get("/healthz", everyone(200))],
    # Operators' scrapes only (METRICS_TOKEN or METRICS_ALLOWED_NETWORKS): no sign-in opens it.
    "metrics": [get("/metrics", everyone(401))],
    # --- the admin site ---------------------------------------------------------------
    # Whoever may view chats lands on the inbox; ?sections=1 is the app index, for everyone.
    "admin/": [
        get("/admin/", admin(200, STAFF - VIEW, **dict.fromkeys(VIEW, 302))),
        get("/admin/?sections=1", admin(200, STAFF)),
    ],
    "admin/login/": [get("/admin/login/", {**everyone(200), **dict.fromkeys(STAFF, 302)})],
    "admin/logout/": [post("/admin/logout/", admin(200, STAFF))],
    "admin/password_change/": [get("/admin/password_change/", admin(200, STAFF))],
    "admin/password_change/done/": [get("/admin/password_change/done/", admin(200, STAFF))],
    "admin/autocomplete/": [get("/admin/autocomplete/", admin(403, NOBODY))],  # no model offers it
    "admin/jsi18n/": [get("/admin/jsi18n/", admin(200, STAFF))],
    "admin/r/<path:content_type_id>/<path:object_id>/": [get("/admin/r/{ct}/{chat}/", admin(404, STAFF))],
    "admin/^(?P<app_label>auth|audit|accounts|chat)/$": [
        get("/admin/chat/", {**admin(200, VIEW | METRICS), "clerk": 404}),
        get("/admin/audit/", {**admin(200, AUDIT), **dict.fromkeys(STAFF - AUDIT, 404)}),
    ],
    "admin/(?P<url>.*)$": [get("/admin/nada-aqui/", admin(404, STAFF))],
    **model_admin(
        "auth/group",
        view=GROUP_VIEWERS,
        add={"superuser"},
        change=NOBODY,
        delete={"superuser"},
        obj="{group}",
    ),
    **model_admin("audit/auditentry", view=AUDIT, add=NOBODY, change=NOBODY, delete=NOBODY, obj="{audit}"),
    **model_admin("accounts/user", view=USERS, add=USERS, change=USERS, delete={"superuser"}, obj="{user}"),
    **model_admin("chat/chatanalytics", view=METRICS, add=NOBODY, change=NOBODY, delete=NOBODY, obj="{day}"),
    **model_admin(
        "chat/cannedresponse",
        view=USE_CANNED,
        add=MANAGE_CANNED,
        change=MANAGE_CANNED,
        delete=MANAGE_CANNED,
        obj="{canned}",
    ),
    **model_admin("chat/holiday", view=HOURS, add=HOURS, change=HOURS, delete=HOURS, obj="{holiday}"),
    **model_admin(
        "chat/chatsession", view=VIEW, add=NOBODY, change=NOBODY, delete=NOBODY, obj="{chat}", hidden=True
    ),
    "admin/accounts/user/<id>/password/": [
        get("/admin/accounts/user/{user}/password/", admin(200, USERS)),
        get("/admin/accounts/user/{root}/password/", admin(200, {"superuser"}), capability="superuser"),
    ],
    "admin/chat/chatanalytics/metrics/": [
        get("/admin/chat/chatanalytics/metrics/", admin(200, METRICS), capability="metrics")
    ],
    "admin/chat/chatanalytics/export/daily.csv": [
        get("/admin/chat/chatanalytics/export/daily.csv", admin(200, EXPORT))
    ],
    "admin/chat/chatanalytics/export/conversations.csv": [
        get("/admin/chat/chatanalytics/export/conversations.csv", admin(200, EXPORT))
    ],
    "admin/chat/chatsession/team/": [get("/admin/chat/chatsession/team/", admin(200, METRICS))],
    "admin/chat/chatsession/rows/": [get("/admin/chat/chatsession/rows/?ids={chat}", admin(200, VIEW))],
    "admin/chat/chatsession/accepting/": [
        post("/admin/chat/chatsession/accepting/", admin(302, REPLY), {"accepting": "0"})
    ],
    "admin/chat/chatsession/<path:object_id>/reply/": [
        post(CHAT + "/reply/", admin(302, REPLY), {"content": "Olá!"}, capability="reply"),
        post(CHAT + "/reply/", admin(302, REPLY), {"content": "nota", "is_internal": "1"}, capability="note"),
    ],
    "admin/chat/chatsession/<path:object_id>/claim/": [
        post(CHAT + "/claim/", admin(302, CLAIM), capability="claim")
    ],
    "admin/chat/chatsession/<path:object_id>/transfer/": [
        post(CHAT + "/transfer/", admin(302, TRANSFER), {"to_agent": "{user}"}, capability="transfer")
    ],
    "admin/chat/chatsession/<path:object_id>/end/": [post(CHAT + "/end/", admin(302, END), capability="end")],
    "admin/chat/chatsession/<path:object_id>/read/": [
        post(CHAT + "/read/", admin(204, VIEW), {"up_to": "{last}"})
    ],
    "admin/chat/chatsession/<path:object_id>/transcript.txt": [
        get(CHAT + "/transcript.txt", admin(200, VIEW))
    ],
    # --- the API --------------------------------------------------------------------------
    "api/chat/session": [
        post("/api/chat/session", everyone(201)),
        get("/api/chat/session", customers(200, 400)),
    ],
    "api/chat/message": [post("/api/chat/message", customers(201, 400), {"content": "Oi"})],
    "api/chat/end": [post("/api/chat/end", customers(200, 400), {"rating": 5})],
    "api/chat/messages": [get("/api/chat/messages", customers(200, 400))],
    "api/chat/queue": [get("/api/chat/queue", everyone(200))],
    "api/chat/attachments": [
        post("/api/chat/attachments", customers(201, 400), {"content": "Olha"}, files=True)
    ],
    # A's photo: its customer and staff who view chats; anyone else, B's key included, 404.
    "api/chat/attachments/<int:pk>": [get("/api/chat/attachments/{file}", FILE)],
    "api/chat/attachments/<int:pk>/thumbnail": [get("/api/chat/attachments/{file}/thumbnail", FILE)],
    "api/chat/sessions/<int:pk>/attachments/": [
        post("/api/chat/sessions/{chat}/attachments/", api(201, REPLY), files=True, capability="reply")
    ],
    "api/chat/email": [
        post("/api/chat/email", customers(200, 400), {"customer_email": "cliente@example.com"})
    ],
    # Whoever holds a reply e-mail's link comes back to its chat (chat/links.py).
    "api/chat/reopen": [post("/api/chat/reopen", everyone(200), {"token": "{reopen}"})],
    "api/chat/agent-ticket": [get("/api/chat/agent-ticket", api(200, VIEW))],
    "api/chat/analytics/": [get("/api/chat/analytics/", api(200, METRICS), capability="metrics")],
    "api/chat/^sessions/$": [get("/api/chat/sessions/", api(200, VIEW), capability="view")],
    "api/chat/^sessions/(?P<pk>[^/.]+)/$": [get("/api/chat/sessions/{chat}/", api(200, VIEW))],
    "api/chat/^sessions/(?P<pk>[^/.]+)/claim/$": [
        post("/api/chat/sessions/{chat}/claim/", api(200, CLAIM), capability="claim")
    ],
    "api/chat/^sessions/(?P<pk>[^/.]+)/end/$": [
        post("/api/chat/sessions/{chat}/end/", api(200, END), capability="end")
    ],
    "api/chat/^sessions/(?P<pk>[^/.]+)/messages/$": [
        get("/api/chat/sessions/{chat}/messages/", api(200, VIEW)),
        post("/api/chat/sessions/{chat}/messages/", api(201, REPLY), {"content": "Olá!"}, capability="reply"),
        post(
            "/api/chat/sessions/{chat}/messages/",
            api(201, REPLY),
            {"content": "nota", "is_internal": True},
            capability="note",
        ),
    ],
    "api/chat/^sessions/(?P<pk>[^/.]+)/transfer/$": [
        post(
            "/api/chat/sessions/{chat}/transfer/",
            api(200, TRANSFER),
            {"to_agent": "{user}"},
            capability="transfer",
        )
    ],
    "api/users/^$": [
        get("/api/users/", api(200, USERS), capability="users"),
        post(
            "/api/users/",
            api(201, USERS),
            {"username": "nova", "password": "entrega-veloz-2026", "is_staff": True},
        ),
    ],
    "api/users/^(?P<pk>[^/.]+)/$": [
        get("/api/users/{user}/", api(200, USERS)),
        Case(
            "patch",
            "/api/users/{root}/",
            api(200, {"superuser"}),
            {"display_name": "Raiz"},
            capability="superuser",
        ),
    ],
    "api/schema/": [get("/api/schema/", everyone(200))],
    "api/docs/": [get("/api/docs/", everyone(200))],
}
# The admin's and the API's case of one capability must agree role by role.
ADMIN_API_PAIRS = ("view", "reply", "note", "claim", "transfer", "end", "metrics", "users", "superuser")
ROWS["admin/chat/chatsession/"][0].capability = "view"
ROWS["admin/accounts/user/"][0].capability = "users"


def routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def world(django_user_model):
    """Everyone and everything the table names. Customer A's chat waits, with a note."""
    users = {
        "clerk": make_staff(django_user_model, "clerk"),
        "agent": make_staff(django_user_model, "ana", "Agentes", display_name="Ana"),
        "reader": make_staff(django_user_model, "leitor"),
        "manager": make_staff(django_user_model, "gabi", "Gestores"),
        "superuser": make_staff(django_user_model, "root", is_superuser=True, email="root@example.com"),
    }
    users["reader"].user_permissions.add(Permission.objects.get(codename="view_chatsession"))
    other = make_staff(django_user_model, "bruno", "Agentes", display_name="Bruno")
    bring_online(other)  # available: chats may be transferred to him
    chat_a = services.session_open(customer_name="Ana Cliente")
    chat_b = services.session_open(customer_name="Beto Cliente")
    services.customer_message_post(session_key=chat_a.session_id, content="Cadê meu pacote?")
    note = services.agent_message_post(session_pk=chat_a.pk, agent=other, content="VIP", is_internal=True)
    photo = services.customer_files_post(
        session_key=chat_a.session_id, files=[files.upload("caixa.png", files.png_bytes())]
    )
    day = ChatAnalytics.objects.create(date=timezone.localdate())
    return {
        "users": users,
        "chats": {"customer_a": chat_a, "customer_b": chat_b},
        "ids": {
            "chat": chat_a.pk,
            "user": other.pk,
            "root": users["superuser"].pk,
            "canned": CannedResponse.objects.create(title="Oi", shortcut="oi", text="Olá!").pk,
            "day": day.pk,
            "audit": AuditEntry.objects.create(actor_name="root", action=AuditEntry.Action.ANONYMIZED).pk,
            "group": Group.objects.get(name="Agentes").pk,
            "ct": ContentType.objects.get_for_model(ChatSession).pk,
            "last": note.message.pk,
            "file": photo.message.attachment_list[0].pk,
            "holiday": Holiday.objects.create(date=timezone.localdate(), name="Feriado").pk,
            "reopen": links.reopen_token(chat_a),
        },
    }


def client_for(role: str, world) -> Client:
    if role in CUSTOMERS:
        return Client(HTTP_X_CHAT_SESSION=str(world["chats"][role].session_id))
    client = Client()
    if role in world["users"]:
        client.force_login(world["users"][role])
    return client


def fill(value, ids: dict, json: bool):
    """A row's value with its ``{id}`` placeholders filled; in a JSON body an id is a number."""
    if not isinstance(value, str):
        return value
    filled = value.format(**ids)
    return int(filled) if json and value.startswith("{") and filled.isdigit() else filled


def answer(client: Client, case: Case, ids: dict, chat_key: str | None = None) -> int:
    path = case.path.format(**ids)
    data = {key: fill(value, ids, json=path.startswith("/api/")) for key, value in case.data.items()}
    if chat_key and case.method == "post" and path.startswith("/api/chat/") and not case.files:
        data = {"session_id": chat_key, **data}  # a customer's JSON call carries the key in its body
    if case.method == "get":
        return client.get(path).status_code
    if case.files:
        return client.post(
            path, {**data, "files": [files.upload("etiqueta.png", files.png_bytes())]}
        ).status_code
    if path.startswith("/api/"):
        return getattr(client, case.method)(path, data, content_type="application/json").status_code
    return client.post(path, data).status_code


def test_every_route_has_a_row_and_every_row_a_route():
    listed, served = set(ROWS), set(routes())
    assert served - listed == set(), "routes without a row in the access table"
    assert listed - served == set(), "rows for routes that no longer exist"


@pytest.mark.parametrize("route", sorted(ROWS))
def test_each_role_gets_the_answer_the_table_gives(route, world):
    clients = {role: client_for(role, world) for role in ROLES}
    wrong = []
    for case in ROWS[route]:
        for role in ROLES:
            with transaction.atomic():  # every cell on the same data
                key = str(world["chats"][role].session_id) if role in CUSTOMERS else None
                got = answer(clients[role], case, world["ids"], key)
                transaction.set_rollback(True)
            if got != case.expected[role]:
                wrong.append(
                    f"{case.method.upper()} {case.path} as {role}: {got}, expected {case.expected[role]}"
                )
    assert wrong == []


def test_the_admin_and_the_api_agree_for_every_role():
    for capability in ADMIN_API_PAIRS:
        cases = [case for cases in ROWS.values() for case in cases if case.capability == capability]
        sides = {"admin" if case.path.startswith("/admin/") else "api" for case in cases}
        assert sides == {"admin", "api"}, capability
        for role in ROLES:
            admin_allows = {role in c.expected.allowed for c in cases if c.path.startswith("/admin/")}
            api_allows = {role in c.expected.allowed for c in cases if c.path.startswith("/api/")}
            assert admin_allows == api_allows, (capability, role)


def test_the_policy_grants_what_the_table_says(world):
    for capability, holders in HAS.items():
        for role, user in world["users"].items():
            fresh = type(user).objects.get(pk=user.pk)
            assert policy.can(fresh, capability) == (role in holders), (capability.name, role)
        assert policy.can(None, capability) is False


def test_the_readme_table_says_what_the_policy_does(world):
    """README "Who may do what": one row per capability, one column per staff role."""
    text = (BASE_DIR / "README.md").read_text()
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("| `")]
    columns = ("clerk", "agent", "reader", "manager", "superuser")
    seen = set()
    for cells in rows:
        name = cells[0].strip().strip("`")
        capability = policy.CAPABILITIES[name]
        seen.add(name)
        said = {
            role for role, cell in zip(columns, cells[2:7], strict=True) if cell.strip().startswith("yes")
        }
        assert said == HAS[capability], name
    assert seen == set(policy.CAPABILITIES)


# --- the sockets ----------------------------------------------------------------------------


def test_the_agent_socket_opens_for_who_may_view_chats_and_carries_notes(world, client, committed):
    from jtchat.asgi import application  # noqa: F401  (routing loaded before the sockets)

    chat = world["chats"]["customer_a"]

    async def try_role(role):
        user = world["users"].get(role)
        cookie = await database_sync_to_async(session_cookie)(client, user) if user else b""
        socket = await agent_socket(cookie=cookie)
        if role not in VIEW:
            assert await close_code(socket) == 4403, role
        else:
            assert await socket.receive_json_from(WAIT) == {"type": "ready"}, role
            await socket.send_json_to({"type": "watch", "session_id": chat.pk})
            assert await socket.receive_json_from(WAIT) == {"type": "watching", "session_id": chat.pk}
            await committed(
                services.agent_message_post,
                session_pk=chat.pk,
                agent=world["users"]["manager"],
                content="só equipe",
                is_internal=True,
            )
            frame = await socket.receive_json_from(WAIT)
            assert frame["message"]["is_internal"] and frame["message"]["content"] == "só equipe", role
        await socket.disconnect()

    async def scenario():
        for role in ("anonymous", "clerk", "agent", "reader", "manager", "superuser"):
            await try_role(role)

    run(scenario)


def test_a_customer_socket_opens_only_its_own_chat_and_never_a_note(world, committed):
    from channels.testing import WebsocketCommunicator

    from jtchat.asgi import application

    chat_a, chat_b = world["chats"]["customer_a"], world["chats"]["customer_b"]

    async def hello(key):
        socket = WebsocketCommunicator(application, "/ws/chat/")
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "hello", "session_id": key, "after": 0})
        return socket

    async def scenario():
        socket_b = await hello(str(chat_b.session_id))
        ready = await socket_b.receive_json_from(WAIT)
        assert ready["session"]["customer_name"] == "Beto Cliente"
        socket_a = await hello(str(chat_a.session_id))
        assert (await socket_a.receive_json_from(WAIT))["type"] == "ready"
        history = [(await socket_a.receive_json_from(WAIT))["message"] for _ in range(2)]
        # the note is not in the customer's history; the photo is
        assert [message["content"] for message in history] == ["Cadê meu pacote?", ""]
        assert history[1]["attachments"][0]["name"] == "caixa.png"
        await committed(
            services.agent_message_post,
            session_pk=chat_a.pk,
            agent=world["users"]["agent"],
            content="nota",
            is_internal=True,
        )
        await committed(services.customer_message_post, session_key=chat_a.session_id, content="de novo")
        assert (await socket_a.receive_json_from(WAIT))["message"]["content"] == "de novo"
        assert await socket_b.receive_nothing(0.2)  # nothing of A's chat reaches B
        for key, code in (("not-a-key", 4400), ("6b2b0c36-0e0e-4b0e-8f7a-000000000000", 4404)):
            stranger = await hello(key)
            assert await close_code(stranger) == code
            await stranger.disconnect()
        await socket_a.disconnect()
        await socket_b.disconnect()

    run(scenario)
