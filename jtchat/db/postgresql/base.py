"""PostgreSQL for the WSGI workers: Django's backend without a health check per busy request.

With CONN_HEALTH_CHECKS, Django sends ``SELECT 1`` at the first database use of every
request, to catch a kept connection that died while it sat idle between requests (server
restart, a proxy's idle timeout, a terminated backend). Under load, in the HTTP benchmark
(bench/http_bench.py), that extra round trip took about a quarter of the wall time of
POST /api/chat/message.

A connection that served a request a moment ago is as good as proven, so the check is skipped
when the last request that used this connection ended with no database error and had created
its last cursor less than ``HEALTH_CHECK_GRACE_SECONDS`` before this request's first use.
Otherwise (idle for longer, requests since then that did not touch the database, an error,
a new connection) Django's own check runs as before. A connection killed inside the grace
costs the request that finds it dead, as it would without health checks; the error then makes
Django close it at the end of that request, and the next request connects afresh.

settings.py selects this backend for WSGI processes on PostgreSQL only: the ASGI process uses
the stock backend with psycopg's pool, and SQLite's check sends nothing over a network.

It reads ``errors_occurred`` and sets ``health_check_done``, attributes of Django's connection
that its documentation does not name (README, "Private internals": measured gain, the Django
version they are pinned to; chat/tests/test_db_backend.py fails if an upgrade changes them).
The public alternatives are Django's check on every request (5–9% more CPU per customer
message) or no check at all (Django's default, as fast, but a connection that died while idle
fails the request that finds it).
"""

from time import monotonic

from django.db.backends.postgresql import base

# Seconds a connection counts as proven after the last request that used it. Short: it only
# has to cover the gap between requests of a busy worker, where the check costs the most;
# an idle worker's next request is checked as before.
HEALTH_CHECK_GRACE_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # When the current request last created a cursor (None: it has not used the database).
        self._used_at = None
        # When a request that ended without a database error last created a cursor.
        self._proven_at = None

    def connect(self):
        # A new connection owes nothing to the one before it (connect() counts as checked).
        self._used_at = None
        self._proven_at = None
        super().connect()

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        self._used_at = monotonic()
        return cursor

    def close_if_unusable_or_obsolete(self):
        """At each request boundary: keep the time of use only if no database error followed."""
        used_at, self._used_at = self._used_at, None
        errors_occurred = self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is None or errors_occurred:
            self._proven_at = None
        elif used_at is not None:
            self._proven_at = used_at

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and not self.health_check_done
            and self._proven_at is not None
            and monotonic() - self._proven_at < HEALTH_CHECK_GRACE_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
