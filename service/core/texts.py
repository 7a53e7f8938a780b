"""Every text a participant reads, in English and Spanish, and how it is rendered.

Where the words live: the English is written here (`ENGLISH`, `STEP_NAMES_EN`), once; it
is the msgid of each entry in the gettext catalogs that hold every other language
(service/core/catalogs/<lang>/LC_MESSAGES/participant.po, msgctxt = the text's key), which
translators edit with ordinary tools and `make install` compiles (service/core/catalogs.py
says how they are read; README, "Translating", how they are edited). `TEMPLATES` and
`STEP_NAMES` give both together, `{key: {lang: text}}`, read from the catalogs on first use.

Defaults are short enough to read on a lock screen: each fits one SMS segment when rendered
with the longest realistic values (`SAMPLE_VALUES`). They stay within the GSM-7 alphabet,
because a single character outside it (a curly quote, an emoji, or Spanish á í ó ú) sends
the whole message as UCS-2 and cuts a segment from 160 to 70 characters; the Spanish is
worded to avoid those accents rather than drop them ("lo ocurrido", "tuvo", "ya no" where
"pasó", "sintió" or "más" would cost a segment). The Spanish is one neutral Latin American /
US Spanish, with "tú" and the preterite ("aceptaste", not "has aceptado"). Keywords in the
Spanish texts are the Spanish ones the keyword parser understands (SI, ACEPTO, LLAMAR...);
STOP is kept because carriers handle it everywhere. (The Spanish catalog says the same to
its translators, and tests/unit/test_texts.py counts the segments of every translation.)

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

from service.core import catalogs
from service.core.enums import Language, Outcome
from service.core.keywords import OPT_OUT_WORDS
from service.core.segments import segment_info

log = logging.getLogger(__name__)

LANGUAGES = Language.values()
DEFAULT_LANGUAGE = Language.EN.value

# The English of each text is written here (the msgid); every other language comes from its
# catalog (service/core/catalogs.py), read on first use.
STEP_NAMES_EN: dict[int, str] = {
    1: "Naming the misalignment",
    2: "Taking responsibility",
    3: "Listening deeply",
    4: "Agreeing on new commitments",
    5: "Living the alignment",
}

ENGLISH: dict[str, str] = {
    # --- Enrolment ---------------------------------------------------------------------
    "invite": (
        "Hi, this is {program} with {facilitator}. Let's repair trust one small step at a "
        "time, by text. Reply YES to begin, or STOP to opt out."
    ),
    "consent_thanks": (
        "Thank you for saying yes. There are no right or wrong answers, and you can go "
        "at your own pace. Your first question is on its way."
    ),
    "consent_reminder": (
        "This is {program} with {facilitator}: short texts to help repair trust. Reply "
        "YES to begin, or STOP and we won't text you again."
    ),
    "unknown_sender": (
        "Hi, thanks for your message. We can't find this number on any of our programs. "
        "If you were invited, please ask your facilitator to check it."
    ),
    # --- Step 1: naming the misalignment -------------------------------------------------
    "step1_what_happened": (
        "Step 1. In a few sentences, what happened? Just the facts, as someone who was "
        "there but took no side might describe them."
    ),
    "step1_emotions": (
        "What did you feel when it happened? And what do you think the other person "
        "felt? Any words are fine."
    ),
    "step1_pattern": (
        "Does this repeat an older pattern, between you or earlier in your life? Share "
        "as much or as little as you like."
    ),
    # --- Step 2: taking responsibility ---------------------------------------------------
    "step2_responsibility": (
        "Step 2. Only your own part: what did you do or not do, and how did it affect "
        'them? No need to explain why. Think "I see how my action affected you."'
    ),
    # --- Step 3: listening deeply --------------------------------------------------------
    "step3_intro": (
        "Step 3 is a short call. Call {number} when you're ready, or text CALL and we'll "
        "call you. You'll record what you heard from the other side."
    ),
    "call_reminder": (
        "Thanks, we've kept that for {facilitator}. Step 3 is a short call: call {number} "
        "when you're ready, or text CALL and we'll call you."
    ),
    # --- Between answers -----------------------------------------------------------------
    # The message bank (core/rotation.py): texts sent again and again have variants,
    # taken in turn per participant, so the same wording never comes twice in a row.
    "ack_statement": ("Thank you for sharing that. It's saved."),
    "ack_statement_2": ("Thank you. That took honesty, and it's kept safe."),
    "ack_statement_3": ("Got it, thank you. Your words are saved."),
    "ack_statement_4": ("Thank you for putting that into words. It's saved."),
    "next_prompt_morning": ("We'll send the next question tomorrow morning. Take care until then."),
    # --- Step 4: agreeing on new commitments ---------------------------------------------
    "commitments_list": ("{first_name}, here are your new commitments:\n{items}"),
    "commitment_agree_prompt": (
        "Reply AGREE to confirm, or CHANGE followed by your own wording and "
        "{facilitator} will go over it with you."
    ),
    "agreement_reminder": (
        "Thanks, we've kept that for {facilitator}. To confirm your commitments, reply "
        "AGREE, or CHANGE and your own wording."
    ),
    "commitments_agreed": (
        "Thank you, your commitments are agreed. We'll check in on them from here. If "
        "one is ever at risk, text HEADSUP and a few words."
    ),
    "commitment_change_received": (
        "Thanks, we've sent your wording to {facilitator}, who will go over it with you."
    ),
    "commitment_waiting_partner": (
        "Thank you, you've agreed. We're waiting for {partner} to agree the same "
        "wording, and we'll let you know."
    ),
    "commitment_added": (
        "Thanks, we've written down your commitment. {facilitator} can see it too."
    ),
    # --- Keywords ------------------------------------------------------------------------
    "help": (
        "{program} with {facilitator}. Contact: {contact}. Text PAUSE for a break, "
        "STATUS to see where you are, or STOP to opt out."
    ),
    "resumed": (
        "Welcome back, your messages are on again. Text STOP any time to end them, or "
        "HELP for help."
    ),
    "paused": (
        "Okay, we've paused your messages. Text RESUME whenever you're ready to pick up again."
    ),
    "unpaused": ("Welcome back. We'll pick up where you left off."),
    # STATUS: where they are, what is next and when, in their time (core/status.py picks).
    "status": (
        "You're in step {step} of 5: {step_name}. We'll text you when there's a next "
        "step. Thank you for your patience."
    ),
    "status_answer": (
        "You're in step {step} of 5: {step_name}. Next is your answer to the last "
        "question, whenever you're ready. There's no rush."
    ),
    "status_later": (
        "You're in step {step} of 5: {step_name}. Your next question comes {when}, "
        "your time. Rest until then."
    ),
    "status_call": (
        "You're in step 3 of 5: {step_name}. Next is a short call: call {number} when "
        "you're ready, or text CALL and we'll call you."
    ),
    "status_agree": (
        "You're in step 4 of 5: {step_name}. Next is confirming your commitments: "
        "reply AGREE, or CHANGE and your own wording."
    ),
    "status_checkin": (
        "You're in step 5 of 5: {step_name}. Your next check-in is {when}, your "
        "time. Thank you for keeping at it."
    ),
    "status_paused": (
        "Your messages are paused; you're in step {step} of 5: {step_name}. Text "
        "RESUME whenever you're ready."
    ),
    "headsup_thanks": (
        "Thank you for the heads-up. Saying so early is part of keeping your word. "
        "{facilitator} will see your note."
    ),
    "skipped": ("Okay, skipped. We'll move on to the next one."),
    "media_not_read": (
        "Thanks. We can only read text here, but we've kept what you sent for "
        "{facilitator}. Could you put your answer in words?"
    ),
    "note_saved": (
        "Thanks, we've kept your note for {facilitator}. There's no open question right "
        "now, so nothing else is needed."
    ),
    "nothing_to_skip": (
        "There's no question to skip right now. We'll text you when there's a next step."
    ),
    "call_requested": ("Thanks, we'll call you shortly."),
    "call_scheduled": ("Thanks. So we don't call at a bad hour, we'll call you {when}, your time."),
    # --- Step 5: living the alignment ----------------------------------------------------
    # The check-in, partner check-in, nudge and weekly summary list short labels: with
    # three labels of 32 characters each still fits one segment.
    "checkin": ("Did you keep each one?\n{items}\nReply Y, N or P (partly)."),
    "checkin_2": ("How did it go?\n{items}\nReply Y, N or P (partly) for each."),
    "checkin_3": ("Time to look back:\n{items}\nKept? Y, N or P (partly)."),
    "checkin_clarify": (
        "Sorry, we didn't quite follow. Please reply one letter per commitment, in "
        "order: Y kept, N not kept, P partly."
    ),
    "checkin_note_kept": (
        "Thanks, we've kept that with today's check-in for {facilitator}. To answer it, "
        "reply Y, N or P for each commitment, e.g. Y N."
    ),
    "checkin_thanks": ("Thank you for checking in. Every honest answer helps, whatever it is."),
    "checkin_thanks_2": ("Thanks, that's saved. Answering honestly is part of keeping your word."),
    "checkin_thanks_3": ("Thank you. Showing up for the check-in matters, whatever the answer."),
    "checkin_thanks_4": ("Got it, thank you. Consistency is the language of trust."),
    "checkin_nudge": ("A gentle reminder:\n{items}\nA quick Y, N or P is enough."),
    "checkin_nudge_2": ("Still open, no rush:\n{items}\nY, N or P when you can."),
    "checkin_nudge_3": ("When you have a moment:\n{items}\nJust Y, N or P for each."),
    "checkin_missed": (
        "We didn't hear back on the last check-in, and that's okay. We'll ask again next time."
    ),
    # What was kept leads; a week with nothing kept gets a fresh start, never a zero.
    "weekly_summary": ("This week you kept:\n{kept}\nThank you."),
    "weekly_summary_fresh": (
        "A new week starts today. Whatever last week held, each check-in is a fresh "
        "chance to keep your word. Thank you for staying with it."
    ),
    "milestone": (
        "{streak} check-ins in a row with your word kept. That's trust being rebuilt, "
        "one promise at a time. Well done."
    ),
    "partner_checkin": ("Did {partner} keep these?\n{items}\nY, N or P (partly)."),
    # --- Closing -------------------------------------------------------------------------
    "closing_restored": (
        "Thank you for the care you've put into this. You've done the work of "
        "rebuilding trust. Your program is complete, so this is our last message. Take care."
    ),
    "closing_ended": (
        "Thank you for your honesty and effort. This program is now closed and we won't "
        "send more messages. Ending clearly is a form of care too."
    ),
}

# {key: {lang: text}} for every language, the translations read from the catalogs on first use.
TEMPLATES: Mapping[str, Mapping[str, str]] = catalogs.LazyTexts(ENGLISH, context=str)
# {lang: {step: name}}, likewise.
STEP_NAMES: Mapping[str, Mapping[int, str]] = catalogs.LazyByLanguage(
    catalogs.LazyTexts(STEP_NAMES_EN, context=lambda n: f"{catalogs.STEP_CONTEXT}{n}")
)

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
    # The longest step name in any language (a test keeps it so; the English is the
    # longest, and taking it here reads no catalog at import).
    "step_name": max(STEP_NAMES_EN.values(), key=len),
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


def default_text(key: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """The standard wording of `key` in `lang`: the English, or its translation from the
    catalog (the English where the catalog has none; the completeness test forbids that).
    Raises KeyError for an unknown key."""
    english = ENGLISH[key]
    return catalogs.translate(normalise_language(lang), key, english) or english


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
    lang = normalise_language(lang)
    english = STEP_NAMES_EN[step]
    return catalogs.translate(lang, f"{catalogs.STEP_CONTEXT}{step}", english) or english


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
    lang = normalise_language(lang)
    text_values = {name: str(value) for name, value in values.items()}
    override = ((overrides or {}).get(key) or {}).get(lang)
    if isinstance(override, str):
        try:
            return _format(override, placeholders(key), text_values)
        except TemplateError as exc:
            log.warning("Override for %r (%s) %s; using the default text", key, lang, exc)
    default = default_text(key, lang)
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
