"""Every string marked for translation in the learner and owner pages, the staff area (its
dashboard, lists and forms, the report builder), emails, documents and SPEC §4 errors is
translated in each shipped language, and the compiled catalogs match.

Extraction is pure Python (Django's own template-to-gettext conversion, then Babel's Python
extractor), so the test needs no gettext tools. Left out, as they are for `makemessages` (see
docs/translations.md): the API's own modules (their schema docs stay English) and the
change-history table, which is django-simple-history's.
"""

import gettext
import io
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_python
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2] / "src" / "tuition"
LOCALE = ROOT / "locale"
SHIPPED = [code for code, _ in settings.LANGUAGES if code != "en"]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
}
LEFT_OUT = ("api/",)
LEFT_OUT_PARTS = {"migrations", "static", "simple_history"}


def _in_scope(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    return not relative.as_posix().startswith(LEFT_OUT) and not LEFT_OUT_PARTS & set(
        relative.parts[:-1]
    )


def _python_messages(source: str) -> set[tuple[str | None, str | tuple[str, ...]]]:
    found = set()
    for _, _funcname, message, _comments in extract_python(
        io.BytesIO(source.encode()), KEYWORDS, [], {}
    ):
        context = None
        if isinstance(message, tuple) and len(message) == 2 and _funcname.startswith("pgettext"):
            context, message = message
        if isinstance(message, tuple) and _funcname.startswith("ngettext"):
            message = tuple(message[:2])
        found.add((context, message))
    return found


def source_messages() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """(context, msgid) of every marked string in scope; plurals as (singular, plural)."""
    found: set = set()
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or not _in_scope(path):
            continue
        if path.suffix == ".py":
            found |= _python_messages(path.read_text())
        elif path.suffix in (".html", ".txt") and "templates" in path.parts:
            # templatize gives gettext calls between placeholder words, not valid Python
            # indentation: one call per line, so each line is read on its own.
            code = templatize(path.read_text(), origin=str(path))
            found |= _python_messages("\n".join(line.strip() for line in code.splitlines()))
    return {(c, m) for c, m in found if m}


def catalog(language: str):  # type: ignore[no-untyped-def]
    with open(LOCALE / language / "LC_MESSAGES" / "django.po", "rb") as po:
        return read_po(po, locale=language)


def test_the_extraction_finds_the_strings_of_pages_emails_documents_and_errors():
    messages = {m for _, m in source_messages()}
    # a page, an email, a document, a SPEC §4 error and a plural
    assert "Purchase refill" in messages
    assert 'Your registration for "%(item)s" was cancelled.' in messages
    assert "Amount credited" in messages
    assert "This code has expired." in messages
    assert ("%(seats)s seat left", "%(seats)s seats left") in messages


def test_the_extraction_finds_the_strings_of_the_staff_area_and_report_builder():
    messages = {m for _, m in source_messages()}
    # the dashboard (template and figures), the navigation, a list action, a form help text,
    # a field name, the report builder (template, a column, a filter) and a service message
    assert "How are we doing" in messages
    assert "%(unit)s outstanding" in messages
    assert "Prepaid value with a redemption code: issue, edit, deactivate, delete." in messages
    assert "Deactivate selected credits" in messages
    assert "Leave blank for a credit that never expires." in messages
    assert "external id" in messages
    assert "Columns in the file" in messages
    assert "Redeemable value" in messages
    assert "“%(from)s” must not be after “%(to)s”." in messages
    assert "The coupon leaves %(amount)s to pay by card: enter a card number." in messages


def test_every_field_the_staff_area_shows_has_a_translatable_name():
    from tuition.staff.field_names import FIELD_NAMES, shown_models, unnamed_fields

    # given the product's models in the staff area
    # when their fields without a name of their own are listed
    unnamed = sorted(
        f"{model._meta.label}.{f.name}"
        for model in shown_models()
        for f in unnamed_fields(model)
        if f.name not in FIELD_NAMES
    )

    # then each has a translatable name (add it to staff/field_names.py)
    assert not unnamed, unnamed


@pytest.mark.parametrize("language", SHIPPED)
def test_every_marked_string_has_a_translation(language):
    entries = {(m.context, m.id): m for m in catalog(language) if m.id}
    missing = sorted(str(key) for key in source_messages() if key not in entries)
    assert not missing, f"{language}: not in the catalog (run makemessages): {missing}"
    untranslated = sorted(
        str(key)
        for key, m in entries.items()
        if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
    )
    assert not untranslated, f"{language}: untranslated or fuzzy: {untranslated}"


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalog_matches_the_sources(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for m in catalog(language):
        if not m.id or isinstance(m.id, tuple):
            continue
        key = f"{m.context}\x04{m.id}" if m.context else m.id
        assert compiled._catalog.get(key) == m.string, f"{language}: {m.id!r} is stale in .mo"
