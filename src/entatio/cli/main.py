"""The ``entatio`` command line: one entry point for every command."""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entatio.settings")
    import django

    django.setup()
    from entatio.cli.commands import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
