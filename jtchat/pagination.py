"""The lists' pagination: DRF's limit and offset, held to what the schema says.

DRF's LimitOffsetPagination reads ``?offset=abc`` or ``?limit=-1`` as absent and answers the
first page; an integrator with a bug in their paging would loop over it unawares. Here a
value that is not a whole number in range is a 400, and the schema says the ranges.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**63 - 1


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 200

    def _read(self, request, name: str, minimum: int, maximum: int):
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
            message = _("Must be a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum}
            raise serializers.ValidationError({name: [message]})
        return int(raw)

    def get_limit(self, request):
        limit = self._read(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, 0, MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        ranges = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(ranges.get(parameter["name"], {}))
        return parameters
