import pytest

from shared.grades import suggested_mark, weighted_average


def test_weighted_average_counts_each_mark_by_its_weight():
    assert weighted_average([(5, 2), (3, 1)]) == pytest.approx(13 / 3)
    assert weighted_average([(4, 1), (4, 3)]) == 4


def test_no_marks_no_average_and_no_suggestion():
    assert weighted_average([]) is None
    assert suggested_mark(None) is None


@pytest.mark.parametrize(
    ("average", "mark"),
    [(4.5, 5), (4.49, 4), (3.5, 4), (2.5, 3), (2.4999, 2), (1.0, 1), (5.0, 5), (3.25, 3)],
)
def test_suggested_mark_rounds_half_up(average, mark):
    assert suggested_mark(average) == mark


def test_exact_half_from_weights_rounds_up_despite_float_noise():
    average = weighted_average([(4, 1), (5, 1)])  # 4.5 exactly
    assert suggested_mark(average) == 5
    average = weighted_average([(3, 3), (4, 3)])
    assert suggested_mark(average) == 4
