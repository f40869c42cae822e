"""`kbgen import` through the CLI: summary lines, exit codes, nothing lost."""
from click.testing import CliRunner

from kbgen.cli import cli
from kbgen.store import Store

GOOD = """date,ticker,open,high,low,close,adj_close,volume
2026-01-05,NVDA,180,184,179,183,183,1000
2026-01-06,NVDA,183,185,181,182,182,1200
2026-01-05,NOC,,,,600,,
"""


def project(tmp_path):
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    return ["--config", str(tmp_path / "kbgen.yml")]


def test_import_then_reimport_changes_nothing(tmp_path):
    args = project(tmp_path)
    (tmp_path / "good.csv").write_text(GOOD)
    first = CliRunner().invoke(cli, args + ["import", str(tmp_path / "good.csv")])
    assert first.exit_code == 0, first.output
    assert "good.csv: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = CliRunner().invoke(cli, args + ["import", str(tmp_path / "good.csv")])
    assert "good.csv: 3 rows: 0 inserted, 0 updated, 3 unchanged, 0 rejected" in again.output
    with Store(tmp_path / ".kbgen" / "prices.sqlite") as store:
        assert store.sources() == {"csv:good.csv"}


def test_rejected_rows_are_listed_and_exit_is_partial(tmp_path):
    args = project(tmp_path)
    (tmp_path / "mixed.csv").write_text(GOOD + "2026-01-07,NVDA,1,1,1,-5,,\n")
    result = CliRunner().invoke(cli, args + ["import", str(tmp_path / "mixed.csv")])
    assert result.exit_code == 3
    assert "mixed.csv: 4 rows: 3 inserted, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "  line 5: " in result.output
    assert "kbgen: some rows were rejected (listed above); the valid rows were imported" in result.output


def test_unparsable_file_changes_nothing(tmp_path):
    args = project(tmp_path)
    (tmp_path / "good.csv").write_text(GOOD)
    CliRunner().invoke(cli, args + ["import", str(tmp_path / "good.csv")])
    (tmp_path / "semi.csv").write_text(GOOD.replace(",", ";").replace("183;183", "999;999"))
    result = CliRunner().invoke(cli, args + ["import", str(tmp_path / "semi.csv")])
    assert result.exit_code == 1
    assert "semi.csv" in result.output and "';'" in result.output
    with Store(tmp_path / ".kbgen" / "prices.sqlite") as store:
        assert sorted(store.load()["close"].tolist()) == [182.0, 183.0, 600.0]
