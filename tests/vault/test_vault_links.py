"""Every link in a generated vault resolves, by kbgen's check and by an independent Obsidian parser."""
from pathlib import Path

import obsidiantools.api as otools
from click.testing import CliRunner

from kbgen.cli import cli
from kbgen.obsidian.check import check_links


def build(config, *args):
    result = CliRunner().invoke(cli, ["--config", str(config.path), *args])
    assert result.exit_code == 0, result.output
    return result


def test_generated_vault_has_no_broken_links_for_obsidiantools(demo_project):
    build(demo_project, "build", "--from", "2026-01-20", "--to", "2026-01-30")
    vault = otools.Vault(Path(demo_project.vault_dir)).connect()
    assert len(vault.md_file_index) > 100
    assert vault.nonexistent_notes == []
    assert vault.nonexistent_media_files == []
    report = check_links(demo_project.vault_dir)
    assert report.links > 1000 and report.broken == ()


def test_check_names_a_broken_link_written_by_a_researcher(demo_project):
    build(demo_project, "build")
    note = demo_project.vault_dir / "Theses" / "Long NVIDIA.md"
    note.write_text(note.read_text() + "\nSee [[Nvidia earnings preview]] and [[apple]] and `[[in code]]`.\n")
    result = CliRunner().invoke(cli, ["--config", str(demo_project.path), "check"])
    assert result.exit_code == 3
    assert "  Theses/Long NVIDIA.md: [[Nvidia earnings preview]] matches no note or file in the vault" in result.output
    assert "[[apple]]" not in result.output  # Obsidian resolves names ignoring case
    assert "in code" not in result.output
    assert "1 broken link(s) in the vault" in result.output


def test_check_reports_a_researchers_note_named_like_a_generated_one(demo_project):
    build(demo_project, "build")
    ideas = demo_project.vault_dir / "Ideas"
    ideas.mkdir()
    (ideas / "apple.md").write_text("# Apple\n\nWatch the services margin.\n")
    result = CliRunner().invoke(cli, ["--config", str(demo_project.path), "check"])
    assert result.exit_code == 3, result.output
    assert "  Stocks/Apple.md: Ideas/apple.md has the same name, so [[Apple]] may open either note" in result.output
    assert "1 note(s) share a name with a generated note (listed above); rename yours" in result.output
    rebuilt = CliRunner().invoke(cli, ["--config", str(demo_project.path), "build"])
    assert "Stocks/Apple.md: Ideas/apple.md has the same name" in rebuilt.output
