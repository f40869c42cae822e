"""kill -9 during `kbgen build`: every note stays old or new, no temp files, the next run finishes."""
import random
import shutil
import subprocess
import time

import frontmatter

from cli_runs import KBGEN
from kbgen.jobs.init import init_project
from kbgen.vault.state import TEMP_PREFIX



def run_build(config, *args, quiet=True):
    return subprocess.Popen([*KBGEN, "--config", str(config.path), *(["-q"] if quiet else []), "build", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_after_session(process, session: int, delay: float) -> bool:
    """SIGKILL the build `delay` seconds after it reports session `session` done (its progress
    lines on stderr), so the kill lands inside the write of the next session on any machine."""
    for line in process.stderr:
        if line.startswith(f"build: {session}/"):
            time.sleep(delay)
            break
    killed = process.poll() is None
    if killed:
        process.kill()
    process.wait()
    process.stderr.close()
    return killed


def assert_vault_sound(vault, after_a_kill=False):
    for path in vault.rglob("*"):
        # A kill can leave a temp file (hidden from Obsidian and the site by its leading dot);
        # the next run removes it.
        assert after_a_kill or not path.name.startswith(TEMP_PREFIX), f"temp file left: {path}"
    for path in vault.rglob("*.md"):
        frontmatter.load(path)  # raises on a torn file


def test_killed_builds_leave_a_sound_vault_and_the_next_build_completes(demo_project, tmp_path):
    vault = demo_project.vault_dir
    thesis = vault / "Theses" / "Long NVIDIA.md"
    mine = thesis.read_text()
    rng = random.Random(20260108)
    killed = 0
    for attempt in range(6):
        # Alternate the last session so every run has notes to change, not only to skip.
        last = "2026-01-30" if attempt % 2 else "2026-01-29"
        process = run_build(demo_project, "--from", "2026-01-12", "--to", last, "--force", quiet=False)
        # Anywhere from the first daily note to the last session, which also writes every other note.
        killed += kill_after_session(process, rng.randint(1, 13), rng.uniform(0.0, 0.15))
        assert_vault_sound(vault, after_a_kill=True)
        assert thesis.read_text().startswith(mine.split("<!-- kbgen:begin")[0])
    assert killed >= 4, "the kills should land while the build runs"
    assert any((vault / "Daily").glob("*.md")), "a killed backfill keeps the sessions it finished"
    finish = run_build(demo_project, "--from", "2026-01-12", "--to", "2026-01-30")
    assert finish.wait() == 0, finish.stderr.read()
    assert_vault_sound(vault)
    # The vault's daily notes equal those of a build that was never interrupted.
    clean = tmp_path / "clean"
    init_project(clean)
    (clean / ".kbgen").mkdir()
    shutil.copyfile(demo_project.store_path, clean / ".kbgen" / "prices.sqlite")
    reference = subprocess.run([*KBGEN, "--config", str(clean / "kbgen.yml"), "-q", "build",
                                "--from", "2026-01-12", "--to", "2026-01-30"], capture_output=True)
    assert reference.returncode == 0, reference.stderr.decode()
    built = sorted((vault / "Daily").glob("*.md"))
    assert len(built) == 14  # 2026-01-19 is a market holiday
    for path in built:
        assert path.read_bytes() == (clean / "vault" / "Daily" / path.name).read_bytes(), path.name
