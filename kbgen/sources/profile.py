"""A company's name and GICS sector from Yahoo's profile (quoteSummary), for `kbgen add`."""
from __future__ import annotations

from dataclasses import dataclass

import yfinance as yf

from kbgen.config import Config
from kbgen.sources.network import check_reachable, network_settings, open_session
from kbgen.sources.yahoo import _place_yfinance_caches

# Yahoo labels sectors its own way (Morningstar's names); kbgen's universe uses GICS.
YAHOO_TO_GICS = {
    "Basic Materials": "Materials",
    "Communication Services": "Communication Services",
    "Consumer Cyclical": "Consumer Discretionary",
    "Consumer Defensive": "Consumer Staples",
    "Energy": "Energy",
    "Financial Services": "Financials",
    "Healthcare": "Health Care",
    "Industrials": "Industrials",
    "Real Estate": "Real Estate",
    "Technology": "Information Technology",
    "Utilities": "Utilities",
}


@dataclass(frozen=True)
class Profile:
    ticker: str
    name: str | None          # None: Yahoo does not know the symbol
    sector: str | None        # GICS name; None for funds and indices, which have no sector
    yahoo_sector: str | None  # as Yahoo wrote it, for messages


def yahoo_profiles(config: Config, tickers: list[str]) -> dict[str, Profile]:
    """Each ticker's profile; raises SourceError when Yahoo cannot be reached at all."""
    settings = network_settings(config)
    _place_yfinance_caches(config)  # yfinance binds its caches on first use: the project's folder
    session = open_session(settings)
    check_reachable(session, settings)
    return {ticker: _profile(ticker, yf.Ticker(ticker, session=session).info or {}) for ticker in tickers}


def _profile(ticker: str, info: dict) -> Profile:
    name = info.get("longName") or info.get("shortName")
    yahoo_sector = info.get("sector")
    return Profile(ticker, name, YAHOO_TO_GICS.get(yahoo_sector), yahoo_sector)
