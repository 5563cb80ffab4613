"""Canonical names: what makes two names the same user."""

from __future__ import annotations

from hypothesis import given

from protocol_lib import canonical_name, name_problem
from tests.strategies import names


@given(names)
def test_canonical_form_is_stable(name):
    """Folding twice changes nothing, so a stored key always matches itself."""
    assert canonical_name(canonical_name(name)) == canonical_name(name)


@given(names)
def test_case_never_makes_another_user(name):
    assert canonical_name(name.upper()) == canonical_name(name.lower()) or (
        name_problem(name.upper()) is not None  # upper() can lengthen ("ß" -> "SS")
    )


def test_blanks_inside_a_name_count_once():
    assert canonical_name("ana  maria") == canonical_name("Ana\u00a0Maria") == "ana maria"


def test_different_names_stay_different():
    assert len({canonical_name(n) for n in ["bob", "rob", "bobby", "b0b", "Bo", "bo b"]}) == 6
