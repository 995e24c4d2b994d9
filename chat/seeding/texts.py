"""What the fake chats say and how they are spread: names, first messages by issue, replies,
ratings, the working-day curve (chat/seeding)."""

from chat.models import Issue

FIRST_NAMES = [
    "Maria", "João", "Ana", "Pedro", "Juliana", "Lucas", "Fernanda", "Rafael", "Camila", "Bruno",
    "Patrícia", "Marcos", "Larissa", "Diego", "Aline", "Thiago", "Beatriz", "Gustavo", "Renata",
    "Felipe", "Luana", "Carlos", "Vitória", "José", "Letícia", "Mateus", "Gabriela", "Rodrigo",
]  # fmt: skip
LAST_NAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Rodrigues", "Almeida",
    "Nascimento", "Ferreira", "Araújo", "Carvalho", "Gomes", "Ribeiro", "Barbosa", "Rocha",
]  # fmt: skip
FIRST_MESSAGES = {
    Issue.TRACKING: [
        "Olá, cadê minha encomenda? O rastreio não atualiza há três dias.",
        "Boa tarde, qual o status do pedido {code}?",
        "kd meu pedido? comprei faz uma semana",
        "Não consigo rastrear o código {code}, aparece objeto não encontrado.",
    ],
    Issue.DELAY: [
        "Meu pedido está atrasado, o prazo era ontem.",
        "O entregador não passou e o app diz destinatário ausente, mas eu estava em casa.",
        "Consta entregue mas não recebi nada.",
        "Ainda não chegou e já passou do prazo de entrega.",
    ],
    Issue.ADDRESS: [
        "Preciso alterar o endereço de entrega, mudei de casa.",
        "Coloquei o CEP errado, dá pra corrigir?",
        "Faltou o complemento no endereço, é apartamento 42.",
    ],
    Issue.DAMAGE: [
        "A encomenda veio quebrada e a caixa amassada.",
        "Meu pacote sumiu, o rastreio diz extraviado.",
        "O produto chegou molhado e com a caixa aberta.",
    ],
    Issue.RETURN: [
        "Quero devolver o produto, como faço?",
        "Quero meu dinheiro de volta, o pedido voltou para o remetente.",
        "Preciso trocar o produto, veio no tamanho errado.",
    ],
    Issue.BILLING: [
        "Me cobraram duas vezes pelo frete.",
        "Paguei a taxa de importação e o pedido não foi liberado.",
        "Recebi um boleto de cobrança que não reconheço.",
    ],
    Issue.SERVICE: [
        "Ninguém responde meus e-mails, quero falar com um atendente.",
        "Quero registrar uma reclamação sobre o atendimento.",
    ],
    Issue.OTHER: [
        "Olá, bom dia!",
        "Oi, preciso de ajuda.",
        "Vocês entregam aos sábados?",
    ],
}
ISSUE_WEIGHTS = {
    Issue.TRACKING: 30,
    Issue.DELAY: 25,
    Issue.ADDRESS: 10,
    Issue.DAMAGE: 10,
    Issue.RETURN: 8,
    Issue.BILLING: 7,
    Issue.SERVICE: 5,
    Issue.OTHER: 5,
}
CUSTOMER_FOLLOW_UPS = [
    "O código é {code}.",
    "Certo, obrigado.",
    "Mas quando chega?",
    "Pode verificar, por favor?",
    "Já faz uma semana...",
    "Ok, aguardo.",
    "Entendi.",
    "Meu CPF é o mesmo do cadastro.",
]
AGENT_LINES = [
    "Olá! Vou verificar o seu pedido, um momento por favor.",
    "Encontrei a sua encomenda, ela está em rota de entrega.",
    "Pode me informar o código de rastreio, por favor?",
    "Já registrei a sua solicitação, o prazo de retorno é de 2 dias úteis.",
    "Abri uma ocorrência para a sua encomenda.",
    "Obrigado pela paciência! Posso ajudar em algo mais?",
    "O endereço foi atualizado.",
]
INTERNAL_NOTES = [
    "Cliente já abriu chamado por e-mail.",
    "Verificar com a base de Cajamar.",
    "Ocorrência aberta no sistema de transporte.",
]
RATING_WEIGHTS = [(5, 45), (4, 25), (3, 12), (2, 8), (1, 10)]
COMMENTS = [
    "Ótimo atendimento!",
    "Resolveram rápido.",
    "Demorou, mas resolveu.",
    "Não resolveu meu problema.",
]
USER_AGENTS = [
    "Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
]
# Share of chats per local hour (0–23): quiet at night, busy mornings and afternoons.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 9, 10, 11, 11, 10, 9, 8, 7, 6, 4, 3, 2]
ABANDON_SHARE = 0.08
RATED_SHARE = 0.65
INTERNAL_NOTE_SHARE = 0.03
