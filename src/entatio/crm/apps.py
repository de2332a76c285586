from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "entatio.crm"
    label = "crm"
    verbose_name = "CRM"
