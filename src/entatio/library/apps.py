from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "entatio.library"
    label = "library"
