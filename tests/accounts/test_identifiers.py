"""Identifiers in their real formats: strict parsing, one canonical form, errors that name the field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from vpnregistry.accounts.models import Organisation
from vpnregistry.errors import InvalidInput
from vpnregistry.identifiers import (
    IdentifierError,
    clean_identifiers,
    mask,
    normalise_cnic,
    normalise_ntn,
    normalise_reference,
)


@pytest.mark.parametrize(
    "raw", ["35202-1234567-1", "3520212345671", " 35202-1234567-1 ", "35202 1234567 1", "352021234567-1"]
)
def test_cnic_is_normalised_to_the_dashed_form(raw):
    assert normalise_cnic(raw) == "35202-1234567-1"


@pytest.mark.parametrize(
    "raw",
    [
        "352021234567",
        "35202123456712",
        "35202-123456-71",
        "3520-21234567-1",
        "35202_1234567_1",
        "ABCDE-1234567-1",
        "35202--1234567-1",
        "٣٥٢٠٢١٢٣٤٥٦٧١",
    ],
)
def test_cnic_refuses_other_shapes_naming_the_field_not_the_value(raw):
    with pytest.raises(IdentifierError) as caught:
        normalise_cnic(raw)
    assert caught.value.field == "cnic"
    assert "13 digits" in caught.value.message
    assert raw.strip() not in caught.value.message


@pytest.mark.parametrize("raw", ["1234567-8", "12345678", " 1234567 - 8 "])
def test_ntn_is_normalised_to_seven_digits_dash_check_digit(raw):
    assert normalise_ntn(raw) == "1234567-8"


@pytest.mark.parametrize("raw", ["1234567", "123456-78", "123456789", "1234567-", "1234567-X", "12345-678"])
def test_ntn_refuses_other_shapes(raw):
    with pytest.raises(IdentifierError) as caught:
        normalise_ntn(raw)
    assert caught.value.field == "ntn" and "7 digits and a check digit" in caught.value.message


def test_published_ntns_are_accepted():
    # NTNs as printed in public lists; the check digit's rule is not published, so none is refused
    # for its last digit (see identifiers.py).
    for published in ["4174941-3", "3804142-1", "0822910-4"]:
        assert normalise_ntn(published) == published


def test_secp_and_pseb_numbers_are_upper_cased_and_kept_to_a_safe_alphabet():
    assert normalise_reference(" z-10-12345/26 ", field="pseb_number") == "Z-10-12345/26"
    for bad in ["<script>", "A" * 31, "-A", "A B"]:
        with pytest.raises(IdentifierError):
            normalise_reference(bad, field="secp_number")


def test_blank_stays_blank():
    assert clean_identifiers({"cnic": "", "ntn": None, "secp_number": "  "}) == {
        "cnic": "",
        "ntn": "",
        "secp_number": "",
    }


def test_clean_identifiers_names_every_bad_field_at_once():
    with pytest.raises(InvalidInput) as caught:
        clean_identifiers({"cnic": "123", "ntn": "1234567-8", "pseb_number": "no spaces"})
    assert set(caught.value.errors) == {"cnic", "pseb_number"}


@given(st.from_regex(r"\A[0-9]{5}-?[0-9]{7}-?[0-9]\Z"))
def test_any_cnic_shape_round_trips(raw):
    once = normalise_cnic(raw)
    assert normalise_cnic(once) == once and once.replace("-", "") == raw.replace("-", "")


@given(st.text(max_size=20))
def test_the_parsers_either_answer_canonically_or_refuse(raw):
    for parse, pattern in ((normalise_cnic, r"\d{5}-\d{7}-\d"), (normalise_ntn, r"\d{7}-\d")):
        try:
            value = parse(raw)
        except IdentifierError:
            continue
        import re

        assert value == "" or re.fullmatch(pattern, value, flags=re.ASCII)


def test_masking_keeps_the_last_three_and_the_separators():
    assert mask("35202-1234567-1") == "*****-*****67-1"
    assert mask("1234567-8") == "*****67-8"
    assert mask("Z-10-12345/26") == "*-**-****5/26"
    assert mask("") == ""
    assert mask("12") == "**"


def test_saving_an_organisation_normalises_and_refuses(world):
    org = world.org
    org.cnic, org.ntn = "3520212345671", "12345678"
    org.save()
    org.refresh_from_db()
    assert (org.cnic, org.ntn) == ("35202-1234567-1", "1234567-8")
    org.cnic = "12-34"
    with pytest.raises(InvalidInput) as caught:
        org.save()
    assert list(caught.value.errors) == ["cnic"]


def test_model_validators_report_the_format(world):
    org = Organisation(name="X", category=world.company, cnic="1234", ntn="1")
    with pytest.raises(ValidationError) as caught:
        org.full_clean()
    assert set(caught.value.message_dict) == {"cnic", "ntn"}
