"""What callers hear, in English and Spanish: spoken, so short sentences and plain words.

These are not SMS texts (service/texts.py): no segment limits, accents are fine, and every
instruction says which key to press *and* what to say, since many people call hands-free.
"""

from __future__ import annotations

from service.core.texts import normalise_language

# Amazon Polly voices through Twilio <Say>: warmer than the legacy ones, and with Spanish.
VOICES = {"en": ("Polly.Joanna", "en-US"), "es": ("Polly.Lupe", "es-US")}

SPOKEN: dict[str, dict[str, str]] = {
    # --- Who is calling ------------------------------------------------------------------
    "unknown_caller": {
        "en": "Hello, and thank you for calling. We can't find this number in any of our "
        "programs, so there is nothing to record. If you were invited, please ask your "
        "facilitator to check your number. Goodbye.",
        "es": "Hola, y gracias por llamar. No encontramos este número en ninguno de nuestros "
        "programas, así que no hay nada que grabar. Si te invitaron, pide a quien facilita "
        "el programa que revise tu número. Adiós.",
    },
    "not_started": {
        "en": "Hi {first_name}, thank you for calling {program}. Before we begin, please "
        "reply YES to the text message we sent you. Then call back any time. Goodbye.",
        "es": "Hola {first_name}, gracias por llamar a {program}. Antes de empezar, responde "
        "SI al mensaje de texto que te enviamos. Después puedes llamar cuando quieras. Adiós.",
    },
    "opted_out": {
        "en": "Hi {first_name}. You asked us to stop our messages, so nothing will be "
        "recorded on this call. If you'd like to start again, text START to this number. "
        "Take care.",
        "es": "Hola {first_name}. Nos pediste dejar de enviarte mensajes, así que no se va a "
        "grabar nada en esta llamada. Si quieres volver a empezar, escribe START a este "
        "número. Cuídate.",
    },
    "closed": {
        "en": "Hi {first_name}. Your program with {facilitator} is complete, so there is "
        "nothing more to record. If you'd like to talk, please reach out to {facilitator} "
        "directly. Take care.",
        "es": "Hola {first_name}. Tu programa con {facilitator} terminó, así que no hay "
        "nada más que grabar. Si quieres hablar, escribe directamente a {facilitator}. "
        "Cuídate.",
    },
    "greeting": {
        "en": "Hi {first_name}, this is {program}. Anything you record on this call is kept "
        "for {facilitator}, your facilitator.",
        "es": "Hola {first_name}, te habla {program}. Lo que grabes en esta llamada se guarda "
        "para {facilitator}, quien facilita tu programa.",
    },
    "greeting_outbound": {
        "en": "Hi {first_name}, this is {program}, calling as you asked. Anything you record "
        "on this call is kept for {facilitator}, your facilitator.",
        "es": "Hola {first_name}, te llama {program}, como pediste. Lo que grabes en esta "
        "llamada se guarda para {facilitator}, quien facilita tu programa.",
    },
    # --- The menu ------------------------------------------------------------------------
    "menu_intro": {
        "en": "What would you like to do?",
        "es": "¿Qué te gustaría hacer?",
    },
    "menu_again": {
        "en": "Is there anything else? You can also just hang up.",
        "es": "¿Algo más? También puedes colgar.",
    },
    "menu_option": {
        "en": "To {label}, press {digit}, or say {word}.",
        "es": "Para {label}, marca el {digit}, o di {word}.",
    },
    "label_answer": {"en": "answer your next question", "es": "responder tu siguiente pregunta"},
    "label_reflect": {"en": "record your reflection", "es": "grabar tu reflexión"},
    "label_commitments": {"en": "hear your commitments", "es": "escuchar tus compromisos"},
    "label_checkin": {"en": "do your check-in", "es": "hacer tu seguimiento"},
    "label_message": {
        "en": "leave a message for {facilitator}",
        "es": "dejar un mensaje para {facilitator}",
    },
    # The word each option can be chosen by, spoken in the menu.
    "word_answer": {"en": "answer", "es": "responder"},
    "word_reflect": {"en": "reflection", "es": "reflexión"},
    "word_commitments": {"en": "commitments", "es": "compromisos"},
    "word_checkin": {"en": "check in", "es": "seguimiento"},
    "word_message": {"en": "message", "es": "mensaje"},
    "no_input": {
        "en": "Sorry, I didn't catch that.",
        "es": "Disculpa, no te entendí.",
    },
    "not_a_choice": {
        "en": "Sorry, that isn't one of the choices.",
        "es": "Disculpa, esa no es una de las opciones.",
    },
    "sorry_error": {
        "en": "Sorry, something went wrong on our side. Please call again in a little while. "
        "Goodbye.",
        "es": "Disculpa, algo falló de nuestra parte. Vuelve a llamar en un rato. Adiós.",
    },
    "goodbye": {
        "en": "Thank you for calling. You can call this number any time. Take care.",
        "es": "Gracias por llamar. Puedes llamar a este número cuando quieras. Cuídate.",
    },
    # --- Recording -----------------------------------------------------------------------
    "ask_what_happened": {
        "en": "In a few sentences, what happened? Just the facts, as someone who was there "
        "but took no side might describe them.",
        "es": "En pocas frases, ¿qué pasó? Solo los hechos, como los contaría alguien que "
        "estuvo ahí sin tomar partido.",
    },
    "ask_emotions": {
        "en": "What did you feel when it happened? And what do you think the other person "
        "felt? Any words are fine.",
        "es": "¿Qué sentiste cuando pasó? ¿Y qué crees que sintió la otra persona? Cualquier "
        "palabra vale.",
    },
    "ask_pattern": {
        "en": "Does this repeat an older pattern, between you or earlier in your life? Share "
        "as much or as little as you like.",
        "es": "¿Esto repite algo que ya pasó antes, entre ustedes o en tu vida? Comparte tanto "
        "o tan poco como quieras.",
    },
    "ask_responsibility": {
        "en": "Only your own part, please: what did you do, or not do, and how did it affect "
        "them? There's no need to explain why. Think: I see how my action affected you.",
        "es": "Solo tu parte, por favor: ¿qué hiciste, o dejaste de hacer, y cómo le afectó? "
        "No hace falta explicar por qué. Piensa: veo cómo te afectó lo que hice.",
    },
    "ask_reflection": {
        "en": "Take a moment to think about what you heard from {other}. In your own words: "
        "what did they tell you, and what do you understand now about how it was for them? "
        "There's no need to defend your side.",
        "es": "Tómate un momento para pensar en lo que escuchaste de {other}. Con tus "
        "palabras: ¿qué te contó, y qué entiendes ahora de cómo fue para esa persona? No "
        "hace falta defender tu parte.",
    },
    "other_side": {"en": "the other person", "es": "la otra persona"},
    "ask_message": {
        "en": "Please leave your message for {facilitator}.",
        "es": "Deja tu mensaje para {facilitator}.",
    },
    "record_howto": {
        "en": "Speak after the tone. You have up to {limit}. When you're finished, press the "
        "pound key.",
        "es": "Habla después del tono. Tienes hasta {limit}. Cuando termines, marca la tecla "
        "numeral.",
    },
    "minutes": {"en": "{n} minutes", "es": "{n} minutos"},
    "one_minute": {"en": "one minute", "es": "un minuto"},
    "seconds": {"en": "{n} seconds", "es": "{n} segundos"},
    "nothing_heard": {
        "en": "We didn't hear anything that time, so nothing was kept.",
        "es": "Esta vez no escuchamos nada, así que no se guardó nada.",
    },
    "keep_or_again": {
        "en": "Thank you. To keep it, press 1, or say keep. To record it again, press 2, or "
        "say again.",
        "es": "Gracias. Para guardarlo, marca el 1, o di guardar. Para grabarlo de nuevo, "
        "marca el 2, o di otra vez.",
    },
    "again": {
        "en": "Okay, let's record it again.",
        "es": "De acuerdo, vamos a grabarlo otra vez.",
    },
    "kept": {
        "en": "It's kept. Thank you for sharing it.",
        "es": "Queda guardado. Gracias por compartirlo.",
    },
    "kept_next_question": {
        "en": "Your answer is kept. There's another question whenever you're ready; we'll "
        "also text it to you.",
        "es": "Tu respuesta queda guardada. Hay otra pregunta cuando quieras; también te la "
        "enviamos por mensaje.",
    },
    "kept_step3_next": {
        "en": "Your answer is kept. That was the last question. The next step is recording a "
        "reflection on what you heard from the other side.",
        "es": "Tu respuesta queda guardada. Era la última pregunta. El siguiente paso es "
        "grabar una reflexión sobre lo que escuchaste de la otra parte.",
    },
    "kept_reflection": {
        "en": "Thank you for listening so carefully. Your reflection is kept for "
        "{facilitator}. Next comes agreeing on new commitments, and we'll text you about it.",
        "es": "Gracias por escuchar con tanta atención. Tu reflexión queda guardada para "
        "{facilitator}. Lo siguiente es acordar nuevos compromisos, y te escribiremos sobre "
        "ello.",
    },
    "kept_message": {
        "en": "Thank you. Your message is kept for {facilitator}.",
        "es": "Gracias. Tu mensaje queda guardado para {facilitator}.",
    },
    # --- Commitments ---------------------------------------------------------------------
    "commitments_none": {
        "en": "You don't have any commitments written down yet. {facilitator} will work them "
        "out with you.",
        "es": "Todavía no tienes compromisos escritos. {facilitator} los va a preparar contigo.",
    },
    "commitments_intro": {
        "en": "Here are your commitments.",
        "es": "Estos son tus compromisos.",
    },
    "commitment_item": {"en": "Number {n}: {text}.", "es": "Número {n}: {text}."},
    "commitment_sign": {
        "en": "You'll know it's working when: {sign}.",
        "es": "Sabrás que funciona cuando: {sign}.",
    },
    "commitments_agree_hint": {
        "en": "To agree to them, reply AGREE to our text message.",
        "es": "Para aceptarlos, responde ACEPTO a nuestro mensaje de texto.",
    },
    # --- Check-in ------------------------------------------------------------------------
    "checkin_intro": {
        "en": "Let's do your check-in. For each commitment, press 1 if you kept it, 2 if you "
        "didn't, or 3 if you partly did. You can also say yes, no, or partly.",
        "es": "Vamos con tu seguimiento. Para cada compromiso, marca el 1 si lo cumpliste, el "
        "2 si no, o el 3 si fue en parte. También puedes decir sí, no, o en parte.",
    },
    "checkin_item": {
        "en": "Number {n}: {text}. Did you keep it?",
        "es": "Número {n}: {text}. ¿Lo cumpliste?",
    },
    "checkin_item_partner": {
        "en": "Number {n}: {text}. From where you stand, did {partner} keep it?",
        "es": "Número {n}: {text}. Desde tu punto de vista, ¿lo cumplió {partner}?",
    },
    "checkin_keys": {
        "en": "Press 1 for kept, 2 for not kept, or 3 for partly.",
        "es": "Marca 1 si se cumplió, 2 si no, o 3 si fue en parte.",
    },
    "checkin_thanks": {
        "en": "Thank you for checking in. Every honest answer helps, whatever it is.",
        "es": "Gracias por responder. Cada respuesta sincera ayuda, sea cual sea.",
    },
    "checkin_none": {
        "en": "There's no check-in waiting right now. We'll text you when the next one is due.",
        "es": "Ahora mismo no hay ningún seguimiento pendiente. Te escribiremos cuando toque "
        "el siguiente.",
    },
    "checkin_unfinished": {
        "en": "We'll leave this check-in open, so you can answer it by text later.",
        "es": "Dejamos este seguimiento abierto para que puedas responderlo por mensaje.",
    },
}


def say(key: str, lang: str | None, **values: object) -> str:
    """The spoken text for `key` in `lang` (falling back to English), values filled in."""
    texts = SPOKEN[key]
    text = texts.get(normalise_language(lang)) or texts["en"]
    return text.format(**{k: str(v) for k, v in values.items()})


def voice_for(lang: str | None) -> tuple[str, str]:
    """(Twilio voice, language tag) for `lang`."""
    return VOICES[normalise_language(lang)]


def limit_phrase(seconds: int, lang: str | None) -> str:
    """A recording's maximum length in words: 180 -> '3 minutes', 90 -> '90 seconds'."""
    if seconds == 60:
        return say("one_minute", lang)
    if seconds % 60 == 0:
        return say("minutes", lang, n=seconds // 60)
    return say("seconds", lang, n=seconds)
