"""What the forms' own fields (issue 14) cost a print: each household form of a file with every
field recorded, beside the same history with only the lifecycle's fields (docs/benchmarks.md,
"Forms' own fields").

    python bench/form_fields.py            # 5 rounds of 7 renders per form and file
    python bench/form_fields.py --quick    # 3 rounds of 3

In memory (no database: the layout and the PDF only, as `bench/forms.py`), each form's two files
rendered alternately in every round; medians of the rounds' medians. The font is prepared first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

# the repository first, and not this folder: its http.py would shadow the standard library's
sys.path[0] = str(Path(__file__).resolve().parents[1])

from adapters.forms import fonts
from adapters.forms import household as household_forms
from adapters.forms.pdf import Stamp, render
from domain.household import Head, HouseholdFile, Member
from domain.printing import HouseholdForm
from domain.values import WorkerKind
from tests.builders import APPRAISAL, APPROVAL, PARAMETERS, TODAY, application, verification
from tests.integration.test_printed_form_fields import (
    APPROVER,
    CHILD,
    CLERK,
    HEAD,
    SPOUSE,
    full_file,
)

STAMP = Stamp("x" * 240, "K7PD-3QX9-M2AB")
FORMS = (
    HouseholdForm.APPLICATION,
    HouseholdForm.FILE,
    HouseholdForm.PLAN,
    HouseholdForm.NEEDS,
    HouseholdForm.VISITS,
    HouseholdForm.CARD,
)


def bare_file() -> HouseholdFile:
    """The same household and history with none of the forms' own fields recorded."""
    head = Head(
        HEAD.name,
        HEAD.id_number,
        HEAD.phone,
        employer=HEAD.employer,
        address=HEAD.address,
        labour_relation_since=HEAD.labour_relation_since,
    )
    members = tuple(
        Member(m.name, m.relation, m.id_number, m.status, m.annual_income) for m in (SPOUSE, CHILD)
    )
    household = HouseholdFile.receive_application(
        actor=CLERK, today=TODAY, **application(worker_kind=WorkerKind.MIGRANT, head=head)
    )
    household.verify(actor=CLERK, today=TODAY, **verification(members=members))
    household.appraise(actor=CLERK, today=TODAY, **APPRAISAL)
    household.approve(actor=APPROVER, today=TODAY, **APPROVAL)
    household.agree_plan(
        actor=CLERK,
        agreed_on=date(2026, 4, 2),
        helper="孙志刚",
        measures=("申请金秋助学金",),
        goals="两年内实现稳定就业",
        deadline=date(2027, 12, 31),
        signed_by_worker=True,
        today=TODAY,
    )
    household.visit(
        actor=CLERK,
        visited_on=date(2026, 7, 1),
        cadre="孙志刚",
        content="季度走访了解家庭收支",
        quarter_income=Decimal("5600"),
        quarter_costs=Decimal("4270"),
        parameters=PARAMETERS,
        today=TODAY,
    )
    return household


def household(file: HouseholdFile) -> household_forms.Household:
    return household_forms.Household(file, tuple(file.collect_events()), "抚宁区建筑公司工会")


def median_ms(h: household_forms.Household, form: HouseholdForm, times: int) -> float:
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        render([household_forms.section(form, h, STAMP)], household_forms.paper(form))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, times = (3, 3) if args.quick else (5, 7)
    fonts.master()  # the font parsed once per process, before anything is timed
    full, bare = household(full_file()), household(bare_file())
    print(f"{'form':<12}{'bare (ms)':>12}{'full (ms)':>12}{'ratio':>8}")
    for form in FORMS:
        median_ms(full, form, 1), median_ms(bare, form, 1)  # warm
        got: dict[str, list[float]] = {"bare": [], "full": []}
        for _ in range(rounds):
            got["bare"].append(median_ms(bare, form, times))
            got["full"].append(median_ms(full, form, times))
        b, f = statistics.median(got["bare"]), statistics.median(got["full"])
        print(f"{form.value:<12}{b:>12.0f}{f:>12.0f}{f / b:>8.2f}")


if __name__ == "__main__":
    main()
