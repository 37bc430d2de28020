"""Phrase bank for the sample world's posts.

Posts are composed from an opener, a category-specific core with filled slots, an emotional tail and
optional hashtags and emoji, so a run of a million posts holds tens of thousands of distinct texts.
The categories match the NLP taxonomy in ``nlp/rules/en/taxonomy/``.
"""

from __future__ import annotations

CITIES = ["Boston", "Denver", "Chicago", "Miami", "Seattle", "Dallas", "Atlanta", "Phoenix", "Newark", "Austin",
          "Orlando", "Portland", "Vegas", "LA", "NYC", "SFO", "Toronto", "London", "Cancun", "Nashville"]
ITEMS = ["blender", "running shoes", "phone case", "coffee maker", "jacket", "headphones", "desk lamp", "book order",
         "kids' bike", "air fryer", "backpack", "vacuum", "TV stand", "yoga mat", "printer ink", "winter boots"]
DEVICES = ["iPhone", "Pixel", "Galaxy", "router", "hotspot", "tablet", "smartwatch", "modem"]
PLANS = ["unlimited plan", "family plan", "prepaid plan", "fibre package", "5G plan", "business line"]

# category -> list of cores; slots: {city} {hours} {days} {item} {device} {plan} {amount} {num}
CORES: dict[str, dict[str, list[str]]] = {
    "airline": {
        "delay": [
            "my flight to {city} has been delayed {hours} hours now",
            "flight {num} is delayed again, we've been sitting at the gate for {hours} hours",
            "another delay on the {city} route, that's {hours} hours and counting",
            "we were supposed to leave for {city} at 8 and still no plane",
            "delayed {hours} hrs with zero updates from the gate agents",
            "pilot says another hour on the tarmac, flight {num} to {city}",
        ],
        "cancellation": [
            "you cancelled my flight to {city} with no explanation",
            "flight {num} cancelled last minute and the next seat is in {days} days",
            "just got a text that my {city} flight is cancelled, I have a wedding tomorrow",
            "cancelled again?! third time this month on the {city} route",
            "my connection was cancelled and nobody can rebook me",
        ],
        "lost_baggage": [
            "my bag never arrived in {city}, it's been {days} days",
            "lost luggage on flight {num} and the baggage desk has no idea where it is",
            "still no sign of my suitcase after {days} days, all my clothes are in it",
            "you lost my bag between {city} and home",
            "the tracker says my bag is in {city} but I'm not",
        ],
        "damaged_baggage": [
            "my suitcase came off the belt with a broken handle and a cracked shell",
            "my bag was ripped open on flight {num}, things are missing",
            "the wheels were torn off my luggage on the way to {city}",
            "my guitar case arrived crushed, who handles damage claims",
        ],
        "booking": [
            "your website charged me twice for one ticket to {city}",
            "I can't change my booking online, the page keeps erroring",
            "tried to book a seat to {city} and the app crashed at payment",
            "my reservation disappeared from the app after I paid",
            "the booking page won't let me add my kid to the reservation",
        ],
        "customer_service": [
            "been on hold for {hours} hours with your call centre",
            "your agent hung up on me after 40 minutes",
            "nobody answers the phone and the chat just loops",
            "three different answers from three different agents",
            "I've sent {num} messages and nobody replies",
        ],
        "in_flight": [
            "the wifi didn't work the whole flight to {city}",
            "no food left by row 20 and the seat wouldn't recline",
            "the entertainment screen was broken for the {hours} hour flight",
            "the cabin was freezing the entire flight",
            "seat {num}C was broken and covered in crumbs",
        ],
        "staff": [
            "the flight attendant was incredibly rude to my elderly mother",
            "crew on flight {num} laughed at a passenger who asked for help",
            "the gate agent yelled at us for asking a question",
            "flight attendant refused to help me with my bag",
        ],
        "long_lines": [
            "the check-in line in {city} is an hour long with two desks open",
            "security line plus bag drop took {hours} hours in {city}",
            "huge queue at the rebooking desk, only one agent working",
        ],
        "refund": [
            "still waiting for my refund of ${amount} after {days} days",
            "you promised a refund for the cancelled {city} flight weeks ago",
            "where is my ${amount} refund, it's been {days} days",
        ],
    },
    "telecom": {
        "outage": [
            "no signal at all in {city} since this morning",
            "internet has been down for {hours} hours, I work from home",
            "is there an outage in {city}? nothing is loading",
            "my service dropped again, that's the third time this week",
            "no bars, no data, no calls since yesterday",
        ],
        "slow_speed": [
            "paying for fibre and getting 3 mbps",
            "data is crawling on my {plan}, can't even load a map",
            "speeds drop every evening, {device} barely works",
            "download speed is a joke for what I pay",
        ],
        "billing": [
            "I was charged ${amount} extra on my bill this month",
            "my bill doubled and nobody can explain why",
            "you billed me for a {plan} I never signed up for",
            "charged twice for the same month, need this fixed",
            "there's a ${amount} fee on my bill I never agreed to",
        ],
        "contract": [
            "you raised my price mid-contract",
            "the promo on my {plan} just vanished",
            "trying to end my contract and you keep adding fees",
        ],
        "roaming": [
            "roaming in {city} doesn't work even though I added the pass",
            "got a ${amount} roaming charge for a weekend trip",
        ],
        "device": [
            "my new {device} won't activate on your network",
            "the {device} you sent me is faulty out of the box",
            "eSIM transfer failed and now my {device} has no service",
        ],
        "customer_service": [
            "been on hold for {hours} hours with support",
            "your chat agent closed my ticket without fixing anything",
            "I've explained my problem {num} times to different agents",
            "no one calls back when they say they will",
        ],
        "installation": [
            "the technician never showed up for my install",
            "install appointment moved for the {num}th time",
            "waited home all day for an engineer who didn't come",
        ],
    },
    "ecommerce": {
        "delivery_delay": [
            "my order is {days} days late and tracking hasn't moved",
            "the {item} was supposed to arrive on Monday, still nothing",
            "express delivery my foot, {days} days and counting",
            "tracking says out for delivery since {days} days ago",
        ],
        "missing_package": [
            "tracking says delivered but there's no package",
            "my {item} was marked delivered and it's nowhere",
            "the parcel never arrived and the driver photo shows someone else's door",
        ],
        "damaged_item": [
            "my {item} arrived broken",
            "the box was crushed and the {item} inside is smashed",
            "received a damaged {item}, clearly used",
        ],
        "wrong_item": [
            "ordered a {item} and got a {item2}",
            "wrong size sent again for my {item}",
            "the order had someone else's {item} in it",
        ],
        "refund": [
            "returned the {item} {days} days ago, still no refund",
            "where's my ${amount} refund",
            "you cancelled my order but kept my ${amount}",
        ],
        "returns": [
            "the return label for my {item} won't generate",
            "the returns portal keeps erroring on my {item}",
            "no drop-off point will accept my return",
        ],
        "payment": [
            "my card was charged ${amount} twice at checkout",
            "payment failed but the money left my account",
            "checkout keeps rejecting my card",
        ],
        "account": [
            "I'm locked out of my account and the reset email never comes",
            "someone changed the email on my account",
            "can't log in since the app update",
        ],
        "customer_service": [
            "your support chat disconnects every time",
            "been waiting {days} days for an email reply",
            "the agent promised a call back that never happened",
        ],
    },
}

