import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_credit
from tuition.codes.selectors import find_code
from tuition.ledger.models import Lot

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:ledger_lot_import")
PROCESS = reverse("admin:ledger_lot_process_import")
EXPORT = reverse("admin:ledger_lot_export")

CSV = (
    "account,owner_email,unit,redeemable_value,purchase_price,external_id,expires_at,status,"
    "notes,scope_kind,scope_items,code\n"
    "crm-42,,USD,100.00,90.00,pi_a,2031-01-01T00:00:00+00:00,active,first,activity,,IMPORT-ONE\n"
    ",pat@solo.test,USD,25.50,,pi_b,,inactive,second,activity,,\n"
)


def _preview(client, content: str):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("credits.csv", content.encode(), content_type="text/csv")
    return client.post(IMPORT, {"import_file": upload, "format": "0", "resource": "0"})


def test_import_shows_a_preview_then_issues_through_the_service(as_manager, account):
    # given
    account.external_id = "crm-42"
    account.save()
    # when
    preview = _preview(as_manager, CSV)
    # then nothing is written by the preview
    assert preview.status_code == 200, preview.content.decode()[:2000]
    body = preview.content.decode()
    assert "confirm" in body.lower() and "pi_a" in body
    assert Lot.objects.count() == 0
    # when confirmed
    form = preview.context["confirm_form"]
    confirm = as_manager.post(PROCESS, {**form.initial})
    # then
    assert confirm.status_code == 302
    lots = {lot.external_id: lot for lot in Lot.objects.all()}
    assert set(lots) == {"pi_a", "pi_b"}
    assert (lots["pi_a"].redeemable_value, lots["pi_a"].purchase_price) == (10000, 9000)
    assert lots["pi_b"].status == "inactive" and lots["pi_b"].account.is_personal
    assert find_code("import one").lot_id == lots["pi_a"].pk
    assert lots["pi_b"].code is not None  # generated


def test_a_bad_row_is_shown_in_the_preview_and_nothing_is_written(as_manager, account):
    account.external_id = "crm-42"
    account.save()
    bad = CSV.replace("100.00", "1.001")
    preview = _preview(as_manager, bad)
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert "more than 2 decimal places" in preview.content.decode()
    assert Lot.objects.count() == 0


def test_export_escapes_formulas_and_masks_codes_for_viewers(client, manager, viewer, account):
    issued = make_credit(account, 1000, notes='=HYPERLINK("http://evil")')
    client.force_login(viewer)
    masked = client.post(
        EXPORT,
        {
            "format": "0",
            "resource": "0",
            **{f"lotresource_{f}": "on" for f in ("id", "code", "notes")},
            "creditresource_id": "on",
            "creditresource_code": "on",
            "creditresource_notes": "on",
        },
    )
    client.force_login(manager)
    clear = client.post(
        EXPORT,
        {
            "format": "0",
            "resource": "0",
            "creditresource_id": "on",
            "creditresource_code": "on",
            "creditresource_notes": "on",
        },
    )
    masked_text, clear_text = masked.content.decode(), clear.content.decode()
    assert masked.status_code == 200 and clear.status_code == 200, masked_text[:1000]
    assert "'=HYPERLINK" in clear_text and not re.search(r"(^|,)=HYPERLINK", clear_text)
    assert issued.code_text in clear_text and issued.code_text not in masked_text


def test_a_viewer_cannot_import(as_viewer, account):
    assert as_viewer.get(IMPORT).status_code == 403
