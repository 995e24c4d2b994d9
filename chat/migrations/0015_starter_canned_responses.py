"""The starter canned responses for J&T Express, in pt-BR: a fresh install answers
/saudacao, /rastreio, /atraso, /avaria, /endereco and /encerramento. Managers edit them in
the admin like any other. A shortcut a deployment already has is left as it is; undoing
removes only the starters nobody changed."""

from django.db import migrations

STARTERS = [
    (
        "saudacao",
        "Saudação",
        "Olá! Aqui é do atendimento da J&T Express, obrigado por entrar em contato. "
        "Como posso ajudar você hoje?",
    ),
    (
        "rastreio",
        "Rastreio",
        "Para consultar sua encomenda, me informe o código de rastreio, por favor. "
        "Com ele vejo onde ela está e qual é a previsão de entrega.",
    ),
    (
        "atraso",
        "Atraso na entrega",
        "Sinto muito pela demora. Vou acompanhar a sua entrega com a base responsável e "
        "aviso você por aqui assim que houver uma atualização.",
    ),
    (
        "avaria",
        "Avaria ou extravio",
        "Lamento pelo ocorrido. Para registrar a avaria ou o extravio, preciso do código de "
        "rastreio, de fotos da embalagem e do produto (em caso de avaria) e de uma breve "
        "descrição do que aconteceu. Com isso abro o caso e passo o número do protocolo.",
    ),
    (
        "endereco",
        "Troca de endereço",
        "Posso ajudar com a troca do endereço de entrega. Me informe o código de rastreio e o "
        "novo endereço completo (rua, número, complemento, bairro, cidade e CEP). A troca "
        "depende da etapa em que a encomenda está; confirmo com você em seguida.",
    ),
    (
        "encerramento",
        "Encerramento",
        "Posso ajudar em mais alguma coisa? Obrigado por falar com a J&T Express. Ao final, "
        "você pode avaliar este atendimento: sua opinião nos ajuda a melhorar.",
    ),
]


def add_starters(apps, schema_editor):
    CannedResponse = apps.get_model("chat", "CannedResponse")
    taken = set(CannedResponse.objects.values_list("shortcut", flat=True))
    CannedResponse.objects.bulk_create(
        CannedResponse(shortcut=shortcut, title=title, text=text)
        for shortcut, title, text in STARTERS
        if shortcut not in taken
    )


def remove_untouched_starters(apps, schema_editor):
    CannedResponse = apps.get_model("chat", "CannedResponse")
    for shortcut, title, text in STARTERS:
        CannedResponse.objects.filter(shortcut=shortcut, title=title, text=text).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0014_job_runs"),
    ]

    operations = [
        migrations.RunPython(add_starters, remove_untouched_starters),
    ]
