"""End-to-end benchmark of kbgen at S&P 500 scale: import, analytics, build, backfill, publish, update.

    .venv/bin/python bench/bench_kbgen.py [--stocks 500] [--years 2] [--out bench/results] [--profile]

A temporary project is made with kbgen's own API (init_project, then a generated kbgen.yml): the
starter universe's real members (so the example theses and catalyst still resolve) padded with
synthetic stocks to `--stocks`, spread over the 11 GICS sectors in S&P 500 proportions, plus the
sector ETFs, benchmarks, indices, groups and cross-assets. Prices come from kbgen's own market
simulator. Each stage runs in a fresh subprocess, in order, on the same project, so every stage
gets its own peak memory (ru_maxrss) and no stage warms another's caches. `--profile` also runs
every stage under pyinstrument and writes `profile-<stage>.txt` to --out (timings of a profiled
run are inflated; the table of a run without it is the reference).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench_publish import BASELINE_MKDOCS

REPO = Path(__file__).resolve().parents[1]
SESSIONS_PER_YEAR = 252
BACKFILL_SESSIONS = 252
PRICES_CSV = "prices.csv"
NEXT_SESSION_CSV = "next-session.csv"
BASELINE_CONFIG = "baseline-mkdocs.yml"

# Constituents per sector in the S&P 500 (early 2025, rounded): how the synthetic stocks are spread.
SP500_SECTOR_COUNTS = {
    "Information Technology": 69, "Financials": 72, "Health Care": 61, "Industrials": 78,
    "Consumer Discretionary": 50, "Consumer Staples": 38, "Communication Services": 22, "Energy": 22,
    "Materials": 28, "Real Estate": 31, "Utilities": 31,
}
NAME_WORDS = ("Alder", "Birch", "Cedar", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
              "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Prairie", "Quarry", "Ridge", "Summit", "Tundra")

# Targets of the brief for 500 stocks and 2 years, in seconds, by "stage.lap".
TARGETS = {
    "build_one.build": 2.0,
    "backfill.total": 60.0,
    "update.run_update": 15.0,
}
PEAK_MEMORY_TARGET_MB = 1500


# --- the project ---------------------------------------------------------------------------------

def universe_config(stocks: int, starter: dict) -> dict:
    """The starter config with its sectors padded to `stocks` members and two large synthetic groups."""
    config = dict(starter)
    universe = dict(starter["universe"])
    real = sum(len(s["members"]) for s in universe["sectors"].values())
    if stocks < real:
        raise SystemExit(f"--stocks must be at least {real}, the starter universe's real members")
    total = sum(SP500_SECTOR_COUNTS.values())
    sectors, synthetic = {}, []
    for code, (name, sector) in enumerate(universe["sectors"].items()):
        members = dict(sector["members"])
        wanted = max(len(members), round(stocks * SP500_SECTOR_COUNTS[name] / total))
        for i in range(wanted - len(members)):
            ticker = f"Z{code:02d}{i:02d}"
            members[ticker] = f"{NAME_WORDS[i % len(NAME_WORDS)]} {name.split()[0]} {i:02d}"
            synthetic.append(ticker)
        sectors[name] = {"etf": sector["etf"], "members": members}
    universe["sectors"] = sectors
    universe["groups"] = {**universe["groups"], "Synthetic basket": synthetic[:25], "Synthetic broad": synthetic[::5][:60]}
    config["universe"] = universe
    return config


def make_project(root: Path, stocks: int) -> None:
    from kbgen.jobs.init import init_project

    init_project(root)
    starter = yaml.safe_load((root / "kbgen.yml").read_text())
    (root / "kbgen.yml").write_text(yaml.safe_dump(universe_config(stocks, starter), sort_keys=False, allow_unicode=True))
    (root / BASELINE_CONFIG).write_text(BASELINE_MKDOCS)


def last_weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


# --- stages (each runs in its own process) -------------------------------------------------------

class Clock:
    """Named wall-clock laps of one stage."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(self, name: str, work):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work()
        self.laps[name] = time.perf_counter() - started
        self.cpu[name] = time.process_time() - cpu_started
        return result

    def add(self, name: str, *parts: str) -> None:
        """A lap that is the sum of others."""
        self.laps[name] = sum(self.laps[p] for p in parts)
        self.cpu[name] = sum(self.cpu[p] for p in parts)


