"""The session's models made from public packages (tests/models/zoo.py)."""

from tests.models.zoo import zoo  # noqa: F401 - the fixture
