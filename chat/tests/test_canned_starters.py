"""The starter canned responses shipped by migration 0014."""

import importlib

import pytest
from django.apps import apps

from chat.models import CannedResponse

pytestmark = pytest.mark.django_db

starters = importlib.import_module("chat.migrations.0015_starter_canned_responses")


def test_a_fresh_install_has_the_starters_in_portuguese():
    shipped = dict(CannedResponse.objects.values_list("shortcut", "title"))
    assert shipped == {
        "saudacao": "Saudação",
        "rastreio": "Rastreio",
        "atraso": "Atraso na entrega",
        "avaria": "Avaria ou extravio",
        "endereco": "Troca de endereço",
        "encerramento": "Encerramento",
    }
    assert "código de rastreio" in CannedResponse.objects.get(shortcut="rastreio").text


def test_a_shortcut_a_deployment_has_is_kept_and_undoing_removes_only_untouched_starters():
    CannedResponse.objects.all().delete()
    ours = CannedResponse.objects.create(shortcut="rastreio", title="Nosso", text="Nosso texto.")

    starters.add_starters(apps, None)
    assert CannedResponse.objects.get(shortcut="rastreio").text == "Nosso texto."
    assert CannedResponse.objects.count() == 6

    CannedResponse.objects.filter(shortcut="atraso").update(text="Editado por um gestor.")
    starters.remove_untouched_starters(apps, None)
    assert sorted(CannedResponse.objects.values_list("shortcut", flat=True)) == ["atraso", "rastreio"]
    assert CannedResponse.objects.get(shortcut="rastreio").pk == ours.pk
