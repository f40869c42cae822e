"""Running kbgen from a test: in-process through click, or as a child process (to kill it), and
the small project config the fault and daily-operation tests share."""
from __future__ import annotations

import sys

from click.testing import CliRunner, Result

from kbgen.cli import cli

# A child process running the CLI, for tests that kill it.
KBGEN = [sys.executable, "-c", "from kbgen.cli import main; main()"]

CONFIG = """\
paths: {{vault: vault, store: .kbgen/prices.sqlite, cache: {cache}}}
universe:
  sectors:
    Energy: {{etf: XLE, members: {{XOM: Exxon Mobil, CVX: Chevron}}}}
    Utilities: {{etf: XLU, members: {{NEE: NextEra Energy}}}}
  benchmarks: {{SPY: S&P 500 ETF}}
network: {{retries: 0, timeout: 10{network}}}
fetch: {{start: 2026-01-05}}
"""


def kbgen(*args) -> Result:
    """Run the CLI in-process; an exception escaping it (a crash) fails the test."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"kbgen {' '.join(map(str, args))} crashed:\n{result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


def run(project, *args) -> Result:
    """`kbgen --config PROJECT ARGS`, in-process."""
    return kbgen("--config", project.path, *args)
