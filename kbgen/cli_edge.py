"""The edge of the `kbgen` command: the one handler that turns every failure into
`kbgen: what went wrong; how to fix it` and its exit code, the state the global options set, and
the logging options every command takes."""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import traceback
from pathlib import Path

import click

from .config import Config, find_config, load_config
from .console import setup_logging, to_log_file
from .errors import EXIT_FAILURE, KbgenError, UsageError, describe_os_error, describe_store_error

log = logging.getLogger("kbgen")


class _Shown(click.ClickException):
    """A failure as the user sees it: `kbgen: <message>` on stderr (and in the --log-file)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"kbgen: {self.format_message()}", err=True)
        to_log_file(f"kbgen: {self.format_message()}", logging.ERROR)


class KbgenGroup(click.Group):
    """The one place where errors become messages and exit codes. Every command also takes the
    logging options, so they work after the command name too (`kbgen update -q` from cron)."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_logging_params())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KbgenError as exc:
            raise _Shown(str(exc), exc.exit_code) from None
        except sqlite3.Error as exc:
            raise _Shown(describe_store_error(exc, _store_path(ctx))) from None
        except OSError as exc:
            raise _Shown(describe_os_error(exc)) from None
        except Exception as exc:  # a bug: say so plainly; the traceback only on request (-v)
            if log.isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            raise _Shown(f"unexpected error ({type(exc).__name__}: {exc}); this is a bug in kbgen: "
                         "run the command again with -v to see where it happened, and report it") from None


def _store_path(ctx: click.Context) -> Path | None:
    state = ctx.find_object(State)
    return state.loaded_config.store_path if state and state.loaded_config else None


class State:
    """What the global options set; the config is loaded once, on first use."""

    def __init__(self, config_path: Path | None, vault: Path | None):
        self.config_path = config_path
        self.vault = vault
        self.loaded_config: Config | None = None
        self.verbose = 0
        self.quiet = False
        self.log_file: Path | None = None

    @property
    def config(self) -> Config:
        if self.loaded_config is None:
            self.loaded_config = _load(self.config_path, self.vault)
        return self.loaded_config


def _load(config_path: Path | None, vault: Path | None) -> Config:
    path = config_path or find_config(Path.cwd())
    if path is None:
        raise UsageError("no kbgen.yml here or in any parent folder; run `kbgen init` or pass --config FILE")
    config = load_config(path)
    if vault is not None:
        paths = config.model.paths.model_copy(update={"vault": str(vault.resolve())})
        config = Config(config.path, config.model.model_copy(update={"paths": paths}), config.securities)
    return config


def _set_log_option(ctx: click.Context, param: click.Parameter, value):
    """-v, -q and --log-file work before and after the command name (`kbgen update -q`)."""
    state = ctx.find_object(State)
    if state is None or value in (None, 0, False):
        return
    setattr(state, param.name, value)
    setup_logging(state.quiet, state.verbose, state.log_file)


def _logging_params() -> list[click.Option]:
    return [
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_set_log_option,
                     help="Show debugging detail (one line per session built)."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_set_log_option,
                     help="No progress lines: only the summary, warnings and errors (for cron)."),
        click.Option(["--log-file"], type=click.Path(dir_okay=False, path_type=Path), expose_value=False,
                     callback=_set_log_option, help="Also append a detailed log here."),
    ]


def parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None
