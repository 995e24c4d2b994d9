"""Test settings for a server process whose chat services fail (jtchat/tests/sentry_urls.py)."""

from jtchat.settings_test import *  # noqa: F403

ROOT_URLCONF = "jtchat.tests.sentry_urls"
