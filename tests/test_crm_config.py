"""Salesforce Ids and connection settings: forms, sources, secrets kept out."""

import pytest

from entatio.crm.config import (
    ConfigurationError,
    config_from_mapping,
    salesforce_config,
)
from entatio.crm.ids import InvalidSalesforceId, is_salesforce_id, salesforce_id_18
from entatio.people.models import Organization
from tests.personas import *  # noqa: F403


def test_a_15_character_id_gets_the_suffix_salesforce_gives_it():
    # Both forms as Salesforce's own export has them (Account.csv).
    assert salesforce_id_18("001Ec00000FzlUd") == "001Ec00000FzlUdIAJ"
    assert salesforce_id_18("001Ec00000FzlUdiaj") == "001Ec00000FzlUdIAJ"
    assert is_salesforce_id("001Ec00000GGw3hIAD")
    assert not is_salesforce_id("email:ada@globex.test")
    with pytest.raises(InvalidSalesforceId, match="do not match the first fifteen"):
        salesforce_id_18("001Ec00000FzlUdAAA")


def test_settings_name_each_organization_connection(org, settings):
    settings.ENTATIO_SALESFORCE = {
        "acme": {
            "login_url": "https://acme.example.test",
            "client_id": "id",
            "client_secret": "s3cret-value",
        }
    }
    other = Organization.objects.create(name="Other", slug="other")

    config = salesforce_config(org)

    assert (config.login_url, config.flow, config.bulk_threshold) == (
        "https://acme.example.test",
        "client-credentials",
        300,
    )
    assert "s3cret-value" not in repr(config)
    assert salesforce_config(other) is None


def test_the_environment_configures_the_first_organization(org, settings, monkeypatch):
    settings.ENTATIO_SALESFORCE = {}
    monkeypatch.setenv("ENTATIO_SALESFORCE_LOGIN_URL", "https://login.example.test")
    monkeypatch.setenv("ENTATIO_SALESFORCE_CLIENT_ID", "consumer")
    monkeypatch.setenv("ENTATIO_SALESFORCE_USERNAME", "integration@acme.test")
    monkeypatch.setenv("ENTATIO_SALESFORCE_PRIVATE_KEY_FILE", "/keys/salesforce.pem")
    later = Organization.objects.create(name="Later", slug="later")

    config = salesforce_config(org)

    assert (config.flow, config.username, config.private_key_file) == (
        "jwt-bearer",
        "integration@acme.test",
        "/keys/salesforce.pem",
    )
    assert salesforce_config(later) is None
    monkeypatch.setenv("ENTATIO_SALESFORCE_ORGANIZATION", "later")
    assert salesforce_config(org) is None
    assert salesforce_config(later).client_id == "consumer"


def test_a_connection_without_a_way_to_sign_in_is_refused():
    with pytest.raises(ConfigurationError, match="needs client_secret"):
        config_from_mapping({"login_url": "https://x.example.test", "client_id": "a"})
    with pytest.raises(ConfigurationError, match="needs login_url and client_id"):
        config_from_mapping({"client_secret": "b"})
