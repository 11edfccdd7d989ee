"""The one check of every authorisation matrix: an allowed role succeeds; any other is refused
(401 signed out, 403 otherwise) as problem+json and leaves nothing behind."""


def assert_allowed_or_refused(response, *, name, role, allowed, before, after) -> None:
    """`before` is what the test read of the rows the call could touch; `after()` reads it again."""
    if role in allowed:
        assert response.status_code in (200, 201), (name, role, response.content)
        return
    assert response.status_code == (401 if role == "anon" else 403), (name, role, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert after() == before
