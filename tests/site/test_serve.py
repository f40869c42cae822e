"""`kbgen serve`: a live preview of a generated vault that shows a researcher's edit, and a bad
setup reported as a kbgen error."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbgen.cli import cli

KBGEN = Path(sys.executable).with_name("kbgen")
DAILY = "Daily/2026-01-30"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def wait_for(url: str, text: str, seconds: float, server: subprocess.Popen) -> float:
    """Seconds until the page at `url` contains `text`; fails if it never does or the server dies."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        assert server.poll() is None, f"kbgen serve exited with {server.returncode}"
        if text in fetch(url):
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"{url} did not show {text!r} within {seconds} s")


@pytest.fixture
def generated_vault(demo_project):
    built = CliRunner().invoke(cli, ["--config", str(demo_project.path), "build", "--from", "2026-01-29", "--to", "2026-01-30"])
    assert built.exit_code == 0, built.output
    return demo_project


@pytest.mark.slow
def test_serve_shows_an_edited_note_and_keeps_the_site_whole(generated_vault, tmp_path):
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(KBGEN), "serve", "--port", str(port)], cwd=generated_vault.root,
                              stdout=log, stderr=subprocess.STDOUT)
    page = f"http://127.0.0.1:{port}/{DAILY}.html"
    try:
        wait_for(page, "2026-01-30", 120, server)
        note = generated_vault.vault_dir / f"{DAILY}.md"
        note.write_text(note.read_text() + "\nResearcher's live edit: watch the banks.\n")
        seconds = wait_for(page, "watch the banks", 30, server)
        edited = fetch(page)
        # the rebuild in the same process keeps what the plugin computes from every note
        assert 'class="md-tabs__link"' in edited and "Latest: 2026-01-30" in edited
        assert 'id="linked-from"' in edited and "tags.html#tag:daily" in edited
        assert "2026-01-29" in fetch(f"http://127.0.0.1:{port}/tags.html")
        assert seconds < 15  # about 1 s on a quiet machine; generous for a loaded CI runner
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize("remove, expected", [
    ("mkdocs.yml", "kbgen: the site configuration"),
    ("vault", "kbgen: the vault"),
], ids=["no mkdocs.yml", "no vault"])
def test_serve_on_a_bad_setup_says_what_to_fix(demo_project, remove, expected):
    path = demo_project.root / remove
    if path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        path.rmdir()
    else:
        path.unlink()
    result = CliRunner().invoke(cli, ["--config", str(demo_project.path), "serve", "--port", str(free_port())])
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serve_on_a_busy_port_says_so(demo_project):
    CliRunner().invoke(cli, ["--config", str(demo_project.path), "build", "--date", "2026-01-30"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["--config", str(demo_project.path), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"kbgen: cannot serve on 127.0.0.1:{port}" in result.output and "--port" in result.output