QUESTIONS: dict[str, list[str]] = {
    "airline": [
        "what's the baggage allowance for a flight to {city}?",
        "can I bring a stroller on board to {city}?",
        "is flight {num} to {city} on time today?",
        "how early should I check in for an international flight?",
        "do you offer meals on the {city} route?",
        "can I change my seat after check-in?",
    ],
    "telecom": [
        "does the {plan} include roaming in {city}?",
        "how do I set up eSIM on my {device}?",
        "when does my contract end?",
        "is 5G available in {city} yet?",
        "can I add a line to my {plan}?",
    ],
    "ecommerce": [
        "do you ship the {item} to {city}?",
        "when will the {item} be back in stock?",
        "can I change the delivery address on my order?",
        "how long do returns take to process?",
        "is there a warranty on the {item}?",
    ],
}

REQUESTS: dict[str, list[str]] = {
    "airline": ["please rebook me on the next flight to {city}", "please send me a receipt for flight {num}",
                "could you add my frequent flyer number to my booking", "please update my seat to an aisle"],
    "telecom": ["please send an engineer to check my line", "please switch me to the {plan}",
                "can you unlock my {device}", "please cancel the extra line on my account"],
    "ecommerce": ["please update the address on my order", "please send a replacement {item}",
                  "can you cancel my order for the {item}", "please resend the invoice"],
}

