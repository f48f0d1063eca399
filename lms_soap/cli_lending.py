"""`lms-soap products|arrears|report`: the loan products, the arrears job by hand and the portfolio
report. Registered by lms_soap/cli.py (add_commands); output is JSON, one document per command."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from lms_soap.lending.durations import format_duration, parse_duration
from lms_soap.lending.products import Product


def _container(a):
    from lms_soap.bootstrap import build_container

    return build_container(a.settings)  # loaded once, by lms_soap/cli.py main


def product_json(p: Product) -> dict:
    return {"code": p.code, "name": p.name, "currency": p.currency, "minAmount": str(p.min_amount),
            "maxAmount": str(p.max_amount), "tenor": format_duration(p.tenor), "fee": str(p.fee_percent),
            "latePenalty": str(p.late_penalty_percent), "graceDays": format_duration(p.grace),
            "defaultAfter": format_duration(p.default_after), "writeOffAfter": format_duration(p.write_off_after),
            "approvalValidity": format_duration(p.approval_validity), "autoDisburse": p.auto_disburse}


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _duration(text: str):
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _as_of(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _fail(exc) -> int:
    print(f"error: {getattr(exc, 'faultcode', type(exc).__name__)}: {getattr(exc, 'message', exc)}",
          file=sys.stderr)
    return 1


def cmd_products(a) -> int:
    from lms_soap.lending import errors, lifecycle

    c = _container(a)
    try:
        if a.action == "list":
            print(json.dumps([product_json(p) for p in lifecycle.list_products(c.uow())], indent=2))
            return 0
        if a.action == "show":
            print(json.dumps(product_json(lifecycle.get_product(a.code, c.uow())), indent=2))
            return 0
        try:
            product = Product(code=a.code, name=a.name, currency=a.currency, min_amount=a.min_amount,
                              max_amount=a.max_amount, tenor=a.tenor, fee_percent=a.fee,
                              late_penalty_percent=a.late_penalty, grace=a.grace,
                              default_after=a.default_after, write_off_after=a.write_off_after,
                              approval_validity=a.approval_validity, auto_disburse=a.auto_disburse)
        except ValueError as exc:
            return _fail(exc)
        try:
            lifecycle.add_product(product, c.uow())
        except errors.Conflict:
            print(f"error: product {a.code} exists", file=sys.stderr)
            return 1
        print(json.dumps(product_json(product), indent=2))
        return 0
    except errors.LendingError as exc:
        return _fail(exc)
    finally:
        c.close()


def cmd_arrears(a) -> int:
    from jobs.periodic import arrears_once

    with _container(a) as c:
        report = arrears_once(c)
    print(json.dumps({"changed": report.changed, "skipped": report.skipped}))
    return 0


def report_json(report) -> dict:
    return {"asOf": report.as_of.isoformat(),
            "statuses": [{"status": s.status, "count": s.count, "principalOutstanding": str(s.principal_outstanding),
                          "totalOutstanding": str(s.total_outstanding)} for s in report.statuses],
            "totalOutstanding": str(report.total_outstanding),
            "bookPrincipal": str(report.book_principal),
            "par": [{"days": p.days, "outstanding": str(p.outstanding), "ratio": str(p.ratio)}
                    for p in report.par]}


def cmd_report(a) -> int:
    from lms_soap.lending.lifecycle import portfolio_report

    with _container(a) as c:
        report = portfolio_report(c.uow(), a.as_of or c.clock.now())
    print(json.dumps(report_json(report), indent=2))
    return 0


def add_commands(sub) -> None:
    """The subcommands of this module, on the `lms-soap` parser's subparsers."""
    s = sub.add_parser("products", help="loan products (durations ISO 8601: P30D, PT20S; percentages as decimals)")
    psub = s.add_subparsers(dest="action", required=True)
    psub.add_parser("list")
    show = psub.add_parser("show")
    show.add_argument("code")
    add = psub.add_parser("add", help="store a new product")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--currency", default="KES")
    add.add_argument("--min-amount", type=_decimal, required=True)
    add.add_argument("--max-amount", type=_decimal, required=True)
    add.add_argument("--tenor", type=_duration, required=True, help="e.g. P30D")
    add.add_argument("--fee", type=_decimal, default=Decimal("0"), help="percent of the principal, e.g. 7.5")
    add.add_argument("--late-penalty", type=_decimal, default=Decimal("0"),
                     help="percent of the principal outstanding, charged once at OVERDUE")
    add.add_argument("--grace", type=_duration, required=True, help="after the due date, before OVERDUE")
    add.add_argument("--default-after", type=_duration, required=True, help="past due, until DEFAULTED")
    add.add_argument("--write-off-after", type=_duration, required=True, help="past due, until WRITTEN_OFF")
    add.add_argument("--approval-validity", type=_duration, default=parse_duration("P7D"),
                     help="how long an approval waits for its disbursement (default P7D)")
    add.add_argument("--auto-disburse", action=argparse.BooleanOptionalAction, default=True)
    s.set_defaults(func=cmd_products)

    s = sub.add_parser("arrears", help="the arrears job")
    asub = s.add_subparsers(dest="action", required=True)
    asub.add_parser("run", help="take every due step now (EXPIRED, OVERDUE, DEFAULTED, WRITTEN_OFF)")
    s.set_defaults(func=cmd_arrears)

    s = sub.add_parser("report", help="reports")
    rsub = s.add_subparsers(dest="action", required=True)
    port = rsub.add_parser("portfolio", help="per status count and outstanding; PAR1/30/90")
    port.add_argument("--as-of", type=_as_of, help="ISO 8601 date-time (default: now)")
    s.set_defaults(func=cmd_report)
