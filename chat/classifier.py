"""Keyword classifier for the customer's problem (pt-BR), accent- and case-insensitive.

The topic the customer picked is a strong hint: it wins unless it is "outro" or missing.
Otherwise the category with the most keyword hits in the customer's first messages wins;
ties go to the earlier category in ``KEYWORDS`` (the more specific ones come first).
"""

import re
import unicodedata

from .models import Issue

KEYWORDS: dict[str, tuple[str, ...]] = {
    Issue.DAMAGE: (
        "avaria",
        "avariad",
        "danificad",
        "quebrad",
        "amassad",
        "violad",
        "rasgad",
        "extravi",
        "perdid",
        "sumiu",
        "sumiram",
        "roubad",
        "furtad",
        "nao chegou nunca",
        "caixa aberta",
        "molhad",
    ),
    Issue.RETURN: (
        "devolu",
        "devolv",
        "estorno",
        "reembolso",
        "retorno ao remetente",
        "voltou para",
        "trocar",
        "troca",
    ),
    Issue.BILLING: (
        "cobranc",
        "cobrad",
        "cobrar",
        "taxa",
        "pagamento",
        "paguei",
        "pagar",
        "boleto",
        "fatura",
        "nota fiscal",
        "imposto",
        "valor do frete",
        "cartao",
        "pix",
    ),
    Issue.ADDRESS: (
        "endereco",
        "cep",
        "mudar o destino",
        "alterar o destino",
        "destinatario errado",
        "numero da casa",
        "complemento",
        "bairro",
        "rua errada",
        "mudei de casa",
    ),
    Issue.DELAY: (
        "atras",
        "demora",
        "demorando",
        "prazo",
        "nao chegou",
        "ainda nao recebi",
        "nao recebi",
        "entrega",
        "entregue",
        "entregar",
        "entregador",
        "motoboy",
        "ausente",
        "tentativa",
    ),
    Issue.TRACKING: (
        "rastre",
        "rastrei",
        "codigo de rastreio",
        "onde esta",
        "cade",
        "status do pedido",
        "status da encomenda",
        "localizar",
        "acompanhar",
        "objeto postado",
        "parado em",
        "centro de distribuicao",
        "em transito",
    ),
    Issue.SERVICE: (
        "atendimento",
        "atendente",
        "reclamac",
        "reclamar",
        "ninguem responde",
        "sac",
        "ouvidoria",
        "grosso",
        "mal atendido",
        "falar com",
        "humano",
        "gerente",
    ),
}


def normalize(text: str) -> str:
    """Lower-case, strip accents and collapse spaces: 'Não CHEGOU' -> 'nao chegou'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped).strip()


def classify(text: str, topic: str = "") -> str:
    if topic and topic in Issue.values and topic != Issue.OTHER:
        return topic
    normalized = normalize(text)
    best, best_hits = Issue.OTHER, 0
    for issue, words in KEYWORDS.items():
        hits = sum(1 for word in words if word in normalized)
        if hits > best_hits:
            best, best_hits = issue, hits
    return str(best)
