"""The exchange calendar: which sessions the store should have by now.

"Current" means the store holds every New York Stock Exchange session whose close has passed
(plus DATA_DELAY, the time end-of-day prices take to appear at the sources). Sessions come from
`exchange_calendars` (holidays and early closes included), so a weekend or a market holiday
never counts as missing, and a store left behind for months does.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

EXCHANGE = "XNYS"
DATA_DELAY = dt.timedelta(hours=1)


def now() -> dt.datetime:
    """The current time (UTC); one place to read the clock, so tests can set it."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Staleness:
    """Sessions the exchange held after the store's latest one: `missing` of them, from `since`."""

    latest: dt.date
    missing: int
    since: dt.date | None
    until: dt.date | None

    def message(self) -> str:
        return (f"the store's latest session is {self.latest}, but {self.missing} session(s) have closed since "
                f"({self.since} .. {self.until}); run `kbgen fetch` (or import them) to catch up")


@lru_cache(maxsize=1)
def _calendar():
    import exchange_calendars  # imported on first use: it takes about half a second

    return exchange_calendars.get_calendar(EXCHANGE)


def sessions_due(after: dt.date, at: dt.datetime | None = None) -> list[dt.date]:
    """The exchange's sessions after `after` whose data is available at `at` (default: now)."""
    at = at or now()
    calendar = _calendar()
    first = max(pd.Timestamp(after) + pd.Timedelta(days=1), calendar.first_session)
    last = min(pd.Timestamp(at.date()), calendar.last_session)
    if first > last:
        return []
    due = []
    for session in calendar.sessions_in_range(first, last):
        if calendar.session_close(session).to_pydatetime() + DATA_DELAY <= at:
            due.append(session.date())
    return due


def staleness(latest: dt.date, at: dt.datetime | None = None) -> Staleness | None:
    """How far the store's `latest` session is behind the calendar, or None when it is current."""
    due = sessions_due(latest, at)
    if not due:
        return None
    return Staleness(latest, len(due), due[0], due[-1])


def sessions_ending(end: dt.date, count: int) -> list[dt.date]:
    """The exchange's last `count` sessions up to `end` (a weekend or holiday: the session before)."""
    calendar = _calendar()
    last = calendar.date_to_session(pd.Timestamp(end), direction="previous")
    position = calendar.sessions.get_loc(last)
    return [s.date() for s in calendar.sessions[max(0, position - count + 1): position + 1]]


def last_session_due(at: dt.datetime | None = None) -> dt.date:
    """The latest session whose data is available at `at` (default: now)."""
    at = at or now()
    calendar = _calendar()
    for session in reversed(calendar.sessions_in_range(calendar.first_session, pd.Timestamp(at.date()))):
        if calendar.session_close(session).to_pydatetime() + DATA_DELAY <= at:
            return session.date()
    raise ValueError(f"no session of {EXCHANGE} before {at}")
