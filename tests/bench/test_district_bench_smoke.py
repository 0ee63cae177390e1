"""The district burst benchmark at a smoke size, so it cannot rot: a live server, real
requests, and the exactly-once check of every event."""

from __future__ import annotations

import pytest

from scripts.bench.district_bench import build_district, markdown, run

pytestmark = pytest.mark.slow


def test_district_is_built_with_a_device_and_a_day_per_teacher():
    district = build_district(teachers=10, class_size=4)
    assert len(district.teachers) == 10
    assert len({t.token for t in district.teachers}) == 10
    journals = [j.id for t in district.teachers for j in t.journals]
    assert len(journals) == len(set(journals)) == 40  # one teacher per journal
    assert district.events == 10 * 4 * (1 + 4 + 3)  # lesson, attendance, three marks


def test_quick_burst_stores_every_event_exactly_once():
    result = run(teachers=12, seconds=1.0, class_size=5)
    assert not result.failed, [o.error for o in result.failed]
    assert len(result.outcomes) == 12
    assert result.check.exact, result.check
    assert result.check.expected == result.events == 12 * 4 * (1 + 5 + 3)
    assert 0 < result.median <= result.p99
    text = markdown(result, command="smoke", seconds=1.0, load=(0.0, 0.0, 0.0))
    assert text.startswith("## District burst") and "| Failed requests (target 0) | 0 |" in text
