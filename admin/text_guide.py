"""What each participant text is, in the facilitator's words: a title, when it is sent, and
the part of the program it belongs to (the texts editor's headings)."""

from __future__ import annotations

from dataclasses import dataclass

from admin.i18n import lazy_


@dataclass(frozen=True)
class Guide:
    title: object  # lazy: turned into words in the facilitator's language when shown
    sent_when: object


@dataclass(frozen=True)
class Group:
    name: str  # the anchor on the page
    title: object
    keys: tuple[str, ...]


def _g(title: str, sent_when: str) -> Guide:
    return Guide(lazy_(title), lazy_(sent_when))


GUIDE: dict[str, Guide] = {
    "invite": _g("Invitation", "sent when you invite someone"),
    "consent_thanks": _g("Thanks for saying yes", "sent when they reply YES to the invitation"),
    "consent_reminder": _g(
        "Consent reminder", "sent when someone who has not said yes texts anything else"
    ),
    "unknown_sender": _g(
        "Unknown number", "sent when a number that is on none of your programs texts in"
    ),
    "step1_what_happened": _g("What happened", "the first question of step 1"),
    "step1_emotions": _g("Emotions", "the second question of step 1"),
    "step1_pattern": _g("An older pattern", "the third question of step 1"),
    "step2_responsibility": _g("Their own part", "the question of step 2"),
    "ack_statement": _g("Thanks for an answer", "sent after each answer in steps 1 and 2"),
    "ack_statement_2": _g("Thanks for an answer, wording 2", "taken in turn with the others"),
    "ack_statement_3": _g("Thanks for an answer, wording 3", "taken in turn with the others"),
    "ack_statement_4": _g("Thanks for an answer, wording 4", "taken in turn with the others"),
    "next_prompt_morning": _g(
        "Next question tomorrow",
        "sent after an answer when the program paces one question a morning",
    ),
    "step3_intro": _g("The step 3 call", "sent when they reach step 3"),
    "call_reminder": _g(
        "Reminder of the call", "sent when they text during step 3 instead of calling"
    ),
    "call_requested": _g("We'll call you", "sent when they text CALL"),
    "call_scheduled": _g(
        "We'll call you later", "sent when they text CALL outside their waking hours"
    ),
    "commitments_list": _g("Their new commitments", "sent when you write their commitments"),
    "commitment_agree_prompt": _g("Asking them to agree", "sent after the list of commitments"),
    "agreement_reminder": _g(
        "Reminder to agree", "sent when they text during step 4 without agreeing"
    ),
    "commitments_agreed": _g("Commitments agreed", "sent when they reply AGREE"),
    "commitment_change_received": _g(
        "Change request received", "sent when they reply CHANGE and their own wording"
    ),
    "commitment_waiting_partner": _g(
        "Waiting for the partner", "sent when they agree before their partner has"
    ),
    "commitment_added": _g("Commitment written down", "sent when they text a commitment in"),
    "checkin": _g("Check-in", "sent on each check-in day"),
    "checkin_2": _g("Check-in, wording 2", "taken in turn with the others"),
    "checkin_3": _g("Check-in, wording 3", "taken in turn with the others"),
    "checkin_clarify": _g("Check-in asked again", "sent when an answer could not be read"),
    "checkin_note_kept": _g(
        "Note kept with the check-in", "sent when they answer a check-in with words only"
    ),
    "checkin_thanks": _g("Thanks for checking in", "sent after each check-in answer"),
    "checkin_thanks_2": _g("Thanks for checking in, wording 2", "taken in turn with the others"),
    "checkin_thanks_3": _g("Thanks for checking in, wording 3", "taken in turn with the others"),
    "checkin_thanks_4": _g("Thanks for checking in, wording 4", "taken in turn with the others"),
    "checkin_nudge": _g("Check-in nudge", "sent when a check-in has had no answer for a while"),
    "checkin_nudge_2": _g("Check-in nudge, wording 2", "taken in turn with the others"),
    "checkin_nudge_3": _g("Check-in nudge, wording 3", "taken in turn with the others"),
    "checkin_missed": _g("Missed check-in", "sent when a check-in closes with no answer"),
    "weekly_summary": _g("Weekly summary", "sent once a week, when the summary is on"),
    "weekly_summary_fresh": _g(
        "Weekly summary after a hard week", "sent instead when nothing was kept that week"
    ),
    "milestone": _g("Streak milestone", "sent when a streak reaches one of the milestones"),
    "partner_checkin": _g(
        "Partner check-in", "sent in two-sided programs, about what the partner promised"
    ),
    "help": _g("HELP answer", "sent when they text HELP"),
    "resumed": _g("Messages back on", "sent when they text START after STOP"),
    "paused": _g("PAUSE answer", "sent when they text PAUSE"),
    "unpaused": _g("Welcome back", "sent when they text RESUME after a pause"),
    "status": _g("STATUS answer", "sent when they text STATUS and nothing waits on them"),
    "status_answer": _g("STATUS answer, a question open", "sent when a question waits"),
    "status_later": _g("STATUS answer, next question later", "sent when the next question waits"),
    "status_call": _g("STATUS answer, the step 3 call", "sent during step 3"),
    "status_agree": _g("STATUS answer, commitments to agree", "sent during step 4"),
    "status_checkin": _g("STATUS answer, next check-in", "sent during step 5"),
    "status_paused": _g("STATUS answer, paused", "sent while their messages are paused"),
    "headsup_thanks": _g("Thanks for a heads-up", "sent when they text HEADSUP"),
    "skipped": _g("SKIP answer", "sent when they text SKIP"),
    "media_not_read": _g("Answer to a photo or file", "sent when they send a photo or a file"),
    "note_saved": _g("Note kept", "sent when they text and no question is open"),
    "nothing_to_skip": _g("Nothing to skip", "sent when they text SKIP and no question is open"),
    "closing_restored": _g(
        "Closing, trust restored", "sent when you close them with the outcome “restored”"
    ),
    "closing_ended": _g(
        "Closing, a clear ending", "sent when you close them with the outcome “ended”"
    ),
}

