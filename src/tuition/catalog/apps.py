from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tuition.catalog"
    label = "catalog"
    verbose_name = "Catalog"
