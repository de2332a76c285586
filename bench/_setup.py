"""Start Django on a private home for a benchmark run, SQLite or PostgreSQL."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

# A name of this run's own, so that benchmarks run at the same time on one
# machine never drop each other's database.
BENCH_DATABASE = f"entatio_perf_{os.getpid()}"
POSTGRES_URL = os.environ.get(
    "ENTATIO_BENCH_POSTGRES", f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
)


def start(database: str) -> None:
    """Point settings at a fresh database of that kind and migrate it."""
    home = tempfile.mkdtemp(prefix="entatio-bench-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["ENTATIO_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "entatio.settings"
    # As in production: with DEBUG on, Django keeps every query it runs.
    os.environ["ENTATIO_DEBUG"] = "0"
    os.environ["ENTATIO_TASK_BACKEND"] = (
        "django_tasks.backends.immediate.ImmediateBackend"
    )
    if database == "postgresql":
        _recreate_postgres()
        os.environ["ENTATIO_DATABASE_URL"] = POSTGRES_URL
    else:
        os.environ.pop("ENTATIO_DATABASE_URL", None)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if database == "postgresql":
        atexit.register(_drop_postgres)


def _drop_postgres() -> None:
    from django.db import connections

    connections.close_all()
    _psql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")


def _recreate_postgres() -> None:
    _psql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
    _psql(f"CREATE DATABASE {BENCH_DATABASE}")


def _psql(statement: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement],
        check=True,
        capture_output=True,
    )


def postgres_reachable() -> bool:
    probe = subprocess.run(
        ["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True
    )
    return probe.returncode == 0


def run_per_database(script: str, args: list[str]) -> int:
    """Run the script once per database kind, each in a process of its own."""
    kinds = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
    if "postgresql" not in kinds:
        print("PostgreSQL is not reachable at 127.0.0.1:5432; SQLite only.")
    status = 0
    for kind in kinds:
        done = subprocess.run([sys.executable, script, "--database", kind, *args])
        status = status or done.returncode
    return status
