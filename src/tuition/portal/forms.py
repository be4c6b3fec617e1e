"""Forms of the learner and owner pages: input shape only; rules live in the services."""

from django import forms

from tuition.core.features import pay_by_tokens

PAYMENT_METHODS = [
    ("card", "Card"),
    ("training_credit", "Training credit"),
    ("tokens", "Training tokens"),
]


class CheckoutForm(forms.Form):
    method = forms.ChoiceField(
        choices=PAYMENT_METHODS, initial="card", widget=forms.RadioSelect, label="Payment method"
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not pay_by_tokens():  # the provider has not switched Pay by tokens on (rule 29)
            self.fields["method"].choices = [c for c in PAYMENT_METHODS if c[0] != "tokens"]

    session = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(
        required=False,
        max_length=64,
        label="Code",
        help_text="A training credit or token code, or a coupon for card payments.",
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label="Card number",
        help_text="Sandbox: 4242 4242 4242 4242 is accepted.",
    )

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip()


class RefillForm(forms.Form):
    unit = forms.ChoiceField(label="Buy")
    amount = forms.CharField(
        max_length=24, label="Amount", help_text="How many credits or tokens to add."
    )
    payment = forms.ChoiceField(
        choices=[("sandbox", "Card"), ("invoice", "Invoice (pay later)")],
        initial="sandbox",
        widget=forms.RadioSelect,
        label="Pay by",
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label="Card number",
        help_text="Sandbox: 4242 4242 4242 4242 is accepted.",
    )

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    can_view_balance = forms.BooleanField(required=False, label="May see the balance")


class MemberCodeForm(forms.Form):
    member = forms.ChoiceField(label="Member")
    unit = forms.ChoiceField(label="Pays in")
    cap = forms.CharField(
        required=False, max_length=24, label="Spending cap", help_text="Leave empty for no cap."
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
    unit = forms.ChoiceField(label="Pays in")
    label = forms.CharField(required=False, max_length=200, label="Label")

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units


class TeamBookingForm(forms.Form):
    activity = forms.ChoiceField(label="Activity")
    session = forms.IntegerField(required=False, label="Session")
    unit = forms.ChoiceField(label="Pay from")
    members = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Members")

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
