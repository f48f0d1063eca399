"""require_production_key: the one check that keeps the committed development LMS_SECRET_KEY out
of production (issue 10, defect 9). The processes that call it: tests/e2e/test_production_key.py."""
import pytest

from lms_soap.config import DEV_SECRET_KEY, ConfigError, load_settings, require_production_key


def test_the_development_key_is_refused_naming_the_variables():
    for environ in ({}, {"LMS_SECRET_KEY": DEV_SECRET_KEY}, {"LMS_ALLOW_DEV_KEY": "0"}):
        with pytest.raises(ConfigError) as refused:
            require_production_key(load_settings(environ), "lms-soap serve")
        assert "lms-soap serve" in str(refused.value)
        assert "LMS_SECRET_KEY" in str(refused.value) and "LMS_ALLOW_DEV_KEY=1" in str(refused.value)
        assert DEV_SECRET_KEY not in str(refused.value)


def test_an_own_key_or_the_explicit_opt_in_runs():
    require_production_key(load_settings({"LMS_SECRET_KEY": "a-key-of-our-own"}), "x")
    require_production_key(load_settings({"LMS_ALLOW_DEV_KEY": "1"}), "x")
