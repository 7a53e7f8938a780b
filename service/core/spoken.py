"""What callers hear, in English and Spanish: spoken, so short sentences and plain words.

The English is written here (`ENGLISH`); the Spanish is in the participant catalog with
the msgctxt `spoken.<key>` (service/core/catalogs.py). `SPOKEN` gives both, read on first use.

These are not SMS texts (service/texts.py): no segment limits, accents are fine, and every
instruction says which key to press *and* what to say, since many people call hands-free.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.core import catalogs
from service.core.texts import normalise_language

# Amazon Polly voices through Twilio <Say>: warmer than the legacy ones, and with Spanish.
VOICES = {"en": ("Polly.Joanna", "en-US"), "es": ("Polly.Lupe", "es-US")}

ENGLISH: dict[str, str] = {
    # --- Who is calling ------------------------------------------------------------------
    "unknown_caller": (
        "Hello, and thank you for calling. We can't find this number in any of our "
        "programs, so there is nothing to record. If you were invited, please ask your "
        "facilitator to check your number. Goodbye."
    ),
    "not_started": (
        "Hi {first_name}, thank you for calling {program}. Before we begin, please "
        "reply YES to the text message we sent you. Then call back any time. Goodbye."
    ),
    "opted_out": (
        "Hi {first_name}. You asked us to stop our messages, so nothing will be "
        "recorded on this call. If you'd like to start again, text START to this number. "
        "Take care."
    ),
    "closed": (
        "Hi {first_name}. Your program with {facilitator} is complete, so there is "
        "nothing more to record. If you'd like to talk, please reach out to {facilitator} "
        "directly. Take care."
    ),
    "greeting": (
        "Hi {first_name}, this is {program}. Anything you record on this call is kept "
        "for {facilitator}, your facilitator."
    ),
    "greeting_outbound": (
        "Hi {first_name}, this is {program}, calling as you asked. Anything you record "
        "on this call is kept for {facilitator}, your facilitator."
    ),
    # --- The menu ------------------------------------------------------------------------
    "menu_intro": ("What would you like to do?"),
    "menu_again": ("Is there anything else? You can also just hang up."),
    "menu_option": ("To {label}, press {digit}, or say {word}."),
    "label_answer": "answer your next question",
    "label_reflect": "record your reflection",
    "label_commitments": "hear your commitments",
    "label_checkin": "do your check-in",
    "label_message": ("leave a message for {facilitator}"),
    # The word each option can be chosen by, spoken in the menu.
    "word_answer": "answer",
    "word_reflect": "reflection",
    "word_commitments": "commitments",
    "word_checkin": "check in",
    "word_message": "message",
    "no_input": ("Sorry, I didn't catch that."),
    "not_a_choice": ("Sorry, that isn't one of the choices."),
    "sorry_error": (
        "Sorry, something went wrong on our side. Please call again in a little while. Goodbye."
    ),
    "goodbye": ("Thank you for calling. You can call this number any time. Take care."),
    # --- Recording -----------------------------------------------------------------------
    "ask_what_happened": (
        "In a few sentences, what happened? Just the facts, as someone who was there "
        "but took no side might describe them."
    ),
    "ask_emotions": (
        "What did you feel when it happened? And what do you think the other person "
        "felt? Any words are fine."
    ),
    "ask_pattern": (
        "Does this repeat an older pattern, between you or earlier in your life? Share "
        "as much or as little as you like."
    ),
    "ask_responsibility": (
        "Only your own part, please: what did you do, or not do, and how did it affect "
        "them? There's no need to explain why. Think: I see how my action affected you."
    ),
    "ask_reflection": (
        "Take a moment to think about what you heard from {other}. In your own words: "
        "what did they tell you, and what do you understand now about how it was for them? "
        "There's no need to defend your side."
    ),
    "other_side": "the other person",
    "ask_message": ("Please leave your message for {facilitator}."),
    "record_howto": (
        "Speak after the tone. You have up to {limit}. When you're finished, press the pound key."
    ),
    "minutes": "{n} minutes",
    "one_minute": "one minute",
    "seconds": "{n} seconds",
    "nothing_heard": ("We didn't hear anything that time, so nothing was kept."),
    "keep_or_again": (
        "Thank you. To keep it, press 1, or say keep. To record it again, press 2, or say again."
    ),
    "again": ("Okay, let's record it again."),
    "kept": ("It's kept. Thank you for sharing it."),
    "kept_next_question": (
        "Your answer is kept. There's another question whenever you're ready; we'll "
        "also text it to you."
    ),
    "kept_step3_next": (
        "Your answer is kept. That was the last question. The next step is recording a "
        "reflection on what you heard from the other side."
    ),
    "kept_reflection": (
        "Thank you for listening so carefully. Your reflection is kept for "
        "{facilitator}. Next comes agreeing on new commitments, and we'll text you about it."
    ),
    "kept_message": ("Thank you. Your message is kept for {facilitator}."),
    # --- Commitments ---------------------------------------------------------------------
    "commitments_none": (
        "You don't have any commitments written down yet. {facilitator} will work them "
        "out with you."
    ),
    "commitments_intro": ("Here are your commitments."),
    "commitment_item": "Number {n}: {text}.",
    "commitment_sign": ("You'll know it's working when: {sign}."),
    "commitments_agree_hint": ("To agree to them, reply AGREE to our text message."),
    # --- Check-in ------------------------------------------------------------------------
    "checkin_intro": (
        "Let's do your check-in. For each commitment, press 1 if you kept it, 2 if you "
        "didn't, or 3 if you partly did. You can also say yes, no, or partly."
    ),
    "checkin_item": ("Number {n}: {text}. Did you keep it?"),
    "checkin_item_partner": ("Number {n}: {text}. From where you stand, did {partner} keep it?"),
    "checkin_keys": ("Press 1 for kept, 2 for not kept, or 3 for partly."),
    "checkin_thanks": ("Thank you for checking in. Every honest answer helps, whatever it is."),
    "checkin_none": (
        "There's no check-in waiting right now. We'll text you when the next one is due."
    ),
    "checkin_unfinished": ("We'll leave this check-in open, so you can answer it by text later."),
}

# {key: {lang: text}}: the English above and the catalogs' translations, read on first use.
SPOKEN: Mapping[str, Mapping[str, str]] = catalogs.LazyTexts(
    ENGLISH, context=lambda key: f"{catalogs.SPOKEN_CONTEXT}{key}"
)


def say(key: str, lang: str | None, **values: object) -> str:
    """The spoken text for `key` in `lang` (falling back to English), values filled in."""
    english = ENGLISH[key]
    lang = normalise_language(lang)
    text = catalogs.translate(lang, f"{catalogs.SPOKEN_CONTEXT}{key}", english) or english
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
