"""Every wikilink in the vault, checked the way Obsidian resolves it (by name, shortest path).

Uses the same parser and resolver as the site's mkdocs plugin, so `kbgen check` and
`kbgen publish` agree on what a broken link is.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .links import WIKILINK, VaultIndex, WikiLink, strip_code


@dataclass(frozen=True)
class BrokenLink:
    note: str   # path relative to the vault
    link: str   # the link as written

    def __str__(self) -> str:
        return f"{self.note}: {self.link} matches no note or file in the vault"


@dataclass(frozen=True)
class LinkReport:
    notes: int
    links: int
    broken: tuple[BrokenLink, ...]


def vault_files(vault: Path) -> list[str]:
    """Every file Obsidian shows, as vault-relative paths (nothing under a dot folder)."""
    return sorted(
        path.relative_to(vault).as_posix()
        for path in vault.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(vault).parts)
    )


def same_name_notes(vault: Path, paths: set[str]) -> list[str]:
    """For each note in `paths` whose name another note of the vault also has, a warning: Obsidian
    resolves [[links]] by name, so such a link may open either note."""
    if not paths:
        return []
    index = VaultIndex(vault_files(vault))
    warnings = []
    for path in sorted(paths):
        name = path.rpartition("/")[2]
        others = [p for p in index.by_name.get(name.lower(), ()) if p != path]
        if others:
            warnings.append(f"{path}: {', '.join(others)} has the same name, so [[{name[:-3]}]] may open either note "
                            "in Obsidian; rename your note")
    return warnings


def check_links(vault: Path) -> LinkReport:
    files = vault_files(vault)
    index = VaultIndex(files)
    notes = [uri for uri in files if uri.endswith(".md")]
    links, broken = 0, []
    for uri in notes:
        text = strip_code((vault / uri).read_text(encoding="utf-8", errors="replace"))
        for match in WIKILINK.finditer(text):
            link = WikiLink.parse(match["inner"], embed=bool(match["embed"]))
            if not link.target:  # [[#Heading]] points into the same note
                continue
            links += 1
            if index.resolve(link.target, uri) is None:
                broken.append(BrokenLink(uri, match.group(0)))
    return LinkReport(len(notes), links, tuple(broken))
