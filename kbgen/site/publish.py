"""Publishing: builds the vault into a static mkdocs-material site through MkDocs' Python API.

The site configuration is the project's `mkdocs.yml` (kbgen.yml `paths.mkdocs_config`); its
`docs_dir` is replaced by the vault kbgen writes (`paths.vault`), so both always agree. Every
warning MkDocs and its plugins log is collected; a strict build fails on any of them, and the
resulting `PublishError` lists them so the user sees which note and which link to fix.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import Config
from ..errors import KbgenError

# Material prints a notice about MkDocs 2.0 on every build unless this is set.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

from mkdocs import exceptions as mkdocs_exceptions  # noqa: E402  (after the environment is set)
from mkdocs.commands import build as mkdocs_build  # noqa: E402
from mkdocs.commands import serve as mkdocs_serve  # noqa: E402
from mkdocs.config import load_config as load_mkdocs_config  # noqa: E402
from mkdocs.utils.yaml import yaml_load  # noqa: E402

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
    """The MkDocs configuration of the project, with `docs_dir` pointed at kbgen's vault and
    kbgen.yml's `site:` settings applied."""
    check_site_setup(config)
    try:
        return load_mkdocs_config(**{**site_overrides(config, strict), **overrides})
    except mkdocs_exceptions.ConfigurationError as error:
        raise PublishError(f"{config.mkdocs_config}: {error}") from error


def check_site_setup(config: Config) -> None:
    """Fail with kbgen's message, naming the missing file, before MkDocs raises its own."""
    if not config.mkdocs_config.is_file():
        raise PublishError(
            f"the site configuration {config.mkdocs_config} does not exist; "
            "run `kbgen init` to create it or set paths.mkdocs_config in kbgen.yml"
        )
    if not config.vault_dir.is_dir():
        raise PublishError(f"the vault {config.vault_dir} does not exist; run `kbgen build` first")


def site_overrides(config: Config, strict: bool) -> dict:
    """Options that replace the ones in mkdocs.yml. The kbgen plugin gets its kbgen.yml settings
    through `extra.kbgen`, which MkDocs passes along on every rebuild of `serve` too."""
    site = config.model.site
    overrides = {
        "config_file": str(config.mkdocs_config),
        "docs_dir": str(config.vault_dir),
        "strict": strict,
        "extra": {**_mkdocs_extra(config), "kbgen": {"allow_raw_html": site.allow_raw_html}},
    }
    if site.url:
        overrides["site_url"] = site.url
    return overrides


def _mkdocs_extra(config: Config) -> dict:
    """mkdocs.yml's own `extra:` section, which the override above must keep."""
    try:
        with config.mkdocs_config.open(encoding="utf-8") as handle:
            extra = (yaml_load(handle) or {}).get("extra") or {}
    except (OSError, yaml.YAMLError, mkdocs_exceptions.ConfigurationError) as error:
        raise PublishError(f"{config.mkdocs_config}: {error}") from error
    return dict(extra) if isinstance(extra, dict) else {}


def publish(config: Config, strict: bool = True, dirty: bool = False) -> PublishReport:
    """Build the site; with `strict`, any warning (broken link, missing anchor...) fails it.

    `dirty` rebuilds only notes changed since the last build (faster, but other pages' navigation
    and backlinks may be stale). A full build is written beside the site and swapped in when it is
    complete, so readers (and a publish killed halfway) never see half a site.
    """
    site_config = load_site_config(config, strict=strict)
    site_dir = Path(site_config.site_dir)
    if not dirty:
        site_config = load_site_config(config, strict=strict, site_dir=str(_staging(site_dir)))
    collector = _WarningCollector()
    mkdocs_logger = logging.getLogger("mkdocs")
    build_logger = logging.getLogger("mkdocs.commands.build")
    mkdocs_logger.addHandler(collector)
    if dirty:
        build_logger.addFilter(_drop_dirty_notice)
    started = time.perf_counter()
    try:
        if site_dir.exists() and not site_dir.is_dir():   # never move a file of the user's aside
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(site_dir))
        mkdocs_build.build(site_config, dirty=dirty)
        if not dirty:
            _swap_in(Path(site_config.site_dir), site_dir)
    except (mkdocs_exceptions.MkDocsException, OSError) as error:
        raise PublishError(_failure_message(error, collector.messages)) from error
    finally:
        mkdocs_logger.removeHandler(collector)
        build_logger.removeFilter(_drop_dirty_notice)
        shutil.rmtree(_staging(site_dir), ignore_errors=True)
    seconds = time.perf_counter() - started
    kbgen_plugin = site_config.plugins.get("kbgen")
    pages = kbgen_plugin.pages_rendered if kbgen_plugin is not None else 0
    return PublishReport(pages, seconds, site_dir, collector.messages)


def _staging(site_dir: Path) -> Path:
    return site_dir.with_name(f".{site_dir.name}.kbgen-new")


def _swap_in(built: Path, site_dir: Path) -> None:
    """Replace `site_dir` by the finished `built` folder with two renames; the old site is removed
    after. (A kill between the renames leaves no site, and no record of a publish: the next run
    publishes again.)"""
    retired = site_dir.with_name(f".{site_dir.name}.kbgen-old")
    shutil.rmtree(retired, ignore_errors=True)
    if site_dir.exists():
        site_dir.rename(retired)
    built.rename(site_dir)
    shutil.rmtree(retired, ignore_errors=True)


def _failure_message(error: Exception, warnings: list[str]) -> str:
    """Only warnings name notes to fix; a failure with none (a theme, a plugin, the disk) is
    reported as what it is instead of as a problem in the vault."""
    if isinstance(error, OSError):
        return f"publishing the site failed: {error}; check that the site folder can be written and the disk has space"
    lines = [f"publishing the site failed: {error}"]
    if warnings:
        lines.append(f"{len(warnings)} problem(s) to fix:")
        lines += [f"  - {message}" for message in warnings]
    return "\n".join(lines)


def serve(config: Config, port: int = 8000, open_in_browser: bool = False) -> None:
    """Live preview on 127.0.0.1:`port`: the site is rebuilt whenever a note changes (Ctrl+C stops).

    Rebuilds are dirty: only the notes changed since the last build are rendered again, which keeps
    an edit to one note at about a second on a vault of hundreds; the kbgen plugin still reads every
    note, so navigation, tags, feeds and backlinks *to* the edited note stay complete (pages that
    the edited note newly links to get their "Linked from" on the next full build).
    """
    check_site_setup(config)
    overrides = site_overrides(config, strict=False)
    try:
        mkdocs_serve.serve(
            build_type="dirty", dev_addr=f"127.0.0.1:{port}", open_in_browser=open_in_browser, **overrides
        )
    except mkdocs_exceptions.ConfigurationError as error:
        raise PublishError(f"{config.mkdocs_config}: {error}") from error
    except mkdocs_exceptions.MkDocsException as error:
        raise PublishError(f"serving the site failed: {error}") from error
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise PublishError(_failure_message(error, [])) from error
        raise PublishError(f"cannot serve on 127.0.0.1:{port}: {error.strerror}; "
                           "stop what uses it or choose another port with --port") from error
