from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "entatio.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from entatio.crm import receivers  # noqa: F401  (connects them)
