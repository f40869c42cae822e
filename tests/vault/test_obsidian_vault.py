"""The vault as Obsidian sees it: flat typed properties, rotation tags over a whole episode,
notes renamed in Obsidian followed by id, and notes that share a name reported."""
from __future__ import annotations

import datetime as dt
import re

import frontmatter
from click.testing import CliRunner

from kbgen.cli import cli
from kbgen.obsidian.check import check_links
from obsidian_properties import declared_types, property_problems
from test_analytics_rotation import scripted_project


def kbgen(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config.path), *args])


def generated_notes(vault):
    for path in sorted(vault.rglob("*.md")):
        meta = frontmatter.load(path).metadata
        if "kbgen_id" in meta:
            yield path.relative_to(vault).as_posix(), meta


def test_every_property_of_a_built_vault_is_flat_and_of_its_declared_type(demo_project):
    result = kbgen(demo_project, "build", "--from", "2026-01-26", "--to", "2026-01-30")
    assert result.exit_code == 0, result.output
    notes = list(generated_notes(demo_project.vault_dir))
    kinds = {meta["type"] for _, meta in notes}
    assert {"daily", "stock", "sector", "group", "home"} <= kinds and len(notes) > 50
    types = declared_types()
    assert [p for path, meta in notes for p in property_problems(path, meta, types)] == []
    # the starter vault sent to `kbgen init` declares the same types
    assert (demo_project.vault_dir / ".obsidian" / "types.json").is_file()


def as_written_by_version_0_1(path, researchers_line: str = "") -> None:
    """Rewrite a generated note's properties as kbgen 0.1 wrote them: one nested `kbgen:` mapping."""
    head, body = path.read_text().split("\n---\n", 1)
    meta = frontmatter.loads(head + "\n---\n").metadata
    kept = re.compile(r"^(kbgen_\w+|close|return_\w+|excess_\w+|streak|quadrant): .*\n", re.MULTILINE).sub("", head + "\n")
    nested = (f"kbgen:\n  as_of: '{meta['kbgen_as_of']}'\n  source: {meta['kbgen_source']}\n  version: 0.1.0\n"
              f"  simulated: {str(meta['kbgen_simulated']).lower()}\n")
    path.write_text(kept + nested + researchers_line + "---\n" + body)


def test_notes_written_with_the_nested_kbgen_key_are_migrated_keeping_the_researchers_keys(demo_project):
    vault = demo_project.vault_dir
    assert kbgen(demo_project, "build", "--from", "2026-01-27", "--to", "2026-01-29").exit_code == 0
    stock, older_daily = vault / "Stocks" / "Apple.md", vault / "Daily" / "2026-01-27.md"
    as_written_by_version_0_1(stock, "rating: overweight   # my call, keep this comment\n")
    as_written_by_version_0_1(older_daily)
    result = kbgen(demo_project, "build", "--date", "2026-01-30")
    assert result.exit_code == 0, result.output
    after = stock.read_text()
    meta = frontmatter.loads(after).metadata
    assert "kbgen" not in meta and meta["kbgen_id"] == "stock/AAPL" and meta["kbgen_as_of"] == "2026-01-30"
    assert meta["kbgen_simulated"] is True and isinstance(meta["return_1w_pct"], float)
    assert "rating: overweight   # my call, keep this comment\n" in after
    daily = frontmatter.load(older_daily).metadata  # not in this build: migrated all the same
    assert "kbgen" not in daily and daily["kbgen_id"] == "daily/2026-01-27" and daily["kbgen_as_of"] == "2026-01-27"
    assert "0 conflict" in result.output


def rotation_tags(config, date: dt.date) -> set[str]:
    tags = frontmatter.load(config.vault_dir / "Daily" / f"{date}.md").get("tags")
    return {t for t in tags if t.startswith("rotation/")}


