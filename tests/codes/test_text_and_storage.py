import re

import pytest

from tests.factories import AccountFactory, make_credit
from tuition.codes import crypto, text
from tuition.codes.models import RedemptionCode
from tuition.codes.selectors import find_code, reveal_code
from tuition.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_generated_codes_are_16_crockford_symbols_in_groups_of_four():
    codes = {text.generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh-jkmn-pq00", " ABCD EFGH JKMN PQOO ", "abcdefghjkmnpqoo", "ABCD--EFGH-JKMN-PQ0o"],
)
def test_normalization_ignores_case_spaces_hyphens_and_maps_o_to_zero(typed):
    assert text.normalize_code(typed) == "ABCDEFGHJKMNPQ00"


def test_normalization_maps_i_and_l_to_one():
    assert text.normalize_code("il1I-L") == "11111"


@pytest.mark.parametrize(
    "bad",
    [
        "\u0410BCD-EFGH",
        "\uff21\uff22\uff23\uff241234",
        "ABCD\x00EFGH",
        "ABCD\tEF",
        "A" * 65,
        "",
        "   ",
        "ABC_DEF",
        "ABC!DEF",
        1234,
        None,
    ],
)
def test_normalization_refuses_lookalikes_control_chars_and_overlong_input(bad):
    with pytest.raises(ValidationError) as exc:
        text.normalize_code(bad)
    assert exc.value.code == "validation_error"


def test_a_code_is_stored_as_digest_and_sealed_copy_never_in_the_clear():
    # given
    account = AccountFactory()
    issued = make_credit(account, 10000)
    # when
    row = RedemptionCode.objects.get(pk=issued.code.pk)
    # then: nothing in the row is the code itself
    plain = text.normalize_code(issued.code_text)
    assert plain not in row.digest and plain not in row.sealed
    assert issued.code_text not in row.sealed
    assert row.digest == crypto.digest(plain) and row.hint == plain[-4:]
    assert reveal_code(row) == issued.code_text
    assert find_code(issued.code_text.lower().replace("-", " ")).pk == row.pk


def test_a_tampered_sealed_copy_does_not_open():
    sealed = crypto.seal("ABCD-EFGH")
    middle = len(sealed) // 2  # a whole symbol inside the token, not a padding bit
    broken = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    assert crypto.unseal(sealed) == "ABCD-EFGH"
    assert crypto.unseal(broken) is None


def test_a_sealed_copy_made_under_another_secret_key_does_not_open(settings):
    sealed = crypto.seal("ABCD-EFGH")
    settings.SECRET_KEY = "another-installation"
    assert crypto.unseal(sealed) is None
    assert "ABCD" not in sealed