PRAISE: dict[str, list[str]] = {
    "airline": ["the crew on flight {num} to {city} were wonderful", "smooth flight and early arrival in {city}",
                "the gate agent in {city} went above and beyond", "best landing I've had in years",
                "upgraded on my {city} flight, you made my day"],
    "telecom": ["the new fibre is blazing fast", "support fixed my {device} in ten minutes",
                "signal in {city} has been great since the upgrade", "switched to your {plan} and loving it"],
    "ecommerce": ["the {item} arrived a day early", "love my new {item}", "return was refunded in two days",
                  "packaging was perfect and the {item} is great"],
}

OPENERS_NEG = ["", "", "Seriously, ", "Unbelievable. ", "Hey, ", "Ugh, ", "Once again ", "FYI ", "So ", "Wow. "]
TAILS_NEG = ["", "", "", " This is ridiculous.", " Not happy at all.", " Worst experience ever.",
             " Absolutely unacceptable.", " Fix this please.", " I'm so done.", " Thanks for nothing.",
             " Never again.", " Really disappointed.", " Sooo frustrating.", " What a joke.",
             " Great, just great.", " Not impressed.", " I want my money back.", " Can someone help?"]
CHURN_TAILS = [" I'm switching to {competitor}.", " Cancelling my account today.", " Moving to {competitor} next month.",
               " Done with you, taking my business elsewhere."]
ESCALATION_TAILS = [" My lawyer will hear about this.", " This is a safety issue.", " Reporting this to the regulator.",
                    " Everyone should know how you treat customers. Please RT."]
OPENERS_NEU = ["", "", "Hi, ", "Hello! ", "Quick question: ", "Hey there, "]
TAILS_NEU = ["", "", " Thanks!", " Thank you.", " Cheers.", " Thanks in advance."]
TAILS_POS = ["", " Thank you!", " Thanks so much!", " You rock.", " 👏", " ❤️", " Great job!", " Impressed."]
HASHTAGS_NEG = ["", "", "", "", " #fail", " #neveragain", " #customerservice", " #disappointed", " #worst"]
EMOJI_NEG = ["", "", "", " 😡", " 😤", " 🙄", " :(", " 😠"]
EMOJI_POS = ["", "", " 😊", " 🙌", " :)", " 😍"]

FOLLOWUPS_NEG = ["Still waiting.", "Hello?? Anyone?", "DM sent, no answer yet.", "It's been hours and nothing.",
                 "Any update on this?", "Still no reply. Typical.", "I sent the details you asked for."]
FOLLOWUPS_MORE = ["My reference is {ref}.", "My order number is {ref} if that helps.",
                  "You can reach me at {email}.", "Call me on {phone} please."]
RECOVERED = ["Thanks, all sorted now!", "That fixed it, thank you.", "Refund received, thanks for the help.",
             "Appreciate the quick help, all good now.", "Got it resolved, thanks {agent}!",
             "Thank you, that's perfect.", "Much better, thanks for sorting it."]
NOT_RECOVERED = ["That doesn't help at all.", "Still not fixed.", "Same copy-paste answer again.",
                 "Useless. Still waiting.", "This is going nowhere.", "So no solution then?"]

BRAND_FIRST = ["Hi {name}, we're sorry to hear this. Please DM us your details and we'll look into it.",
               "We're sorry for the trouble, {name}. Could you send us a DM with your reference?",
               "Hi {name}, that's not the experience we want for you. Let's fix it: please DM us.",
               "Thanks for reaching out, {name}. We'd like to help, please follow and DM us.",
               "Sorry about this, {name}. We've raised it with the team. Can you DM us more details?"]
BRAND_ANSWER = ["Hi {name}, happy to help! Here's what you need to know: it's all on our help page.",
                "Hi {name}, yes you can, and our help page has the details.",
                "Thanks for asking, {name}. You'll find everything in the app under Help."]
BRAND_THANKS = ["Thank you {name}, we'll pass this on to the team!", "So glad to hear it, {name}!",
                "Thanks for the kind words, {name}!"]
BRAND_FOLLOWUP = ["Thanks {name}, we've sorted this on our side. Anything else we can do?",
                  "We've processed this now, {name}. Sorry again for the hassle.",
                  "Thanks for your patience, {name}. It's fixed on our end."]
AGENTS = ["-Becky", "^JK", "-Marco", "^AL", "-Priya", "^SR", "-Tom", "-Ana", "^DW", "-Kim"]

