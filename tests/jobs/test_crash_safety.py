"""A writer killed with SIGKILL at random moments leaves every note old or new, and recovers."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import frontmatter

from kbgen.vault.writer import VaultWriter

NOTES = 30
KILLS = 15

# Shared by this test and the child process it kills: the notes at a given revision.
NOTE_FACTORY = '''
from kbgen.model import RenderedNote

def note(i, rev):
    body = (f"# Note {i}\\n\\n<!-- kbgen:begin summary -->\\nrevision {rev}\\n<!-- kbgen:end summary -->\\n\\n"
            f"## Table\\n<!-- kbgen:begin table -->\\n" + "".join(f"| row {r} | {rev} |\\n" for r in range(40))
            + "<!-- kbgen:end table -->\\n")
    return RenderedNote(f"Daily/note-{i:02d}.md", {"type": "daily", "kbgen": {"revision": rev}}, body)
'''
CHILD = NOTE_FACTORY + '''
import sys
from kbgen.vault.writer import VaultWriter
vault, rev = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while True:  # rewrite every note at each revision until killed
    rev += 1
    with VaultWriter(vault, checkpoint_every=1000) as writer:
        for i in range(%d):
            writer.write(note(i, rev))
''' % NOTES

namespace: dict = {}
exec(NOTE_FACTORY, namespace)
note = namespace["note"]
MINE = "\nMy reading of this, kept across crashes.\n"


def assert_every_note_old_or_new(vault: Path) -> set[int]:
    """Check each note is whole; return the revisions found."""
    revisions = set()
    for i in range(NOTES):
        text = (vault / f"Daily/note-{i:02d}.md").read_text()
        post = frontmatter.loads(text)
        rev = post["kbgen"]["revision"]
        assert f"revision {rev}\n" in text and text.count(f"| {rev} |") == 40, f"note {i} is torn"
        if i % 3 == 0:
            assert text.endswith(MINE), f"note {i} lost the researcher's text"
        revisions.add(rev)
    return revisions


def test_sigkill_at_random_points_never_corrupts_the_vault(tmp_path):
    vault = tmp_path / "vault"
    with VaultWriter(vault) as writer:
        for i in range(NOTES):
            writer.write(note(i, 0))
    for i in range(0, NOTES, 3):  # a researcher annotates some notes
        path = vault / f"Daily/note-{i:02d}.md"
        path.write_text(path.read_text() + MINE)
    rng = random.Random(20260108)
    started, killed_mid_run = time.monotonic(), 0
    for attempt in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(vault), str(1000 * (attempt + 1))],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

        killed_mid_run += len(assert_every_note_old_or_new(vault)) > 1  # some notes new, some old
        with VaultWriter(vault) as writer:
            assert not list(vault.rglob(".kbgen-tmp-*"))
            json.loads((vault / ".kbgen" / "manifest.json").read_text())
            results = [writer.write(note(i, -1 - attempt)) for i in range(NOTES)]
        # kbgen's own half-committed output is never mistaken for a hand edit
        assert {r.status for r in results} == {"updated"}, writer.summary().warnings
        assert writer.errors == [] and all(r.warnings == () for r in results)
        assert_every_note_old_or_new(vault)
    assert killed_mid_run >= KILLS // 3, "the kills should land while notes are being written"
    assert time.monotonic() - started < 30
