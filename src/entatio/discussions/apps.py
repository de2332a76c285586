from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "entatio.discussions"
    label = "discussions"
    verbose_name = "Discussions"

    def ready(self) -> None:
        from entatio.discussions import receivers  # noqa: F401  (connects them)
