from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "entatio.discussions"
    label = "discussions"
    verbose_name = "Discussions"
