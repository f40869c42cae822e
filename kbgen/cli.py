"""The `kbgen` command: a thin click layer over the pipeline modules.

Exit codes: 0 everything asked for was done; 1 a failure (nothing or only part was done, as the
message says); 2 bad usage, config or researcher notes (nothing written); 3 partial success
(everything that worked was saved, the summary names what did not). Every failure reaches the
user through one handler (`KbgenGroup.invoke` in `cli_edge.py`) as `kbgen: what went wrong; how to fix it`.
"""
from __future__ import annotations

import logging
from pathlib import Path

import click

from . import __version__
from .cli_edge import KbgenGroup, State, parse_date
from .console import progress_of, rejected_rows, report_build, report_notes, say, setup_logging
from .errors import KbgenError, PartialError, UsageError

log = logging.getLogger("kbgen")


@click.group(cls=KbgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: kbgen.yml in this folder or a parent).")
@click.option("--vault", type=click.Path(file_okay=False, path_type=Path), help="Vault folder (overrides the config).")
@click.option("-v", "--verbose", count=True, help="Show debugging detail.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines: only the summary, warnings and errors (for cron).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Also append a detailed log here.")
@click.version_option(__version__, prog_name="kbgen")
@click.pass_context
def cli(ctx, config_path, vault, verbose, quiet, log_file):
    """Turn daily market data into an Obsidian research vault and a published site.

    \b
    Typical first run:
      kbgen init my-research && cd my-research
      kbgen fetch            # or: kbgen import prices.csv, or: kbgen demo
      kbgen build && kbgen publish
    Every evening (cron):
      kbgen -q update
    """
    ctx.obj = State(config_path, vault)
    ctx.obj.verbose, ctx.obj.quiet, ctx.obj.log_file = verbose, quiet, log_file
    setup_logging(quiet, verbose, log_file)


def main() -> None:
    cli(prog_name="kbgen")


def _store(state: State, writing: bool = False):
    """The price store; a writing command leaves a backup of it when it finishes cleanly."""
    from .store import Store

    return Store(state.config.store_path, backup=writing)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing kbgen.yml (notes are never overwritten).")
def init(directory, force):
    """Create a project: commented config, site config and starter vault.

    \b
    Example:
      kbgen init my-research
    """
    from .jobs.init import init_project

    report = init_project(directory, force=force)
    for path in report.created:
        click.echo(f"created {path}")
    for path in report.kept:
        click.echo(f"kept    {path} (already there)")
    click.echo(f"next: cd {directory} && kbgen fetch   (or kbgen import FILE.csv, or kbgen demo)")


@cli.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_(state: State, files):
    """Import daily prices from CSV files into the store.

    Long format with a header: date,ticker,open,high,low,close,adj_close,volume (empty cells
    allowed except close). Bad rows are rejected with their line number; the rest is stored.

    \b
    Example:
      kbgen import prices.csv
    """
    from .sources.csvfile import CsvFormatError, read_prices_csv

    failed = rejected_any = False
    limit = state.config.model.import_.max_close_change
    with _store(state, writing=True) as store:
        for path in files:
            try:
                parsed = read_prices_csv(path, store=store, max_close_change=limit)
            except CsvFormatError as exc:
                click.echo(f"kbgen: {exc}", err=True)
                failed = True
                continue
            counts = store.upsert(parsed.rows, source=f"csv:{path.name}")
            click.echo(
                f"{path.name}: {parsed.total} rows: {counts.inserted} inserted, {counts.updated} updated, "
                f"{counts.unchanged} unchanged, {len(parsed.rejected)} rejected"
            )
            for line, reason, raw in parsed.rejected[:10]:
                click.echo(f"  line {line}: {reason}: {raw}")
            if len(parsed.rejected) > 10:
                click.echo(f"  ... and {len(parsed.rejected) - 10} more rejected rows")
            rejected_any |= bool(parsed.rejected)
        _say_outside_universe(state.config, set(store.last_dates()))
    if failed:
        raise KbgenError("some files could not be read; nothing was imported from them")
    if rejected_any:
        raise PartialError("some rows were rejected (listed above); the valid rows were imported")


def _say_outside_universe(config, stored) -> None:
    from .jobs.universe import add_hint, outside_universe

    outside = outside_universe(config, stored)
    if outside:
        say(f"{len(outside)} stored ticker(s) are not in the universe, so no note shows them: {', '.join(outside)}; "
            f"to track them run: {add_hint(outside)}", err=True, level=logging.WARNING)


