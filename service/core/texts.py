"""Every text a participant reads, in English and Spanish, and how it is rendered.

Defaults are short enough to read on a lock screen: each fits one SMS segment when rendered
with the longest realistic values (`SAMPLE_VALUES`). They stay within the GSM-7 alphabet,
because a single character outside it (a curly quote, an emoji, or Spanish á í ó ú) sends
the whole message as UCS-2 and cuts a segment from 160 to 70 characters; the Spanish is
worded to avoid those accents rather than drop them ("lo ocurrido", "tuvo", "ya no" where
"pasó", "sintió" or "más" would cost a segment). The Spanish is one neutral Latin American /
US Spanish, with "tú" and the preterite ("aceptaste", not "has aceptado"). Keywords in the
Spanish texts are the Spanish ones the keyword parser understands (SI, ACEPTO, LLAMAR...);
STOP is kept because carriers handle it everywhere.

A program may override any text per language (`{key: {lang: text}}`); `render` falls back
to the default when an override cannot be rendered, and `validate_override` tells the admin
what is wrong with one before it is saved.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from service.core.enums import Language, Outcome
from service.core.keywords import OPT_OUT_WORDS
from service.core.segments import segment_info

log = logging.getLogger(__name__)

LANGUAGES = Language.values()
DEFAULT_LANGUAGE = Language.EN.value

STEP_NAMES: dict[str, dict[int, str]] = {
    "en": {
        1: "Naming the misalignment",
        2: "Taking responsibility",
        3: "Listening deeply",
        4: "Agreeing on new commitments",
        5: "Living the alignment",
    },
    "es": {
        1: "Nombrar el desajuste",
        2: "Asumir la responsabilidad",
        3: "Escuchar a fondo",
        4: "Acordar nuevos compromisos",
        5: "Vivir lo acordado",
    },
}

TEMPLATES: dict[str, dict[str, str]] = {
    # --- Enrolment ---------------------------------------------------------------------
    "invite": {
        "en": "Hi, this is {program} with {facilitator}. Let's repair trust one small step at a "
        "time, by text. Reply YES to begin, or STOP to opt out.",
        "es": "Hola, te escribe {program} con {facilitator}. Reparemos la confianza paso a paso, "
        "por mensaje. Responde SI para empezar o STOP para salir.",
    },
    "consent_thanks": {
        "en": "Thank you for saying yes. There are no right or wrong answers, and you can go "
        "at your own pace. Your first question is on its way.",
        "es": "Gracias por aceptar. No hay respuestas correctas ni incorrectas, y puedes ir a "
        "tu ritmo. Enseguida te llega la primera pregunta.",
    },
    "consent_reminder": {
        "en": "This is {program} with {facilitator}: short texts to help repair trust. Reply "
        "YES to begin, or STOP and we won't text you again.",
        "es": "Te escribe {program} con {facilitator}: mensajes cortos para reparar la "
        "confianza. Responde SI para empezar o STOP para salir.",
    },
    "unknown_sender": {
        "en": "Hi, thanks for your message. We can't find this number on any of our programs. "
        "If you were invited, please ask your facilitator to check it.",
        "es": "Hola, gracias por escribir. No encontramos este contacto en nuestros programas. "
        "Si te invitaron, pide a quien facilita el programa que lo revise.",
    },
    # --- Step 1: naming the misalignment -------------------------------------------------
    "step1_what_happened": {
        "en": "Step 1. In a few sentences, what happened? Just the facts, as someone who was "
        "there but took no side might describe them.",
        "es": "Paso 1. En pocas frases, cuenta lo ocurrido: solo los hechos, sin juzgar, como "
        "si lo contara un testigo.",
    },
    "step1_emotions": {
        "en": "What did you feel when it happened? And what do you think the other person "
        "felt? Any words are fine.",
        "es": "¿Qué sentiste en ese momento? ¿Y qué emociones crees que tuvo la otra persona? "
        "Cualquier palabra vale.",
    },
    "step1_pattern": {
        "en": "Does this repeat an older pattern, between you or earlier in your life? Share "
        "as much or as little as you like.",
        "es": "¿Esto repite algo que ya pasaba antes, entre ustedes o en tu vida? Comparte "
        "tanto o tan poco como quieras.",
    },
    # --- Step 2: taking responsibility ---------------------------------------------------
    "step2_responsibility": {
        "en": "Step 2. Only your own part: what did you do or not do, and how did it affect "
        'them? No need to explain why. Think "I see how my action affected you."',
        "es": "Paso 2. Solo tu parte: ¿qué hiciste o no hiciste, y qué efecto tuvo en la "
        'otra persona? Sin justificarte. La idea: "Veo el efecto que tuvo en ti lo que hice."',
    },
    # --- Step 3: listening deeply --------------------------------------------------------
    "step3_intro": {
        "en": "Step 3 is a short call. Call {number} when you're ready, or text CALL and we'll "
        "call you. You'll record what you heard from the other side.",
        "es": "El paso 3 es una llamada corta. Llama al {number} cuando quieras, o escribe "
        "LLAMAR y te llamamos. Vas a grabar lo que escuchaste de la otra parte.",
    },
    "call_reminder": {
        "en": "Thanks, we've kept that for {facilitator}. Step 3 is a short call: call {number} "
        "when you're ready, or text CALL and we'll call you.",
        "es": "Gracias, lo guardamos para {facilitator}. El paso 3 es una llamada corta: llama "
        "al {number} o escribe LLAMAR y te llamamos.",
    },
    # --- Between answers -----------------------------------------------------------------
    # The message bank (core/rotation.py): texts sent again and again have variants,
    # taken in turn per participant, so the same wording never comes twice in a row.
    "ack_statement": {
        "en": "Thank you for sharing that. It's saved.",
        "es": "Gracias por compartirlo. Queda guardado.",
    },
    "ack_statement_2": {
        "en": "Thank you. That took honesty, and it's kept safe.",
        "es": "Gracias. Eso pide sinceridad, y queda guardado.",
    },
    "ack_statement_3": {
        "en": "Got it, thank you. Your words are saved.",
        "es": "Recibido, gracias. Tus palabras quedan guardadas.",
    },
    "ack_statement_4": {
        "en": "Thank you for putting that into words. It's saved.",
        "es": "Gracias por ponerlo en palabras. Queda guardado.",
    },
    "next_prompt_morning": {
        "en": "We'll send the next question tomorrow morning. Take care until then.",
        "es": "Mañana por la mañana te enviamos la siguiente pregunta. Hasta entonces, descansa.",
    },
    # --- Step 4: agreeing on new commitments ---------------------------------------------
    "commitments_list": {
        "en": "{first_name}, here are your new commitments:\n{items}",
        "es": "{first_name}, estos son tus nuevos compromisos:\n{items}",
    },
    "commitment_agree_prompt": {
        "en": "Reply AGREE to confirm, or CHANGE followed by your own wording and "
        "{facilitator} will go over it with you.",
        "es": "Responde ACEPTO para confirmar, o CAMBIAR seguido de tus propias palabras y "
        "{facilitator} las va a revisar contigo.",
    },
    "agreement_reminder": {
        "en": "Thanks, we've kept that for {facilitator}. To confirm your commitments, reply "
        "AGREE, or CHANGE and your own wording.",
        "es": "Gracias, lo guardamos para {facilitator}. Para confirmar tus compromisos, "
        "responde ACEPTO, o CAMBIAR y tus propias palabras.",
    },
    "commitments_agreed": {
        "en": "Thank you, your commitments are agreed. We'll check in on them from here. If "
        "one is ever at risk, text HEADSUP and a few words.",
        "es": "Gracias, tus compromisos quedan acordados. Te vamos a preguntar por ellos. Si "
        "alguno corre riesgo, escribe AVISO y unas palabras.",
    },
    "commitment_change_received": {
        "en": "Thanks, we've sent your wording to {facilitator}, who will go over it with you.",
        "es": "Gracias, le enviamos tus palabras a {facilitator}, que las va a revisar contigo.",
    },
    "commitment_waiting_partner": {
        "en": "Thank you, you've agreed. We're waiting for {partner} to agree the same "
        "wording, and we'll let you know.",
        "es": "Gracias, ya aceptaste. Esperamos a que {partner} acepte el mismo texto y te "
        "avisamos.",
    },
    "commitment_added": {
        "en": "Thanks, we've written down your commitment. {facilitator} can see it too.",
        "es": "Gracias, anotamos tu compromiso y {facilitator} ya lo puede ver.",
    },
    # --- Keywords ------------------------------------------------------------------------
    "help": {
        "en": "{program} with {facilitator}. Contact: {contact}. Text PAUSE for a break, "
        "STATUS to see where you are, or STOP to opt out.",
        "es": "{program} con {facilitator}. Contacto: {contact}. Escribe PAUSA para "
        "descansar, ESTADO para ver tu avance o STOP para salir.",
    },
    "resumed": {
        "en": "Welcome back, your messages are on again. Text STOP any time to end them, or "
        "HELP for help.",
        "es": "Hola de nuevo, los mensajes vuelven a estar activos. Escribe STOP cuando "
        "quieras dejarlos, o AYUDA si necesitas ayuda.",
    },
    "paused": {
        "en": "Okay, we've paused your messages. Text RESUME whenever you're ready to pick up "
        "again.",
        "es": "De acuerdo, pausamos tus mensajes. Escribe SEGUIR cuando quieras retomarlos.",
    },
    "unpaused": {
        "en": "Welcome back. We'll pick up where you left off.",
        "es": "Hola de nuevo. Seguimos donde lo dejaste.",
    },
    # STATUS: where they are, what is next and when, in their time (core/status.py picks).
    "status": {
        "en": "You're in step {step} of 5: {step_name}. We'll text you when there's a next "
        "step. Thank you for your patience.",
        "es": "Vas en el paso {step} de 5: {step_name}. Te escribimos cuando haya un "
        "siguiente paso. Gracias por tu paciencia.",
    },
    "status_answer": {
        "en": "You're in step {step} of 5: {step_name}. Next is your answer to the last "
        "question, whenever you're ready. There's no rush.",
        "es": "Vas en el paso {step} de 5: {step_name}. Lo siguiente es responder la "
        "pregunta que te enviamos, cuando quieras. Sin prisa.",
    },
    "status_later": {
        "en": "You're in step {step} of 5: {step_name}. Your next question comes {when}, "
        "your time. Rest until then.",
        "es": "Vas en el paso {step} de 5: {step_name}. Tu siguiente pregunta llega {when}, "
        "tu hora. Hasta entonces, descansa.",
    },
    "status_call": {
        "en": "You're in step 3 of 5: {step_name}. Next is a short call: call {number} when "
        "you're ready, or text CALL and we'll call you.",
        "es": "Vas en el paso 3 de 5: {step_name}. Sigue una llamada corta: llama al "
        "{number} cuando quieras, o escribe LLAMAR y te llamamos.",
    },
    "status_agree": {
        "en": "You're in step 4 of 5: {step_name}. Next is confirming your commitments: "
        "reply AGREE, or CHANGE and your own wording.",
        "es": "Vas en el paso 4 de 5: {step_name}. Falta confirmar tus compromisos: "
        "responde ACEPTO, o CAMBIAR y tus propias palabras.",
    },
    "status_checkin": {
        "en": "You're in step 5 of 5: {step_name}. Your next check-in is {when}, your "
        "time. Thank you for keeping at it.",
        "es": "Vas en el paso 5 de 5: {step_name}. Tu siguiente seguimiento es {when}, tu "
        "hora. Gracias por seguir.",
    },
    "status_paused": {
        "en": "Your messages are paused; you're in step {step} of 5: {step_name}. Text "
        "RESUME whenever you're ready.",
        "es": "Tus mensajes siguen en pausa; vas en el paso {step} de 5: {step_name}. "
        "Escribe SEGUIR cuando quieras.",
    },
    "headsup_thanks": {
        "en": "Thank you for the heads-up. Saying so early is part of keeping your word. "
        "{facilitator} will see your note.",
        "es": "Gracias por avisar. Avisar a tiempo es parte de cumplir tu palabra. "
        "{facilitator} va a ver tu nota.",
    },
    "skipped": {
        "en": "Okay, skipped. We'll move on to the next one.",
        "es": "De acuerdo, lo saltamos. Seguimos con lo siguiente.",
    },
    "media_not_read": {
        "en": "Thanks. We can only read text here, but we've kept what you sent for "
        "{facilitator}. Could you put your answer in words?",
        "es": "Gracias. Solo podemos leer texto, pero guardamos lo que enviaste para "
        "{facilitator}. ¿Puedes escribir tu respuesta?",
    },
    "note_saved": {
        "en": "Thanks, we've kept your note for {facilitator}. There's no open question right "
        "now, so nothing else is needed.",
        "es": "Gracias, guardamos tu nota para {facilitator}. Ahora mismo no hay ninguna "
        "pregunta pendiente.",
    },
    "nothing_to_skip": {
        "en": "There's no question to skip right now. We'll text you when there's a next step.",
        "es": "Ahora no hay ninguna pregunta que saltar. Te escribimos cuando haya un "
        "siguiente paso.",
    },
    "call_requested": {
        "en": "Thanks, we'll call you shortly.",
        "es": "Gracias, te llamamos en unos minutos.",
    },
    "call_scheduled": {
        "en": "Thanks. So we don't call at a bad hour, we'll call you {when}, your time.",
        "es": "Gracias. Para no llamarte a deshoras, te llamamos {when}, tu hora.",
    },
    # --- Step 5: living the alignment ----------------------------------------------------
    # The check-in, partner check-in, nudge and weekly summary list short labels: with
    # three labels of 32 characters each still fits one segment.
    "checkin": {
        "en": "Did you keep each one?\n{items}\nReply Y, N or P (partly).",
        "es": "¿Cumpliste cada uno?\n{items}\nResponde S, N o P (en parte).",
    },
    "checkin_2": {
        "en": "How did it go?\n{items}\nReply Y, N or P (partly) for each.",
        "es": "¿Qué tal te fue?\n{items}\nResponde S, N o P (en parte).",
    },
    "checkin_3": {
        "en": "Time to look back:\n{items}\nKept? Y, N or P (partly).",
        "es": "Para repasar:\n{items}\n¿Cumplido? S, N o P (en parte).",
    },
    "checkin_clarify": {
        "en": "Sorry, we didn't quite follow. Please reply one letter per commitment, in "
        "order: Y kept, N not kept, P partly.",
        "es": "Disculpa, no te entendimos bien. Responde una letra por compromiso, en orden: S "
        "cumplido, N no cumplido, P en parte.",
    },
    "checkin_note_kept": {
        "en": "Thanks, we've kept that with today's check-in for {facilitator}. To answer it, "
        "reply Y, N or P for each commitment, e.g. Y N.",
        "es": "Gracias, lo guardamos con el seguimiento de hoy para {facilitator}. Para "
        "responder, escribe SI, NO o P por compromiso, p. ej. SI NO.",
    },
    "checkin_thanks": {
        "en": "Thank you for checking in. Every honest answer helps, whatever it is.",
        "es": "Gracias por responder. Cada respuesta sincera ayuda, sea cual sea.",
    },
    "checkin_thanks_2": {
        "en": "Thanks, that's saved. Answering honestly is part of keeping your word.",
        "es": "Gracias, queda guardado. Responder con sinceridad es parte de cumplir tu palabra.",
    },
    "checkin_thanks_3": {
        "en": "Thank you. Showing up for the check-in matters, whatever the answer.",
        "es": "Gracias. Estar presente en cada seguimiento importa, sea cual sea la respuesta.",
    },
    "checkin_thanks_4": {
        "en": "Got it, thank you. Consistency is the language of trust.",
        "es": "Recibido, gracias. La constancia es el idioma de la confianza.",
    },
    "checkin_nudge": {
        "en": "A gentle reminder:\n{items}\nA quick Y, N or P is enough.",
        "es": "Un pequeño recordatorio:\n{items}\nBasta con S, N o P.",
    },
    "checkin_nudge_2": {
        "en": "Still open, no rush:\n{items}\nY, N or P when you can.",
        "es": "Sigue abierto, sin prisa:\n{items}\nS, N o P cuando puedas.",
    },
    "checkin_nudge_3": {
        "en": "When you have a moment:\n{items}\nJust Y, N or P for each.",
        "es": "Cuando puedas:\n{items}\nSolo S, N o P por cada uno.",
    },
    "checkin_missed": {
        "en": "We didn't hear back on the last check-in, and that's okay. We'll ask again "
        "next time.",
        "es": "No recibimos respuesta al seguimiento anterior, y no pasa nada. Te volvemos a "
        "preguntar en el siguiente.",
    },
    # What was kept leads; a week with nothing kept gets a fresh start, never a zero.
    "weekly_summary": {
        "en": "This week you kept:\n{kept}\nThank you.",
        "es": "Esta semana cumpliste:\n{kept}\nGracias.",
    },
    "weekly_summary_fresh": {
        "en": "A new week starts today. Whatever last week held, each check-in is a fresh "
        "chance to keep your word. Thank you for staying with it.",
        "es": "Hoy empieza una semana nueva. Pase lo que haya pasado, cada seguimiento es "
        "una nueva oportunidad de cumplir tu palabra. Gracias por seguir.",
    },
    "milestone": {
        "en": "{streak} check-ins in a row with your word kept. That's trust being rebuilt, "
        "one promise at a time. Well done.",
        "es": "{streak} seguimientos seguidos cumpliendo tu palabra. La confianza se "
        "reconstruye promesa a promesa. Bien hecho.",
    },
    "partner_checkin": {
        "en": "Did {partner} keep these?\n{items}\nY, N or P (partly).",
        "es": "¿{partner} cumple con esto?\n{items}\nS, N o P (en parte).",
    },
    # --- Closing -------------------------------------------------------------------------
    "closing_restored": {
        "en": "Thank you for the care you've put into this. You've done the work of "
        "rebuilding trust. Your program is complete, so this is our last message. Take care.",
        "es": "Gracias por el cuidado que pusiste en esto. Hiciste el trabajo de reconstruir "
        "la confianza. El programa termina con este mensaje. Te deseamos lo mejor.",
    },
    "closing_ended": {
        "en": "Thank you for your honesty and effort. This program is now closed and we won't "
        "send more messages. Ending clearly is a form of care too.",
        "es": "Gracias por tu sinceridad y tu esfuerzo. Este programa llega a su fin y ya no "
        "te enviaremos mensajes. Cerrar con claridad es otra forma de cuidar.",
    },
}

# What each text is, in words, for the admin and the texts report.
TEXT_NAMES: dict[str, str] = {
    "invite": "invitation",
    "consent_thanks": "thanks for consenting",
    "consent_reminder": "consent reminder",
    "unknown_sender": "answer to an unknown number",
    "step1_what_happened": "step 1: what happened",
    "step1_emotions": "step 1: emotions",
    "step1_pattern": "step 1: older pattern",
    "step2_responsibility": "step 2: taking responsibility",
    "step3_intro": "step 3: the call",
    "call_reminder": "reminder of the step 3 call",
    "ack_statement": "thanks for an answer",
    "ack_statement_2": "thanks for an answer, wording 2",
    "ack_statement_3": "thanks for an answer, wording 3",
    "ack_statement_4": "thanks for an answer, wording 4",
    "next_prompt_morning": "next question tomorrow",
    "commitments_list": "list of new commitments",
    "commitment_agree_prompt": "request to agree",
    "agreement_reminder": "reminder to agree",
    "commitments_agreed": "commitments agreed",
    "commitment_change_received": "change request received",
    "commitment_waiting_partner": "waiting for the partner",
    "commitment_added": "commitment written down",
    "help": "HELP answer",
    "resumed": "messages back on",
    "paused": "PAUSE answer",
    "unpaused": "welcome back",
    "status": "STATUS answer",
    "status_answer": "STATUS answer, a question open",
    "status_later": "STATUS answer, next question later",
    "status_call": "STATUS answer, the step 3 call",
    "status_agree": "STATUS answer, commitments to agree",
    "status_checkin": "STATUS answer, next check-in",
    "status_paused": "STATUS answer, paused",
    "headsup_thanks": "thanks for a heads-up",
    "skipped": "SKIP answer",
    "media_not_read": "answer to a photo or file",
    "note_saved": "note kept",
    "nothing_to_skip": "nothing to skip",
    "call_requested": "CALL answer",
    "call_scheduled": "CALL answer, the call later",
    "checkin": "check-in",
    "checkin_2": "check-in, wording 2",
    "checkin_3": "check-in, wording 3",
    "checkin_clarify": "check-in question again",
    "checkin_note_kept": "note kept with the check-in",
    "checkin_thanks": "thanks for checking in",
    "checkin_thanks_2": "thanks for checking in, wording 2",
    "checkin_thanks_3": "thanks for checking in, wording 3",
    "checkin_thanks_4": "thanks for checking in, wording 4",
    "checkin_nudge": "check-in nudge",
    "checkin_nudge_2": "check-in nudge, wording 2",
    "checkin_nudge_3": "check-in nudge, wording 3",
    "checkin_missed": "missed check-in",
    "weekly_summary": "weekly summary",
    "weekly_summary_fresh": "weekly summary after a hard week",
    "milestone": "streak milestone",
    "partner_checkin": "partner check-in",
    "closing_restored": "closing, trust restored",
    "closing_ended": "closing, clear ending",
}

# Templates with a placeholder of unbounded length (the full wording of the commitments):
# they may run over one segment, so only their fixed part is held to the one-segment rule.
VARIABLE_LENGTH: frozenset[str] = frozenset({"commitments_list"})

# Three labels of the longest length a label may have (core/commitment_labels.py).
SAMPLE_LABELS = (
    "Share the weekly numbers by noon",
    "Tell Sam by Thursday if I cannot",
    "Call Dana before each big choice",
)

# The longest values we expect in practice; tests and the admin's live segment counter
# render with these. The database allows longer names: a text carrying one may then take
# two segments, which costs money but loses nothing.
SAMPLE_VALUES: dict[str, str] = {
    "program": "Northside Team Reset",  # 20 characters
    "facilitator": "Margaret Oyelaran-Wu",  # 20
    "first_name": "Christabelle",  # 12
    "partner": "Constantinos",  # 12
    "number": "+1 (415) 555-0134",  # 17
    "contact": "m.oyelaran@northside.org",  # 24
    "step_name": max((n for names in STEP_NAMES.values() for n in names.values()), key=len),
    "step": "5",
    "when": "el 30/12 a las 12:30 p. m.",  # core/status.py: the longest in either language
    "streak": "365",
    "items": "",  # filled in below: three labels
    "kept": "",
}

# Carrier rules (CTIA) want opt-out instructions in these, so overrides must keep them.
_MUST_MENTION_OPT_OUT = frozenset({"invite", "help"})

_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template text cannot be rendered (bad braces, unknown placeholder, empty)."""


