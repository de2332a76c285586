from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "entatio.engagement"
    label = "engagement"

    def ready(self) -> None:
        from entatio.engagement import signals  # noqa: F401