@cli.command()
@click.argument("tickers", nargs=-1, required=True)
@click.option("--sector", help="GICS sector of the universe to put them in (else from --constituents or Yahoo).")
@click.option("--name", help="Company name (one ticker; else from --constituents or Yahoo, or the ticker).")
@click.option("--constituents", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with symbol,name,sector (or gics_sector) to take names and sectors from.")
@click.pass_obj
def add(state: State, tickers, sector, name, constituents):
    """Add stocks to the universe in kbgen.yml (comments and layout kept).

    Name and sector come from --sector/--name, a constituents file, or Yahoo's company profile.

    \b
    Examples:
      kbgen add PLTR                       # name and sector from Yahoo
      kbgen add PLTR --constituents sp500.csv
      kbgen add PLTR --sector "Information Technology" --name Palantir
    """
    from .jobs.universe import add_tickers
    from .sources.profile import yahoo_profiles

    report = add_tickers(state.config, list(tickers), sector=sector, name=name, constituents=constituents,
                         lookup=yahoo_profiles)
    for ticker in report.already:
        click.echo(f"{ticker}: already in the universe; nothing changed")
    for addition in report.added:
        click.echo(f"added {addition.ticker} ({addition.name}) to {addition.sector} (from {addition.origin})")
    if report.without_prices:
        missing = " ".join(report.without_prices)
        say(f"no prices in the store yet for {', '.join(report.without_prices)}; run: kbgen fetch {missing}",
            err=True, level=logging.WARNING)


@cli.command()
@click.argument("tickers", nargs=-1, required=True)
@click.pass_obj
def remove(state: State, tickers):
    """Remove tickers from the universe in kbgen.yml (and from groups); stored prices stay.

    \b
    Example:
      kbgen remove INTC
    """
    from .jobs.universe import remove_tickers

    for ticker in remove_tickers(state.config, list(tickers)):
        click.echo(f"removed {ticker} from the universe; its prices stay in the store")


@cli.command()
@click.argument("tickers", nargs=-1)
@click.option("--start", callback=parse_date, help="First date for tickers the store lacks (YYYY-MM-DD).")
@click.pass_obj
def fetch(state: State, tickers, start):
    """Fetch daily prices from Yahoo Finance into the store (incremental).

    Only the dates the store lacks are fetched, plus a few recent sessions to catch revisions.
    Tickers that fail are named with Yahoo's reason; everything else is saved.

    \b
    Examples:
      kbgen fetch                 # the whole universe
      kbgen fetch NVDA AAPL --start 2025-01-01
    """
    report = _fetch(state, list(tickers) or None, start)
    if not report.ok:
        raise PartialError(f"{len(report.failed)} ticker(s) failed: {', '.join(sorted(report.failed))}")


def _fetch(state: State, tickers, start):
    from .sources.yahoo import fetch_prices

    config = state.config
    unknown = [t for t in tickers or [] if t not in config.securities]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} not in the universe; add them to {config.path.name} first")
    with progress_of("fetch") as progress, _store(state, writing=True) as store:
        report = fetch_prices(config, store, tickers=tickers, start=start, progress=progress)
    counts = report.counts
    say(
        f"fetched {len(report.statuses)} tickers: {counts.inserted} rows inserted, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {len(report.failed)} failed"
    )
    for ticker, reason in sorted(report.failed.items()):
        say(f"  {ticker}: {reason}", err=True, level=logging.WARNING)
    for line in rejected_rows(report.rejected):
        say(line, err=True, level=logging.WARNING)
    return report


@cli.command()
@click.pass_obj
def check(state: State):
    """Validate config and researcher notes; show store coverage; check vault links.

    \b
    Example:
      kbgen check
    """
    from .jobs.check import run_check

    config = state.config
    click.echo(f"config {config.path}: ok ({len(config.securities)} tickers in the universe)")
    report = run_check(config)
    click.echo(f"vault {config.vault_dir}: {report.theses} theses, {report.catalysts} catalysts")
    _print_coverage(config, report.coverage)
    _say_outside_universe(config, set(report.coverage.index))
    if report.links:
        click.echo(f"vault links: {report.links.links} links in {report.links.notes} notes, "
                   f"{len(report.links.broken)} broken")
        for broken in report.links.broken:
            click.echo(f"  {broken}")
    if report.same_name:
        click.echo(f"notes sharing a name with a generated note: {len(report.same_name)}")
        for warning in report.same_name:
            click.echo(f"  {warning}")
    if report.problems:
        raise PartialError("\n".join(report.problems))


def _print_coverage(config, coverage) -> None:
    rows = int(coverage["rows"].sum()) if len(coverage) else 0
    click.echo(f"store {config.store_path}: {len(coverage)} tickers, {rows} rows")
    if len(coverage):
        click.echo(f"  {'ticker':<10} {'first':<10} {'last':<10} {'rows':>6}  missing fields")
        for ticker, row in coverage.iterrows():
            gaps = [f"{name[8:]} {int(row[name])}" for name in coverage.columns if name.startswith("missing_") and row[name]]
            click.echo(f"  {ticker:<10} {row['first']:<10} {row['last']:<10} {int(row['rows']):>6}  {', '.join(gaps) or '-'}")


