"""Seats: the hosts one candidate gets, as lab hosts (``s01-server``) or mapped onto an
inventory; and the template context a seat gives statements and checks (its addresses)."""

from __future__ import annotations

from typing import Any

from fleetops.exam.definition import Exam


def host_name(seat: str, role: str) -> str:
    return f"{seat}-{role}"


def placeholder_addresses(exam: Exam) -> dict[str, str]:
    """Addresses used by ``validate`` (TEST-NET-1), where no seat exists yet."""
    return {role: f"192.0.2.{index + 10}" for index, role in enumerate(exam.seat.roles)}


def template_context(values: dict[str, Any], addresses: dict[str, str]) -> dict[str, Any]:
    """What statements and rubric templates see: the candidate's values and ``hosts.<role>``."""
    return {**values, "hosts": dict(addresses)}
