"""Settings for the test run: the product's own, with a private home."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("ENTATIO_HOME", tempfile.mkdtemp(prefix="entatio-test-"))

from entatio.settings import *  # noqa: E402,F403
from entatio.settings import DATABASES  # noqa: E402

TEST_HOME = Path(os.environ["ENTATIO_HOME"])
MEDIA_ROOT = TEST_HOME / "media"

# Tasks run in the test's own thread, right after the commit that queued them.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["NAME"] = TEST_HOME / "entatio.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": TEST_HOME / "test.sqlite3"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
