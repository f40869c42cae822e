"""`kbgen check`: the config, researchers' notes, store coverage and the vault's links, in one report."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ..config import Config
from ..exchange import Staleness, staleness
from ..obsidian.check import LinkReport, check_links, same_name_notes
from ..researcher_notes import read_researcher_notes
from ..store import Store
from ..vault.state import generated_files


@dataclass
class CheckReport:
    theses: int
    catalysts: int
    coverage: pd.DataFrame               # one row per stored ticker (first, last, rows, missing_*)
    missing: list[str]                   # universe tickers without data
    links: LinkReport | None = None      # None without a vault folder
    same_name: list[str] = field(default_factory=list)
    behind: Staleness | None = None

    @property
    def problems(self) -> list[str]:
        """What the researcher has to fix, each with how; empty when all is well."""
        found = [self.behind.message()] if self.behind else []
        if self.missing:
            found.append(f"{len(self.missing)} universe ticker(s) have no data in the store: {', '.join(self.missing)}; "
                         f"run kbgen fetch {' '.join(self.missing[:3])}{' ...' if len(self.missing) > 3 else ''}")
        if self.links and self.links.broken:
            found.append(f"{len(self.links.broken)} broken link(s) in the vault (listed above); "
                         "create the notes or fix the links")
        if self.same_name:
            found.append(f"{len(self.same_name)} note(s) share a name with a generated note (listed above); rename yours")
        return found


def run_check(config: Config) -> CheckReport:
    theses, catalysts = read_researcher_notes(config)
    with Store(config.store_path) as store:
        coverage = store.coverage().set_index("ticker")
    links = check_links(config.vault_dir) if config.vault_dir.is_dir() else None
    return CheckReport(
        theses=len(theses),
        catalysts=len(catalysts),
        coverage=coverage,
        missing=[t for t in config.securities if t not in coverage.index],
        links=links,
        same_name=same_name_notes(config.vault_dir, generated_files(config.vault_dir)) if links else [],
        behind=staleness(dt.date.fromisoformat(coverage["last"].max())) if len(coverage) else None,
    )
