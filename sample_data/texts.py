"""Free text in English, Portuguese, Spanish and Italian: tickets, surveys, reviews, posts.

Sentences carry commas, "quotes" and (when joined) line breaks, as real free text does.
Complaints come with a theme so the attitudinal marts have something to find.
"""

from __future__ import annotations

import random

THEMES = ("billing", "delivery", "bug", "login", "refund", "product_quality", "account")

TICKET_SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "billing": ("Charged twice for order {order}", "Wrong amount on my invoice"),
        "delivery": ("Where is my order {order}?", 'Package marked "delivered" but not here'),
        "bug": ("App crashes when I open the cart", "Error 500 at checkout"),
        "login": ("Can't log in", "Password reset e-mail never arrives"),
        "refund": ("Refund not received for {order}", "How long does a refund take?"),
        "product_quality": ("{product} stopped working", "Damaged item, please help"),
        "account": ("Change the e-mail on my account", "Please update my phone number"),
    },
    "pt": {
        "billing": ("Cobrança em duplicidade no pedido {order}", "Valor errado na fatura"),
        "delivery": ("Cadê meu pedido {order}?", 'Pedido consta como "entregue", mas não chegou'),
        "bug": ("O app fecha sozinho no carrinho", "Erro 500 ao finalizar a compra"),
        "login": (
            "Não consigo entrar na minha conta",
            "Não recebo o e-mail de redefinição de senha",
        ),
        "refund": ("Reembolso do pedido {order} não caiu", "Quanto tempo demora o estorno?"),
        "product_quality": ("{product} parou de funcionar", "Produto veio com defeito"),
        "account": ("Alterar o e-mail da conta", "Atualizar meu telefone"),
    },
    "es": {
        "billing": ("Cobro duplicado en el pedido {order}", "Importe incorrecto en la factura"),
        "delivery": (
            "¿Dónde está mi pedido {order}?",
            'Pedido marcado como "entregado", pero no llegó',
        ),
        "bug": ("La app se cierra al abrir el carrito", "Error 500 al pagar"),
        "login": (
            "No puedo iniciar sesión",
            "No me llega el correo para restablecer la contraseña",
        ),
        "refund": ("No he recibido el reembolso de {order}", "¿Cuánto tarda un reembolso?"),
        "product_quality": ("{product} ha dejado de funcionar", "Artículo dañado"),
        "account": ("Cambiar el correo de mi cuenta", "Actualizar mi número de teléfono"),
    },
    "it": {
        "billing": ("Doppio addebito per l'ordine {order}", "Importo sbagliato in fattura"),
        "delivery": (
            "Dov'è il mio ordine {order}?",
            'Pacco segnato come "consegnato" ma non arrivato',
        ),
        "bug": ("L'app si chiude quando apro il carrello", "Errore 500 al pagamento"),
        "login": ("Non riesco ad accedere", "Non arriva l'e-mail per reimpostare la password"),
        "refund": ("Rimborso non ricevuto per {order}", "Quanto tempo ci vuole per un rimborso?"),
        "product_quality": ("{product} ha smesso di funzionare", "Articolo danneggiato"),
        "account": ("Cambiare l'e-mail del mio account", "Aggiornare il mio numero di telefono"),
    },
}

