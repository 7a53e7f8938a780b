from service.core.delivery_reasons import reason, worth_retrying


def test_known_codes_read_as_words_and_say_whether_a_retry_could_help():
    assert reason(30003) == "their phone was off or out of reach"
    assert worth_retrying(30003)
    assert "STOP" in reason(21610)
    assert not worth_retrying(21610)
    assert "landline" in reason(30006)
    assert not worth_retrying(30006)


def test_unknown_and_missing_codes_still_read_as_words():
    assert reason(None) == "no reason was given"
    assert reason(39999) == "Twilio error 39999"
    assert worth_retrying(39999) and worth_retrying(None)


def test_a_days_check_in_is_not_offered_again_once_its_day_is_past():
    from service.core.delivery_reasons import may_retry

    assert may_retry(30003, "checkin", 2)
    assert not may_retry(30003, "checkin", 20)
    assert may_retry(30003, "ack_statement", 200)
    assert not may_retry(21610, "ack_statement", 1)
