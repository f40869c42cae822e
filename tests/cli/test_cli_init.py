"""`kbgen init`, `kbgen check` and global options, through click's CliRunner."""
import pandas as pd
from click.testing import CliRunner

from kbgen.cli import cli
from kbgen.store import Store


def run(*args, cwd=None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_every_command_with_a_summary():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "import", "fetch", "check"):
        assert f"  {command} " in result.output


def test_every_command_help_has_an_example():
    for command in cli.commands:
        result = run(command, "--help")
        assert result.exit_code == 0, command
        assert "Example" in result.output, f"{command} --help has no example"


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("kbgen, version ")


def test_init_writes_config_and_starter_vault_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "research"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "kbgen.yml").is_file() and (target / "mkdocs.yml").is_file()
    assert (target / "vault" / "Theses" / "Long NVIDIA.md").is_file()
    assert (target / "vault" / "Catalysts" / "Trump defense budget.md").is_file()
    assert (target / "vault" / ".obsidian" / "app.json").is_file()

    (target / "vault" / "Theses" / "Long NVIDIA.md").write_text("my own words")
    again = CliRunner().invoke(cli, ["init", str(target)])
    assert again.exit_code == 2
    assert "already exists; use --force" in again.output
    forced = run("init", str(target), "--force")
    assert forced.exit_code == 0
    assert (target / "vault" / "Theses" / "Long NVIDIA.md").read_text() == "my own words"


def test_missing_config_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "kbgen: no kbgen.yml here or in any parent folder; run `kbgen init` or pass --config FILE" in result.output


def test_bad_config_exits_2_with_every_problem(tmp_path):
    config = tmp_path / "kbgen.yml"
    config.write_text("universe:\n  sectors: {}\nbogus: 1\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert result.exit_code == 2
    assert "problem(s) in the config" in result.output
    assert f"{config}:3: bogus: unknown key" in result.output


def test_check_reports_coverage_and_flags_tickers_without_data(tmp_path):
    run("init", str(tmp_path))
    config = tmp_path / "kbgen.yml"
    with Store(tmp_path / ".kbgen" / "prices.sqlite") as store:
        store.upsert(pd.DataFrame({"ticker": ["NVDA"] * 2, "date": ["2026-01-05", "2026-01-06"], "close": [180.0, 182.5]}), "csv:x")
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert result.exit_code == 3
    assert "  NVDA       2026-01-05 2026-01-06      2  open 2, high 2, low 2, adj_close 2, volume 2" in result.output
    assert "universe ticker(s) have no data in the store" in result.output
    assert "3 theses, 1 catalysts" in result.output


def test_check_names_a_broken_thesis(tmp_path):
    run("init", str(tmp_path))
    thesis = tmp_path / "vault" / "Theses" / "Long NVIDIA.md"
    thesis.write_text("---\ntype: thesis\nlegs:\n  - {ticker: NOPE, weight: 1}\n---\n# x\n")
    broken = tmp_path / "vault" / "Theses" / "Broken.md"
    broken.write_text("---\ntype: [thesis\n---\n")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "kbgen.yml"), "check"])
    assert result.exit_code == 2
    assert f"{thesis}: leg 1 names NOPE, which is not in the universe" in result.output
    assert f"{broken}: invalid frontmatter" in result.output