TICKET_BODIES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "billing": (
            "I was charged twice for the same order, once on my card and once on PayPal.",
            "My invoice says {amount}, but the checkout page showed a lower total.",
        ),
        "delivery": (
            'The tracking page has said "in transit" for {days} days now.',
            "The courier says it was delivered, but nobody was home and there is no package.",
        ),
        "bug": (
            "Every time I open the cart the app closes, I already reinstalled it.",
            'At the last step of checkout I get "Error 500, something went wrong".',
        ),
        "login": (
            'I reset my password twice, still "invalid credentials".',
            "The reset link expires before I can use it, it takes {days} hours to arrive.",
        ),
        "refund": (
            "I returned {product} {days} days ago and still have no refund.",
            "You confirmed the refund, but my bank shows nothing yet.",
        ),
        "product_quality": (
            "{product} stopped working after {days} days, it doesn't turn on at all.",
            "The box was crushed and the item is scratched, see attached photo.",
        ),
        "account": (
            "I changed jobs and need to use a new e-mail address, can you update it?",
            "My phone number changed, please update it so I get the delivery SMS.",
        ),
    },
    "pt": {
        "billing": (
            "Fui cobrado duas vezes pelo mesmo pedido, uma no cartão e outra no Pix.",
            "A fatura diz {amount}, mas no checkout o total era menor.",
        ),
        "delivery": (
            'O rastreio está "em trânsito" há {days} dias.',
            "A transportadora diz que entregou, mas não tinha ninguém em casa e não recebi nada.",
        ),
        "bug": (
            "Toda vez que abro o carrinho o app fecha, já reinstalei.",
            'Na última etapa do pagamento aparece "Erro 500, algo deu errado".',
        ),
        "login": (
            'Redefini a senha duas vezes e continua "credenciais inválidas".',
            (
                "O link de redefinição expira antes de eu conseguir "
                "usar, demora {days} horas para chegar."
            ),
        ),
        "refund": (
            "Devolvi o {product} há {days} dias e até agora nada do reembolso.",
            "Vocês confirmaram o estorno, mas no meu banco não aparece nada.",
        ),
        "product_quality": (
            "O {product} parou de funcionar depois de {days} dias, não liga mais.",
            "A caixa veio amassada e o produto arranhado, segue foto em anexo.",
        ),
        "account": (
            "Mudei de emprego e preciso usar outro e-mail, podem atualizar?",
            "Meu número mudou, por favor atualizem para eu receber o SMS da entrega.",
        ),
    },
    "es": {
        "billing": (
            "Me han cobrado dos veces el mismo pedido, una en la tarjeta y otra en PayPal.",
            "La factura dice {amount}, pero en el pago el total era menor.",
        ),
        "delivery": (
            'El seguimiento pone "en tránsito" desde hace {days} días.',
            (
                "El transportista dice que lo entregó, pero no había "
                "nadie en casa y no tengo el paquete."
            ),
        ),
        "bug": (
            "Cada vez que abro el carrito la app se cierra, ya la he reinstalado.",
            'En el último paso del pago sale "Error 500, algo salió mal".',
        ),
        "login": (
            'He cambiado la contraseña dos veces y sigue diciendo "credenciales no válidas".',
            "El enlace caduca antes de poder usarlo, tarda {days} horas en llegar.",
        ),
        "refund": (
            "Devolví el {product} hace {days} días y todavía no tengo el reembolso.",
            "Me confirmasteis el reembolso, pero en el banco no aparece nada.",
        ),
        "product_quality": (
            "El {product} dejó de funcionar a los {days} días, ya no enciende.",
            "La caja llegó aplastada y el artículo rayado, adjunto foto.",
        ),
        "account": (
            "He cambiado de trabajo y necesito usar otro correo, ¿podéis actualizarlo?",
            "Mi número ha cambiado, actualizadlo para recibir el SMS de entrega, por favor.",
        ),
    },
    "it": {
        "billing": (
            "Mi avete addebitato due volte lo stesso ordine, una sulla carta e una su PayPal.",
            "In fattura c'è {amount}, ma al pagamento il totale era più basso.",
        ),
        "delivery": (
            'Il tracking dice "in transito" da {days} giorni.',
            (
                "Il corriere dice di averlo consegnato, ma non c'era "
                "nessuno in casa e il pacco non c'è."
            ),
        ),
        "bug": (
            "Ogni volta che apro il carrello l'app si chiude, l'ho già reinstallata.",
            'All\'ultimo passaggio del pagamento esce "Errore 500, qualcosa è andato storto".',
        ),
        "login": (
            'Ho reimpostato la password due volte, ma dice ancora "credenziali non valide".',
            "Il link scade prima che riesca a usarlo, arriva dopo {days} ore.",
        ),
        "refund": (
            "Ho reso il {product} {days} giorni fa e non ho ancora ricevuto il rimborso.",
            "Mi avete confermato il rimborso, ma in banca non vedo niente.",
        ),
        "product_quality": (
            "Il {product} ha smesso di funzionare dopo {days} giorni, non si accende più.",
            "La scatola è arrivata schiacciata e l'articolo è graffiato, allego foto.",
        ),
        "account": (
            "Ho cambiato lavoro e devo usare un'altra e-mail, potete aggiornarla?",
            "Il mio numero è cambiato, aggiornatelo per ricevere l'SMS di consegna, grazie.",
        ),
    },
}

