from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "entatio.ingest"
    label = "ingest"
