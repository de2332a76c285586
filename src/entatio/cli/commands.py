"""Commands of the ``entatio`` program."""


def run(argv: list[str]) -> int:
    print("entatio: no commands yet")
    return 0
