"""The scheduling examples in deploy/ parse, and the kbgen command lines in them are valid."""
import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO_ROOT
from kbgen.cli import cli

DEPLOY = REPO_ROOT / "deploy"


def kbgen_args(command_line: str) -> list[str]:
    """The arguments given to kbgen in a shell command line."""
    words = shlex.split(command_line)
    start = next(i for i, w in enumerate(words) if w.endswith("kbgen"))
    args = []
    for word in words[start + 1:]:
        if word in ("||", "&&", ";", "|"):
            break
        args.append(word)
    return args


def assert_valid_kbgen_invocation(args: list[str], tmp_path: Path):
    assert "update" in args
    if "--log-file" in args:  # the example's log path is on a server; keep the test's own
        args[args.index("--log-file") + 1] = str(tmp_path / "update.log")
    # --help after the command makes click parse every option given before it, then stop.
    result = CliRunner().invoke(cli, args + ["--help"])
    assert result.exit_code == 0, result.output
    assert "The evening job" in result.output


def test_cron_line(tmp_path):
    lines = [l for l in (DEPLOY / "kbgen.cron").read_text().splitlines() if l and not l.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, hour, dom, month, dow, command = fields
    assert 0 <= int(minute) <= 59 and 0 <= int(hour) <= 23
    assert dom == "*" and month == "*" and re.fullmatch(r"[0-7](-[0-7])?", dow)
    assert_valid_kbgen_invocation(kbgen_args(command), tmp_path)


def test_systemd_units(tmp_path):
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "kbgen-update.service")
    assert service["Service"]["Type"] == "oneshot"
    assert_valid_kbgen_invocation(kbgen_args(service["Service"]["ExecStart"]), tmp_path)
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "kbgen-update.timer")
    assert timer["Timer"]["OnCalendar"].startswith("Mon..Fri")
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_timer_calendar_expression_is_valid():
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "kbgen-update.timer")
    result = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Next elapse" in result.stdout


def test_github_actions_workflow(tmp_path):
    workflow = yaml.safe_load((DEPLOY / "github-actions-kbgen.yml").read_text())
    # PyYAML reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    [schedule] = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    steps = workflow["jobs"]["update"]["steps"]
    runs = [s["run"] for s in steps if "run" in s and "kbgen" in s["run"] and "update" in s["run"] and "git" not in s["run"]]
    assert len(runs) == 1
    assert_valid_kbgen_invocation(kbgen_args(runs[0]), tmp_path)
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") and s["with"]["path"] == "site" for s in steps)
    assert workflow["jobs"]["deploy"]["needs"] == "update"
