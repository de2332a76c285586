"""Settings for the test run: the product's own, with a private home."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("ENTATIO_HOME", tempfile.mkdtemp(prefix="entatio-test-"))

from entatio.settings import *  # noqa: F403
from entatio.settings import DATABASES

TEST_HOME = Path(os.environ["ENTATIO_HOME"])
MEDIA_ROOT = TEST_HOME / "media"
STATIC_ROOT = TEST_HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Tasks run in the test's own thread, right after the commit that queued them.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["NAME"] = TEST_HOME / "entatio.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": TEST_HOME / "test.sqlite3"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
