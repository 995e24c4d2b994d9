"""The product's URLs, with two services broken the way a fault would break them: the error
carries what the request carried (a name, an e-mail, a message, a session key), as a database
error's text can. Loaded by the test server of test_sentry.py only."""

from chat.live import announce
from chat.services import messages, sessions
from jtchat.urls import handler404, handler500, urlpatterns  # noqa: F401


def broken_new_session(session):
    details = f"{session.customer_email}, {session.user_ip}, {session.session_id}"
    raise RuntimeError(f"could not announce chat {session} ({details})")


def broken_message_post(*, session_key, message, now):
    raise RuntimeError(f"could not store {message.content!r} in chat {session_key}")


sessions.announce.new_session = broken_new_session
messages.message_sql.post_to_open_chat = broken_message_post
assert announce.new_session is broken_new_session
