"""The vault writer keeps researchers' words, merges kbgen's blocks and keys, and writes safely."""
from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest

from kbgen.vault import writer as vault_writer
from kbgen.model import RenderedNote
from kbgen.vault.state import VaultLocked, generated_files
from kbgen.vault.writer import VaultWriter

DAILY = "Daily/2026-01-08.md"


def daily(rev: int, path: str = DAILY, extra_block: bool = False) -> RenderedNote:
    breadth = (f"\n\n## Breadth\n<!-- kbgen:begin breadth -->\nAdvancers {rev}\n<!-- kbgen:end breadth -->"
               if extra_block else "")
    body = (f"# 8 January 2026\n\n"
            f"<!-- kbgen:begin summary -->\nThe S&P 500 rose {rev}%.\n<!-- kbgen:end summary -->"
            f"{breadth}\n\n## Movers\n"
            f"<!-- kbgen:begin movers -->\n| Stock | Move |\n|---|---|\n| [[Apple]] | +{rev}% |\n"
            f"<!-- kbgen:end movers -->\n")
    meta = {"type": "daily", "date": "2026-01-08", "tags": ["daily", f"rev/{rev}"],
            "kbgen": {"as_of": "2026-01-08", "revision": rev}}
    return RenderedNote(path, meta, body)


def write(vault: Path, *notes, **options):
    with VaultWriter(vault, **options) as writer:
        results = [writer.write(note) for note in notes]
    return results, writer


def pristine(tmp_path: Path, note: RenderedNote) -> str:
    """What kbgen writes for `note` into an empty vault."""
    vault = tmp_path / f"pristine-{len(list(tmp_path.iterdir()))}"
    write(vault, note)
    return (vault / note.path).read_bytes().decode()


def researcher_edits(text: str) -> str:
    """A researcher's edits outside the blocks, saved by an editor that writes CRLF."""
    text = text.replace("type: daily\n", "type: daily\nstatus: reviewed   # my flag\n# why: see call notes\n"
                        "legs:\n  - {ticker: NVDA, weight: 1.0}   # flow style kept\nquote: 'it''s odd'\n")
    text = text.replace("# 8 January 2026\n\n", "# 8 January 2026\n\nMy intro, trailing spaces   \n\n")
    text = text.replace("<!-- kbgen:end summary -->\n", "<!-- kbgen:end summary -->\nBetween blocks\t\n")
    text += "\nAfter the blocks: [[Long NVIDIA]] looks stretched.\n   \n"
    return text.replace("\n", "\r\n")


def test_create_writes_note_and_records_it_as_generated(tmp_path):
    results, writer = write(tmp_path, daily(1))
    assert results[0].status == "created"
    post = frontmatter.loads((tmp_path / DAILY).read_text())
    assert post["kbgen"] == {"as_of": "2026-01-08", "revision": 1}
    assert list(post.keys()) == ["type", "date", "tags", "kbgen"]
    assert generated_files(tmp_path) == {DAILY}
    assert writer.summary().counts["created"] == 1
    assert not (tmp_path / ".kbgen" / "lock").exists()


def test_researcher_text_survives_five_rebuilds_byte_for_byte(tmp_path):
    vault = tmp_path / "vault"
    write(vault, daily(0))
    path = vault / DAILY
    path.write_bytes(researcher_edits(path.read_text()).encode())
    for rev in range(1, 6):
        results, writer = write(vault, daily(rev))
        assert results[0].status == "updated", writer.summary().warnings
        assert results[0].warnings == ()
        assert path.read_bytes() == researcher_edits(pristine(tmp_path, daily(rev))).encode()
    post = frontmatter.loads(path.read_text())
    assert post["status"] == "reviewed" and post["tags"] == ["daily", "rev/5"]
    assert list(post.keys())[:5] == ["type", "status", "legs", "quote", "date"]


