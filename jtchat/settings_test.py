"""Settings for the test suite: production settings with a throwaway key and no HTTPS redirect."""

import os
import tempfile

os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Rate limits would turn a suite's many requests from 127.0.0.1 into 429s; the throttle
# tests (chat/tests/test_throttling.py) set CHAT_THROTTLE_RATES themselves.
os.environ.setdefault("CHAT_THROTTLE_ENABLED", "0")
# Uploaded files of a test run go to a folder of its own, which the server processes that
# tests start inherit through the environment (tests that look at files use a fresh one).
os.environ.setdefault("MEDIA_ROOT", os.path.join(tempfile.gettempdir(), f"jtchat-test-media-{os.getpid()}"))

from .settings import *  # noqa: E402,F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so that real server processes started by tests share the data.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"jtchat-test-{os.getpid()}.sqlite3")
    }
