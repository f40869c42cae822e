"""Times `kbgen publish` against a plain, untuned mkdocs-material site on the same synthetic vault.

    .venv/bin/python bench/bench_publish.py [--notes 1000]

The vault has N notes spread over the usual folders (stocks, daily notes, sectors...), each with
wikilinks (plain, aliased, escaped inside a table, to a heading) and a table. The baseline is what
a user gets with no tuning: material + search + obsidian-bridge, no `navigation.prune`, no kbgen
plugin. Both builds run in fresh subprocesses so neither warms the other's caches.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BASELINE_MKDOCS = """\
site_name: Baseline
docs_dir: vault
site_dir: site-baseline
theme: {name: material, font: false}
plugins: [search, obsidian-bridge]
markdown_extensions: [obsidian_callouts, admonition, tables, attr_list, toc]
exclude_docs: |
  .kbgen/
"""

KBGEN_YML = """\
paths: {vault: vault, mkdocs_config: mkdocs.yml}
universe:
  sectors:
    Energy: {etf: XLE, members: {XOM: ExxonMobil}}
  benchmarks: {SPY: S&P 500}
"""

FOLDERS = {"Stocks": 0.45, "Daily": 0.35, "Sectors": 0.05, "Groups": 0.05, "Theses": 0.05, "Catalysts": 0.05}


def note_names(count: int) -> list[tuple[str, str]]:
    """(folder, name) for `count` notes; Home is added separately."""
    names = []
    for folder, share in FOLDERS.items():
        for i in range(max(1, round(count * share))):
            # varied initials, as real company names have (the nav groups long sections by letter)
            initial = "ABCDEFGHIJKLMNOPRSTUVWXYZ"[i % 25]
            name = f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}" if folder == "Daily" else f"{initial}{folder.lower()[:-1]} {i:04d}"
            names.append((folder, name))
    return names[: count - 1]


def note_text(name: str, others: list[str], rng: random.Random) -> str:
    links = rng.sample(others, k=min(6, len(others)))
    rows = "\n".join(f"| [[{other}\\|{other[:6]}]] | {rng.uniform(-5, 5):+.1f}% |" for other in links[:4])
    return (
        f"---\ntype: note\ntags: [bench, bench/{rng.randint(1, 9)}]\n---\n# {name}\n\n"
        f"> [!note] Simulated data\n> For the benchmark.\n\n"
        f"See [[{links[4]}]] and [[{links[5]}|an alias]] and [[{links[0]}#Moves]].\n\n"
        f"## Moves\n\n| Note | Move |\n|---|---:|\n{rows}\n\n## Notes\n\n" + "Lorem ipsum dolor sit amet. " * 20 + "\n"
    )


def make_vault(root: Path, count: int) -> None:
    rng = random.Random(7)
    notes = note_names(count)
    names = [name for _, name in notes]
    for folder, name in notes:
        path = root / "vault" / folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note_text(name, [n for n in names if n != name], rng))
    (root / "vault" / "Home.md").write_text("# Home\n\n" + "\n".join(f"- [[{n}]]" for n in names[:20]) + "\n")


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kbgen-bench-") as tmp:
        root = Path(tmp)
        make_vault(root, args.notes)
        (root / "mkdocs.yml").write_text((REPO / "mkdocs.yml").read_text())
        (root / "baseline.yml").write_text(BASELINE_MKDOCS)
        (root / "kbgen.yml").write_text(KBGEN_YML)
        publish_code = (
            "import pathlib, kbgen.config as c, kbgen.site.publish as p;"
            "r = p.publish(c.load_config(pathlib.Path('kbgen.yml')));"
            "print(r.pages, round(r.seconds, 2))"
        )
        kbgen_seconds = timed([sys.executable, "-c", publish_code], root)
        env_quiet = ["env", "NO_MKDOCS_2_WARNING=1"]
        baseline_seconds = timed(env_quiet + [sys.executable, "-m", "mkdocs", "build", "-q", "-f", "baseline.yml"], root)
        print(f"notes: {args.notes}")
        print(f"kbgen publish (strict, prune, backlinks, nav): {kbgen_seconds:6.1f} s")
        print(f"plain mkdocs-material (no prune, no kbgen):    {baseline_seconds:6.1f} s")
        print(f"ratio baseline / kbgen: {baseline_seconds / kbgen_seconds:.2f}x")


if __name__ == "__main__":
    main()
