# ruff: noqa: E501 - a cell of the table is one line
"""The step machine, every (state, event) pair: the lifecycle and steps 1-5 in one table.

Each row is an event; each cell what the machine decides in that state, written as
`outcome>new status sN:replies ?prompts keep=statement !effects #flags`. A new event or a
new state must be added to the table: the test fails until every pair has its cell.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core import steps
from service.core.decision import Event, OpenCheckIn, State, Text
from service.core.enums import ParticipantStatus as S
from service.core.enums import Prompt, StatementKind
from service.core.keywords import parse_keyword

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
STATES = {
    "invited": State(S.INVITED),
    "invited_reminded": State(
        S.INVITED, reminded_at=NOW - timedelta(minutes=5), invited_today=True
    ),
    "active_s1": State(S.ACTIVE, 1, Prompt.WHAT_HAPPENED, True, True),
    "active_s1_morning": State(S.ACTIVE, 1, Prompt.EMOTIONS, False, True, morning=True),
    "active_s2": State(S.ACTIVE, 2, Prompt.RESPONSIBILITY, True, True),
    "active_s3": State(S.ACTIVE, 3, None, False, True),
    "active_s4_waiting": State(S.ACTIVE, 4, Prompt.AGREE, False, True, waiting=1, changeable=1),
    "active_s4_none": State(S.ACTIVE, 4, None, False, True),
    "active_s5_open": State(
        S.ACTIVE, 5, None, False, True, changeable=2, all_live=True, checkin=OpenCheckIn(2)
    ),
    "active_s5_quiet": State(S.ACTIVE, 5, None, False, True, changeable=2, all_live=True),
    "paused_s5": State(S.PAUSED, 5, None, False, True, changeable=1, all_live=True),
    "opted_out": State(S.OPTED_OUT, 2, Prompt.RESPONSIBILITY, True, True),
    "opted_out_unconsented": State(S.OPTED_OUT),
    "undeliverable": State(S.UNDELIVERABLE, 3, None, False, True),
    "closed": State(S.CLOSED, 5, None, False, True),
}

BODY = {
    Event.OPT_OUT: "STOP",
    Event.OPT_IN: "START",
    Event.YES: "yes",
    Event.HELP: "help",
    Event.PAUSE: "pause",
    Event.RESUME: "resume",
    Event.STATUS: "status",
    Event.SKIP: "skip",
    Event.CALL: "call",
    Event.AGREE: "agree",
    Event.HEADSUP: "HEADSUP late tonight",
    Event.COMMIT: "COMMIT call on Sundays",
    Event.CHANGE: "CHANGE 1 call on Mondays",
    Event.TEXT: "I was late again",
    Event.MEDIA: "",
}


def describe(d):
    out = d.outcome
    if d.status:
        out += f">{d.status.value}"
    if d.step:
        out += f" s{int(d.step)}"
    if d.replies:
        out += ":" + "+".join(d.replies)
    if d.asks:
        out += " ?" + "+".join(a.template for a in d.asks)
    if d.keep:
        out += f" keep={d.keep.value}"
    if d.effects:
        out += " !" + ",".join(sorted(e.value for e in d.effects))
    if d.flags:
        out += " #" + ",".join(f.kind.value for f in d.flags)
    return out


def decide(state: State, event: Event):
    if event in steps.TEXTED:
        body = BODY[event]
        text = Text(body, parse_keyword(body), media=event == Event.MEDIA)
        return steps.decide(state, event, now=NOW, text=text)
    extra = {
        Event.CLOSE: {"outcome": "ended"},
        Event.SPOKEN_ANSWER: {"kind": StatementKind.WHAT_HAPPENED},
    }.get(event, {"code": 30003})
    return steps.decide(state, event, now=NOW, **extra)


TABLE: dict[Event, dict[str, str]] = {
    Event.OPT_OUT: {
        "invited": "opted_out>opted_out !cancel_pending #opted_out",
        "invited_reminded": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s1": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s1_morning": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s2": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s3": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s4_waiting": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s4_none": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s5_open": "opted_out>opted_out !cancel_pending #opted_out",
        "active_s5_quiet": "opted_out>opted_out !cancel_pending #opted_out",
        "paused_s5": "opted_out>opted_out !cancel_pending #opted_out",
        "opted_out": "opted_out !cancel_pending",
        "opted_out_unconsented": "opted_out !cancel_pending",
        "undeliverable": "opted_out>opted_out !cancel_pending #opted_out",
        "closed": "opted_out>opted_out !cancel_pending #opted_out",
    },
    Event.OPT_IN: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "resumed:resumed",
        "active_s1_morning": "resumed:resumed",
        "active_s2": "resumed:resumed",
        "active_s3": "resumed:resumed",
        "active_s4_waiting": "resumed:resumed",
        "active_s4_none": "resumed:resumed",
        "active_s5_open": "resumed:resumed",
        "active_s5_quiet": "resumed:resumed",
        "paused_s5": "unpaused>active:unpaused !reenter #resumed",
        "opted_out": "resumed>active:resumed !reenter",
        "opted_out_unconsented": "opted_in>invited:consent_reminder",
        "undeliverable": "resumed>active:resumed",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.YES: {
        "invited": "consent>active:consent_thanks ?step1_what_happened",
        "invited_reminded": "consent>active:consent_thanks ?step1_what_happened",
        "active_s1": "answer s1:ack_statement ?step1_emotions keep=what_happened",
        "active_s1_morning": "note:note_saved keep=note",
        "active_s2": "answer s3:ack_statement ?step3_intro keep=responsibility",
        "active_s3": "note:call_reminder keep=note",
        "active_s4_waiting": "agreed !agree",
        "active_s4_none": "note:note_saved keep=note",
        "active_s5_open": "checkin:checkin_thanks !answer_checkin",
        "active_s5_quiet": "note:note_saved keep=note",
        "paused_s5": "note:note_saved keep=note",
        "opted_out": "resumed>active:resumed !reenter",
        "opted_out_unconsented": "consent>active:consent_thanks ?step1_what_happened",
        "undeliverable": "note>active:call_reminder keep=note",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.HELP: {
        "invited": "help:help",
        "invited_reminded": "help:help",
        "active_s1": "help:help",
        "active_s1_morning": "help:help",
        "active_s2": "help:help",
        "active_s3": "help:help",
        "active_s4_waiting": "help:help",
        "active_s4_none": "help:help",
        "active_s5_open": "help:help",
        "active_s5_quiet": "help:help",
        "paused_s5": "help:help",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "help>active:help",
        "closed": "help:help",
    },
    Event.PAUSE: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "paused>paused:paused #paused",
        "active_s1_morning": "paused>paused:paused #paused",
        "active_s2": "paused>paused:paused #paused",
        "active_s3": "paused>paused:paused #paused",
        "active_s4_waiting": "paused>paused:paused #paused",
        "active_s4_none": "paused>paused:paused #paused",
        "active_s5_open": "paused>paused:paused #paused",
        "active_s5_quiet": "paused>paused:paused #paused",
        "paused_s5": "paused:paused",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "paused>paused:paused #paused",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.RESUME: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "unpaused:unpaused",
        "active_s1_morning": "unpaused:unpaused",
        "active_s2": "unpaused:unpaused",
        "active_s3": "unpaused:unpaused",
        "active_s4_waiting": "unpaused:unpaused",
        "active_s4_none": "unpaused:unpaused",
        "active_s5_open": "unpaused:unpaused",
        "active_s5_quiet": "unpaused:unpaused",
        "paused_s5": "unpaused>active:unpaused !reenter #resumed",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "unpaused>active:unpaused",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.STATUS: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "status:status",
        "active_s1_morning": "status:status",
        "active_s2": "status:status",
        "active_s3": "status:status",
        "active_s4_waiting": "status:status",
        "active_s4_none": "status:status",
        "active_s5_open": "status:status",
        "active_s5_quiet": "status:status",
        "paused_s5": "status:status",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "status>active:status",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.SKIP: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "skipped s1:skipped ?step1_emotions",
        "active_s1_morning": "nothing_to_skip:nothing_to_skip",
        "active_s2": "skipped s3:skipped ?step3_intro",
        "active_s3": "note:call_reminder keep=note",
        "active_s4_waiting": "note:agreement_reminder keep=note",
        "active_s4_none": "nothing_to_skip:nothing_to_skip",
        "active_s5_open": "checkin_clarify:checkin_clarify !clarified",
        "active_s5_quiet": "nothing_to_skip:nothing_to_skip",
        "paused_s5": "nothing_to_skip:nothing_to_skip",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "note>active:call_reminder keep=note",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.CALL: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "call_requested:call_requested !request_call #call_requested",
        "active_s1_morning": "call_requested:call_requested !request_call #call_requested",
        "active_s2": "call_requested:call_requested !request_call #call_requested",
        "active_s3": "call_requested:call_requested !request_call #call_requested",
        "active_s4_waiting": "call_requested:call_requested !request_call #call_requested",
        "active_s4_none": "call_requested:call_requested !request_call #call_requested",
        "active_s5_open": "call_requested:call_requested !request_call #call_requested",
        "active_s5_quiet": "call_requested:call_requested !request_call #call_requested",
        "paused_s5": "call_requested:call_requested !request_call #call_requested",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "call_requested>active:call_requested !request_call #call_requested",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.AGREE: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "answer s1:ack_statement ?step1_emotions keep=what_happened",
        "active_s1_morning": "note:note_saved keep=note",
        "active_s2": "answer s3:ack_statement ?step3_intro keep=responsibility",
        "active_s3": "note:call_reminder keep=note",
        "active_s4_waiting": "agreed !agree",
        "active_s4_none": "note:note_saved keep=note",
        "active_s5_open": "checkin_clarify:checkin_clarify !clarified",
        "active_s5_quiet": "note:note_saved keep=note",
        "paused_s5": "note:note_saved keep=note",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "note>active:call_reminder keep=note",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.HEADSUP: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s1_morning": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s2": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s3": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s4_waiting": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s4_none": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s5_open": "headsup:headsup_thanks keep=headsup #headsup",
        "active_s5_quiet": "headsup:headsup_thanks keep=headsup #headsup",
        "paused_s5": "headsup:headsup_thanks keep=headsup #headsup",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "headsup>active:headsup_thanks keep=headsup #headsup",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.COMMIT: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s1_morning": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s2": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s3": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s4_waiting": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s4_none": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s5_open": "commitment_added:commitment_added !add_commitment,send_agreement",
        "active_s5_quiet": "commitment_added:commitment_added !add_commitment,send_agreement",
        "paused_s5": "commitment_added:commitment_added !add_commitment,send_agreement",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "commitment_added>active:commitment_added !add_commitment,send_agreement",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.CHANGE: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "note:note_saved keep=note",
        "active_s1_morning": "note:note_saved keep=note",
        "active_s2": "note:note_saved keep=note",
        "active_s3": "note:call_reminder keep=note",
        "active_s4_waiting": "change_requested:commitment_change_received keep=change_request !change_commitment",
        "active_s4_none": "note:note_saved keep=note",
        "active_s5_open": "change_requested:commitment_change_received keep=change_request !change_commitment",
        "active_s5_quiet": "change_requested:commitment_change_received keep=change_request !change_commitment",
        "paused_s5": "change_requested:commitment_change_received keep=change_request !change_commitment",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "note>active:call_reminder keep=note",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.TEXT: {
        "invited": "awaiting_consent:consent_reminder keep=note",
        "invited_reminded": "awaiting_consent keep=note",
        "active_s1": "answer s1:ack_statement ?step1_emotions keep=what_happened",
        "active_s1_morning": "note:note_saved keep=note",
        "active_s2": "answer s3:ack_statement ?step3_intro keep=responsibility",
        "active_s3": "note:call_reminder keep=note",
        "active_s4_waiting": "note:agreement_reminder keep=note",
        "active_s4_none": "note:note_saved keep=note",
        "active_s5_open": "checkin_note:checkin_note_kept !note_on_checkin",
        "active_s5_quiet": "note:note_saved keep=note",
        "paused_s5": "note:note_saved keep=note",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "note>active:call_reminder keep=note",
        "closed": "after_closure keep=note #after_closure",
    },
    Event.MEDIA: {
        "invited": "awaiting_consent:consent_reminder keep=media",
        "invited_reminded": "awaiting_consent keep=media",
        "active_s1": "media:media_not_read keep=media",
        "active_s1_morning": "media:media_not_read keep=media",
        "active_s2": "media:media_not_read keep=media",
        "active_s3": "media:media_not_read keep=media",
        "active_s4_waiting": "media:media_not_read keep=media",
        "active_s4_none": "media:media_not_read keep=media",
        "active_s5_open": "media:media_not_read keep=media",
        "active_s5_quiet": "media:media_not_read keep=media",
        "paused_s5": "media:media_not_read keep=media",
        "opted_out": "kept_while_opted_out keep=note",
        "opted_out_unconsented": "kept_while_opted_out keep=note",
        "undeliverable": "media>active:media_not_read keep=media",
        "closed": "after_closure keep=media #after_closure",
    },
    Event.REINVITE: {
        "invited": "reinvited !send_invitation",
        "invited_reminded": "refused",
        "active_s1": "refused",
        "active_s1_morning": "refused",
        "active_s2": "refused",
        "active_s3": "refused",
        "active_s4_waiting": "refused",
        "active_s4_none": "refused",
        "active_s5_open": "refused",
        "active_s5_quiet": "refused",
        "paused_s5": "refused",
        "opted_out": "refused",
        "opted_out_unconsented": "refused",
        "undeliverable": "refused",
        "closed": "refused",
    },
    Event.SEND_PROMPT: {
        "invited": "refused",
        "invited_reminded": "refused",
        "active_s1": "prompt_sent !resend_prompt",
        "active_s1_morning": "prompt_sent !resend_prompt",
        "active_s2": "prompt_sent !resend_prompt",
        "active_s3": "step_opened ?step3_intro",
        "active_s4_waiting": "prompt_sent !send_agreement",
        "active_s4_none": "refused",
        "active_s5_open": "refused",
        "active_s5_quiet": "refused",
        "paused_s5": "refused",
        "opted_out": "refused",
        "opted_out_unconsented": "refused",
        "undeliverable": "refused",
        "closed": "refused",
    },
    Event.ADVANCE: {
        "invited": "refused",
        "invited_reminded": "refused",
        "active_s1": "step_opened s2 ?step2_responsibility",
        "active_s1_morning": "step_opened s2 ?step2_responsibility",
        "active_s2": "step_opened s3 ?step3_intro",
        "active_s3": "step_opened s4",
        "active_s4_waiting": "step_opened s5 !start_checkins",
        "active_s4_none": "step_opened s5 !start_checkins",
        "active_s5_open": "refused",
        "active_s5_quiet": "refused",
        "paused_s5": "refused",
        "opted_out": "refused",
        "opted_out_unconsented": "refused",
        "undeliverable": "refused",
        "closed": "refused",
    },
    Event.HOLD: {
        "invited": "refused",
        "invited_reminded": "refused",
        "active_s1": "paused>paused",
        "active_s1_morning": "paused>paused",
        "active_s2": "paused>paused",
        "active_s3": "paused>paused",
        "active_s4_waiting": "paused>paused",
        "active_s4_none": "paused>paused",
        "active_s5_open": "paused>paused",
        "active_s5_quiet": "paused>paused",
        "paused_s5": "refused",
        "opted_out": "refused",
        "opted_out_unconsented": "refused",
        "undeliverable": "refused",
        "closed": "refused",
    },
    Event.RELEASE: {
        "invited": "refused",
        "invited_reminded": "refused",
        "active_s1": "refused",
        "active_s1_morning": "refused",
        "active_s2": "refused",
        "active_s3": "refused",
        "active_s4_waiting": "refused",
        "active_s4_none": "refused",
        "active_s5_open": "refused",
        "active_s5_quiet": "refused",
        "paused_s5": "resumed>active !reenter",
        "opted_out": "refused",
        "opted_out_unconsented": "refused",
        "undeliverable": "refused",
        "closed": "refused",
    },
    Event.CLOSE: {
        "invited": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "invited_reminded": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s1": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s1_morning": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s2": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s3": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s4_waiting": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s4_none": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s5_open": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "active_s5_quiet": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "paused_s5": "closed>closed:closing_ended !cancel_pending,stop_schedules",
        "opted_out": "closed>closed !cancel_pending,stop_schedules",
        "opted_out_unconsented": "closed>closed !cancel_pending,stop_schedules",
        "undeliverable": "closed>closed !cancel_pending,stop_schedules",
        "closed": "refused",
    },
    Event.REFLECTION_KEPT: {
        "invited": "reflection",
        "invited_reminded": "reflection",
        "active_s1": "reflection",
        "active_s1_morning": "reflection",
        "active_s2": "reflection",
        "active_s3": "reflection s4 !cancel_prompt_text",
        "active_s4_waiting": "reflection",
        "active_s4_none": "reflection",
        "active_s5_open": "reflection",
        "active_s5_quiet": "reflection",
        "paused_s5": "reflection",
        "opted_out": "reflection",
        "opted_out_unconsented": "reflection",
        "undeliverable": "reflection s4 !cancel_prompt_text",
        "closed": "reflection",
    },
    Event.SPOKEN_ANSWER: {
        "invited": "answer keep=what_happened !cancel_prompt_text",
        "invited_reminded": "answer keep=what_happened !cancel_prompt_text",
        "active_s1": "answer_next s1 ?step1_emotions keep=what_happened !cancel_prompt_text",
        "active_s1_morning": "answer keep=what_happened !cancel_prompt_text",
        "active_s2": "answer keep=what_happened !cancel_prompt_text",
        "active_s3": "answer keep=what_happened !cancel_prompt_text",
        "active_s4_waiting": "answer keep=what_happened !cancel_prompt_text",
        "active_s4_none": "answer keep=what_happened !cancel_prompt_text",
        "active_s5_open": "answer keep=what_happened !cancel_prompt_text",
        "active_s5_quiet": "answer keep=what_happened !cancel_prompt_text",
        "paused_s5": "answer keep=what_happened !cancel_prompt_text",
        "opted_out": "answer keep=what_happened !cancel_prompt_text",
        "opted_out_unconsented": "answer keep=what_happened !cancel_prompt_text",
        "undeliverable": "answer keep=what_happened !cancel_prompt_text",
        "closed": "answer keep=what_happened !cancel_prompt_text",
    },
    Event.ALL_AGREED: {
        "invited": "agreed s5 !start_checkins",
        "invited_reminded": "agreed s5 !start_checkins",
        "active_s1": "agreed s5 !start_checkins",
        "active_s1_morning": "agreed s5 !start_checkins",
        "active_s2": "agreed s5 !start_checkins",
        "active_s3": "agreed s5 !start_checkins",
        "active_s4_waiting": "agreed s5 !start_checkins",
        "active_s4_none": "agreed s5 !start_checkins",
        "active_s5_open": "agreed",
        "active_s5_quiet": "agreed",
        "paused_s5": "agreed",
        "opted_out": "agreed s5 !start_checkins",
        "opted_out_unconsented": "agreed s5 !start_checkins",
        "undeliverable": "agreed s5 !start_checkins",
        "closed": "agreed",
    },
    Event.CARRIER_OPT_OUT: {
        "invited": "opted_out>opted_out #opted_out",
        "invited_reminded": "opted_out>opted_out #opted_out",
        "active_s1": "opted_out>opted_out #opted_out",
        "active_s1_morning": "opted_out>opted_out #opted_out",
        "active_s2": "opted_out>opted_out #opted_out",
        "active_s3": "opted_out>opted_out #opted_out",
        "active_s4_waiting": "opted_out>opted_out #opted_out",
        "active_s4_none": "opted_out>opted_out #opted_out",
        "active_s5_open": "opted_out>opted_out #opted_out",
        "active_s5_quiet": "opted_out>opted_out #opted_out",
        "paused_s5": "opted_out>opted_out #opted_out",
        "opted_out": "opted_out",
        "opted_out_unconsented": "opted_out",
        "undeliverable": "opted_out>opted_out #opted_out",
        "closed": "opted_out>opted_out #opted_out",
    },
    Event.UNREACHABLE: {
        "invited": "undeliverable>undeliverable #undeliverable",
        "invited_reminded": "undeliverable>undeliverable #undeliverable",
        "active_s1": "undeliverable>undeliverable #undeliverable",
        "active_s1_morning": "undeliverable>undeliverable #undeliverable",
        "active_s2": "undeliverable>undeliverable #undeliverable",
        "active_s3": "undeliverable>undeliverable #undeliverable",
        "active_s4_waiting": "undeliverable>undeliverable #undeliverable",
        "active_s4_none": "undeliverable>undeliverable #undeliverable",
        "active_s5_open": "undeliverable>undeliverable #undeliverable",
        "active_s5_quiet": "undeliverable>undeliverable #undeliverable",
        "paused_s5": "undeliverable>undeliverable #undeliverable",
        "opted_out": "undeliverable",
        "opted_out_unconsented": "undeliverable",
        "undeliverable": "undeliverable",
        "closed": "undeliverable>undeliverable #undeliverable",
    },
}


def test_the_table_has_a_cell_for_every_state_and_event():
    assert set(TABLE) == set(Event)
    assert all(set(cells) == set(STATES) for cells in TABLE.values())


@pytest.mark.parametrize(
    ("event", "state"),
    [(e, s) for e in Event for s in STATES],
    ids=lambda v: str(getattr(v, "value", v)),
)
def test_every_state_and_event(event, state):
    assert describe(decide(STATES[state], event)) == TABLE[event][state]


# What the table's shorthand leaves out -----------------------------------------------------


def test_consent_stamps_the_time_and_opens_the_first_question_at_once():
    decision = decide(STATES["invited"], Event.YES)
    assert decision.sets == {"consent_at": NOW}
    assert decision.prompt == Prompt.WHAT_HAPPENED
    assert decision.asks == [steps.Ask(Prompt.WHAT_HAPPENED, paced=False)]
    assert decision.audit == ["consent"]


def test_stop_stamps_and_start_clears_the_opt_out():
    assert decide(STATES["active_s2"], Event.OPT_OUT).sets == {"opted_out_at": NOW}
    assert decide(STATES["opted_out"], Event.OPT_IN).sets == {"opted_out_at": None}


def test_the_consent_reminder_waits_an_hour_between_two():
    state = STATES["invited"]
    just_now = State(S.INVITED, reminded_at=NOW - timedelta(minutes=59))
    an_hour_ago = State(S.INVITED, reminded_at=NOW - timedelta(hours=1))
    assert decide(state, Event.TEXT).replies == ["consent_reminder"]
    assert decide(just_now, Event.TEXT).replies == []
    assert decide(an_hour_ago, Event.TEXT).replies == ["consent_reminder"]


def test_an_answer_opens_the_next_question_paced_by_the_program():
    morning = State(S.ACTIVE, 1, Prompt.WHAT_HAPPENED, True, True, morning=True)
    decision = decide(morning, Event.TEXT)
    assert decision.replies == ["next_prompt_morning"]
    assert decision.asks == [steps.Ask(Prompt.EMOTIONS)]  # paced: the next morning


def test_a_spoken_answer_opens_the_next_question_at_once_and_texts_it_later():
    decision = decide(STATES["active_s1"], Event.SPOKEN_ANSWER)
    assert decision.prompt == Prompt.EMOTIONS
    assert decision.asks == [steps.Ask(Prompt.EMOTIONS, delay=steps.FOLLOW_UP_DELAY)]
    assert decision.keep_step == 1


def test_a_change_names_its_commitment_and_keeps_the_new_wording():
    state = State(S.ACTIVE, 4, None, False, True, waiting=2, changeable=2)
    text = Text("CHANGE 2 call on Mondays", parse_keyword("CHANGE 2 call on Mondays"))
    decision = steps.decide(state, Event.CHANGE, now=NOW, text=text)
    assert decision.effects[steps.Effect.CHANGE_COMMITMENT] == (1, "call on Mondays")
    assert decision.keep_body == "call on Mondays"


def test_a_check_in_answer_carries_its_results_and_note():
    text = Text("Y N - the walk was rained off")
    decision = steps.decide(STATES["active_s5_open"], Event.TEXT, now=NOW, text=text)
    assert decision.effects[steps.Effect.ANSWER_CHECKIN] == (
        ("kept", "missed"),
        "the walk was rained off",
    )


def test_a_refusal_says_why():
    decision = decide(STATES["invited"], Event.ADVANCE)
    assert decision.refused == "they are invited, not yet agreed: only active people move on"


def test_closing_says_which_outcome():
    decision = steps.decide(STATES["active_s1"], Event.CLOSE, now=NOW, outcome="restored")
    assert decision.replies == ["closing_restored"]
    assert decision.sets == {"closed_at": NOW, "outcome": "restored"}
