"""Views that take only the query parameters they declare: ``?statu=waiting`` (a typo) is a
400 naming it, not the unfiltered list an integrator would take for the filtered one. The
schema documents each view's parameters, and the 400 (chat/api/schema.py)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError


class DeclaredQuery:
    """Mix into an APIView or viewset. ``query_parameters``: the names it reads, a set for
    every action or ``{action: set}``; a paginated list adds its paginator's."""

    query_parameters: set[str] | dict[str, set[str]] = frozenset()

    def declared_query_parameters(self) -> set[str]:
        declared = self.query_parameters
        action = getattr(self, "action", None)
        names = set(declared.get(action, ()) if isinstance(declared, dict) else declared)
        paginator = getattr(self, "paginator", None)
        if action == "list" and paginator is not None:
            names |= {paginator.limit_query_param, paginator.offset_query_param}
        return names

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # who may call comes first (403 before 400)
        method = request.method.lower()
        if method == "options" or getattr(self, method, None) is None:
            return  # a method the view does not take is a 405, whatever the query
        unknown = sorted(set(request.query_params) - self.declared_query_parameters())
        if unknown:
            raise ValidationError({name: [_("This call takes no such parameter.")] for name in unknown})