def test_block_edited_by_hand_is_kept_and_reported_until_forced(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    path.write_text(path.read_text().replace("| [[Apple]] | +1% |", "| [[Apple]] | +1% | my comment |"))
    for _ in range(2):  # still recognised as a hand edit on the next run
        results, writer = write(tmp_path, daily(2))
        assert results[0].status == "conflict"
        assert writer.summary().warnings == [
            f"{DAILY}: block 'movers' was edited by hand; kept your version (use --force to replace it)"]
        text = path.read_text()
        assert "my comment" in text and "rose 2%" in text and "rev/2" in text
    results, _ = write(tmp_path, daily(3), force=True)
    assert results[0].status == "updated" and "replaced them (--force)" in results[0].warnings[0]
    assert path.read_text() == pristine(tmp_path, daily(3))
    assert write(tmp_path, daily(4))[0][0].status == "updated"


def test_unchanged_rebuild_rewrites_nothing(tmp_path):
    write(tmp_path, daily(1))
    manifest = tmp_path / ".kbgen" / "manifest.json"
    before = {p: (os.stat(p).st_mtime_ns, os.stat(p).st_ino) for p in (tmp_path / DAILY, manifest)}
    results, writer = write(tmp_path, daily(1))
    assert results[0].status == "unchanged"
    assert {p: (os.stat(p).st_mtime_ns, os.stat(p).st_ino) for p in before} == before
    assert sorted(os.listdir(tmp_path / ".kbgen")) == ["manifest.json"]


def test_crlf_file_gets_crlf_blocks_and_line_endings_alone_are_no_edit(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert write(tmp_path, daily(1))[0][0].status == "unchanged"
    assert write(tmp_path, daily(2))[0][0].status == "updated"
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") and b"rose 2%" in data


def test_new_block_inserted_after_previous_block_and_missing_one_left_alone(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    path.write_text(path.read_text().replace("<!-- kbgen:end summary -->\n", "<!-- kbgen:end summary -->\nMine.\n"))
    write(tmp_path, daily(2, extra_block=True))
    text = path.read_text()
    assert ("<!-- kbgen:end summary -->\n\n## Breadth\n<!-- kbgen:begin breadth -->\nAdvancers 2\n"
            "<!-- kbgen:end breadth -->\nMine.\n") in text
    assert write(tmp_path, daily(2, extra_block=True))[0][0].status == "unchanged"
    results, _ = write(tmp_path, daily(3))  # the note no longer has 'breadth': it stays as it is
    assert results[0].status == "updated" and "Advancers 2" in path.read_text()


def test_block_removed_by_researcher_is_not_added_back_and_reported_once(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    text = path.read_text()
    start, end = text.index("## Movers"), text.index("<!-- kbgen:end movers -->\n") + 26
    path.write_text(text[:start] + text[end:])
    results, _ = write(tmp_path, daily(2))
    assert results[0].warnings == (f"{DAILY}: block 'movers' was removed by hand; not adding it back "
                                   "(use --force to restore it)",)
    assert "kbgen:begin movers" not in path.read_text()
    results, _ = write(tmp_path, daily(3))
    assert results[0].warnings == () and "kbgen:begin movers" not in path.read_text()
    write(tmp_path, daily(4), force=True)
    assert "+4%" in path.read_text()


def test_researcher_note_gets_blocks_only_and_is_never_created(tmp_path):
    thesis = tmp_path / "Theses" / "Long NVIDIA.md"
    thesis.parent.mkdir()
    original = "---\ntype: thesis\nlegs:\n  - {ticker: NVDA, weight: 1.0}\ntags: [thesis, ai]  # mine\n---\n# Long NVIDIA\n\nWhy.\n"
    thesis.write_text(original)
    body = "<!-- kbgen:begin impact -->\nValidating: +3.2% vs SPY\n<!-- kbgen:end impact -->\n"
    note = RenderedNote("Theses/Long NVIDIA.md", {}, body, owned_by_researcher=True)
    gone = RenderedNote("Theses/Gone.md", {}, body, owned_by_researcher=True)
    results, writer = write(tmp_path, note, gone)
    assert [r.status for r in results] == ["updated", "skipped"]
    assert thesis.read_text() == original + "\n" + body
    assert not (tmp_path / "Theses" / "Gone.md").exists() and writer.errors == []
    assert "gone" in results[1].warnings[0]
    assert generated_files(tmp_path) == set()


def test_empty_block_prepared_by_researcher_is_filled(tmp_path):
    thesis = tmp_path / "Theses" / "T.md"
    thesis.parent.mkdir()
    thesis.write_text("# T\n<!-- kbgen:begin impact -->\n<!-- kbgen:end impact -->\nMy text.\n")
    note = RenderedNote("Theses/T.md", {}, "<!-- kbgen:begin impact -->\nMixed\n<!-- kbgen:end impact -->",
                        owned_by_researcher=True)
    assert write(tmp_path, note)[0][0].status == "updated"
    assert thesis.read_text() == "# T\n<!-- kbgen:begin impact -->\nMixed\n<!-- kbgen:end impact -->\nMy text.\n"


def test_frontmatter_keeps_comments_and_unknown_keys_when_kbgen_keys_change(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    text = path.read_text().replace("kbgen:\n", "# provenance below\nreviewer: {name: Ann, since: 2025-12-01}\nkbgen:\n")
    path.write_text(text)
    write(tmp_path, daily(2))
    new = path.read_text()
    assert "# provenance below\nreviewer: {name: Ann, since: 2025-12-01}\nkbgen:\n  as_of: '2026-01-08'\n  revision: 2\n" in new


def test_lock_refuses_second_writer_and_names_the_holder(tmp_path):
    with VaultWriter(tmp_path) as first:
        with pytest.raises(VaultLocked, match=f"pid {os.getpid()}, started 20"):
            VaultWriter(tmp_path).__enter__()
        with pytest.raises(VaultLocked, match=f"pid {os.getpid()}"):
            VaultWriter(tmp_path, dry_run=True).__enter__()
        assert first.write(daily(1)).status == "created"
    with VaultWriter(tmp_path):  # released on exit
        pass


def test_stale_lock_is_reported_and_cleared(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".kbgen").mkdir()
    (tmp_path / ".kbgen" / "lock").write_text(json.dumps(
        {"pid": dead.pid, "host": socket.gethostname(), "started": "2026-01-08T18:00:00+00:00"}))
    with VaultWriter(tmp_path) as writer:
        holder = json.loads((tmp_path / ".kbgen" / "lock").read_text())
        assert holder["pid"] == os.getpid()
    assert writer.summary().warnings == [
        f"cleared a stale lock left by pid {dead.pid}, started 2026-01-08T18:00:00+00:00, which is no longer running"]


def test_lock_left_by_another_host_is_not_cleared(tmp_path):
    (tmp_path / ".kbgen").mkdir()
    (tmp_path / ".kbgen" / "lock").write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "x"}))
    with pytest.raises(VaultLocked, match="host elsewhere"):
        VaultWriter(tmp_path).__enter__()


def test_read_only_file_is_reported_and_others_are_written(tmp_path):
    other = daily(1, path="Daily/2026-01-09.md")
    write(tmp_path, daily(1), other)
    locked = tmp_path / DAILY
    locked.chmod(0o444)
    before = locked.read_bytes()
    results, writer = write(tmp_path, daily(2), daily(2, path=other.path))
    assert [r.status for r in results] == ["skipped", "updated"]
    assert str(writer.errors[0]).startswith(f"{DAILY}: the file is read-only")
    assert locked.read_bytes() == before
    assert write(tmp_path, daily(1))[0][0].status == "unchanged"  # nothing to change: no error


def test_disk_full_leaves_file_old_and_no_temp_files(tmp_path, monkeypatch):
    other = daily(1, path="Daily/2026-01-09.md")
    write(tmp_path, daily(1), other)
    before = (tmp_path / DAILY).read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(DAILY):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(vault_writer.os, "replace", replace)
    results, writer = write(tmp_path, daily(2), daily(2, path=other.path))
    assert [r.status for r in results] == ["skipped", "updated"]
    assert str(writer.errors[0]) == f"{DAILY}: the disk is full; free some space and run again; the file was left as it was"
    assert (tmp_path / DAILY).read_bytes() == before
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".kbgen-tmp-")]
    monkeypatch.undo()
    assert write(tmp_path, daily(2))[0][0].status == "updated"  # the manifest still knows the old block


