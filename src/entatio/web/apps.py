from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "entatio.web"
    label = "web"