@cli.command(name="build")
@click.option("--date", "date", callback=parse_date, help="Build one session (a weekend or holiday means the session before).")
@click.option("--from", "start", callback=parse_date, help="First session of a backfill.")
@click.option("--to", "end", callback=parse_date, help="Last session of a backfill (default: the latest).")
@click.option("--force", is_flag=True, help="Replace managed blocks even where you edited them by hand.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.pass_obj
def build_(state: State, date, start, end, force, dry_run):
    """Write the vault's notes for a session or a range of sessions.

    Each daily note uses only the data known as of its session. Without options, builds the
    latest session in the store.

    \b
    Examples:
      kbgen build
      kbgen build --date 2026-01-08
      kbgen build --from 2025-12-01 --to 2026-01-31
    """
    from .jobs.build import build, load_market, resolve_sessions

    if date and (start or end):
        raise click.UsageError("use either --date or --from/--to, not both")
    if start and end and start > end:
        raise click.UsageError(f"--from {start} is after --to {end}")
    market = load_market(state.config)
    sessions = resolve_sessions(market, date=date, start=start, end=end)
    if not sessions:
        raise KbgenError(f"no sessions in the store between {start} and {end}")
    if date and sessions[0] != date:
        say(f"{date} is not a session in the store (weekend or market holiday); building {sessions[0]}, the session before")
    with progress_of("build") as progress:
        report = build(state.config, sessions, market, force=force, dry_run=dry_run, progress=progress)
    report_build(report, dry_run)
    _say_without_prices(state.config, market)
    if not report.ok:
        raise PartialError(f"{len(report.errors)} note(s) could not be written (listed above); the others are up to date")


def _say_without_prices(config, market) -> None:
    from .jobs.universe import without_prices_warning

    warning = without_prices_warning(config, market.tickers_with_data, market.source)
    if warning:
        say(warning, err=True, level=logging.WARNING)


@cli.command()
@click.pass_obj
def publish(state: State):
    """Build the static site from the vault with mkdocs-material (strict).

    A link to a missing note, a broken anchor or an unresolved [[link]] fails the build with the
    note and the link named. Waits for no one: while another kbgen run writes the vault, it refuses
    and names that run.

    \b
    Example:
      kbgen publish && python3 -m http.server -d site
    """
    from .jobs.update import publish_vault

    report = publish_vault(state.config)
    click.echo(f"published {report.pages} pages to {report.site_dir} in {report.seconds:.1f} s")


@cli.command()
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
@click.pass_obj
def serve(state: State, port):
    """Preview the site with live reload while you edit the vault.

    \b
    Example:
      kbgen serve --port 8001
    """
    from .site.publish import serve as serve_site

    serve_site(state.config, port=port)


@cli.command()
@click.option("--no-fetch", is_flag=True, help="Build from the store as it is (offline).")
@click.option("--no-publish", is_flag=True, help="Do not rebuild the site.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; fetch and write nothing.")
@click.option("--force", is_flag=True, help="Replace managed blocks even where you edited them by hand.")
@click.pass_obj
def update(state: State, no_fetch, no_publish, dry_run, force):
    """The evening job: fetch new sessions, build every session not yet built, publish.

    Safe to re-run, and finishes what a killed run left: with nothing new and nothing unfinished,
    nothing changes. Exit 0 when the vault and the site are complete and current, 3 when part
    failed or the store lacks sessions the exchange has held (what worked is saved and named),
    1 when nothing could be done.

    \b
    Example (crontab, weekdays after the US close):
      30 22 * * 1-5  cd /srv/research && .venv/bin/kbgen update -q
    """
    from .jobs.update import run_update

    with progress_of("fetch") as fetch_progress, progress_of("build") as build_progress:
        report = run_update(state.config, fetch=not no_fetch, publish=not no_publish, dry_run=dry_run,
                            force=force, fetch_progress=fetch_progress, build_progress=build_progress)
    if report.build:
        report_notes(report.build, dry_run)
    for line in report.summary_lines():
        say(line)
    for ticker, reason in sorted(report.failed_tickers.items()):
        say(f"  {ticker}: {reason}", err=True, level=logging.WARNING)
    for line in rejected_rows(report.rejected_rows):
        say(line, err=True, level=logging.WARNING)
    if report.problems:
        raise PartialError("partial update: " + "; ".join(report.problems))


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated market.")
@click.option("--no-publish", is_flag=True, help="Stop after building the vault.")
def demo(directory, seed, no_publish):
    """Offline quick look: simulated market, vault and site in DIRECTORY.

    Creates the project if DIRECTORY has none, simulates two years of prices for the universe
    (with a scripted sector rotation), builds the last three months and publishes the site.
    Everything it writes is labelled as simulated.

    \b
    Example:
      kbgen demo demo-vault && open demo-vault/site/index.html
    """
    from .jobs.demo import run_demo

    with progress_of("build") as progress:
        config, built, report = run_demo(directory, seed=seed, publish=not no_publish, build_progress=progress)
    report_build(built)
    for line in report.summary_lines()[1:]:
        click.echo(line)
    click.echo(f"vault: {config.vault_dir}")
    if report.published_pages is not None:
        click.echo(f"site:  {config.resolve('site')}/index.html")
    if report.problems:
        raise PartialError("; ".join(report.problems))
