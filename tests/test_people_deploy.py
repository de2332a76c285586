"""Production settings from the environment: security, mail and the cache.

Each case runs Django in a process of its own, since settings are read once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

PRODUCTION = {
    "ENTATIO_DEBUG": "0",
    "ENTATIO_SECRET_KEY": "k3&v9%q-2bX!z7@Lr0#tYw^e5*Nu8(Hs6)Jd1_Gm4+Fp=Ca" * 2,
    "ENTATIO_ALLOWED_HOSTS": "entatio.example.org",
}
SHOW_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "mail": settings.EMAIL_BACKEND,
    "host": getattr(settings, "EMAIL_HOST", ""),
    "port": settings.EMAIL_PORT,
    "tls": settings.EMAIL_USE_TLS,
    "from": settings.DEFAULT_FROM_EMAIL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_at": settings.CACHES["default"].get("LOCATION", ""),
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""


def run_django(tmp_path: Path, env: dict[str, str], *argv: str):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ENTATIO_", "DJANGO_"))
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "entatio.settings",
        "ENTATIO_HOME": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_the_production_settings(tmp_path):
    done = run_django(
        tmp_path,
        PRODUCTION,
        "-m",
        "django",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_check_deploy_fails_with_the_embedded_defaults(tmp_path):
    done = run_django(
        tmp_path, {}, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"
    )

    assert done.returncode == 1
    # The secret key is made at random per home, and debug is off unless
    # asked for, so neither is a finding; plain HTTP for this machine is.
    assert "security.W009" not in done.stderr
    assert "security.W018" not in done.stderr
    for code in ("security.W012", "security.W008"):
        assert code in done.stderr


def test_production_settings_are_secure_and_name_smtp_and_redis(tmp_path):
    env = {
        **PRODUCTION,
        "ENTATIO_EMAIL_HOST": "smtp.example.org",
        "ENTATIO_EMAIL_PORT": "2525",
        "ENTATIO_EMAIL_FROM": "Entatio <no-reply@example.org>",
        "ENTATIO_REDIS_URL": "redis://127.0.0.1:6379/1",
    }

    done = run_django(tmp_path, env, "-c", SHOW_SETTINGS)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "mail": "django.core.mail.backends.smtp.EmailBackend",
        "host": "smtp.example.org",
        "port": 2525,
        "tls": True,
        "from": "Entatio <no-reply@example.org>",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "cache_at": "redis://127.0.0.1:6379/1",
        "ssl_redirect": True,
        "secure_cookies": [True, True],
    }


def test_the_embedded_default_shows_mail_on_the_console(tmp_path):
    done = run_django(tmp_path, {}, "-c", SHOW_SETTINGS)

    shown = json.loads(done.stdout)
    assert shown["mail"] == "django.core.mail.backends.console.EmailBackend"
    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["secure_cookies"] == [False, False]