NON_ENGLISH = ["Mi vuelo a {city} lleva {hours} horas de retraso, ¿qué pasa?",
               "Mon colis n'est jamais arrivé, c'est inadmissible.",
               "Mein Koffer ist seit {days} Tagen verschwunden.",
               "Pedido atrasado há {days} dias, ninguém responde.",
               "Il mio volo è stato cancellato senza preavviso."]

# what a personal agent says next, after restating the customer's issue in their words
PERSONAL_NEXT = ["I've flagged it to the team and I'll DM you as soon as I hear back.",
                 "Could you DM me your reference so I can chase this myself?",
                 "I'm looking into it right now, give me a few minutes.",
                 "Let me check with my colleagues and come back to you here today."]

# Spanish posts with what the writer meant: (text, sentiment, intent, complaint category or None). The sample world
# writes them where it draws a Spanish post, from its own random stream, and keeps the labels
# (SampleWorld.labels), so the Spanish rule pack (nlp/rules/es) has something to be measured on. Written for the
# project, in the registers customers use: plain complaints, questions, thanks, sarcasm, a churn threat.
SPANISH: dict[str, list[tuple[str, str, str, str | None]]] = {
    "airline": [
        ("Mi vuelo a {city} lleva {hours} horas de retraso y nadie nos dice nada", "negative", "complaint", "delay"),
        ("Cancelaron mi vuelo sin avisar, ¿y ahora qué hago?", "negative", "complaint", "cancellation"),
        ("Perdieron mi maleta en {city} y no aparece desde hace {days} días", "negative", "complaint", "lost_baggage"),
        ("Mi maleta llegó rota, la rueda arrancada", "negative", "complaint", "damaged_baggage"),
        ("Genial, otro retraso más. Gracias por nada", "negative", "complaint", "delay"),
        ("¿Cuánto equipaje de mano puedo llevar en el vuelo a {city}?", "neutral", "question", None),
        ("¿Puedo cambiar la fecha de mi reserva sin coste?", "neutral", "question", None),
        ("Muchas gracias a la tripulación del vuelo a {city}, excelente atención 😊", "positive", "praise", None),
        ("Llevo una hora en espera y nadie me atiende, es una vergüenza", "negative", "complaint", "customer_service"),
        ("Todo perfecto, llegamos a tiempo. ¡Gracias!", "positive", "praise", None),
    ],
    "telecom": [
        ("Llevo {days} días sin internet y nadie me da una solución", "negative", "complaint", "outage"),
        ("Otra vez sin señal en {city}, pésimo servicio", "negative", "complaint", "outage"),
        ("Me cobraron dos veces la factura de este mes", "negative", "complaint", "billing"),
        ("Si no lo arreglan hoy me cambio a otra compañía", "negative", "complaint", "outage"),
        ("La conexión va lentísima, no carga nada", "negative", "complaint", "slow_speed"),
        ("¿Cómo activo el roaming para viajar a {city}?", "neutral", "question", None),
        ("¿Hay alguna promoción para clientes actuales?", "neutral", "question", None),
        ("Gracias por resolverlo tan rápido, muy amables", "positive", "praise", None),
        ("Ya funciona todo bien, mil gracias 👍", "positive", "praise", None),
        ("Necesito cambiar mi plan, por favor", "neutral", "request", None),
    ],
    "ecommerce": [
        ("Mi pedido lleva {days} días de retraso y nadie responde", "negative", "complaint", "delivery_delay"),
        ("El paquete aparece como entregado pero nunca llegó", "negative", "complaint", "missing_package"),
        ("El producto llegó roto, quiero un reembolso", "negative", "complaint", "damaged_item"),
        ("Me enviaron la talla equivocada otra vez", "negative", "complaint", "wrong_item"),
        ("Sí, claro, entrega en 24 horas... una semana esperando 🙄", "negative", "complaint", "delivery_delay"),
        ("¿Cuándo llega mi pedido a {city}?", "neutral", "question", None),
        ("¿Dónde puedo devolver un artículo?", "neutral", "question", None),
        ("Todo llegó perfecto y antes de tiempo, ¡gracias!", "positive", "praise", None),
        ("Excelente servicio, me encanta la tienda ❤️", "positive", "praise", None),
        ("Por favor, necesito cambiar la dirección de entrega", "neutral", "request", None),
    ],
}