GREETINGS = {
    "en": ("Hi,", "Hello,", "Hi there,", "Good morning,"),
    "pt": ("Olá,", "Oi, tudo bem?", "Bom dia,", "Boa tarde,"),
    "es": ("Hola,", "Buenos días,", "Buenas tardes,", "Hola, ¿qué tal?"),
    "it": ("Ciao,", "Buongiorno,", "Salve,", "Buonasera,"),
}
CLOSINGS = {
    "en": ("Thanks,", "Thanks in advance,", "Regards,", "Please help, this is urgent."),
    "pt": ("Obrigado,", "Aguardo retorno,", "Att.,", "Por favor, é urgente."),
    "es": ("Gracias,", "Un saludo,", "Quedo a la espera,", "Por favor, es urgente."),
    "it": ("Grazie,", "Cordiali saluti,", "Resto in attesa,", "Per favore, è urgente."),
}

SURVEY_POSITIVE = {
    "en": (
        "Fast delivery and great quality, I'll buy again.",
        "Support solved my problem in minutes, thank you!",
        'Love the app, especially the "price alerts".',
        "Everything perfect.",
    ),
    "pt": (
        "Entrega rápida e ótima qualidade, vou comprar de novo.",
        "O suporte resolveu meu problema em minutos, obrigado!",
        'Adoro o app, principalmente os "alertas de preço".',
        "Tudo perfeito.",
    ),
    "es": (
        "Entrega rápida y muy buena calidad, volveré a comprar.",
        "Soporte resolvió mi problema en minutos, ¡gracias!",
        'Me encanta la app, sobre todo las "alertas de precio".',
        "Todo perfecto.",
    ),
    "it": (
        "Consegna veloce e ottima qualità, ricomprerò.",
        "L'assistenza ha risolto il problema in pochi minuti, grazie!",
        'Adoro l\'app, soprattutto gli "avvisi di prezzo".',
        "Tutto perfetto.",
    ),
}
SURVEY_NEUTRAL = {
    "en": ("OK overall, but shipping costs are high.", "Fine. The website is a bit slow."),
    "pt": ("No geral ok, mas o frete é caro.", "Tudo bem. O site é meio lento."),
    "es": ("Bien en general, pero el envío es caro.", "Bien. La web va un poco lenta."),
    "it": ("Nel complesso ok, ma la spedizione costa troppo.", "Va bene. Il sito è un po' lento."),
}
SURVEY_NEGATIVE: dict[str, dict[str, str]] = {
    "en": {
        "billing": "I was charged twice, and it took a week to fix.",
        "delivery": 'My order arrived {days} days late, the "express" option is a joke.',
        "bug": "The app keeps crashing at checkout.",
        "login": "I can never log in, the reset e-mail doesn't arrive.",
        "refund": "Still waiting for my refund, {days} days later.",
        "product_quality": "Poor quality, it broke after a few uses.",
        "account": "Changing my details is way too complicated.",
    },
    "pt": {
        "billing": "Fui cobrado duas vezes, e demorou uma semana para resolver.",
        "delivery": 'Meu pedido chegou com {days} dias de atraso, o "expresso" é piada.',
        "bug": "O app trava toda hora no pagamento.",
        "login": "Nunca consigo entrar, o e-mail de redefinição não chega.",
        "refund": "Ainda esperando o reembolso, {days} dias depois.",
        "product_quality": "Qualidade ruim, quebrou depois de poucos usos.",
        "account": "Mudar meus dados é complicado demais.",
    },
    "es": {
        "billing": "Me cobraron dos veces, y tardaron una semana en arreglarlo.",
        "delivery": 'Mi pedido llegó con {days} días de retraso, lo de "exprés" es un chiste.',
        "bug": "La app se cuelga siempre al pagar.",
        "login": "Nunca puedo entrar, el correo para cambiar la contraseña no llega.",
        "refund": "Sigo esperando el reembolso, {days} días después.",
        "product_quality": "Mala calidad, se rompió a los pocos usos.",
        "account": "Cambiar mis datos es demasiado complicado.",
    },
    "it": {
        "billing": "Mi hanno addebitato due volte, e ci è voluta una settimana per sistemare.",
        "delivery": (
            'Il mio ordine è arrivato con {days} giorni di ritardo, l\'"express" è una barzelletta.'
        ),
        "bug": "L'app si blocca sempre al pagamento.",
        "login": "Non riesco mai ad accedere, l'e-mail di reset non arriva.",
        "refund": "Sto ancora aspettando il rimborso, dopo {days} giorni.",
        "product_quality": "Qualità scarsa, si è rotto dopo pochi utilizzi.",
        "account": "Cambiare i miei dati è troppo complicato.",
    },
}

