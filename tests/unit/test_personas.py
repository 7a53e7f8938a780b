"""Who counts as a test persona (the simulator acts only as them; their texts never leave)."""

from service.core import personas


def test_only_the_fictional_range_is_a_persona_number():
    assert personas.is_persona_number("+12025550100")
    assert personas.is_persona_number("+12025550199")
    for phone in ("+12025550200", "+12025550099", "+120255501000", "+1202555010x", "", None):
        assert not personas.is_persona_number(phone), phone
    assert not personas.is_persona_number("+12015550111")  # another area's 555: a real test


def test_a_persona_has_both_the_name_and_the_number():
    assert personas.is_persona("Test persona 3", "+12025550102")
    assert not personas.is_persona("Ari Ana-side", "+12025550102")  # renamed: not a persona
    assert not personas.is_persona("Test persona 3", "+12015550111")  # a real phone
    assert personas.number(100) == "+12025550100"