def closing_texts(
    lang: str | None, overrides: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, str]:
    """The standard closing text for each outcome, as the program would send it."""
    return {o.value: render(f"closing_{o.value}", lang, overrides) for o in Outcome}


def custom_closing(
    message: str | None, outcome: str, lang: str | None, overrides=None
) -> str | None:
    """The closing message typed on a close form, or None when it is empty or still the
    standard text for `outcome` (so the program's own wording is used)."""
    text = (message or "").strip()
    if not text or text == closing_texts(lang, overrides).get(outcome, "").strip():
        return None
    return text


def placeholders(key: str) -> frozenset[str]:
    """Placeholders the default text for `key` uses (the ones an override may use)."""
    return frozenset(name for text in TEMPLATES[key].values() for name in _fields(text))


def _fields(text: str) -> list[str]:
    """Placeholder names in `text`; raises TemplateError on anything but plain `{name}`."""
    names = []
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise TemplateError(f"has a stray {{ or }} ({exc})") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        # Plain names only: "{program.__class__}" or "{x:>99}" in an override written in
        # the admin must not reach into Python objects or pad a text past its segment.
        if not name.isidentifier():
            raise TemplateError(f"uses {{{name}}}, which is not a placeholder name")
        if spec or conversion:
            raise TemplateError(f"adds formatting to {{{name}}}; write a plain {{{name}}}")
        names.append(name)
    return names


