"""The WS-Security replay cache: each UsernameToken Nonce is accepted once within its window.

The cache lives in Redis, so every LMS process and host shares it: one key per nonce (a SHA-256
of the decoded nonce bytes, so two spellings of the same base64 are one nonce), written with
SET NX and an expiry of the window, which both checks and records in one atomic step. Without
Redis configured (REDIS_URL empty) an in-process cache stands in: protection per process only.

The gateway records a nonce only after the password checked out, so a caller with a wrong
password cannot burn a legitimate client's nonce. While Redis is down a token carrying a Nonce is
refused with Server.ServiceUnavailable (fail closed); Basic and nonce-less tokens are unaffected.
"""
from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Protocol

from lms_soap.lending import errors

KEY_PREFIX = "lms:wsse-nonce:"
#: Nonces the in-process cache holds at most; expired ones are dropped first when it is full.
MEMORY_CACHE_SIZE = 100_000


class ReplayCacheUnavailable(Exception):
    """The cache could not answer (Redis down or slow)."""


class ReplayCache(Protocol):
    def remember(self, key: str, ttl_seconds: int) -> bool:
        """Record `key` for `ttl_seconds`: True when it was new, False when already recorded.

        Raises ReplayCacheUnavailable when the store cannot answer."""


def nonce_key(nonce: bytes) -> str:
    return KEY_PREFIX + hashlib.sha256(nonce).hexdigest()


class RedisReplayCache:
    def __init__(self, redis: Any):
        self.redis = redis

    def remember(self, key: str, ttl_seconds: int) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(self.redis.set(key, b"1", nx=True, ex=max(1, ttl_seconds)))
        except RedisError as exc:
            raise ReplayCacheUnavailable(type(exc).__name__) from None


class MemoryReplayCache:
    """Per-process stand-in when no Redis is configured (thread-safe)."""

    def __init__(self, size: int = MEMORY_CACHE_SIZE, clock=time.monotonic):
        self.size = size
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, ttl_seconds: int) -> bool:
        now = self.clock()
        with self._lock:
            expires = self._expiry.get(key)
            if expires is not None and expires > now:
                return False
            if len(self._expiry) >= self.size:
                self._expiry = {k: t for k, t in self._expiry.items() if t > now}
                if len(self._expiry) >= self.size:
                    # Full of live nonces: refusing every new one would lock callers out, so the
                    # oldest half goes (a replay of those within their window is then possible).
                    keep = sorted(self._expiry.items(), key=lambda item: item[1])[self.size // 2:]
                    self._expiry = dict(keep)
            self._expiry[key] = now + ttl_seconds
            return True


def build_replay_cache(redis: Any | None) -> ReplayCache:
    """The shared Redis cache when a Redis client is configured, else the in-process one."""
    return RedisReplayCache(redis) if redis is not None else MemoryReplayCache()


class ReplayGuard:
    """Admits each nonce once per window (WSSE_MAX_AGE + WSSE_CLOCK_SKEW seconds)."""

    def __init__(self, cache: ReplayCache, window_seconds: int):
        self.cache = cache
        self.window_seconds = window_seconds

    def admit(self, nonce: bytes) -> None:
        try:
            fresh = self.cache.remember(nonce_key(nonce), self.window_seconds)
        except ReplayCacheUnavailable:
            raise errors.ServiceUnavailable(
                "the WS-Security replay cache is unavailable; retry later") from None
        if not fresh:
            raise errors.AuthenticationFailed("the UsernameToken's Nonce was already used")
