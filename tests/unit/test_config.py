"""Settings from the environment (lms_soap/config.py): defaults, parsing, and refusals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from lms_soap import config
from lms_soap.config import ConfigError, Settings, load_settings


def test_defaults_without_any_variable():
    s = load_settings({})
    assert (s.database_url, s.redis_url, s.public_url) == (
        "sqlite:///lms.db", "redis://127.0.0.1:6379/0", "http://127.0.0.1:8000")
    assert (s.loan_min_amount, s.loan_max_amount, s.loan_currency) == (
        Decimal("1.00"), Decimal("1000000.00"), "KES")
    assert (s.scoring_max_attempts, s.scoring_max_initiate_attempts, s.scoring_backoff_base,
            s.scoring_backoff_max, s.scoring_backoff_jitter, s.scoring_deadline, s.scoring_min_score) == (
        8, 5, 1.0, 60.0, 0.2, 1800.0, None)
    assert s.cbs_auth_mode == "wsse" and (s.cbs_username, s.cbs_password) == ("admin", "pwd123")
    assert s.cbs_wsdl_dir == ""  # the CBS WSDLs shipped in the package
    assert (s.cbs_call_deadline, s.scoring_call_deadline, s.db_statement_timeout) == (15.0, 15.0, 30000)
    assert s.allow_dev_key is False
    assert s == Settings()


def test_the_transaction_data_url_defaults_to_the_public_url():
    assert load_settings({}).transactions_url == "http://127.0.0.1:8000/api/v1/transactions"
    s = load_settings({"LMS_PUBLIC_URL": "https://lms.bank.example/"})
    assert s.transactions_url == "https://lms.bank.example/api/v1/transactions"
    assert s.soap_url == "https://lms.bank.example/soap"


def test_an_explicit_transaction_data_url_wins():
    s = load_settings({"SCORING_TRANSACTIONS_URL": "https://gw.bank.example/lms/tx"})
    assert s.transactions_url == "https://gw.bank.example/lms/tx"


def test_amounts_are_exact_decimals():
    s = load_settings({"LOAN_MIN_AMOUNT": "0.10", "LOAN_MAX_AMOUNT": "2500.55"})
    assert s.loan_min_amount == Decimal("0.10") and s.loan_max_amount == Decimal("2500.55")
    assert type(s.loan_max_amount) is Decimal and str(s.loan_max_amount) == "2500.55"


def test_numbers_and_text_are_parsed():
    s = load_settings({"DB_POOL_SIZE": "7", "REDIS_TIMEOUT": "0.25", "SCORING_MIN_SCORE": "600",
                       "LOG_LEVEL": "debug", "CBS_AUTH_MODE": " BASIC ", "SCORING_BASE_URL": "http://e:1/"})
    assert (s.db_pool_size, s.redis_timeout, s.scoring_min_score, s.log_level, s.cbs_auth_mode) == (
        7, 0.25, 600, "DEBUG", "basic")
    assert s.scoring_base_url == "http://e:1"


def test_an_empty_variable_means_its_default():
    s = load_settings({"DB_POOL_SIZE": "", "LOAN_MAX_AMOUNT": "", "SCORING_MIN_SCORE": ""})
    # DB_POOL_SIZE's default is one connection per gunicorn thread (LMS_THREADS, 4 by default)
    assert (s.db_pool_size, s.loan_max_amount, s.scoring_min_score) == (4, Decimal("1000000.00"), None)


def test_an_empty_redis_url_means_no_queue_as_documented():
    assert load_settings({"REDIS_URL": ""}).redis_url == ""


@pytest.mark.parametrize("name, raw", [
    ("DB_POOL_SIZE", "two"), ("DB_POOL_SIZE", "2.5"), ("REDIS_TIMEOUT", "fast"),
    ("LOAN_MIN_AMOUNT", "ten"), ("LOAN_MAX_AMOUNT", "1,000"), ("LOAN_MAX_AMOUNT", "NaN"),
    ("LOAN_MIN_AMOUNT", "Infinity"), ("SCORING_MIN_SCORE", "high"), ("CBS_AUTH_MODE", "digest"),
    ("CBS_AUTH_MODE", "none"), ("LMS_SWITCH_INTERVAL", "1"), ("LMS_SWITCH_INTERVAL", "1e-7"),
    ("LMS_SWITCH_INTERVAL", "1e30"), ("LMS_SWITCH_INTERVAL", "0"),
])
def test_unusable_values_are_a_config_error_naming_the_variable(name, raw):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: raw})


def test_bounds_in_the_wrong_order_are_refused():
    with pytest.raises(ConfigError, match="LOAN_MIN_AMOUNT"):
        load_settings({"LOAN_MIN_AMOUNT": "500", "LOAN_MAX_AMOUNT": "499.99"})
    assert load_settings({"LOAN_MIN_AMOUNT": "500", "LOAN_MAX_AMOUNT": "500"}).loan_max_amount == 500


def test_a_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), (" Yes ", True), ("ON", True),
                                        ("0", False), ("false", False), ("no", False), ("Off", False)])
def test_the_boolean_reader_accepts_the_usual_spellings(raw, value):
    read = config._env("LMS_FLAG", None, config._bool).metadata["read"]
    assert read({"LMS_FLAG": raw}) is value


@pytest.mark.parametrize("raw", ["maybe", "2", "y!", "enabled"])
def test_the_boolean_reader_refuses_anything_else(raw):
    read = config._env("LMS_FLAG", None, config._bool).metadata["read"]
    with pytest.raises(ConfigError, match="LMS_FLAG"):
        read({"LMS_FLAG": raw})


def test_without_a_mapping_the_process_environment_is_read(monkeypatch):
    monkeypatch.setenv("LOAN_CURRENCY", "UGX")
    monkeypatch.setenv("SCORING_MAX_ATTEMPTS", "3")
    s = load_settings()
    assert (s.loan_currency, s.scoring_max_attempts) == ("UGX", 3)
    assert load_settings({}).loan_currency == "KES"  # a mapping given: os.environ is not read


def test_every_setting_has_a_documented_variable():
    names = [name for name, _ in config.env_documentation()]
    assert len(names) == len(set(names)) and "REDIS_URL" in names and "LOAN_MAX_AMOUNT" in names


def test_ws_security_windows_and_the_former_name_of_the_max_age():
    s = load_settings({})
    assert (s.wsse_max_age, s.wsse_clock_skew, s.max_drain_bytes) == (300, 60, 2 * 1024 * 1024)
    assert load_settings({"WSSE_TIMESTAMP_MAX_AGE": "120"}).wsse_max_age == 120  # deprecated alias
    assert load_settings({"WSSE_MAX_AGE": "90", "WSSE_TIMESTAMP_MAX_AGE": "120"}).wsse_max_age == 90
    assert load_settings({"WSSE_CLOCK_SKEW": "5"}).wsse_clock_skew == 5
