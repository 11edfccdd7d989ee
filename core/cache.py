"""Django's Redis cache backend, with one Redis client per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` on every cache call, and each
one rebuilds redis-py's table of response callbacks: with sessions, permissions and rate limits in
the cache, that was a tenth of an API request's CPU. A `redis.Redis` is safe to share between
threads (connections come from its pool), so each pool gets one, made on first use.
"""

from django.core.cache.backends import redis as django_redis


class _SharedClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
