"""What editing, reordering and retiring a commitment mean."""

from service.core.commitment_rules import Revision, moved, revision, still_asked
from service.core.enums import CommitmentStatus


def test_only_new_wording_needs_their_agreement_again():
    assert revision("Call Sam", "Call Sam weekly", False, False) == Revision.NEEDS_AGREEMENT
    assert revision("Call Sam", "Call  Sam ", True, False) == Revision.KEEPS_AGREEMENT
    assert revision("Call Sam", "Call Sam", False, True) == Revision.KEEPS_AGREEMENT
    assert revision("Call Sam", "Call Sam", False, False) == Revision.NONE


def test_moving_up_or_down_stays_within_the_list():
    assert moved([1, 2, 3], 3, -1) == [1, 3, 2]
    assert moved([1, 2, 3], 1, 1) == [2, 1, 3]
    assert moved([1, 2, 3], 1, -1) == [1, 2, 3]
    assert moved([1, 2, 3], 3, 1) == [1, 2, 3]
    assert moved([1, 2, 3], 9, 1) == [1, 2, 3]


def test_a_retired_commitment_is_never_asked_about():
    assert not still_asked(CommitmentStatus.RETIRED)
    assert still_asked(CommitmentStatus.ACTIVE)
