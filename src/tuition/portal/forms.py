"""Forms of the learner and owner pages: input shape only; rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tuition.core.features import pay_by_tokens

PAYMENT_METHODS = [
    ("card", _("Card")),
    ("training_credit", _("Training credit")),
    ("tokens", _("Training tokens")),
]


class CheckoutForm(forms.Form):
    method = forms.ChoiceField(
        choices=PAYMENT_METHODS, initial="card", widget=forms.RadioSelect, label=_("Payment method")
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not pay_by_tokens():  # the provider has not switched Pay by tokens on (rule 29)
            self.fields["method"].choices = [c for c in PAYMENT_METHODS if c[0] != "tokens"]

    session = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(
        required=False,
        max_length=64,
        label=_("Code"),
        help_text=_("A training credit or token code, or a coupon for card payments."),
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label=_("Card number"),
        help_text=_("Sandbox: 4242 4242 4242 4242 is accepted."),
    )

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip()


class RefillForm(forms.Form):
    unit = forms.ChoiceField(label=_("Buy"))
    amount = forms.CharField(
        max_length=24, label=_("Amount"), help_text=_("How many credits or tokens to add.")
    )
    payment = forms.ChoiceField(
        choices=[("sandbox", _("Card")), ("invoice", _("Invoice (pay later)"))],
        initial="sandbox",
        widget=forms.RadioSelect,
        label=_("Pay by"),
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label=_("Card number"),
        help_text=_("Sandbox: 4242 4242 4242 4242 is accepted."),
    )

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    can_view_balance = forms.BooleanField(required=False, label=_("May see the balance"))


class MemberCodeForm(forms.Form):
    member = forms.ChoiceField(label=_("Member"))
    unit = forms.ChoiceField(label=_("Pays in"))
    cap = forms.CharField(
        required=False,
        max_length=24,
        label=_("Spending cap"),
        help_text=_("Leave empty for no cap."),
    )

    def __init__(
        self,
        *args,
        members: list[tuple[str, str]],
        units: list[tuple[str, str]],  # type: ignore[no-untyped-def]
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = members
        self.fields["unit"].choices = units


class PoolCodeForm(forms.Form):
    unit = forms.ChoiceField(label=_("Pays in"))
    label = forms.CharField(required=False, max_length=200, label=_("Label"))

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units


class TeamBookingForm(forms.Form):
    activity = forms.ChoiceField(label=_("Activity"))
    session = forms.IntegerField(required=False, label=_("Session"))
    unit = forms.ChoiceField(label=_("Pay from"))
    members = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label=_("Members"))

    def __init__(
        self,
        *args,
        activities: list[tuple[str, str]],
        units: list[tuple[str, str]],  # type: ignore[no-untyped-def]
        members: list[tuple[str, str]],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = activities
        self.fields["unit"].choices = units
        self.fields["members"].choices = members


def _zone_choices() -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    return [("", _("The provider's time zone"))] + [
        (name, name) for name in sorted(available_timezones()) if "/" in name or name == "UTC"
    ]


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    timezone = forms.ChoiceField(label=_("Time zone for your emails"), required=False)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.fields["language"].choices = [("", _("As my browser")), *settings.LANGUAGES]
        self.fields["timezone"].choices = _zone_choices()


class AutomaticRefillForm(forms.Form):
    unit = forms.ChoiceField(label=_("For"))
    kind = forms.ChoiceField(
        choices=[
            ("threshold", _("When the balance falls below a threshold")),
            ("allowance", _("Every month, on the first")),
        ],
        initial="threshold",
        widget=forms.RadioSelect,
        label=_("Buy"),
    )
    threshold = forms.CharField(
        required=False,
        max_length=24,
        label=_("Threshold"),
        help_text=_("Buy when the available balance falls below this."),
    )
    amount = forms.CharField(
        max_length=24,
        label=_("Amount each time"),
        help_text=_("How many credits or tokens each refill adds."),
    )
    payment = forms.ChoiceField(
        choices=[
            ("sandbox", _("Card")),
            ("invoice", _("Invoice (pay later)")),
        ],
        initial="sandbox",
        widget=forms.RadioSelect,
        label=_("Pay by"),
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label=_("Card number"),
        help_text=_(
            "Stored with the card provider; we keep only the last four digits. Leave empty to "
            "keep the card already saved for this unit. Sandbox: 4242 4242 4242 4242."
        ),
    )

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units  # type: ignore[attr-defined]