def stage_import(root: Path, clock: Clock, sessions: int) -> dict:
    """Simulate sessions + 1 days; the last one is kept aside for the daily update."""
    from kbgen.config import load_config
    from kbgen.sources.csvfile import read_prices_csv
    from kbgen.sources.demo import simulate_market
    from kbgen.store import Store

    config = load_config(root / "kbgen.yml")
    end = last_weekday(dt.date.today())
    frame = clock.lap("simulate", lambda: simulate_market(config.securities, end=end, sessions=sessions + 1, seed=7))
    last = frame["date"].max()
    frame[frame["date"] == last].to_csv(root / NEXT_SESSION_CSV, index=False, date_format="%Y-%m-%d")
    history = frame[frame["date"] < last]
    clock.lap("write_csv", lambda: history.to_csv(root / PRICES_CSV, index=False, date_format="%Y-%m-%d"))
    parsed = clock.lap("read_prices_csv", lambda: read_prices_csv(root / PRICES_CSV))
    with Store(config.store_path) as store:
        counts = clock.lap("upsert", lambda: store.upsert(parsed.rows, source=f"csv:{PRICES_CSV}"))
    clock.add("total", "read_prices_csv", "upsert")
    return {"rows": len(history), "rejected": len(parsed.rejected), "inserted": counts.inserted,
            "tickers": int(history["ticker"].nunique())}


def stage_analytics(root: Path, clock: Clock, sessions: int) -> dict:
    from kbgen.config import load_config
    from kbgen.jobs.build import load_market

    config = load_config(root / "kbgen.yml")
    market = clock.lap("load_market", lambda: load_market(config))
    dates = market.sessions
    clock.lap("day_one", lambda: market.analyzer.day(dates[-1]))
    clock.lap("day_252", lambda: _each_day(market.analyzer, dates[-BACKFILL_SESSIONS:]))
    return {"sessions": len(dates)}


def _each_day(analyzer, dates) -> None:
    for date in dates:  # each MarketDay is dropped at once, as build's own loop keeps only notes
        analyzer.day(date)


def _build(root: Path, clock: Clock, count: int) -> dict:
    from kbgen.config import load_config
    from kbgen.jobs.build import build, load_market

    config = load_config(root / "kbgen.yml")
    market = clock.lap("load_market", lambda: load_market(config))
    report = clock.lap("build", lambda: build(config, market.sessions[-count:], market))
    clock.add("total", "load_market", "build")
    if not report.ok:
        raise SystemExit("build failed:\n" + "\n".join(report.errors[:10]))
    return {"notes": dict(report.statuses), "sessions": len(report.sessions)}


def stage_build_one(root: Path, clock: Clock, sessions: int) -> dict:
    return _build(root, clock, 1)


def stage_rebuild_one(root: Path, clock: Clock, sessions: int) -> dict:
    return _build(root, clock, 1)


def stage_backfill(root: Path, clock: Clock, sessions: int) -> dict:
    return _build(root, clock, BACKFILL_SESSIONS)


def stage_publish(root: Path, clock: Clock, sessions: int) -> dict:
    from kbgen.config import load_config
    from kbgen.site.publish import publish

    config = load_config(root / "kbgen.yml")
    report = clock.lap("total", lambda: publish(config))
    return {"pages": report.pages, "markdown_files": _markdown_files(config.vault_dir)}


