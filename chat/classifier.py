"""Keyword classifier for the customer's problem (pt-BR), accent- and case-insensitive.

The topic the customer picked is a strong hint: it wins unless it is "outro" or missing.
Otherwise each category scores the weights of its patterns found in the customer's text
(each pattern once): STRONG for words that name the problem ("quebrado", "cobraram",
"rastreio"), WEAK for words that often come along with other problems ("entrega",
"pagamento"). The highest score wins; ties go to the earlier category in ``RULES`` (the
more specific problems come first: a damaged parcel the customer wants refunded is damage).
No pattern found: "outro".

Patterns are regular expressions over the normalised text (lower case, no accents, single
spaces) and match from the start of a word, so "atras" finds "atrasado" and "atraso";
a trailing ``\\b`` makes a whole word ("sac" must not find "sacola", nor "cep" "recepcao").
"""

import re
import unicodedata
from functools import cache

from .models import Issue

STRONG = 2
WEAK = 1

RULES: dict[str, tuple[tuple[str, int], ...]] = {
    Issue.DAMAGE: (
        (r"avaria", STRONG),
        (r"danificad", STRONG),
        (r"quebra(d|r)", STRONG),
        (r"amassad", STRONG),
        (r"violad", STRONG),
        (r"rasgad", STRONG),
        (r"molhad", STRONG),
        (r"estragad", STRONG),
        (r"extravi", STRONG),
        (r"perdid", STRONG),
        (r"perderam", STRONG),
        (r"sumi(u|ram|da|do)\b", STRONG),
        (r"roubad", STRONG),
        (r"furtad", STRONG),
        (r"caixa (aberta|vazia)", STRONG),
        (r"veio (faltando|errado|outro produto)", STRONG),
        (r"(nunca chegou|nao chegou nunca)", STRONG),
    ),
    Issue.BILLING: (
        (r"cobr(a|o|e)", STRONG),
        (r"taxa", STRONG),
        (r"boleto", STRONG),
        (r"fatura", STRONG),
        (r"imposto", STRONG),
        (r"importacao", WEAK),
        (r"tributa", STRONG),
        (r"nota fiscal", STRONG),
        (r"(duas|2) vezes|2x\b", WEAK),
        (r"indevid", WEAK),
        (r"pagamento", WEAK),
        (r"paguei", WEAK),
        (r"pagar", WEAK),
        (r"cartao", WEAK),
        (r"pix\b", WEAK),
        (r"valor do frete|frete", WEAK),
    ),
    Issue.RETURN: (
        (r"devolu", STRONG),
        (r"devolv", STRONG),
        (r"estorn", STRONG),
        (r"reembols", STRONG),
        (r"dinheiro de volta", STRONG),
        (r"(retorno|voltou) (ao|para o) remetente", STRONG),
        (r"troca", STRONG),
        (r"arrependi", STRONG),
        (r"cancelar o pedido", WEAK),
    ),
    Issue.ADDRESS: (
        (r"endereco", STRONG),
        (r"cep\b", STRONG),
        (r"(mudar|alterar|trocar) o destino", STRONG),
        (r"destinatario errado", STRONG),
        (r"numero da casa", STRONG),
        (r"complemento", STRONG),
        (r"rua errada", STRONG),
        (r"mudei de (casa|endereco)", STRONG),
        (r"bairro", WEAK),
    ),
    Issue.DELAY: (
        (r"atras", STRONG),
        (r"demor", STRONG),
        (r"prazo", STRONG),
        (r"(nao|n|ainda nao) (chegou|recebi|veio)", STRONG),
        (r"(nao|n) (passou|apareceu|veio entregar)", STRONG),
        (r"ausente", STRONG),
        (r"tentativa de entrega", STRONG),
        (r"entreg", WEAK),
        (r"motoboy", WEAK),
        (r"carteiro", WEAK),
        (r"esperando", WEAK),
    ),
    Issue.TRACKING: (
        (r"rastre", STRONG),
        (r"cade\b", STRONG),
        (r"kd\b", STRONG),
        (r"onde (esta|ta|anda|se encontra)", STRONG),
        (r"status (do|da) (pedido|encomenda|entrega|objeto)", STRONG),
        (r"quando (vai chegar|chega)", STRONG),
        (r"localizar", STRONG),
        (r"acompanhar", STRONG),
        (r"codigo", WEAK),
        (r"parad(o|a) (em|no|na)", WEAK),
        (r"centro de distribuicao", WEAK),
        (r"em transito", WEAK),
    ),
    Issue.SERVICE: (
        (r"atendimento", STRONG),
        (r"atendente", STRONG),
        (r"reclama", STRONG),
        (r"ninguem (responde|atende)", STRONG),
        (r"sac\b", STRONG),
        (r"ouvidoria", STRONG),
        (r"grosso", STRONG),
        (r"mal atendid", STRONG),
        (r"humano", STRONG),
        (r"falar com (alguem|um|uma|o|a)", WEAK),
        (r"gerente", WEAK),
        (r"procon", STRONG),
        (r"descaso", STRONG),
    ),
}


@cache
def _compiled() -> tuple[tuple[str, tuple[tuple[re.Pattern, int], ...]], ...]:
    return tuple(
        (issue, tuple((re.compile(r"\b(?:" + pattern + ")"), weight) for pattern, weight in rules))
        for issue, rules in RULES.items()
    )


def normalize(text: str) -> str:
    """Lower-case, strip accents and collapse spaces: 'Não  CHEGOU' -> 'nao chegou'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped).strip()


def scores(text: str) -> dict[str, int]:
    """Each category's score for a text (categories with no match are left out)."""
    normalized = normalize(text)
    result = {}
    for issue, rules in _compiled():
        score = sum(weight for pattern, weight in rules if pattern.search(normalized))
        if score:
            result[str(issue)] = score
    return result


def classify(text: str, topic: str = "") -> str:
    if topic and topic in Issue.values and topic != Issue.OTHER:
        return topic
    best, best_score = str(Issue.OTHER), 0
    for issue, score in scores(text or "").items():  # in RULES order: the first best wins ties
        if score > best_score:
            best, best_score = issue, score
    return best
