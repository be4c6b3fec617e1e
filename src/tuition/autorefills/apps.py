from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutorefillsConfig(AppConfig):
    name = "tuition.autorefills"
    verbose_name = _("Automatic refills")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tuition.notifications import listeners

        from .tasks import VALUE_LEFT_KINDS, after_fan_out

        listeners.listen(VALUE_LEFT_KINDS, after_fan_out)
