"""The issue classifier on messages the way customers really write them."""

import pytest

from chat.classifier import classify, normalize

TRACKING = "rastreamento"
DELAY = "atraso_entrega"
ADDRESS = "endereco"
DAMAGE = "avaria_extravio"
RETURN = "devolucao"
BILLING = "cobranca"
SERVICE = "atendimento"
OTHER = "outro"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("cadê minha encomenda", TRACKING),
        ("kd meu pedido???", TRACKING),
        ("Qual o código de rastreio do meu pedido?", TRACKING),
        ("Não consigo rastrear, o código não funciona", TRACKING),
        ("Onde está meu pacote? Comprei semana passada", TRACKING),
        ("Quando vai chegar meu pedido JT1234567890BR?", TRACKING),
        ("veio quebrado", DAMAGE),
        ("O produto chegou molhado e a caixa rasgada", DAMAGE),
        ("Meu pacote sumiu", DAMAGE),
        ("Minha encomenda foi EXTRAVIADA?", DAMAGE),
        ("A sacola veio rasgada", DAMAGE),  # "sacola" is not the SAC
        ("Pedido com avaria, quero reembolso", DAMAGE),  # the cause wins a tie with the refund
        ("quero meu dinheiro de volta", RETURN),
        ("Como faço pra devolver ao remetente?", RETURN),
        ("preciso trocar o produto, veio no tamanho P", RETURN),
        ("me cobraram duas vezes", BILLING),
        ("Fui cobrado no cartão 2x!!", BILLING),
        ("Paguei a taxa de importação e não liberaram", BILLING),
        ("recebi uma cobrança indevida de frete", BILLING),
        ("o entregador não passou", DELAY),
        ("Tá atrasado demais, era pra ter chegado ontem", DELAY),
        ("O prazo de entrega já passou e nada", DELAY),
        ("n chegou ainda", DELAY),
        ("consta ENTREGUE mas não recebi nada", DELAY),
        ("Quero mudar o endereço de entrega", ADDRESS),  # "entrega" alone is a weak hint
        ("CEP errado no pacote", ADDRESS),
        ("mudei de casa, dá pra entregar no novo endereço?", ADDRESS),
        ("O atendente foi muito grosso comigo", SERVICE),
        ("Ninguém responde meus e-mails há 3 dias", SERVICE),
        ("vcs são uma piada, quero falar com um humano", SERVICE),
        ("Bom dia, tudo bem?", OTHER),
        ("", OTHER),
        ("Recepção do prédio", OTHER),  # "cep" only as a whole word
    ],
)
def test_realistic_customer_messages(message, expected):
    assert classify(message) == expected


def test_accents_and_case_do_not_matter():
    assert classify("ENDEREÇO ERRADO") == classify("endereco errado") == ADDRESS
    assert classify("NÃO CHEGOU") == classify("nao chegou") == DELAY


def test_the_topic_the_customer_picked_wins():
    assert classify("cadê minha encomenda", topic=ADDRESS) == ADDRESS
    assert classify("veio quebrado", topic=BILLING) == BILLING


def test_topic_other_or_unknown_leaves_it_to_the_words():
    assert classify("veio quebrado", topic=OTHER) == DAMAGE
    assert classify("veio quebrado", topic="") == DAMAGE
    assert classify("veio quebrado", topic="not-a-topic") == DAMAGE


def test_normalize():
    assert normalize("  Não   CHEGOU\n ainda ") == "nao chegou ainda"