REVIEW_TITLES = {
    "en": {
        "neg": ("Disappointed", "Not worth it", "Broke quickly"),
        "mid": ("OK", "Decent"),
        "pos": ("Love it!", "Great value", "Exactly as described"),
    },
    "pt": {
        "neg": ("Decepcionado", "Não vale a pena", "Quebrou rápido"),
        "mid": ("Ok", "Razoável"),
        "pos": ("Amei!", "Ótimo custo-benefício", "Igual à descrição"),
    },
    "es": {
        "neg": ("Decepcionado", "No merece la pena", "Se rompió pronto"),
        "mid": ("Correcto", "Aceptable"),
        "pos": ("¡Me encanta!", "Buena relación calidad-precio", "Tal como se describe"),
    },
    "it": {
        "neg": ("Deluso", "Non ne vale la pena", "Si è rotto subito"),
        "mid": ("Ok", "Discreto"),
        "pos": ("Lo adoro!", "Ottimo rapporto qualità-prezzo", "Esattamente come descritto"),
    },
}
REVIEW_TEXTS = {
    "en": {
        "neg": (
            "Stopped working after {days} days. Customer service was no help.",
            "Cheap materials, and it arrived late. Would not recommend.",
            "The colour is nothing like the photo, and returning it costs money.",
        ),
        "mid": (
            "Does the job, but the price is a bit high for what you get.",
            "Good product, slow delivery.",
        ),
        "pos": (
            "Excellent quality, arrived in {days} days. Highly recommend!",
            'Works perfectly, my second one already. "Best purchase this year", says my partner.',
            "Beautiful design, very comfortable to use.",
        ),
    },
    "pt": {
        "neg": (
            "Parou de funcionar depois de {days} dias. O atendimento não ajudou.",
            "Material barato, e ainda chegou atrasado. Não recomendo.",
            "A cor não tem nada a ver com a foto, e a devolução é paga.",
        ),
        "mid": (
            "Cumpre o que promete, mas o preço é um pouco alto.",
            "Produto bom, entrega demorada.",
        ),
        "pos": (
            "Qualidade excelente, chegou em {days} dias. Recomendo muito!",
            'Funciona perfeitamente, já é o meu segundo. "Melhor compra do ano", diz minha esposa.',
            "Design lindo, muito confortável de usar.",
        ),
    },
    "es": {
        "neg": (
            "Dejó de funcionar a los {days} días. Atención al cliente no ayudó.",
            "Materiales baratos, y encima llegó tarde. No lo recomiendo.",
            "El color no se parece nada a la foto, y la devolución cuesta dinero.",
        ),
        "mid": (
            "Cumple, pero el precio es algo alto para lo que es.",
            "Buen producto, entrega lenta.",
        ),
        "pos": (
            "Calidad excelente, llegó en {days} días. ¡Muy recomendable!",
            'Funciona perfectamente, ya es el segundo. "La mejor compra del año", dice mi pareja.',
            "Diseño precioso, muy cómodo de usar.",
        ),
    },
    "it": {
        "neg": (
            "Ha smesso di funzionare dopo {days} giorni. Il servizio clienti non ha aiutato.",
            "Materiali scadenti, e per di più è arrivato in ritardo. Sconsigliato.",
            "Il colore non c'entra niente con la foto, e il reso si paga.",
        ),
        "mid": ("Fa il suo lavoro, ma il prezzo è un po' alto.", "Buon prodotto, consegna lenta."),
        "pos": (
            "Qualità eccellente, arrivato in {days} giorni. Consigliatissimo!",
            (
                'Funziona perfettamente, è già il secondo. "Il miglior '
                "acquisto dell'anno\", dice mia moglie."
            ),
            "Design bellissimo, molto comodo da usare.",
        ),
    },
}
SOCIAL_TEXTS = {
    "en": {
        "pos": (
            "Just got my order from @lumina, love it! #happy",
            "Great support from @lumina today",
        ),
        "neg": (
            "@lumina my order is {days} days late, any news?",
            "@lumina the app crashed again at checkout",
        ),
    },
    "pt": {
        "pos": (
            "Chegou meu pedido da @lumina, amei! #feliz",
            "Atendimento nota 10 da @lumina hoje",
        ),
        "neg": (
            "@lumina meu pedido está {days} dias atrasado, alguma novidade?",
            "@lumina o app travou de novo no pagamento",
        ),
    },
    "es": {
        "pos": (
            "¡Me ha llegado el pedido de @lumina, me encanta! #feliz",
            "Muy buena atención de @lumina hoy",
        ),
        "neg": (
            "@lumina mi pedido lleva {days} días de retraso, ¿alguna novedad?",
            "@lumina la app se ha vuelto a colgar al pagar",
        ),
    },
    "it": {
        "pos": (
            "Arrivato il mio ordine da @lumina, lo adoro! #felice",
            "Ottima assistenza da @lumina oggi",
        ),
        "neg": (
            "@lumina il mio ordine è in ritardo di {days} giorni, novità?",
            "@lumina l'app si è bloccata di nuovo al pagamento",
        ),
    },
}


