from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "entatio.live"
    label = "live"
    verbose_name = "Live sessions"
