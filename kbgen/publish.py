"""Publishing: builds the vault into a static mkdocs-material site through MkDocs' Python API.

The site configuration is the project's `mkdocs.yml` (kbgen.yml `paths.mkdocs_config`); its
`docs_dir` is replaced by the vault kbgen writes (`paths.vault`), so both always agree. Every
warning MkDocs and its plugins log is collected; a strict build fails on any of them, and the
resulting `PublishError` lists them so the user sees which note and which link to fix.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import KbgenError

# Material prints a notice about MkDocs 2.0 on every build unless this is set.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

from mkdocs import exceptions as mkdocs_exceptions  # noqa: E402  (after the environment is set)
from mkdocs.commands import build as mkdocs_build  # noqa: E402
from mkdocs.commands import serve as mkdocs_serve  # noqa: E402
from mkdocs.config import load_config as load_mkdocs_config  # noqa: E402

DIRTY_NOTICE = "A 'dirty' build is being performed"


class PublishError(KbgenError):
    """The site could not be built; the message names each failing note and link."""


@dataclass(frozen=True)
class PublishReport:
    pages: int
    seconds: float
    site_dir: Path
    warnings: list[str] = field(default_factory=list)


class _WarningCollector(logging.Handler):
    """Keeps every WARNING-or-worse record MkDocs and its plugins log during one build."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _drop_dirty_notice(record: logging.LogRecord) -> bool:
    """MkDocs warns on every dirty build, which would fail a strict one; the caller chose dirty."""
    return not record.getMessage().startswith(DIRTY_NOTICE)


def load_site_config(config: Config, strict: bool = True, **overrides):
    """The MkDocs configuration of the project, with `docs_dir` pointed at kbgen's vault."""
    if not config.mkdocs_config.is_file():
        raise PublishError(
            f"the site configuration {config.mkdocs_config} does not exist; "
            "run `kbgen init` to create it or set paths.mkdocs_config in kbgen.yml"
        )
    if not config.vault_dir.is_dir():
        raise PublishError(f"the vault {config.vault_dir} does not exist; run `kbgen build` first")
    try:
        return load_mkdocs_config(
            config_file=str(config.mkdocs_config), docs_dir=str(config.vault_dir), strict=strict, **overrides
        )
    except mkdocs_exceptions.ConfigurationError as error:
        raise PublishError(f"{config.mkdocs_config}: {error}") from error


def publish(config: Config, strict: bool = True, dirty: bool = False) -> PublishReport:
    """Build the site; with `strict`, any warning (broken link, missing anchor...) fails it.

    `dirty` rebuilds only notes changed since the last build (faster, but other pages' navigation
    and backlinks may be stale).
    """
    site_config = load_site_config(config, strict=strict)
    collector = _WarningCollector()
    mkdocs_logger = logging.getLogger("mkdocs")
    build_logger = logging.getLogger("mkdocs.commands.build")
    mkdocs_logger.addHandler(collector)
    if dirty:
        build_logger.addFilter(_drop_dirty_notice)
    started = time.perf_counter()
    try:
        mkdocs_build.build(site_config, dirty=dirty)
    except (mkdocs_exceptions.MkDocsException, OSError) as error:
        raise PublishError(_failure_message(error, collector.messages)) from error
    finally:
        mkdocs_logger.removeHandler(collector)
        build_logger.removeFilter(_drop_dirty_notice)
    seconds = time.perf_counter() - started
    kbgen_plugin = site_config.plugins.get("kbgen")
    pages = kbgen_plugin.pages_rendered if kbgen_plugin is not None else 0
    return PublishReport(pages, seconds, Path(site_config.site_dir), collector.messages)


def _failure_message(error: Exception, warnings: list[str]) -> str:
    lines = [f"publishing the site failed: {error}"]
    if warnings:
        lines.append(f"{len(warnings)} problem(s) to fix in the vault:")
        lines += [f"  - {message}" for message in warnings]
    return "\n".join(lines)


def serve(config: Config, dev_addr: str = "127.0.0.1:8000", open_in_browser: bool = False) -> None:
    """Live preview: serve the site and rebuild it whenever a note changes (Ctrl+C stops)."""
    load_site_config(config, strict=False)  # fail early, with kbgen's message, on a bad setup
    mkdocs_serve.serve(
        config_file=str(config.mkdocs_config),
        docs_dir=str(config.vault_dir),
        dev_addr=dev_addr,
        open_in_browser=open_in_browser,
    )
