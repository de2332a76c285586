from tests.personas import *  # noqa: F403
