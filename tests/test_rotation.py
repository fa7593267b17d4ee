"""The rotation rule every generated credential follows (components/rotation.py)."""

import datetime as dt
import itertools

import pytest

from components.rotation import rotation_window


def test_a_credential_is_replaced_before_it_expires_with_a_third_of_its_life_left() -> None:
    # Walk two years of days: whatever day a credential is made, the window it belongs to
    # ends (and the next up replaces it) no later than 60 days on, 30 days before it expires.
    day = dt.date(2026, 1, 1)
    for offset in range(730):
        made = day + dt.timedelta(days=offset)
        window = rotation_window(90, None, made)
        assert window.window_start <= made < window.window_start + dt.timedelta(days=60)
        assert window.expires - (window.window_start + dt.timedelta(days=60)) == dt.timedelta(days=30)


def test_keepers_change_exactly_at_a_window_boundary() -> None:
    days = [dt.date(2026, 11, 30) + dt.timedelta(days=n) for n in range(121)]
    keepers = [rotation_window(90, None, day).keepers["window"] for day in days]
    changes = sum(1 for a, b in itertools.pairwise(keepers) if a != b)
    assert changes == 2  # 120 day-to-day steps cross exactly two 60-day boundaries


def test_the_rotation_key_replaces_the_credential_now() -> None:
    day = dt.date(2026, 11, 30)
    assert rotation_window(90, None, day).keepers != rotation_window(90, "2026-11-30", day).keepers
    assert rotation_window(90, "a", day).keepers != rotation_window(90, "b", day).keepers


def test_expiry_is_midnight_utc_in_rfc3339() -> None:
    window = rotation_window(90, None, dt.date(2026, 11, 30))
    parsed = dt.datetime.fromisoformat(window.expires_rfc3339.replace("Z", "+00:00"))
    assert parsed.tzinfo == dt.UTC and parsed.date() == window.expires


def test_a_lifetime_without_a_window_is_refused() -> None:
    with pytest.raises(ValueError, match="lifetime of 1 day"):
        rotation_window(1, None, dt.date(2026, 11, 30))