@pytest.mark.parametrize("broken, reason", [
    (b"---\ntype: thesis\nlegs: [oops\n---\n# Broken\n", "invalid frontmatter ("),
    (b"---\ntype: thesis\n# Broken\n", "the frontmatter has no closing --- line"),
    (b"---\n- a list\n---\n# Broken\n", "the frontmatter is not a list of `key: value` properties"),
    (b"---\ntype: thesis\n---\n\xff\n", "not valid UTF-8 text"),
])
def test_invalid_researcher_frontmatter_is_reported_and_untouched(tmp_path, broken, reason):
    path = tmp_path / "Theses" / "Broken.md"
    path.parent.mkdir()
    path.write_bytes(broken)
    note = RenderedNote("Theses/Broken.md", {"kbgen": {"revision": 1}},
                        "<!-- kbgen:begin impact -->\nx\n<!-- kbgen:end impact -->\n", owned_by_researcher=True)
    results, writer = write(tmp_path, note)
    assert results[0].status == "skipped"
    assert str(writer.errors[0]).startswith(f"Theses/Broken.md: {reason}")
    assert path.read_bytes() == broken


@pytest.mark.parametrize("bad", ["../escape.md", "/tmp/abs.md", "Daily/../../escape.md", ".obsidian/x.md",
                                 "Daily/.hidden.md", "Daily\\x.md", "Daily/a:b.md", "Daily/a|b.md", "",
                                 "Daily//x.md", "outside/x.md"])
