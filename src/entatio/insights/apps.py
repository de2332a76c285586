from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "entatio.insights"
    label = "insights"
    verbose_name = "Insights"
