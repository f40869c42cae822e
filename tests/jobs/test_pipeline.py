"""Build and update end to end on simulated data: idempotence, no look-ahead, researchers' words kept."""
import datetime as dt
import os

import frontmatter
import pandas as pd
from click.testing import CliRunner

from conftest import DEMO_END
from kbgen.cli import cli
from kbgen.config import load_config
from kbgen.jobs.init import init_project
from kbgen.sources.demo import simulate_market
from kbgen.store import Store
from kbgen.vault.writer import VaultWriter


def kbgen(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config.path), *args])


def snapshot(vault):
    """Every file of the vault (kbgen's own state folder aside) with its bytes and mtime."""
    found = {}
    for path in sorted(vault.rglob("*")):
        if path.is_file() and ".kbgen" not in path.parts:
            found[path.relative_to(vault).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def test_build_latest_then_rebuild_changes_nothing(demo_project):
    first = kbgen(demo_project, "build")
    assert first.exit_code == 0, first.output
    assert f"built 1 session(s) ({DEMO_END})" in first.output
    vault = demo_project.vault_dir
    assert (vault / "Daily" / f"{DEMO_END}.md").is_file()
    assert (vault / "Home.md").is_file()
    assert (vault / "Stocks" / "Apple.md").is_file()
    before = snapshot(vault)
    again = kbgen(demo_project, "build")
    assert again.exit_code == 0
    assert "0 created, 0 updated" in again.output and "0 conflict" in again.output
    assert snapshot(vault) == before


def test_every_generated_note_parses_and_labels_simulated_data(demo_project):
    assert kbgen(demo_project, "build").exit_code == 0
    for path in demo_project.vault_dir.rglob("*.md"):
        post = frontmatter.load(path)
        if post.get("type") in ("thesis", "catalyst"):
            continue
        assert post["kbgen_simulated"] is True, path
        assert "> [!warning] Simulated data" in post.content, path


def test_no_look_ahead_notes_are_identical_with_later_data_in_the_store(tmp_path):
    as_of = dt.date(2026, 1, 9)
    later = tmp_path / "later"
    init_project(later)
    later_config = load_config(later / "kbgen.yml")
    prices = simulate_market(later_config.securities, end=DEMO_END, sessions=300)
    with Store(later_config.store_path) as store:
        store.upsert(prices, "demo")
    earlier = tmp_path / "earlier"  # the same market, cut at as_of
    init_project(earlier)
    earlier_config = load_config(earlier / "kbgen.yml")
    with Store(earlier_config.store_path) as store:
        store.upsert(prices[pd.to_datetime(prices["date"]) <= pd.Timestamp(as_of)], "demo")
    for config in (earlier_config, later_config):
        assert kbgen(config, "build", "--date", as_of.isoformat()).exit_code == 0
    left = {k: v[0] for k, v in snapshot(earlier_config.vault_dir).items()}
    right = {k: v[0] for k, v in snapshot(later_config.vault_dir).items()}
    assert left.keys() == right.keys()
    assert [k for k in left if left[k] != right[k]] == []


def test_backfill_writes_one_note_per_session_with_prev_next_links(demo_project):
    result = kbgen(demo_project, "build", "--from", "2026-01-05", "--to", "2026-01-09")
    assert result.exit_code == 0, result.output
    daily = sorted(p.stem for p in (demo_project.vault_dir / "Daily").glob("*.md"))
    assert daily == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
    middle = (demo_project.vault_dir / "Daily" / "2026-01-07.md").read_text()
    assert "[[2026-01-06]]" in middle and "[[2026-01-08]]" in middle


def test_researchers_words_survive_rebuilds(demo_project):
    assert kbgen(demo_project, "build").exit_code == 0
    note = demo_project.vault_dir / "Daily" / f"{DEMO_END}.md"
    text = note.read_text()
    mine = "\nMy reading: the defense bid looks crowded.\n"
    note.write_text(text.replace("<!-- kbgen:begin", mine + "<!-- kbgen:begin", 1) + "\nEnd note.\n")
    post = frontmatter.load(note)
    thesis = demo_project.vault_dir / "Theses" / "Long NVIDIA.md"
    thesis_before = thesis.read_text()
    for _ in range(3):
        assert kbgen(demo_project, "build").exit_code == 0
    after = note.read_text()
    assert mine in after and after.endswith("\nEnd note.\n")
    assert frontmatter.load(note).metadata == post.metadata
    assert thesis.read_text() == thesis_before
    assert "## What would change my mind" in thesis_before


def test_update_catches_up_then_is_idempotent(demo_project):
    vault = demo_project.vault_dir
    assert kbgen(demo_project, "build", "--date", "2026-01-26").exit_code == 0
    result = kbgen(demo_project, "update", "--no-fetch", "--no-publish")
    assert result.exit_code == 0, result.output
    assert "built 4 session(s) (2026-01-27 .. 2026-01-30)" in result.output
    assert "[[2026-01-27]]" in (vault / "Daily" / "2026-01-26.md").read_text()  # next link added
    before = snapshot(vault)
    again = kbgen(demo_project, "update", "--no-fetch", "--no-publish")
    assert again.exit_code == 0
    assert "no new session since 2026-01-30: the store has every session of the exchange calendar" in again.output
    assert snapshot(vault) == before


def test_an_update_with_nothing_new_publishes_a_site_left_behind(demo_project):
    assert kbgen(demo_project, "update", "--no-fetch", "--no-publish").exit_code == 0  # site never built
    caught_up = kbgen(demo_project, "update", "--no-fetch")
    assert caught_up.exit_code == 0, caught_up.output
    assert "no new session since" in caught_up.output and "published" in caught_up.output
    site = demo_project.path.parent / "site"
    assert (site / "index.html").is_file()
    again = kbgen(demo_project, "update", "--no-fetch")  # now current: nothing to do at all
    assert again.exit_code == 0 and "published" not in again.output


def test_dry_run_writes_nothing(demo_project):
    result = kbgen(demo_project, "update", "--no-fetch", "--dry-run")
    assert result.exit_code == 0, result.output
    assert not (demo_project.vault_dir / "Daily").exists()
    assert not (demo_project.vault_dir / "Home.md").exists()


def test_second_run_is_refused_while_the_vault_is_locked(demo_project):
    with VaultWriter(demo_project.vault_dir):
        result = kbgen(demo_project, "build")
    assert result.exit_code == 1
    assert f"pid {os.getpid()}" in result.output


def test_build_without_data_says_how_to_get_some(tmp_path):
    init_project(tmp_path)
    config = load_config(tmp_path / "kbgen.yml")
    result = kbgen(config, "build")
    assert result.exit_code == 1
    assert "has no prices for the universe; run `kbgen fetch`, `kbgen import FILE.csv` or `kbgen demo` first" in result.output


def test_build_date_outside_the_data(demo_project):
    result = kbgen(demo_project, "build", "--date", "2030-01-02")
    assert result.exit_code == 1
    assert f"the store has data up to {DEMO_END}; run `kbgen fetch`" in result.output
    weekend = kbgen(demo_project, "build", "--date", "2026-01-25")  # a Sunday
    assert weekend.exit_code == 0 and "(2026-01-23)" in weekend.output


def test_broken_thesis_stops_the_build_before_writing(demo_project):
    thesis = demo_project.vault_dir / "Theses" / "Long NVIDIA.md"
    thesis.write_text("---\ntype: thesis\nlegs: [{ticker: NOPE}]\n---\n# Long NVIDIA\n")
    result = kbgen(demo_project, "build")
    assert result.exit_code == 2
    assert f"{thesis}: leg 1 names NOPE" in result.output
    assert not (demo_project.vault_dir / "Daily").exists()


def test_update_with_the_network_down_builds_from_the_store_and_exits_partial(demo_project, yfinance_cache_dir, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    text = demo_project.path.read_text()
    text = text.replace("  proxy: null ", "  proxy: http://127.0.0.1:9 ")  # the discard port: nothing listens
    text = text.replace("  cache: .kbgen/cache ", f"  cache: {yfinance_cache_dir} ")
    demo_project.path.write_text(text)
    result = kbgen(demo_project, "update", "--no-publish")
    assert result.exit_code == 3, result.output
    assert f"built 1 session(s) ({DEMO_END})" in result.output
    assert "kbgen: partial update: fetch failed: cannot reach the proxy http://127.0.0.1:9" in result.output
    assert (demo_project.vault_dir / "Daily" / f"{DEMO_END}.md").is_file()


def test_a_researchers_note_where_kbgen_writes_one_keeps_their_words(demo_project):
    note = demo_project.vault_dir / "Stocks" / "Apple.md"
    note.parent.mkdir(parents=True)
    mine = "---\nrating: overweight\n---\n# Apple\n\nMy channel checks say iPhone demand is soft.\n"
    note.write_text(mine)
    result = kbgen(demo_project, "build")
    assert result.exit_code == 0, result.output
    after = note.read_text()
    assert "My channel checks say iPhone demand is soft." in after
    assert after.index("My channel checks") < after.index("<!-- kbgen:begin")
    assert after.startswith("---\nrating: overweight\n---\n")  # kbgen did not create it: frontmatter untouched


def test_an_episode_taken_over_in_a_later_run_gets_its_concept_note_marked_ended(tmp_path):
    from test_analytics_rotation import scripted_project

    config, sessions = scripted_project(tmp_path)
    first, takeover = sessions[150], sessions[194]
    # the evening runs up to the day before the takeover, then that day alone (as `kbgen update`)
    assert kbgen(config, "build", "--from", str(sessions[170]), "--to", str(sessions[193])).exit_code == 0
    note = config.vault_dir / "Concepts" / f"Sector Rotation {first:%B %Y}.md"
    assert "Still running after" in note.read_text()
    assert kbgen(config, "build", "--date", str(takeover)).exit_code == 0
    text = note.read_text()
    assert f"Ended on {takeover} (a rotation of other sectors and groups took over)" in text
    assert f"## Key moves ({takeover})" in text


def test_building_a_past_session_does_not_rewind_the_notes_about_now(demo_project):
    assert kbgen(demo_project, "build").exit_code == 0
    vault = demo_project.vault_dir
    home, apple = (vault / "Home.md").read_bytes(), (vault / "Stocks" / "Apple.md").read_bytes()
    result = kbgen(demo_project, "build", "--date", "2026-01-12")
    assert result.exit_code == 0, result.output
    assert (vault / "Daily" / "2026-01-12.md").is_file()
    assert (vault / "Home.md").read_bytes() == home and (vault / "Stocks" / "Apple.md").read_bytes() == apple