def normalise_language(lang: str | None) -> str:
    """'es-MX' -> 'es'; unknown or missing -> the default language."""
    base = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def step_name(step: int, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """The participant-facing name of step 1-5."""
    return STEP_NAMES[normalise_language(lang)][step]


def format_items(items: Iterable[str]) -> str:
    """Numbered list for `{items}`: '1) ...' one per line."""
    return "\n".join(f"{i}) {text.strip()}" for i, text in enumerate(items, start=1))


_OF = {"en": "of", "es": "de"}


def format_kept(rows: Iterable[tuple[str, int, int]], lang: str | None) -> str:
    """`{kept}` in the weekly summary: 'label: 5 of 7' for each (label, kept, asked) with
    something kept; the rest are left out, so the text only ever says what went well."""
    of = _OF[normalise_language(lang)]
    return "\n".join(f"{label}: {kept} {of} {asked}" for label, kept, asked in rows if kept > 0)


SAMPLE_VALUES["items"] = format_items(SAMPLE_LABELS)
SAMPLE_VALUES["kept"] = format_kept([(label, 7, 7) for label in SAMPLE_LABELS], "en")


def _format(text: str, allowed: frozenset[str], values: Mapping[str, str]) -> str:
    if not text.strip():
        raise TemplateError("is empty")
    names = _fields(text)
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise TemplateError(f"uses unknown placeholder {{{unknown[0]}}}")
    missing = sorted(set(names) - set(values))
    if missing:
        raise TemplateError(f"needs a value for {{{missing[0]}}}")
    return text.format_map(values)


def render(
    key: str,
    lang: str | None = DEFAULT_LANGUAGE,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    **values: object,
) -> str:
    """The text for `key` in `lang`, with `values` filled in.

    Uses the program's override in that language if it renders, else the default in that
    language, else the English default. A broken override is logged and skipped, never
    raised. Raises KeyError for an unknown key or a value missing from a default text
    (both are bugs in the caller).
    """
    defaults = TEMPLATES[key]
    lang = normalise_language(lang)
    text_values = {name: str(value) for name, value in values.items()}
    override = ((overrides or {}).get(key) or {}).get(lang)
    if isinstance(override, str):
        try:
            return _format(override, placeholders(key), text_values)
        except TemplateError as exc:
            log.warning("Override for %r (%s) %s; using the default text", key, lang, exc)
    default = defaults.get(lang) or defaults[DEFAULT_LANGUAGE]
    try:
        return default.format_map(text_values)
    except KeyError as exc:
        raise KeyError(f"template {key!r} needs a value for {exc.args[0]!r}") from None


def validate_override(key: str, text: str) -> list[str]:
    """Problems with `text` as an override for `key`, as sentences for a form; [] if fine."""
    if key not in TEMPLATES:
        return [f"There is no text called {key!r}."]
    if not text or not text.strip():
        return ["The text is empty."]
    allowed = placeholders(key)
    try:
        names = _fields(text)
    except TemplateError as exc:
        return [f"The text {exc}."]
    problems = []
    for name in sorted(set(names) - allowed):
        choices = ", ".join(f"{{{n}}}" for n in sorted(allowed)) or "none"
        problems.append(f"Unknown placeholder {{{name}}}; this text can use: {choices}.")
    if key in _MUST_MENTION_OPT_OUT and not _mentions_opt_out(text):
        problems.append("The text must say how to opt out, e.g. 'Reply STOP to opt out'.")
    if not problems:
        info = segment_info(text.format_map(SAMPLE_VALUES))
        if info.segments > 1:
            problems.append(
                f"With the longest names filled in this is {info.units_used} characters "
                f"({info.encoding}), more than fit in one text message."
            )
            if info.encoding == "UCS-2":
                problems.append(
                    "Curly quotes, emoji and letters like á í ó ú cut one text message from "
                    "160 to 70 characters."
                )
    return problems


def _mentions_opt_out(text: str) -> bool:
    words = set(re.findall(r"[^\W_]+", text.casefold()))
    return any(word in words for word in OPT_OUT_WORDS if " " not in word)


@dataclass(frozen=True)
class TextReport:
    """One participant-facing text as a program sends it, and what it costs."""

    key: str
    language: str
    text: str
    characters: int
    encoding: str
    segments: int
    override: bool  # the program's own wording, not the default

    @property
    def fails(self) -> bool:
        """A default over one segment is a fault; an override is only reported."""
        return self.segments > 1 and not self.override


def report(
    values: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    labels: Iterable[str] = SAMPLE_LABELS,
) -> list[TextReport]:
    """Every text in every language, rendered with `values` (the longest names are used for
    anything missing) and `labels` in the texts that list commitments."""
    labels = list(labels)
    filled = {
        **SAMPLE_VALUES,
        **{name: value for name, value in values.items() if value},
        "items": format_items(labels),
    }
    rows = []
    for key in TEMPLATES:
        for lang in LANGUAGES:
            values_here = {**filled, "kept": format_kept([(lb, 7, 7) for lb in labels], lang)}
            own = ((overrides or {}).get(key) or {}).get(lang)
            override = isinstance(own, str) and renders(own, key, values_here)
            text = render(key, lang, overrides if override else None, **values_here)
            info = segment_info(text)
            rows.append(
                TextReport(key, lang, text, len(text), info.encoding, info.segments, bool(override))
            )
    return rows


def renders(text: str, key: str, values: Mapping[str, str]) -> bool:
    """Whether `text`, as an override for `key`, can be filled in with `values` (else
    `render` would skip it for the default)."""
    try:
        _format(text, placeholders(key), values)
    except TemplateError:
        return False
    return True
