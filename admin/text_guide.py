"""What each participant text is, in the facilitator's words: a title, when it is sent, and
the part of the program it belongs to (the texts editor's headings)."""

from __future__ import annotations

from dataclasses import dataclass

from admin.i18n import lazy_
from service.core.enums import N_


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
    "invite": _g(N_("Invitation"), N_("sent when you invite someone")),
    "consent_thanks": _g(
        N_("Thanks for saying yes"), N_("sent when they reply YES to the invitation")
    ),
    "consent_reminder": _g(
        N_("Consent reminder"), N_("sent when someone who has not said yes texts anything else")
    ),
    "unknown_sender": _g(
        N_("Unknown number"), N_("sent when a number that is on none of your programs texts in")
    ),
    "step1_what_happened": _g(N_("What happened"), N_("the first question of step 1")),
    "step1_emotions": _g(N_("Emotions"), N_("the second question of step 1")),
    "step1_pattern": _g(N_("An older pattern"), N_("the third question of step 1")),
    "step2_responsibility": _g(N_("Their own part"), N_("the question of step 2")),
    "ack_statement": _g(N_("Thanks for an answer"), N_("sent after each answer in steps 1 and 2")),
    "ack_statement_2": _g(
        N_("Thanks for an answer, wording 2"), N_("taken in turn with the others")
    ),
    "ack_statement_3": _g(
        N_("Thanks for an answer, wording 3"), N_("taken in turn with the others")
    ),
    "ack_statement_4": _g(
        N_("Thanks for an answer, wording 4"), N_("taken in turn with the others")
    ),
    "next_prompt_morning": _g(
        N_("Next question tomorrow"),
        N_("sent after an answer when the program paces one question a morning"),
    ),
    "step3_intro": _g(N_("The step 3 call"), N_("sent when they reach step 3")),
    "call_reminder": _g(
        N_("Reminder of the call"), N_("sent when they text during step 3 instead of calling")
    ),
    "call_requested": _g(N_("We'll call you"), N_("sent when they text CALL")),
    "call_scheduled": _g(
        N_("We'll call you later"), N_("sent when they text CALL outside their waking hours")
    ),
    "commitments_list": _g(
        N_("Their new commitments"), N_("sent when you write their commitments")
    ),
    "commitment_agree_prompt": _g(
        N_("Asking them to agree"), N_("sent after the list of commitments")
    ),
    "agreement_reminder": _g(
        N_("Reminder to agree"), N_("sent when they text during step 4 without agreeing")
    ),
    "commitments_agreed": _g(N_("Commitments agreed"), N_("sent when they reply AGREE")),
    "commitment_change_received": _g(
        N_("Change request received"), N_("sent when they reply CHANGE and their own wording")
    ),
    "commitment_waiting_partner": _g(
        N_("Waiting for the partner"), N_("sent when they agree before their partner has")
    ),
    "commitment_added": _g(
        N_("Commitment written down"), N_("sent when they text a commitment in")
    ),
    "checkin": _g(N_("Check-in"), N_("sent on each check-in day")),
    "checkin_2": _g(N_("Check-in, wording 2"), N_("taken in turn with the others")),
    "checkin_3": _g(N_("Check-in, wording 3"), N_("taken in turn with the others")),
    "checkin_clarify": _g(N_("Check-in asked again"), N_("sent when an answer could not be read")),
    "checkin_note_kept": _g(
        N_("Note kept with the check-in"), N_("sent when they answer a check-in with words only")
    ),
    "checkin_thanks": _g(N_("Thanks for checking in"), N_("sent after each check-in answer")),
    "checkin_thanks_2": _g(
        "Thanks for checking in, wording 2", N_("taken in turn with the others")
    ),
    "checkin_thanks_3": _g(
        "Thanks for checking in, wording 3", N_("taken in turn with the others")
    ),
    "checkin_thanks_4": _g(
        "Thanks for checking in, wording 4", N_("taken in turn with the others")
    ),
    "checkin_nudge": _g(
        N_("Check-in nudge"), N_("sent when a check-in has had no answer for a while")
    ),
    "checkin_nudge_2": _g(N_("Check-in nudge, wording 2"), N_("taken in turn with the others")),
    "checkin_nudge_3": _g(N_("Check-in nudge, wording 3"), N_("taken in turn with the others")),
    "checkin_missed": _g(N_("Missed check-in"), N_("sent when a check-in closes with no answer")),
    "weekly_summary": _g(N_("Weekly summary"), N_("sent once a week, when the summary is on")),
    "weekly_summary_fresh": _g(
        N_("Weekly summary after a hard week"), N_("sent instead when nothing was kept that week")
    ),
    "milestone": _g(N_("Streak milestone"), N_("sent when a streak reaches one of the milestones")),
    "partner_checkin": _g(
        N_("Partner check-in"), N_("sent in two-sided programs, about what the partner promised")
    ),
    "help": _g(N_("HELP answer"), N_("sent when they text HELP")),
    "resumed": _g(N_("Messages back on"), N_("sent when they text START after STOP")),
    "paused": _g(N_("PAUSE answer"), N_("sent when they text PAUSE")),
    "unpaused": _g(N_("Welcome back"), N_("sent when they text RESUME after a pause")),
    "status": _g(N_("STATUS answer"), N_("sent when they text STATUS and nothing waits on them")),
    "status_answer": _g(N_("STATUS answer, a question open"), N_("sent when a question waits")),
    "status_later": _g(
        "STATUS answer, next question later", N_("sent when the next question waits")
    ),
    "status_call": _g(N_("STATUS answer, the step 3 call"), N_("sent during step 3")),
    "status_agree": _g(N_("STATUS answer, commitments to agree"), N_("sent during step 4")),
    "status_checkin": _g(N_("STATUS answer, next check-in"), N_("sent during step 5")),
    "status_paused": _g(N_("STATUS answer, paused"), N_("sent while their messages are paused")),
    "headsup_thanks": _g(N_("Thanks for a heads-up"), N_("sent when they text HEADSUP")),
    "skipped": _g(N_("SKIP answer"), N_("sent when they text SKIP")),
    "media_not_read": _g(
        N_("Answer to a photo or file"), N_("sent when they send a photo or a file")
    ),
    "note_saved": _g(N_("Note kept"), N_("sent when they text and no question is open")),
    "nothing_to_skip": _g(
        "Nothing to skip", N_("sent when they text SKIP and no question is open")
    ),
    "closing_restored": _g(
        N_("Closing, trust restored"), N_("sent when you close them with the outcome “restored”")
    ),
    "closing_ended": _g(
        N_("Closing, a clear ending"), N_("sent when you close them with the outcome “ended”")
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
