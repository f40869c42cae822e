"""`kbgen update`: the whole evening job (fetch, build, publish).

The update saves everything that worked and tells the truth about the rest: a network outage or
failed tickers still produce a vault built from what the store has, and a partial exit status.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from .build import BuildReport, build, daily_dates_in_vault, load_market
from ..exchange import Staleness, staleness
from ..vault.record import read_record, record_publish, site_is_current, start_publish, vault_fingerprint
from ..store import Store
from ..vault.state import VaultLock

log = logging.getLogger("kbgen")


@dataclass
class UpdateReport:
    failed_tickers: dict[str, str] = field(default_factory=dict)
    rejected_rows: dict[str, list[str]] = field(default_factory=dict)   # rows from Yahoo not stored, with why
    fetch_error: str | None = None
    build: BuildReport | None = None
    published_pages: int | None = None
    publish_seconds: float | None = None
    publish_error: str | None = None
    nothing_new: str | None = None
    staleness: Staleness | None = None      # exchange sessions the store lacks

    @property
    def problems(self) -> list[str]:
        found = []
        if self.fetch_error:
            found.append(f"fetch failed: {self.fetch_error}")
        if self.failed_tickers:
            found.append(f"{len(self.failed_tickers)} ticker(s) failed to fetch: {', '.join(sorted(self.failed_tickers))}")
        if self.build and self.build.errors:
            found.append(f"{len(self.build.errors)} note(s) could not be written")
        if self.publish_error:
            found.append(f"publish failed: {self.publish_error}")
        if self.staleness:
            found.append(self.staleness.message())
        return found

    def summary_lines(self) -> list[str]:
        lines = []
        if self.nothing_new:
            lines.append(self.nothing_new)
        if self.build:
            lines.append(self.build.summary())
            if self.build.stale:
                lines.append(f"stale (no data for the latest session): {', '.join(self.build.stale)}")
        if self.published_pages is not None:
            lines.append(f"published {self.published_pages} pages in {self.publish_seconds:.1f} s")
        return lines


def run_update(
    config: Config,
    fetch: bool = True,
    publish: bool = True,
    dry_run: bool = False,
    force: bool = False,
    fetch_progress=None,
    build_progress=None,
) -> UpdateReport:
    report = UpdateReport()
    if fetch and not dry_run:
        _fetch_into_store(config, report, fetch_progress)
    market = load_market(config)
    report.staleness = staleness(market.sessions[-1])
    sessions = sessions_to_build(config, market)
    if not sessions:
        report.nothing_new = f"no new session since {market.sessions[-1]}" + (
            "" if report.staleness else ": the store has every session of the exchange calendar and the vault is complete")
    else:
        report.build = build(config, sessions, market, force=force, dry_run=dry_run, progress=build_progress)
    if publish and not dry_run:
        publish_report(config, report, only_if_behind=True)
    return report


def sessions_to_build(config: Config, market) -> list[dt.date]:
    """Every session after the last one whose build completed (the run record), so a killed run is
    finished by the next. A vault without a record (new, or made by an older kbgen) rebuilds from
    its newest daily note; an empty vault starts with the latest session."""
    done = read_record(config.vault_dir).built_session
    if done is None:
        existing = [d for d in daily_dates_in_vault(config) if d in set(market.sessions)]
        if not existing:
            return market.sessions[-1:]
        return [d for d in market.sessions if d >= existing[-1]]
    return [d for d in market.sessions if d > done]


def _fetch_into_store(config: Config, report: UpdateReport, progress) -> None:
    from ..sources import SourceError
    from ..sources.yahoo import fetch_prices

    try:
        with Store(config.store_path) as store:
            fetched = fetch_prices(config, store, progress=progress)
    except SourceError as exc:
        report.fetch_error = str(exc)
        log.warning("kbgen: fetch failed (%s); building from the data already in the store", exc)
        return
    report.failed_tickers = dict(fetched.failed)
    report.rejected_rows = dict(fetched.rejected)


def publish_report(config: Config, report: UpdateReport, only_if_behind: bool = False) -> None:
    """Build the site into the report; with `only_if_behind`, only when the last complete publish
    is older than the vault (a failed, killed or skipped publish is caught up here)."""
    from ..site.publish import PublishError

    try:
        published = publish_vault(config, only_if_behind=only_if_behind)
    except PublishError as exc:
        report.publish_error = str(exc)
        return
    if published is not None:
        report.published_pages = published.pages
        report.publish_seconds = published.seconds


def publish_vault(config: Config, only_if_behind: bool = False):
    """Publish under the vault's lock, recording the publish only once the whole site is written.
    Returns None when `only_if_behind` and the site is already current."""
    from ..site.publish import load_site_config, publish

    with VaultLock(config.vault_dir):
        site_dir = Path(load_site_config(config, strict=False).site_dir)
        if only_if_behind and site_is_current(config.vault_dir, config.mkdocs_config, site_dir):
            return None
        fingerprint = vault_fingerprint(config.vault_dir, config.mkdocs_config)
        start_publish(config.vault_dir)
        published = publish(config)
        record_publish(config.vault_dir, fingerprint)
    return published
