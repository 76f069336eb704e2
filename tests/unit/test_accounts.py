"""Who may manage whose account, and how strong a password must be (domain/accounts.py)."""

from __future__ import annotations

import pytest

from domain import accounts
from domain.errors import InvalidValue, NotPermitted
from domain.values import Actor, Role

CITY_ADMIN = Actor("admin-sun", "1303", Role.ADMIN)


class TestManaging:
    @pytest.mark.parametrize("role", [Role.CLERK, Role.APPROVER, Role.INSPECTOR, Role.SYNC])
    def test_is_refused_to_every_role_but_admin(self, role: Role):
        with pytest.raises(NotPermitted) as refused:
            accounts.check_manager(Actor("someone", "1303", role))

        assert refused.value.rule == "role"

    def test_is_allowed_to_an_admin(self):
        accounts.check_manager(CITY_ADMIN)

    @pytest.mark.parametrize(
        ("unit", "reached"),
        [("1303", True), ("130306", True), ("130306001", True), ("1301", False), ("13", False)],
    )
    def test_reaches_only_the_admins_own_subtree(self, unit: str, reached: bool):
        assert accounts.reaches(CITY_ADMIN, unit) is reached

    @pytest.mark.parametrize("role", [Role.CLERK, Role.APPROVER, Role.INSPECTOR, Role.ADMIN])
    def test_grants_a_role_up_to_the_admins_own(self, role: Role):
        accounts.check_role(CITY_ADMIN, role)

    def test_never_grants_a_role_above_the_admins_own(self):
        with pytest.raises(NotPermitted) as refused:
            accounts.check_role(CITY_ADMIN, Role.SYNC)

        assert refused.value.rule == "role_above_own"

    def test_refuses_an_admin_its_own_account(self):
        with pytest.raises(NotPermitted) as refused:
            accounts.check_not_own(CITY_ADMIN, user="admin-sun", unit="1303")

        assert refused.value.rule == "own_account"

    def test_lets_an_admin_manage_a_namesake_of_another_unit(self):
        accounts.check_not_own(CITY_ADMIN, user="admin-sun", unit="130306")


class TestPasswords:
    @pytest.mark.parametrize(
        "password",
        [
            "short1!",  # too short
            "abcdefghijkl",  # letters only
            "1212121212121",  # digits only, few distinct
            "aaaa1111aaaa",  # fewer than 5 distinct characters
            "clerk-li-2026x",  # contains the user name
            "MyPassword99",  # contains a common password
            "x" * 120 + "1234567890",  # too long
        ],
    )
    def test_refuses_a_weak_one(self, password: str):
        with pytest.raises(InvalidValue) as refused:
            accounts.check_password(password, user="clerk-li")

        assert refused.value.field == "password"

    @pytest.mark.parametrize("password", ["晴天-Harbour-47", "rT7#mq2!vZ", "4 lantern 9 river"])
    def test_accepts_a_strong_one(self, password: str):
        accounts.check_password(password, user="clerk-li")


class TestNames:
    @pytest.mark.parametrize("name", ["clerk-li", "approver.wang", "a1", "ZHANG_3"])
    def test_accepts_a_plain_name(self, name: str):
        assert accounts.check_name(name) == name

    @pytest.mark.parametrize("name", ["", "x", "-lead", "张三", "a b", "a" * 65, "x\n"])
    def test_refuses_anything_else(self, name: str):
        with pytest.raises(InvalidValue):
            accounts.check_name(name)
