"""Inbound keyword parsing: whole-message keywords only, in English and Spanish."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.keywords import OPT_OUT_WORDS, Keyword, KeywordKind, parse_keyword

K = KeywordKind

# (body, kind, word, argument); kind None means "not a keyword".
CASES = [
    # Opt-out, every carrier-standard word, any case, with punctuation or emoji around.
    ("STOP", K.OPT_OUT, "STOP", None),
    ("stop", K.OPT_OUT, "STOP", None),
    (" stop! ", K.OPT_OUT, "STOP", None),
    ("Stop.", K.OPT_OUT, "STOP", None),
    ("STOP 🙏", K.OPT_OUT, "STOP", None),
    ("STOP 🙏🏽", K.OPT_OUT, "STOP", None),
    ("🛑 stop 🛑", K.OPT_OUT, "STOP", None),
    ('"Stop"', K.OPT_OUT, "STOP", None),
    ("\tSTOP\n", K.OPT_OUT, "STOP", None),
    ("Ｓｔｏｐ", K.OPT_OUT, "STOP", None),  # full-width, folded by NFKC
    ("STOPALL", K.OPT_OUT, "STOPALL", None),
    ("stop all", K.OPT_OUT, "STOP ALL", None),
    ("Unsubscribe", K.OPT_OUT, "UNSUBSCRIBE", None),
    ("cancel", K.OPT_OUT, "CANCEL", None),
    ("END", K.OPT_OUT, "END", None),
    ("Quit!", K.OPT_OUT, "QUIT", None),
    ("revoke", K.OPT_OUT, "REVOKE", None),
    ("OPTOUT", K.OPT_OUT, "OPTOUT", None),
    ("opt-out", K.OPT_OUT, "OPT OUT", None),
    ("Opt out", K.OPT_OUT, "OPT OUT", None),
    ("stop stop STOP", K.OPT_OUT, "STOP", None),
    ("Parar", K.OPT_OUT, "PARAR", None),
    ("ALTO", K.OPT_OUT, "ALTO", None),
    ("cancelar.", K.OPT_OUT, "CANCELAR", None),
    # Opt back in.
    ("START", K.OPT_IN, "START", None),
    ("unstop", K.OPT_IN, "UNSTOP", None),
    # YES: consent, or "resume" after STOP; the caller decides which.
    ("YES", K.YES, "YES", None),
    ("yes!", K.YES, "YES", None),
    ("Yes 🙂", K.YES, "YES", None),
    ("Y", K.YES, "Y", None),
    ("si", K.YES, "SI", None),
    ("Sí", K.YES, "SI", None),
    ("SÍ.", K.YES, "SI", None),
    ("¡Sí!", K.YES, "SI", None),
    ("Si\u0301", K.YES, "SI", None),  # decomposed accent
    # Other single keywords.
    ("HELP", K.HELP, "HELP", None),
    ("help?", K.HELP, "HELP", None),
    ("Info", K.HELP, "INFO", None),
    ("ayuda", K.HELP, "AYUDA", None),
    ("PAUSE", K.PAUSE, "PAUSE", None),
    ("pausa", K.PAUSE, "PAUSA", None),
    ("Resume", K.RESUME, "RESUME", None),
    ("seguir", K.RESUME, "SEGUIR", None),
    ("REANUDAR", K.RESUME, "REANUDAR", None),
    ("status", K.STATUS, "STATUS", None),
    ("Estado", K.STATUS, "ESTADO", None),
    ("skip", K.SKIP, "SKIP", None),
    ("saltar", K.SKIP, "SALTAR", None),
    ("CALL", K.CALL, "CALL", None),
    ("llamar", K.CALL, "LLAMAR", None),
    ("Llamada", K.CALL, "LLAMADA", None),
    ("agree", K.AGREE, "AGREE", None),
    ("AGREE ✅", K.AGREE, "AGREE", None),
    ("Acepto", K.AGREE, "ACEPTO", None),
    # Keywords with an argument: the rest of the message, verbatim but stripped.
    ("HEADSUP running late tonight", K.HEADSUP, "HEADSUP", "running late tonight"),
    ("HEADS UP running late", K.HEADSUP, "HEADS UP", "running late"),
    ("heads-up: might miss Sunday's call", K.HEADSUP, "HEADS UP", "might miss Sunday's call"),
    ("Heads up - Sunday is tricky", K.HEADSUP, "HEADS UP", "Sunday is tricky"),
    ("headsup", K.HEADSUP, "HEADSUP", ""),
    ("AVISO: llego tarde", K.HEADSUP, "AVISO", "llego tarde"),
    ("COMMIT Call Sam every Sunday", K.COMMIT, "COMMIT", "Call Sam every Sunday"),
    ("commit:  Say when I'm late  ", K.COMMIT, "COMMIT", "Say when I'm late"),
    ("COMMIT\nCall Sam\nevery Sunday", K.COMMIT, "COMMIT", "Call Sam\nevery Sunday"),
    ("Compromiso llamar cada domingo", K.COMMIT, "COMPROMISO", "llamar cada domingo"),
    ("CHANGE I will call on Sundays", K.CHANGE, "CHANGE", "I will call on Sundays"),
    ("change", K.CHANGE, "CHANGE", ""),
    ("Change.", K.CHANGE, "CHANGE", ""),
    ("cambiar: los lunes", K.CHANGE, "CAMBIAR", "los lunes"),
    # Not keywords: the word inside a sentence, or a longer word.
    ("please don't stop texting me", None, None, None),
    ("stop please", None, None, None),
    ("Stop texting me", None, None, None),
    ("I want to stop", None, None, None),
    ("yes I did", None, None, None),
    ("Y N", None, None, None),
    ("YY", None, None, None),
    ("help me", None, None, None),
    ("call me later", None, None, None),
    ("I agree", None, None, None),
    ("commitment", None, None, None),
    ("changed my mind", None, None, None),
    ("heads", None, None, None),
    ("heads down", None, None, None),
    ("stopping", None, None, None),
    ("st op", None, None, None),
    ("STOP2", None, None, None),
    ("1 stop", None, None, None),
    ("no", None, None, None),
    ("🙏", None, None, None),
    ("", None, None, None),
    ("   ", None, None, None),
    ("...", None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("body", "kind", "word", "argument"), CASES)
def test_parse_keyword(body, kind, word, argument):
    expected = None if kind is None else Keyword(kind, word, argument)
    assert parse_keyword(body) == expected


def test_none_body():
    assert parse_keyword(None) is None


def test_keyword_is_frozen():
    keyword = parse_keyword("STOP")
    with pytest.raises(AttributeError):
        keyword.kind = KeywordKind.YES


@given(st.text())
def test_arbitrary_text_never_raises(body):
    result = parse_keyword(body)
    assert result is None or isinstance(result.kind, KeywordKind)


@given(
    st.sampled_from([w for w in OPT_OUT_WORDS if " " not in w]),
    st.text(alphabet=" \t\n.!?,;:-…🙏🙂🏽", max_size=4),
    st.text(alphabet=" \t\n.!?,;:-…🙏🙂🏽", max_size=4),
    st.booleans(),
)
def test_opt_out_survives_case_and_decoration(word, before, after, upper):
    body = before + (word.upper() if upper else word.title()) + after
    result = parse_keyword(body)
    assert result is not None and result.kind is KeywordKind.OPT_OUT


@given(
    st.sampled_from(["COMMIT", "commit", "CHANGE", "Heads up", "HEADSUP", "aviso"]),
    st.text(min_size=1).filter(lambda s: s.strip() and s.strip()[0].isalnum()),
)
def test_argument_is_kept_verbatim(word, argument):
    result = parse_keyword(f"{word} {argument}")
    assert result is not None
    assert result.argument == argument.strip()
