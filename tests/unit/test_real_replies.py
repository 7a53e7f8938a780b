"""Replies people really send to a check-in, in English and Spanish, and what each means.

Each row is a reply as typed on a phone (emoji, punctuation, line breaks, numbers, typos),
how many commitments the check-in asked about, the results it must be read as and the note
kept with it. A row whose answer word starts a sentence keeps the whole sentence as the
note, so a negation is never cut off ("no pude hoy" is missed, with the note "no pude hoy").
"""

import pytest

from service.core.answers import parse_checkin_answer

K, M, P = "kept", "missed", "partly"
ASK = "ask"  # ambiguous: the participant is asked once to say it another way

# (reply, commitments, results or ASK, note)
ENGLISH = [
    # English: plain yes and no, as typed.
    ("Yes", 1, (K,), None),
    ("yep!", 1, (K,), None),
    ("Yeah 🙂", 1, (K,), "🙂"),
    ("yup, both", 2, (K, K), "both"),
    ("YES!!!", 2, (K, K), None),
    ("yse", 1, (K,), None),
    ("yess", 1, (K,), None),
    ("yesss 🙌", 2, (K, K), None),
    ("Yea", 1, (K,), None),
    ("nop", 1, (M,), None),
    ("Nope.", 1, (M,), None),
    ("nah", 1, (M,), None),
    ("noo", 1, (M,), None),
    ("not yet", 1, (M,), None),
    ("no I forgot", 1, (M,), "no I forgot"),
    ("No, I forgot", 1, (M,), "I forgot"),
    ("no didn't get to it today", 1, (M,), "no didn't get to it today"),
    ("done ✔", 1, (K,), None),
    ("Done and done", 2, (K, K), None),
    ("yes we talked on Sunday", 1, (K,), "yes we talked on Sunday"),
    ("Yes\nwe talked on Sunday", 1, (K,), "we talked on Sunday"),
    ("👍", 2, (K, K), None),
    ("👍👎", 2, (K, M), None),
    ("👌", 1, (K,), None),
    ("✓", 1, (K,), None),
    # English: partly, in every way people say it.
    ("kinda", 1, (P,), None),
    ("Kinda.", 1, (P,), None),
    ("kind of", 1, (P,), None),
    ("sort of", 1, (P,), None),
    ("sorta", 1, (P,), None),
    ("sort of I guess", 1, (P,), "sort of I guess"),
    ("mostly", 1, (P,), None),
    ("Mostly, ran late on Friday", 1, (P,), "ran late on Friday"),
    ("somewhat", 1, (P,), None),
    ("half", 1, (P,), None),
    ("half done", 1, (P,), None),
    ("almost", 1, (P,), None),
    ("yes kinda", 2, (K, P), None),
    ("y kinda", 2, (K, P), None),
    # English: one answer per commitment, with numbers and line breaks.
    ("Y N", 2, (K, M), None),
    ("yn", 2, (K, M), None),
    ("Y\nN", 2, (K, M), None),
    ("y, n, p", 3, (K, M, P), None),
    ("yes / no", 2, (K, M), None),
    ("1 yes 2 no", 2, (K, M), None),
    ("1) ✅ 2) ❌", 2, (K, M), None),
    ("1y 2 kinda", 2, (K, P), None),
    ("2 n 1 y - long week", 2, (K, M), "long week"),
    ("YYN", 3, (K, K, M), None),
    ("Y Y N\nsorry, Thursday got away from me", 3, (K, K, M), "sorry, Thursday got away from me"),
    ("all done!", 3, (K, K, K), None),
    ("none :(", 2, (M, M), None),
    # English: not answers, or not clear enough to record.
    ("maybe", 1, ASK, None),
    ("?", 1, ASK, None),
    ("no idea", 1, ASK, None),
    ("not sure", 1, ASK, None),
    ("kinda", 2, ASK, None),
    ("Y N", 3, ASK, None),
    ("🤷", 1, ASK, None),
    ("ok", 1, ASK, None),
]
SPANISH = [
    # Spanish: sí y no.
    ("Sí", 1, (K,), None),
    ("si!", 1, (K,), None),
    ("Siii", 1, (K,), None),
    ("sip", 1, (K,), None),
    ("claro", 1, (K,), None),
    ("sí, los dos", 2, (K, K), "los dos"),
    ("Sí lo hice 😊", 1, (K,), "Sí lo hice 😊"),
    ("cumplí", 1, (K,), None),
    ("listo", 1, (K,), None),
    ("No", 1, (M,), None),
    ("no pude hoy", 1, (M,), "no pude hoy"),
    ("No pude hoy, mañana sí", 1, (M,), "No pude hoy, mañana sí"),
    ("no, se me pasó", 1, (M,), "se me pasó"),
    ("nop", 1, (M,), None),
    ("todavía no", 1, (M,), None),
    ("aún no", 1, (M,), None),
    ("no cumplí", 1, (M,), None),
    ("ninguno 😔", 2, (M, M), "😔"),
    # Spanish: en parte.
    ("más o menos", 1, (P,), None),
    ("Mas o menos...", 1, (P,), None),
    ("casi", 1, (P,), None),
    ("casi, me faltó el viernes", 1, (P,), "me faltó el viernes"),
    ("a medias", 1, (P,), None),
    ("un poco", 1, (P,), None),
    ("en parte", 1, (P,), None),
    ("parcialmente", 1, (P,), None),
    ("si no", 2, (K, M), None),
    ("sí, más o menos", 2, (K, P), None),
    ("SI NO P", 3, (K, M, P), None),
    ("1 sí 2 no", 2, (K, M), None),
    ("1) si\n2) a medias", 2, (K, P), None),
    ("S N", 2, (K, M), None),
    ("todo cumplido 👍", 3, (K, K, K), None),
    # Spanish: not answers.
    ("no sé", 1, ASK, None),
    ("no se", 1, ASK, None),
    ("¿qué?", 1, ASK, None),
    ("no", 2, ASK, None),
]
REPLIES = ENGLISH + SPANISH


@pytest.mark.parametrize(("reply", "n", "results", "note"), REPLIES)
def test_real_reply_means_what_the_sender_meant(reply, n, results, note):
    parsed = parse_checkin_answer(reply, n)
    if results == ASK:
        assert parsed.ambiguous, parsed
        return
    assert not parsed.ambiguous, parsed
    assert parsed.results == results
    assert parsed.note == note


def test_the_table_covers_both_languages_at_length():
    assert len(ENGLISH) >= 30 and len(SPANISH) >= 30
    assert len(REPLIES) >= 60


def test_a_negated_answer_keeps_its_negation_in_the_note():
    parsed = parse_checkin_answer("no pude hoy", 1)
    assert parsed.results == (M,)
    assert parsed.note == "no pude hoy"