def test_daily_notes_written_before_an_episode_was_detected_get_its_tag_when_it_is(tmp_path):
    config, sessions = scripted_project(tmp_path)
    # the rotation's trough is session 151, and it is first detected at session 158
    assert kbgen(config, "build", "--from", str(sessions[145]), "--to", str(sessions[157])).exit_code == 0
    assert all(not rotation_tags(config, d) for d in sessions[145:158])
    result = kbgen(config, "build", "--from", str(sessions[158]), "--to", str(sessions[165]))
    assert result.exit_code == 0, result.output
    concept = next((config.vault_dir / "Concepts").glob("*.md"))
    start = dt.date.fromisoformat(str(frontmatter.load(concept)["date"]))
    tag = f"rotation/{concept.stem.lower().replace(' ', '-')}"
    assert sessions[145] < start < sessions[158]
    assert all(rotation_tags(config, d) == {tag} for d in sessions[145:166] if d >= start)
    assert all(not rotation_tags(config, d) for d in sessions[145:166] if d < start)
    again = kbgen(config, "build", "--date", str(sessions[165]))
    assert "0 created, 0 updated" in again.output  # nothing left to retag: the check is cheap


def rename_in_obsidian(vault, old: str, new: str) -> None:
    """What Obsidian does with "update links" on: move the file, rewrite every link to it."""
    source = next(vault.rglob(f"{old}.md"))
    source.rename(source.with_name(f"{new}.md"))
    link = re.compile(r"\[\[" + re.escape(old) + r"(?=\\?\||#|\]\])")
    for path in vault.rglob("*.md"):
        text = path.read_text()
        if link.search(text):
            path.write_text(link.sub(f"[[{new}", text))


def test_a_note_renamed_in_obsidian_is_followed_not_recreated(demo_project):
    vault = demo_project.vault_dir
    assert kbgen(demo_project, "build", "--from", "2026-01-27", "--to", "2026-01-29").exit_code == 0
    assert "[[Apple" in (vault / "Sectors" / "Information Technology.md").read_text()
    rename_in_obsidian(vault, "Apple", "Apple Inc")
    renamed = vault / "Stocks" / "Apple Inc.md"
    renamed.write_text(renamed.read_text() + "\nMy channel checks say demand is soft.\n")
    result = kbgen(demo_project, "build", "--date", "2026-01-30")
    assert result.exit_code == 0, result.output
    assert not (vault / "Stocks" / "Apple.md").exists()
    assert "0 conflict" in result.output and "edited by hand" not in result.output
    text = renamed.read_text()
    assert frontmatter.loads(text)["kbgen_as_of"] == "2026-01-30" and "as of the 2026-01-30 close" in text
    assert "My channel checks say demand is soft." in text
    sector = (vault / "Sectors" / "Information Technology.md").read_text()
    assert "[[Apple Inc" in sector and "[[Apple]]" not in sector and "[[Apple|" not in sector
    # an older daily note whose links Obsidian rewrote is still kbgen's to update
    older = kbgen(demo_project, "build", "--date", "2026-01-28", "--force")
    assert older.exit_code == 0 and "hand edits" not in older.output
    assert kbgen(demo_project, "build", "--date", "2026-01-28").output.count("0 conflict") == 1
    assert check_links(vault).broken == ()


def test_a_thesis_named_like_a_stock_moves_the_stock_note_and_says_so(demo_project):
    vault = demo_project.vault_dir
    assert kbgen(demo_project, "build").exit_code == 0
    stock = vault / "Stocks" / "Apple.md"
    stock.write_text(stock.read_text() + "\nMy notes on Apple.\n")
    (vault / "Theses" / "Apple.md").write_text(
        "---\ntype: thesis\nstance: long\nbenchmark: SPY\nlegs:\n  - {ticker: AAPL, weight: 1.0, side: long}\n"
        "tags: [thesis]\n---\n# Apple\n\nServices keep growing.\n")
    result = kbgen(demo_project, "build")
    assert result.exit_code == 0, result.output
    assert not stock.exists()
    moved = vault / "Stocks" / "Apple (AAPL).md"
    assert "My notes on Apple." in moved.read_text()
    assert "Stocks/Apple.md: another note now has the name 'Apple', so kbgen moved this note to " \
           "Stocks/Apple (AAPL).md" in result.output
    assert [p for p, meta in generated_notes(vault) if meta["kbgen_id"] == "stock/AAPL"] == ["Stocks/Apple (AAPL).md"]
