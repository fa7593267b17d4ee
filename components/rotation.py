"""When generated credentials are replaced: one rule for every credential the program creates.

A credential of lifetime L days belongs to a rotation window of L*2/3 days, counted in whole
windows from 1970-01-01 (UTC). Its keepers name the window, so the first `pulumi up` in a new
window replaces it; its expiry is the window's start plus L, so when its replacement is due it
still has a third of its life left (a month, for the default 90 days), time for that `up`.
Changing `registry.credentialRotation` changes the keepers too: a replacement now.

pulumi-time's Rotating resource would keep the window in state instead, but it is not on the
package index these machines reach; the window arithmetic is the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_EPOCH = dt.date(1970, 1, 1)


def today() -> dt.date:
    """Today's date in UTC (tests replace this function to move the clock)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Rotation:
    """The rotation window a credential created or kept today belongs to.

    `keepers`: strings that change when the credential must be replaced (the resource's
    keepers / rotate-when-changed map); `expires`: its expiry, RFC 3339 at midnight UTC.
    """

    window_start: dt.date
    expires: dt.date
    rotation: str | None

    @property
    def keepers(self) -> dict[str, str]:
        keepers = {"window": self.window_start.isoformat()}
        if self.rotation is not None:
            keepers["rotation"] = self.rotation
        return keepers

    @property
    def expires_rfc3339(self) -> str:
        return f"{self.expires.isoformat()}T00:00:00Z"


def rotation_window(lifetime_days: int, rotation: str | None, on: dt.date | None = None) -> Rotation:
    """The window containing `on` (default today) for a credential living `lifetime_days` (>= 2).

    Raises ValueError for a lifetime under 2 days (a window must be at least one day long).
    """
    if lifetime_days < 2:
        raise ValueError(f"a credential lifetime of {lifetime_days} day(s) leaves no rotation window")
    window = max(1, lifetime_days * 2 // 3)
    day = (on or today()) - _EPOCH
    start = _EPOCH + dt.timedelta(days=day.days // window * window)
    return Rotation(start, start + dt.timedelta(days=lifetime_days), rotation)