def test_paths_that_could_escape_or_break_the_vault_are_refused(tmp_path, bad):
    vault, outside = tmp_path / "vault", tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (vault / "outside").symlink_to(outside)
    results, writer = write(vault, daily(1, path=bad))
    assert results[0].status == "skipped" and len(writer.errors) == 1
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape.md").exists()
    assert sorted(p.name for p in vault.iterdir()) == [".kbgen", "outside"]


def test_dry_run_reports_statuses_and_writes_nothing(tmp_path):
    write(tmp_path, daily(1))
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    results, writer = write(tmp_path, daily(2), daily(1, path="Daily/new.md"), dry_run=True)
    assert [r.status for r in results] == ["updated", "created"]
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot
    fresh = tmp_path / "fresh"
    write(fresh, daily(1), dry_run=True)
    assert not fresh.exists()


def test_stale_temp_files_are_removed_when_a_writer_opens(tmp_path):
    (tmp_path / "Daily").mkdir()
    (tmp_path / "Daily" / ".kbgen-tmp-abc123").write_text("half a note")
    (tmp_path / "Daily" / ".other").write_text("not ours")
    _, writer = write(tmp_path)
    assert sorted(os.listdir(tmp_path / "Daily")) == [".other"]
    assert writer.summary().warnings == ["removed 1 temporary file(s) left by an interrupted run"]


def test_attachments_are_written_atomically_and_never_clobber_other_files(tmp_path):
    chart = "assets/charts/sectors.svg"
    with VaultWriter(tmp_path) as writer:
        assert writer.write_file(chart, b"<svg>1</svg>").status == "created"
    path = tmp_path / chart
    stamp = os.stat(path).st_mtime_ns
    with VaultWriter(tmp_path) as writer:
        assert writer.write_file(chart, b"<svg>1</svg>").status == "unchanged"
        assert writer.write_file(chart, b"<svg>2</svg>").status == "updated"
        assert writer.write_file("../x.svg", b"").status == "skipped"
    assert generated_files(tmp_path) == {chart}
    path.write_bytes(b"<svg>mine</svg>")
    with VaultWriter(tmp_path) as writer:
        result = writer.write_file(chart, b"<svg>3</svg>")
    assert result.status == "conflict" and path.read_bytes() == b"<svg>mine</svg>"
    with VaultWriter(tmp_path, force=True) as writer:
        assert writer.write_file(chart, b"<svg>3</svg>").status == "updated"
    assert path.read_bytes() == b"<svg>3</svg>" and stamp != os.stat(path).st_mtime_ns


