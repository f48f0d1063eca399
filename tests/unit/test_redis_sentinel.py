"""REDIS_SENTINELS / REDIS_SENTINEL_MASTER: the queue follows the primary the Sentinels name.

The failover itself is exercised on real Sentinels by tests/multihost/test_redis_failover.py."""
import pytest
from redis.sentinel import SentinelConnectionPool

from lms_soap.clients.rq_queue import RqJobQueue, build_job_queue, build_redis
from lms_soap.config import ConfigError, load_settings


def test_sentinel_addresses_are_parsed_from_a_comma_separated_list():
    settings = load_settings({"REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380,[::1]:26381"})
    assert settings.sentinel_addresses == [("10.0.0.1", 26379), ("sentinel-b", 26380), ("::1", 26381)]
    assert load_settings({}).sentinel_addresses == []


@pytest.mark.parametrize("value", ["10.0.0.1", "host:port", ":26379"])
def test_a_malformed_sentinel_list_is_refused_at_start_up(value):
    with pytest.raises(ConfigError, match="REDIS_SENTINELS"):
        load_settings({"REDIS_SENTINELS": value})


def test_with_sentinels_the_client_asks_them_for_the_named_primary():
    settings = load_settings({"REDIS_SENTINELS": "127.0.0.1:1,127.0.0.1:2", "REDIS_SENTINEL_MASTER": "lms",
                              "REDIS_URL": "redis://:s3cret@ignored-host:6379/5"})
    client = build_redis(settings)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "lms" and pool.is_master
    assert pool.connection_kwargs["db"] == 5 and pool.connection_kwargs["password"] == "s3cret"
    assert [(c.connection_pool.connection_kwargs["host"], c.connection_pool.connection_kwargs["port"])
            for c in pool.sentinel_manager.sentinels] == [("127.0.0.1", 1), ("127.0.0.1", 2)]


def test_sentinels_alone_are_enough_for_a_queue():
    queue, redis = build_job_queue(load_settings({"REDIS_URL": "", "REDIS_SENTINELS": "127.0.0.1:1"}))
    assert isinstance(queue, RqJobQueue) and redis is not None
