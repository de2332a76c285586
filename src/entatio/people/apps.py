from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "entatio.people"
    label = "people"