def stage_publish_plain(root: Path, clock: Clock, sessions: int) -> dict:
    """Plain mkdocs-material (bench_publish's baseline: no kbgen plugin, no navigation.prune), not strict."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.ERROR)  # unresolved Obsidian links are expected here
    clock.lap("total", lambda: build(load_config(config_file=str(root / BASELINE_CONFIG))))
    return {}


def stage_update(root: Path, clock: Clock, sessions: int) -> dict:
    from kbgen.config import load_config
    from kbgen.sources.csvfile import read_prices_csv
    from kbgen.store import Store
    from kbgen.jobs.update import run_update

    config = load_config(root / "kbgen.yml")

    def append_session():
        parsed = read_prices_csv(root / NEXT_SESSION_CSV)
        with Store(config.store_path) as store:
            return store.upsert(parsed.rows, source=f"csv:{NEXT_SESSION_CSV}")

    clock.lap("append_session", append_session)
    report = clock.lap("run_update", lambda: run_update(config, fetch=False, publish=True))
    if report.problems:
        raise SystemExit("update failed:\n" + "\n".join(report.problems) + f"\n{report.publish_error or ''}")
    # run_update times its publish itself; its CPU share is not known, so only wall time is split
    clock.laps["publish"] = report.publish_seconds
    clock.laps["build"] = clock.laps["run_update"] - report.publish_seconds
    return {"notes": dict(report.build.statuses), "pages": report.published_pages}


def _markdown_files(vault: Path) -> int:
    return sum(1 for _ in vault.rglob("*.md"))


STAGES = {
    "import": stage_import,
    "analytics": stage_analytics,
    "build_one": stage_build_one,
    "rebuild_one": stage_rebuild_one,
    "backfill": stage_backfill,
    "publish": stage_publish,
    "publish_plain": stage_publish_plain,
    "update": stage_update,
}


def run_stage(name: str, root: Path, sessions: int, profile_dir: Path | None) -> None:
    """Child side: run one stage and print its laps, facts and peak memory as one JSON line."""
    clock = Clock()
    if profile_dir is None:
        facts = STAGES[name](root, clock, sessions)
    else:
        from pyinstrument import Profiler

        with Profiler(interval=0.005) as profiler:
            facts = STAGES[name](root, clock, sessions)
        (profile_dir / f"profile-{name}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"laps": clock.laps, "cpu": clock.cpu, "facts": facts, "peak_mb": peak_kb / 1024}))


def spawn_stage(name: str, root: Path, sessions: int, profile_dir: Path | None) -> dict:
    """Parent side: run a stage in a fresh interpreter; process wall time includes imports."""
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", name, "--project", str(root), "--sessions", str(sessions)]
    if profile_dir is not None:
        command += ["--profile-dir", str(profile_dir)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"stage {name} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


# --- the report ----------------------------------------------------------------------------------

# (stage, lap, label): the rows of the table, in order.
ROWS = (
    ("import", "simulate", "simulate the market (kbgen.sources.demo)"),
    ("import", "write_csv", "write the long CSV"),
    ("import", "read_prices_csv", "import: read_prices_csv (parse + validate)"),
    ("import", "upsert", "import: Store.upsert"),
    ("analytics", "load_market", "analytics: load_market (store -> panel -> Analyzer)"),
    ("analytics", "day_one", "analytics: analyzer.day, one date"),
    ("analytics", "day_252", f"analytics: analyzer.day, {BACKFILL_SESSIONS} dates"),
    ("build_one", "load_market", "build one date, empty vault: load_market"),
    ("build_one", "build", "build one date, empty vault: day + render + write"),
    ("rebuild_one", "build", "rebuild the same date (notes unchanged): day + render + write"),
    ("backfill", "load_market", f"backfill {BACKFILL_SESSIONS} sessions: load_market"),
    ("backfill", "build", f"backfill {BACKFILL_SESSIONS} sessions: build"),
    ("backfill", "total", f"backfill {BACKFILL_SESSIONS} sessions: total"),
    ("publish", "total", "publish (kbgen mkdocs.yml, strict)"),
    ("publish_plain", "total", "publish, plain mkdocs-material (no prune, no kbgen plugin)"),
    ("update", "append_session", "daily update: append one session to the store"),
    ("update", "build", "daily update: run_update build part (load_market + build)"),
    ("update", "publish", "daily update: run_update publish part"),
    ("update", "run_update", "daily update: run_update(fetch=False, publish=True)"),
)


def table(results: dict[str, dict]) -> str:
    lines = ["| step | wall s | CPU s | target s | stage process s | stage peak MB |", "|---|---:|---:|---:|---:|---:|"]
    for stage, lap, label in ROWS:
        result = results[stage]
        target = TARGETS.get(f"{stage}.{lap}")
        cpu = result["cpu"].get(lap)
        lines.append(
            f"| {label} | {result['laps'][lap]:.2f} | {'' if cpu is None else f'{cpu:.2f}'} "
            f"| {f'< {target:g}' if target else ''} | {result['process_seconds']:.1f} | {result['peak_mb']:.0f} |"
        )
    ratio = results["publish_plain"]["laps"]["total"] / results["publish"]["laps"]["total"]
    lines.append(f"| publish wall ratio plain / kbgen | {ratio:.2f}x | | | | |")
    peak = max(r["peak_mb"] for r in results.values())
    lines.append(f"| peak memory, largest stage | | | | | {peak:.0f} (< {PEAK_MEMORY_TARGET_MB}) |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, Python {platform.python_version()}, {platform.system()}"


def write_results(out: Path, args, results: dict, total_seconds: float) -> str:
    import kbgen

    tag = f"{args.stocks}x{args.years}y"
    facts = {name: result["facts"] for name, result in results.items()}
    header = (
        f"# kbgen end-to-end benchmark: {args.stocks} stocks, {args.years} year(s) "
        f"({args.years * SESSIONS_PER_YEAR} sessions)\n\n"
        f"kbgen {kbgen.__version__}, {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, {machine()}; "
        f"whole run {total_seconds:.0f} s{' (profiled: timings inflated)' if args.profile else ''}; "
        f"load average at the end {os.getloadavg()[0]:.1f} (other jobs share the cores: compare CPU s).\n"
        f"Universe: {facts['import']['tickers']} tickers, {facts['import']['rows']:,} price rows; "
        f"vault after backfill: {facts['publish']['markdown_files']} notes, {facts['publish']['pages']} pages published.\n\n"
    )
    text = header + table(results) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench-{tag}.md").write_text(text)
    (out / f"bench-{tag}.json").write_text(json.dumps(
        {"stocks": args.stocks, "years": args.years, "machine": machine(), "kbgen": kbgen.__version__,
         "profiled": args.profile, "total_seconds": total_seconds, "stages": results}, indent=2, default=str))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stocks", type=int, default=500)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--profile", action="store_true", help="profile every stage with pyinstrument")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project and print its path")
    # internal: the child side of one stage
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sessions", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        run_stage(args.stage, args.project, args.sessions, args.profile_dir)
        return
    sessions = args.years * SESSIONS_PER_YEAR
    if sessions < BACKFILL_SESSIONS + 1:
        parser.error(f"--years must cover more than the {BACKFILL_SESSIONS}-session backfill")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="kbgen-bench-"))
    make_project(root, args.stocks)
    results = {}
    for name in STAGES:
        print(f"  {name} ...", file=sys.stderr, flush=True)
        results[name] = spawn_stage(name, root, sessions, out if args.profile else None)
    text = write_results(out, args, results, time.perf_counter() - started)
    print(text)
    if args.keep:
        print(f"project kept in {root}")
    else:
        import shutil

        shutil.rmtree(root)


if __name__ == "__main__":
    main()
