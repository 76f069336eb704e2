"""Bearer tokens: signed JWTs (HS256, PyJWT) carrying user, unit code and role.

A token without every claim, with a bad signature, expired, or using any algorithm but HS256
(`alg: none` included) is refused with 401. The signing secret comes from `BANGFU_SECRET`, or is
generated once into the data folder for the embedded default.

`Authenticator` is what the API asks: it reads the `Authorization` header and counts failed
authentications per client address, refusing a client that has failed too often with 429 before
even looking at its next token (a brute-force guesser learns nothing more). A token already
verified is not a guess, so it is answered from the cache without consulting the limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt

from adapters.runtime.limits import Limiter
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
        self,
        *,
        user: str,
        unit: str,
        role: Role,
        ttl: timedelta,
        now: datetime | None = None,
        token_id: str | None = None,
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
            "jti": token_id or uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def cached(self, token: str) -> Actor | None:
        """The actor of a token verified before and not expired since; None otherwise."""
        known = self._verified.get(token)
        if known is not None:
            if known[1] > time.time():
                return known[0]
            del self._verified[token]
        return None

    def expires_at(self, token: str) -> float:
        """The expiry (Unix time) of a valid token; `Unauthorized` for any other."""
        self.verify(token)
        known = self._verified.get(token)
        if known is not None:
            return known[1]
        # verified, but the cache was emptied meanwhile (it is cleared when full)
        return float(jwt.decode(token, self.secret, algorithms=[ALGORITHM], issuer=ISSUER)["exp"])

    def verify(self, token: str) -> Actor:
        known = self.cached(token)
        if known is not None:
            return known
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


@dataclass(frozen=True)
class Authenticator:
    """The caller of a request, from its `Authorization: Bearer <token>` header."""

    tokens: Tokens
    failures: Limiter  # failed authentications, by client address

    def actor(self, authorization: str, client: str) -> Actor:
        """The token's actor; 401 for a missing or invalid token, 429 for a client address that
        presented too many invalid tokens lately (counted whatever the token it sends now)."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a bearer token is required", zh="缺少访问令牌")
        known = self.tokens.cached(token)
        if known is not None:
            return known
        self.failures.check_not_exhausted(client)
        try:
            return self.tokens.verify(token)
        except Unauthorized:
            self.failures.take(client)
            raise