def test_writer_must_be_opened():
    with pytest.raises(RuntimeError, match="context manager"):
        VaultWriter("vault").write(daily(1))


def test_a_chart_drawn_from_the_same_inputs_is_not_drawn_again(tmp_path):
    drawn = []

    def draw(text):
        return lambda: drawn.append(text) or text.encode()

    chart = "assets/charts/sectors.svg"
    with VaultWriter(tmp_path) as writer:
        assert writer.write_file(chart, draw("<svg>1</svg>"), inputs="a").status == "created"
    with VaultWriter(tmp_path) as writer:  # a later run: the manifest remembers the inputs
        assert writer.write_file(chart, draw("<svg>1</svg>"), inputs="a").status == "unchanged"
        assert writer.write_file(chart, draw("<svg>2</svg>"), inputs="b").status == "updated"
    assert drawn == ["<svg>1</svg>", "<svg>2</svg>"]
    (tmp_path / chart).write_text("<svg>mine</svg>")  # edited by hand: same inputs, but drawn and kept
    with VaultWriter(tmp_path) as writer:
        assert writer.write_file(chart, draw("<svg>2</svg>"), inputs="b").status == "conflict"
    assert (tmp_path / chart).read_text() == "<svg>mine</svg>" and len(drawn) == 3


def test_tags_and_aliases_a_researcher_adds_survive_rebuilds(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    post = frontmatter.load(path)
    post["tags"] = [*post["tags"], "watchlist"]
    post["aliases"] = ["The big day"]
    path.write_text(frontmatter.dumps(post) + "\n")
    write(tmp_path, daily(2))  # kbgen's tag rev/1 becomes rev/2
    after = frontmatter.load(path)
    assert after["tags"] == ["daily", "rev/2", "watchlist"]
    assert after["aliases"] == ["The big day"]
    assert "The S&P 500 rose 2%." in after.content


def test_a_single_tag_a_researcher_types_is_kept_with_kbgens_tags(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    path.write_text(path.read_text().replace("tags:\n- daily\n- rev/1\n", "tags: mine\n"))
    write(tmp_path, daily(2))
    assert frontmatter.load(path)["tags"] == ["daily", "rev/2", "mine"]
    write(tmp_path, daily(3))
    assert frontmatter.load(path)["tags"] == ["daily", "rev/3", "mine"]


QUOTED = "How blocks look:\n\n```markdown\n<!-- kbgen:begin movers -->\nquoted\n<!-- kbgen:end movers -->\n```\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("where", ["before the blocks", "between the blocks", "after the blocks"])
def test_markers_in_a_fenced_code_block_are_text(tmp_path, where, newline):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    text = path.read_text()
    anchor = {"before the blocks": "<!-- kbgen:begin summary -->", "between the blocks": "## Movers",
              "after the blocks": None}[where]
    edited = text + "\n" + QUOTED if anchor is None else text.replace(anchor, QUOTED + "\n" + anchor, 1)
    edited = edited.replace("\n", newline)
    path.write_bytes(edited.encode())

    results, writer = write(tmp_path, daily(2))

    assert results[0].status == "updated" and writer.summary().warnings == []
    bumped = {"rose 1%": "rose 2%", "+1% |": "+2% |", "rev/1": "rev/2", "revision: 1": "revision: 2"}
    for old, new in bumped.items():
        edited = edited.replace(old, new)
    assert path.read_bytes() == edited.encode()


def test_a_stray_end_marker_is_reported_and_kept_as_text(tmp_path):
    write(tmp_path, daily(1))
    path = tmp_path / DAILY
    stray = "Left over: <!-- kbgen:end summary --> from an old paste\n"  # summary is a block of the note too
    path.write_text(path.read_text() + stray)

    results, writer = write(tmp_path, daily(2))

    assert results[0].status == "updated"
    assert writer.summary().warnings == [
        f"{DAILY}: an end marker for block 'summary' has no begin marker; left it as text"]
    assert path.read_text().endswith(stray) and "rose 2%" in path.read_text()
