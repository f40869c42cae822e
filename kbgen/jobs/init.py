"""`kbgen init`: lay out a new research project from the starter kit."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..resources import starter_path

# What a new project gets: the commented config, the site config, the researchers' example notes,
# table views of the generated notes (Bases) and Obsidian settings.
STARTER_FILES = ("kbgen.yml", "mkdocs.yml")
STARTER_VAULT = "vault"   # its files: Theses/, Catalysts/, Bases/, .obsidian/


class InitError(UsageError):
    pass


@dataclass
class InitReport:
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_project(target: Path, force: bool = False) -> InitReport:
    """Copy the starter project into `target`. An existing config is only replaced with `force`;
    researchers' notes already there are never overwritten."""
    target = target.resolve()
    config = target / "kbgen.yml"
    if config.exists() and not force:
        raise InitError(f"{config} already exists; use --force to replace it (your notes are kept either way)")
    report = InitReport()
    target.mkdir(parents=True, exist_ok=True)
    for name in STARTER_FILES:
        if (target / name).resolve() != starter_path(name).resolve():  # init inside the kbgen checkout itself
            shutil.copyfile(starter_path(name), target / name)
        report.created.append(target / name)
    starter = copy_starter_vault(target / STARTER_VAULT)
    report.created += starter.created
    report.kept += starter.kept
    return report


def copy_starter_vault(vault_dir: Path) -> InitReport:
    """Copy the starter vault's files that `vault_dir` lacks; a file already there is kept."""
    report = InitReport()
    source_dir = starter_path(STARTER_VAULT)
    for source in sorted(source_dir.rglob("*")):
        if not source.is_file():
            continue
        destination = vault_dir / source.relative_to(source_dir)
        if destination.exists():
            report.kept.append(destination)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        report.created.append(destination)
    return report
