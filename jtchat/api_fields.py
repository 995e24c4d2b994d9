"""Input fields of every API here (chat, users) that take exactly the JSON type the OpenAPI
schema names.

DRF's own fields coerce: a CharField stores the number ``0`` as ``"0"``, a BooleanField takes
``"yes"`` and ``1``, an IntegerField ``"5"`` and ``5.0``, a UUIDField an integer or a UUID
without hyphens. The schema promises a string, a boolean, an integer, a hyphenated UUID;
these fields hold the API to that promise with DRF's own error messages (in pt-BR), so an
integrator who sends the wrong type learns it at once instead of finding it stored changed.

JSON bodies only: multipart forms and query strings carry nothing but strings.
"""

import re

from rest_framework import serializers

# A UUID as the schema's "format: uuid" means it: 36 characters, hyphenated.
UUID_TEXT = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictUUIDField(serializers.UUIDField):
    def to_internal_value(self, data):
        if not isinstance(data, str) or not UUID_TEXT.match(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """An object named by a text (a group by its name): only text a database can look up,
    so ``5`` or a name with a NUL character is "does not exist" (400), never a query error."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data or not _encodable(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


def _encodable(text: str) -> bool:
    """No lone surrogate (which no database driver can send)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A list of related objects (a user's groups) that must be a JSON array: DRF's own
    iterates any iterable, so an object ``{}`` would pass as an empty list."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)
