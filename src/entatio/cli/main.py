"""The ``entatio`` command line: one entry point for every command."""

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

from entatio.cli.commands import build_parser, handler_of

# Commands whose own progress is the output; the server keeps its log lines.
QUIET_LOG_LEVEL = logging.WARNING


def main(argv: list[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        # argparse has printed the usage and what is wrong (status 2), or help.
        return exit_.code if isinstance(exit_.code, int) else 2

    try:
        _set_up_django()
    except ImproperlyConfigured as error:
        # A setting from the environment is wrong; say which, not a traceback.
        sys.stderr.write(f"entatio: {error}\n")
        return 2
    from entatio.cli.database import prepare_database
    from entatio.cli.output import CommandError, print_error

    try:
        with _quiet_logs(arguments.command != "serve"):
            prepare_database()
            return handler_of(arguments)(arguments)
    except CommandError as error:
        print_error(str(error))
        return 2
    except KeyboardInterrupt:
        print_error("stopped.")
        return 130
    except BrokenPipeError:
        # The reader (say ``head``) has gone; what is left to print has no one
        # to read it, and Python's own flush at exit must not complain again.
        _silence_stdout()
        return 1


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _set_up_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entatio.settings")
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


@contextmanager
def _quiet_logs(quiet: bool) -> Iterator[None]:
    """Only warnings on stderr, unless ENTATIO_LOG_LEVEL asks for more."""
    logger = logging.getLogger("entatio")
    level = logger.level
    if quiet and not os.environ.get("ENTATIO_LOG_LEVEL"):
        logger.setLevel(QUIET_LOG_LEVEL)
    try:
        yield
    finally:
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
