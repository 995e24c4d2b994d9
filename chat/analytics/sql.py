"""SQL building blocks of the metrics: durations in seconds and continuous percentiles.

Percentiles use the continuous definition of PostgreSQL's ``percentile_cont`` (also numpy's
default and Excel's PERCENTILE.INC): sort the n values, take the position p·(n−1) counted
from 0, and interpolate linearly between the two values around it. PostgreSQL computes it in
the database; other databases (SQLite) fetch the ordered values of that one column and apply
the same formula (:func:`interpolated_percentile`), so both give the same numbers.
"""

from __future__ import annotations

import math

from django.db import NotSupportedError, connection
from django.db.models import Aggregate, F, FloatField, Func


class DurationSeconds(Func):
    """The seconds (a float) of a duration expression such as ``F("b") - F("a")``.

    PostgreSQL subtracts timestamps into an interval; Django's SQLite backend returns the
    difference in microseconds, so both give exact, identical values.
    """

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM ({sql}))::double precision", params
        if not connection.features.has_native_duration_field:
            return f"(({sql}) / 1000000.0)", params
        raise NotSupportedError(f"DurationSeconds is not implemented for {connection.vendor}.")


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            raise NotSupportedError("percentile_cont needs PostgreSQL; use interpolated_percentile.")
        return super().as_sql(compiler, connection, **extra_context)


def interpolated_percentile(ordered: list[float], fraction: float) -> float | None:
    """``percentile_cont`` over values already sorted ascending (None for no values)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def database_computes_percentiles() -> bool:
    return connection.vendor == "postgresql"


FRT_SECONDS = DurationSeconds(F("first_response_at") - F("started_at"))
DURATION_SECONDS = DurationSeconds(F("ended_at") - F("started_at"))
