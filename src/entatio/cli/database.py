"""Before any command: the home folder exists and the database is current."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from entatio.cli.output import CommandError

logger = logging.getLogger(__name__)


def prepare_database() -> None:
    """Make ENTATIO_HOME and apply missing migrations, saying nothing."""
    for folder in (Path(settings.HOME), Path(settings.MEDIA_ROOT)):
        # Uploads, slides and the embedded database are private to the
        # installation's user; a folder that already exists keeps its mode.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    connection = connections[DEFAULT_DB_ALIAS]
    new_database_file = _new_sqlite_file(connection)
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as error:
        raise CommandError(
            f"Cannot open the database ({first_line(error)}); check "
            "ENTATIO_DATABASE_URL, or unset it to use the embedded one."
        ) from error

    if plan:
        logger.debug("Applying %d migrations", len(plan))
        call_command("migrate", interactive=False, verbosity=0)
    if new_database_file is not None and new_database_file.exists():
        new_database_file.chmod(0o600)


def _new_sqlite_file(connection: BaseDatabaseWrapper) -> Path | None:
    """The embedded database's file when this command is about to make it."""
    if connection.vendor != "sqlite":
        return None
    path = Path(str(connection.settings_dict["NAME"]))
    return None if path.exists() else path


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