GENERIC_PRODUCT = {"en": "the item", "pt": "produto", "es": "producto", "it": "prodotto"}
GENERIC_ORDER = {
    "en": "my last order",
    "pt": "meu último pedido",
    "es": "mi último pedido",
    "it": "il mio ultimo ordine",
}


def fill(
    template: str, rng: random.Random, lang: str = "en", order: str = "", product: str = ""
) -> str:
    text = template.format(
        days=rng.randint(3, 21),
        order=order or GENERIC_ORDER[lang],
        product=product or GENERIC_PRODUCT[lang],
        amount=f"{rng.randint(20, 400)}.{rng.choice(('00', '90', '99'))}",
    )
    return text[:1].upper() + text[1:]


def ticket_text(
    lang: str, theme: str, rng: random.Random, name: str, order: str, product: str
) -> tuple[str, str]:
    """(subject, body) - the body spans several lines: greeting, problem, closing, name."""
    subject = fill(rng.choice(TICKET_SUBJECTS[lang][theme]), rng, lang, order, product)
    lines = [rng.choice(GREETINGS[lang])]
    bodies = TICKET_BODIES[lang][theme]
    lines.append(fill(rng.choice(bodies), rng, lang, order, product))
    if rng.random() < 0.4:
        lines.append(fill(rng.choice(bodies), rng, lang, order, product))
    lines.append(rng.choice(CLOSINGS[lang]))
    lines.append(name)
    if rng.random() < 0.15:  # written in one line, as chat widgets send it
        return subject, " ".join(lines)
    return subject, "\n".join(lines)


def survey_comment(lang: str, band: str, theme: str, rng: random.Random) -> str:
    if band == "pos":
        text = rng.choice(SURVEY_POSITIVE[lang])
    elif band == "mid":
        text = rng.choice(SURVEY_NEUTRAL[lang])
    else:
        text = fill(SURVEY_NEGATIVE[lang][theme], rng, lang)
        if rng.random() < 0.4:
            other = rng.choice(THEMES)
            if other != theme:
                text += "\n" + fill(SURVEY_NEGATIVE[lang][other], rng, lang)
    return text


def review_text(lang: str, rating: int, rng: random.Random) -> tuple[str, str]:
    band = "neg" if rating <= 2 else ("mid" if rating == 3 else "pos")
    return rng.choice(REVIEW_TITLES[lang][band]), fill(
        rng.choice(REVIEW_TEXTS[lang][band]), rng, lang
    )


def social_text(lang: str, positive: bool, rng: random.Random) -> str:
    return fill(rng.choice(SOCIAL_TEXTS[lang]["pos" if positive else "neg"]), rng, lang)
