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


def test_each_outbound_text_reads_as_sent_delivered_or_not_delivered_and_why():
    from service.core.delivery_reasons import Delivery, delivery
    from service.core.enums import MessageStatus

    assert delivery(MessageStatus.QUEUED, None) == (Delivery.SENT, None)
    assert delivery(MessageStatus.SENT, None) == (Delivery.SENT, None)
    assert delivery(MessageStatus.DELIVERED, None) == (Delivery.DELIVERED, None)
    assert delivery(MessageStatus.READ, None) == (Delivery.DELIVERED, None)
    assert delivery(MessageStatus.UNDELIVERED, 30003) == (
        Delivery.NOT_DELIVERED,
        "their phone was off or out of reach",
    )
    assert delivery(MessageStatus.FAILED, None) == (Delivery.NOT_DELIVERED, "no reason was given")
    assert delivery(MessageStatus.PENDING, None) == (Delivery.WAITING, None)
    assert delivery(MessageStatus.EXPIRED, None) == (Delivery.NOT_SENT, None)
    assert delivery(MessageStatus.CONSOLE, None) == (Delivery.RECORDED, None)
    # Every outbound status has its words.
    outbound = set(MessageStatus) - {
        MessageStatus.RECEIVED, MessageStatus.TURNING, MessageStatus.PROCESSED,
    }  # fmt: skip
    from service.core.delivery_reasons import DELIVERY

    assert outbound <= set(DELIVERY)
