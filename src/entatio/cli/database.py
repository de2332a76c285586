"""Before any command: the home folder exists and the database is current."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor

from entatio.cli.output import CommandError

logger = logging.getLogger(__name__)


def prepare_database() -> None:
    """Make ENTATIO_HOME and apply missing migrations, saying nothing."""
    for folder in (Path(settings.HOME), Path(settings.MEDIA_ROOT)):
        folder.mkdir(parents=True, exist_ok=True)

    connection = connections[DEFAULT_DB_ALIAS]
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


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
