"""一户一档 on PostgreSQL: the claims of open and relieved files on the people they hold.

`settle` makes `person_claims` say whom each given file holds now (`domain.onefile.claims`),
inside the caller's transaction — the one that appends the events that changed it. Why a table
written with the events, and not a question to the ledger's people: the ledger is a read model,
filled after the commit by the projection runner, so two clerks opening files for the same person
within its lag would both be answered "nobody has one". Here the primary key decides: of two
transactions inserting the same person's hash, the second waits for the first and then finds
the row taken (`ON CONFLICT ... DO UPDATE ... WHERE file_id = EXCLUDED.file_id` returns nothing
for it), so exactly one of them commits, whatever the timing.

A file the caller is not free to refuse — a pulled file, stored as its own node wrote it, or a
later file of a person found when the claims are first filled from the log — is recorded in
`person_claim_duplicates` instead (`tolerate`), and takes the claim when its holder lets go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from adapters.pg.conn import Conn
from domain.onefile import AlreadyFiled, Claim, Wanted, already_filed

Hasher = Callable[[str], bytes]


# One round trip for both tables: a data-modifying CTE runs whether or not it is read.
_RELEASE = """
WITH wanted AS (
    SELECT * FROM unnest($2::bytea[], $3::uuid[]) AS w(h, f)
), duplicates AS (
    DELETE FROM person_claim_duplicates d
    WHERE d.file_id = ANY($1::uuid[])
      AND NOT EXISTS (SELECT FROM wanted WHERE h = d.person_hash AND f = d.file_id)
)
DELETE FROM person_claims c
WHERE c.file_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT FROM wanted WHERE h = c.person_hash AND f = c.file_id)
RETURNING c.person_hash
"""

_TAKE = """
INSERT INTO person_claims (person_hash, file_id, role)
SELECT * FROM unnest($1::bytea[], $2::uuid[], $3::text[])
ON CONFLICT (person_hash) DO UPDATE SET role = EXCLUDED.role
    WHERE person_claims.file_id = EXCLUDED.file_id
RETURNING person_hash
"""

_HOLDERS = """
SELECT c.person_hash, c.file_id,
       (SELECT e.unit FROM events e WHERE e.stream_id = c.file_id
        ORDER BY e.version DESC LIMIT 1) AS unit
FROM person_claims c WHERE c.person_hash = ANY($1::bytea[])
"""

_RECORD = """
INSERT INTO person_claim_duplicates (person_hash, file_id, role)
SELECT * FROM unnest($1::bytea[], $2::uuid[], $3::text[])
ON CONFLICT (person_hash, file_id) DO UPDATE SET role = EXCLUDED.role
"""

# A released person passes to the first file recorded as a duplicate on them, if any.
_PROMOTE = """
INSERT INTO person_claims (person_hash, file_id, role)
SELECT DISTINCT ON (d.person_hash) d.person_hash, d.file_id, d.role
FROM person_claim_duplicates d WHERE d.person_hash = ANY($1::bytea[])
ORDER BY d.person_hash, d.found_at, d.file_id
ON CONFLICT (person_hash) DO NOTHING
RETURNING person_hash, file_id
"""


async def held(conn: Conn, hashes: Sequence[bytes]) -> list[bytes]:
    """Which of these keyed hashes a file holds."""
    rows = await conn.fetch(
        "SELECT person_hash FROM person_claims WHERE person_hash = ANY($1::bytea[])", hashes
    )
    return [r["person_hash"] for r in rows]


async def settle(
    conn: Conn, hasher: Hasher, files: Sequence[Wanted], *, tolerate: bool = False
) -> list[AlreadyFiled]:
    """Make the claims of `files` what they want now, in `conn`'s transaction: release the
    people they no longer hold (passing each to a recorded duplicate, if any) and take the
    new ones. Returns the refusals — a person another file holds, or an earlier file of the
    same batch — worded for each file's actor; the caller raises one, rolling back. With
    `tolerate`, those are recorded as duplicates instead and nothing is refused."""
    if not files:
        return []
    hashes: list[bytes] = []
    owners: list[UUID] = []
    roles: list[str] = []
    refused: list[AlreadyFiled] = []
    taken: dict[bytes, Wanted] = {}
    wanted: dict[bytes, tuple[Wanted, Claim]] = {}
    later: list[tuple[bytes, UUID, str]] = []  # a person an earlier file of the batch holds
    for f in files:
        for claim in f.claims:
            person = hasher(claim.id_number)
            first = taken.get(person)
            if first is not None and first.file_id != f.file_id:
                refused.append(_refusal(f, claim, first.file_id, first.unit))
                later.append((person, f.file_id, claim.role))
                continue
            taken[person] = f
            wanted[person] = (f, claim)
            hashes.append(person)
            owners.append(f.file_id)
            roles.append(claim.role)
    # a new file holds nobody yet: nothing to release (saves a round trip on every opening)
    stored = [f.file_id for f in files if not f.new]
    released = (
        {r[0] for r in await conn.fetch(_RELEASE, stored, hashes, owners)} if stored else set()
    )
    order = sorted(range(len(hashes)), key=hashes.__getitem__)  # one lock order for all writers
    got = {
        r[0]
        for r in await conn.fetch(
            _TAKE, [hashes[i] for i in order], [owners[i] for i in order], [roles[i] for i in order]
        )
    }
    missing = [h for h in hashes if h not in got]
    if missing:
        for person, holder, unit in await conn.fetch(_HOLDERS, missing):
            f, claim = wanted[person]
            refused.append(_refusal(f, claim, holder, unit or ""))
    if tolerate and (missing or later):
        later += [(h, wanted[h][0].file_id, wanted[h][1].role) for h in missing]
        await conn.execute(
            _RECORD, [d[0] for d in later], [d[1] for d in later], [d[2] for d in later]
        )
    free = sorted(released - got)
    if free:
        await conn.fetch(_PROMOTE, free)
        await conn.execute(
            "DELETE FROM person_claim_duplicates d USING person_claims c"
            " WHERE d.person_hash = ANY($1::bytea[])"
            " AND c.person_hash = d.person_hash AND c.file_id = d.file_id",
            free,
        )
    return [] if tolerate else refused


def _refusal(f: Wanted, claim: Claim, holder: UUID, unit: str) -> AlreadyFiled:
    return already_filed(
        actor=f.actor, claim=claim, file_id=f.file_id, holder=holder, holder_unit=unit
    )
