"""The registry's public address is one setting, SITE_URL, read from one variable or its old name."""

from __future__ import annotations

from vpnregistry.registrations import certificates
from vpnregistry.siteurl import site_url, site_url_from


def test_the_address_is_read_from_its_variable_and_the_old_name_still_works():
    assert site_url_from({"VPNREGISTRY_SITE_URL": "https://registry.example/"}) == "https://registry.example"
    # The certificates' former name for it, alone, still sets it.
    assert site_url_from({"VPNREGISTRY_PUBLIC_URL": "https://old.example/"}) == "https://old.example"
    # Both given: VPNREGISTRY_SITE_URL wins; an empty one counts as unset.
    both = {
        "VPNREGISTRY_SITE_URL": "https://registry.example",
        "VPNREGISTRY_PUBLIC_URL": "https://old.example",
    }
    assert site_url_from(both) == "https://registry.example"
    assert site_url_from({"VPNREGISTRY_SITE_URL": "", "VPNREGISTRY_PUBLIC_URL": "https://old.example"}) == (
        "https://old.example"
    )
    assert site_url_from({}) == ""


def test_unset_a_certificate_prints_the_requests_address_and_an_email_the_development_servers(settings):
    settings.SITE_URL = ""
    assert certificates.check_url("ABC", base="http://internal:8000/") == "http://internal:8000/verify/ABC/"
    assert site_url() == "http://127.0.0.1:8000"


def test_set_every_use_reads_it(settings):
    settings.SITE_URL = "https://registry.example"
    assert (
        certificates.check_url("ABC", base="http://internal:8000/") == "https://registry.example/verify/ABC/"
    )
    assert site_url() == "https://registry.example"
