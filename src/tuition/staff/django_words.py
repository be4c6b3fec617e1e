"""Words of Django's own admin that the staff pages show and that Django's catalogs do not
translate yet (new in Django 6). Marked here so Tuition's catalogs carry them; an entry can go
once Django translates it."""

from django.utils.translation import gettext_lazy as _

DJANGO_WORDS = (
    _("Run"),  # the button of the list actions
    _("- Select an option -"),  # the empty choice of a select
)