GROUPS: tuple[Group, ...] = (
    Group(
        "enrolment",
        lazy_("Invitation and consent"),
        ("invite", "consent_thanks", "consent_reminder", "unknown_sender"),
    ),
    Group(
        "step-1",
        lazy_("Step 1 · Naming the misalignment"),
        ("step1_what_happened", "step1_emotions", "step1_pattern"),
    ),
    Group("step-2", lazy_("Step 2 · Taking responsibility"), ("step2_responsibility",)),
    Group(
        "answers",
        lazy_("Between answers in steps 1 and 2"),
        (
            "ack_statement",
            "ack_statement_2",
            "ack_statement_3",
            "ack_statement_4",
            "next_prompt_morning",
        ),
    ),  # fmt: skip
    Group(
        "step-3",
        lazy_("Step 3 · Listening deeply"),
        ("step3_intro", "call_reminder", "call_requested", "call_scheduled"),
    ),
    Group(
        "step-4",
        lazy_("Step 4 · Agreeing on new commitments"),
        (
            "commitments_list",
            "commitment_agree_prompt",
            "agreement_reminder",
            "commitments_agreed",
            "commitment_change_received",
            "commitment_waiting_partner",
            "commitment_added",
        ),
    ),  # fmt: skip
    Group(
        "step-5",
        lazy_("Step 5 · Living the alignment"),
        (
            "checkin",
            "checkin_2",
            "checkin_3",
            "checkin_clarify",
            "checkin_note_kept",
            "checkin_thanks",
            "checkin_thanks_2",
            "checkin_thanks_3",
            "checkin_thanks_4",
            "checkin_nudge",
            "checkin_nudge_2",
            "checkin_nudge_3",
            "checkin_missed",
            "weekly_summary",
            "weekly_summary_fresh",
            "milestone",
            "partner_checkin",
        ),
    ),  # fmt: skip
    Group(
        "keywords",
        lazy_("Answers to keywords, in any step"),
        (
            "help",
            "paused",
            "unpaused",
            "resumed",
            "status",
            "status_answer",
            "status_later",
            "status_call",
            "status_agree",
            "status_checkin",
            "status_paused",
            "headsup_thanks",
            "skipped",
            "nothing_to_skip",
            "note_saved",
            "media_not_read",
        ),
    ),  # fmt: skip
    Group("closing", lazy_("Closing"), ("closing_restored", "closing_ended")),
)
