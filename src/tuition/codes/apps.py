from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "tuition.codes"
    label = "codes"
    verbose_name = "Codes and coupons"
