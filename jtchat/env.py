"""Reading the environment: the helpers jtchat/settings.py builds every setting with.

Each raises ImproperlyConfigured with a message that names the variable and shows a valid
value, so a bad deploy stops at start-up instead of misbehaving later.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def read_env_file(path: Path) -> None:
    """Put the ``KEY=VALUE`` lines of a local ``.env`` into the environment, where the
    environment does not already set them (``make run`` writes one: DEBUG and a generated
    SECRET_KEY). Blank lines and ``#`` comments are skipped; a value may be quoted."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise ImproperlyConfigured(f"{path}, line {number}: expected KEY=VALUE.")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key, value)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def attachment_storage() -> dict:
    """The ``attachments`` storage: the filesystem under MEDIA_ROOT, or an S3-compatible
    bucket (django-storages) when AWS_STORAGE_BUCKET_NAME is set. Objects stay private; the
    file view hands agents 60-second signed URLs (README, "Deploying to Render")."""
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": bucket,
        "default_acl": None,  # the bucket's own: private
        "querystring_auth": True,  # signed URLs only
        "querystring_expire": 60,
        "file_overwrite": False,
        # Files read back through the app (the customer page) spool to disk above this.
        "max_memory_size": 2_621_440,
        "signature_version": "s3v4",
    }
    for option, variable in (
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("region_name", "AWS_S3_REGION_NAME"),
        ("access_key", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "AWS_SECRET_ACCESS_KEY"),
        ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),
    ):
        value = os.environ.get(variable, "").strip()
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def parse_email_url(url: str) -> dict:
    """Django's e-mail settings from EMAIL_URL: smtp:// (plain), smtp+tls:// (STARTTLS, port
    587 by default), smtps:// or smtp+ssl:// (TLS from the start, port 465), console://."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    ports = {"smtp": 25, "smtp+tls": 587, "submission": 587, "smtps": 465, "smtp+ssl": 465}
    if scheme not in ports or not parsed.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp+tls://user:password@smtp.example.com:587 "
            "(schemes: smtp, smtp+tls, smtps, console)."
        )
    try:
        port = parsed.port or ports[scheme]
    except ValueError as exc:
        raise ImproperlyConfigured("EMAIL_URL has an invalid port.") from exc
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": scheme in ("smtp+tls", "submission"),
        "EMAIL_USE_SSL": scheme in ("smtps", "smtp+ssl"),
    }


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate ("20/min"); "off" (or 0) means no limit."""
    value = os.environ.get(name, "").strip() or default
    if value.lower() in {"off", "0", "none"}:
        return None
    count, _sep, period = value.partition("/")
    if not count.isdigit() or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name} must look like 20/min (or off), got {value!r}.")
    return value
