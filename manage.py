#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings: a missing SECRET_KEY says so here)
    except ImproperlyConfigured as exc:
        # Otherwise Django goes on without settings and fails later with an unrelated error.
        hint = "(`make run` writes a local .env with DEBUG=1 and a generated SECRET_KEY.)"
        sys.exit(f"ImproperlyConfigured: {exc}\n{hint}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
