"""Bearer tokens: signed JWTs (HS256, PyJWT) carrying user, unit code and role.

A token without every claim, with a bad signature, expired, or using any algorithm but HS256
(`alg: none` included) is refused with 401. The signing secret comes from `BANGFU_SECRET`, or is
generated once into the data folder for the embedded default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt

from domain.errors import DomainError, InvalidValue
from domain.units import UnitCode
from domain.values import Actor, Role

ALGORITHM = "HS256"
ISSUER = "bangfu"
REQUIRED = ("sub", "unit", "role", "exp", "iat", "iss")
MAX_TTL = timedelta(days=30)


class Unauthorized(DomainError):
    code = "unauthorized"


@dataclass(frozen=True)
class Tokens:
    secret: str
    # Verified tokens (token → actor, expiry), so a client's repeated token costs a dictionary
    # look-up instead of an HMAC and a JSON parse on every request; expiry is checked every time.
    _verified: dict[str, tuple[Actor, float]] = field(default_factory=dict, repr=False)
    cache_size: int = 10_000

    def mint(
        self, *, user: str, unit: str, role: Role, ttl: timedelta, now: datetime | None = None
    ) -> str:
        UnitCode(unit)
        if not isinstance(role, Role):
            raise InvalidValue("role", f"one of {[r.value for r in Role]}", zh="角色无效")
        if not user or len(user) > 64:
            raise InvalidValue("user", "a user name of 1 to 64 characters", zh="用户名无效")
        if not timedelta(0) < ttl <= MAX_TTL:
            raise InvalidValue("ttl", "a lifetime up to 30 days", zh="有效期最长30天")
        issued = now or datetime.now(UTC)
        claims = {
            "sub": user,
            "unit": unit,
            "role": role.value,
            "iat": issued,
            "exp": issued + ttl,
            "iss": ISSUER,
            "jti": uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Actor:
        known = self._verified.get(token)
        if known is not None:
            if known[1] > time.time():
                return known[0]
            del self._verified[token]
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": list(REQUIRED)},
            )
            actor = Actor(
                str(claims["sub"]), UnitCode(str(claims["unit"])).value, Role(claims["role"])
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", zh="令牌已过期") from None
        except (jwt.InvalidTokenError, ValueError, InvalidValue):
            raise Unauthorized("the token is not valid", zh="令牌无效") from None
        if float(claims["exp"]) - float(claims["iat"]) > MAX_TTL.total_seconds():
            raise Unauthorized("a token may live 30 days at most", zh="令牌有效期超过30天")
        if len(self._verified) >= self.cache_size:
            self._verified.clear()
        self._verified[token] = (actor, float(claims["exp"]))
        return actor
