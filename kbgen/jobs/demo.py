"""`kbgen demo`: the offline quick look: a project with simulated prices, its vault and its site."""
from __future__ import annotations

from pathlib import Path

from ..config import Config, load_config
from ..exchange import last_session_due
from ..sources.demo import DEMO_SOURCE, simulate_market
from ..store import Store
from .build import BuildReport, build, load_market
from .init import copy_starter_vault, init_project
from .update import UpdateReport, publish_report

DEMO_SESSIONS_BUILT = 63  # about three months of daily notes


def run_demo(directory: Path, seed: int = 7, publish: bool = True, build_progress=None) -> tuple[Config, BuildReport, UpdateReport]:
    """Init (when needed), simulate two years of market data, build the last months, publish."""
    config_path = directory / "kbgen.yml"
    if not config_path.exists():
        init_project(directory)
    config = load_config(config_path)
    copy_starter_vault(config.vault_dir)   # an existing project (this repository's own) gets the example notes too
    end = last_session_due()
    frame = simulate_market(config.securities, end=end, seed=seed)
    with Store(config.store_path) as store:
        store.upsert(frame, source=DEMO_SOURCE)
    market = load_market(config)
    sessions = market.sessions[-DEMO_SESSIONS_BUILT:]
    built = build(config, sessions, market, progress=build_progress)
    report = UpdateReport(build=built)
    if publish:
        publish_report(config, report)
    return config, built, report
