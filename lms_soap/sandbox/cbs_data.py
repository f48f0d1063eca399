"""The CBS simulator's deterministic data: KYC records and transaction records per customer number.

| customerNumber         | name              | gender | idType          | idNumber  | monthlyIncome | status   | transactions          |
|------------------------|-------------------|--------|-----------------|-----------|---------------|----------|-----------------------|
| 234774784              | John A. Doe       | FEMALE | DRIVERS_LICENSE | ID9368586 | 7216.72       | ACTIVE   | 2 (the scoring docs') |
| 318411216              | Mary W. Wanjiru   | FEMALE | NATIONAL_ID     | ID2738465 | 4350.00       | ACTIVE   | 3 (generated)         |
| 340397370              | Peter Otieno      | MALE   | PASSPORT        | AK0451229 | 12500.50      | ACTIVE   | 2 (generated)         |
| 366585630              | Grace N. Akinyi   | FEMALE | VOTERS_ID       | ID6604219 | 980.40        | ACTIVE   | 3 (generated)         |
| 397178638              | David E. Williams | MALE   | NATIONAL_ID     | ID4118300 | 1885.23       | ACTIVE   | 2 (generated)         |
| 555000001              | Samuel T. Kiptoo  | MALE   | NATIONAL_ID     | ID5550001 | 3100.00       | INACTIVE | 2 (generated)         |
| 555000002              | Alice M. Njeri    | FEMALE | PASSPORT        | AP5550002 | 2500.00       | ACTIVE   | none (empty list)     |
| 700000000..799999999   | generated         | random | random          | ID+7 dig. | 500..20000    | ACTIVE   | 1-3 (generated)       |
| any other: 999999999.. | unknown           | -      | -               | -         | -             | -        | none (empty list)     |

- Unknown customers: operation Customer answers a SOAP Client fault "Customer not found: <n>";
  operation Transactions answers an empty TransactionsResponse.
- The documented customers have CBS ids 1..7 in table order, mobile +2547110000<id>
  (e.g. +254711000001) and email <first>.<last>@example.com.
- 340397370 has no middleName (the element is absent), to show an optional field missing.
- 234774784's two records are the two records of the scoring engine's documentation
  (spec-transactions.json), values exact; `lastTransactionType` is absent in both.
- "generated" records come from `random.Random("tx:<number>")`, a synthetic customer's record
  count (1-3) from `random.Random("count:<number>")` and its KYC from
  `random.Random("kyc:<number>")`. String seeds hash with SHA-512, so the data are the same in
  every process and Python run. Nothing is pre-generated; a lookup costs microseconds.
- Every dateTime is in East Africa Time (+03:00), as the live CBS (Spring-WS) sends it.
- Synthetic numbers must be written canonically (nine digits, no sign, no leading zero).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from lms_soap.lending.transaction_fields import TRANSACTION_FIELDS as _LMS_TRANSACTION_FIELDS

#: The live CBS answers in East Africa Time.
EAT = timezone(timedelta(hours=3))

INACTIVE_CUSTOMER = "555000001"
NO_TRANSACTIONS_CUSTOMER = "555000002"
SYNTHETIC_RANGE = range(700_000_000, 800_000_000)
UNKNOWN_CUSTOMER = "999999999"

#: (name, xs type local name, minOccurs) of each `transactionData` element, in the WSDL's order:
#: the LMS's own declaration of the CBS type (lending/transaction_fields.py), which tests compare
#: with the verbatim WSDL; the simulator's Spyne type is built from it.
TRANSACTION_FIELDS: tuple[tuple[str, str, int], ...] = tuple(
    (name, xs_type, 0 if optional else 1) for name, xs_type, optional in _LMS_TRANSACTION_FIELDS)

#: The CBS `customer` type, likewise.
CUSTOMER_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("createdAt", "dateTime", 0), ("createdDate", "dateTime", 0), ("customerNumber", "string", 0),
    ("dob", "dateTime", 0), ("email", "string", 0), ("firstName", "string", 0),
    ("gender", "gender", 0), ("id", "long", 0), ("idNumber", "string", 0), ("idType", "idType", 0),
    ("lastName", "string", 0), ("middleName", "string", 0), ("mobile", "string", 0),
    ("monthlyIncome", "double", 1), ("status", "status", 0), ("updatedAt", "dateTime", 0),
)
GENDERS = ("MALE", "FEMALE")
ID_TYPES = ("PASSPORT", "NATIONAL_ID", "DRIVERS_LICENSE", "VOTERS_ID")
STATUSES = ("ACTIVE", "INACTIVE")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EAT)


def _kyc(number: str, cbs_id: int, first: str, middle: str | None, last: str, gender: str,
         id_type: str, id_number: str, income: float, status: str, mobile: str, dob: str,
         created: str) -> dict[str, Any]:
    email = f"{first}.{last}@example.com".lower()
    return {
        "createdAt": _at(created), "createdDate": _at(created), "customerNumber": number,
        "dob": _at(dob), "email": email, "firstName": first, "gender": gender, "id": cbs_id,
        "idNumber": id_number, "idType": id_type, "lastName": last, "middleName": middle,
        "mobile": mobile, "monthlyIncome": income, "status": status,
        "updatedAt": _at(created) + timedelta(days=400),
    }


_KYC: dict[str, dict[str, Any]] = {k["customerNumber"]: k for k in (
    _kyc("234774784", 1, "John", "A.", "Doe", "FEMALE", "DRIVERS_LICENSE", "ID9368586", 7216.72,
         "ACTIVE", "+254711000001", "1985-03-14T00:00:00", "2019-05-23T23:27:19"),
    _kyc("318411216", 2, "Mary", "W.", "Wanjiru", "FEMALE", "NATIONAL_ID", "ID2738465", 4350.00,
         "ACTIVE", "+254711000002", "1990-07-02T00:00:00", "2019-06-11T10:02:45"),
    _kyc("340397370", 3, "Peter", None, "Otieno", "MALE", "PASSPORT", "AK0451229", 12500.50,
         "ACTIVE", "+254711000003", "1978-11-23T00:00:00", "2019-08-30T15:40:08"),
    _kyc("366585630", 4, "Grace", "N.", "Akinyi", "FEMALE", "VOTERS_ID", "ID6604219", 980.40,
         "ACTIVE", "+254711000004", "1996-01-09T00:00:00", "2020-02-17T09:12:33"),
    _kyc("397178638", 5, "David", "E.", "Williams", "MALE", "NATIONAL_ID", "ID4118300", 1885.23,
         "ACTIVE", "+254711000005", "1982-05-30T00:00:00", "2020-04-03T18:55:01"),
    _kyc(INACTIVE_CUSTOMER, 6, "Samuel", "T.", "Kiptoo", "MALE", "NATIONAL_ID", "ID5550001",
         3100.00, "INACTIVE", "+254711000006", "1975-09-17T00:00:00", "2018-12-01T08:00:00"),
    _kyc(NO_TRANSACTIONS_CUSTOMER, 7, "Alice", "M.", "Njeri", "FEMALE", "PASSPORT", "AP5550002",
         2500.00, "ACTIVE", "+254711000007", "2000-02-29T00:00:00", "2021-03-15T12:30:00"),
)}

#: The five test customers of the live CBS, all ACTIVE.
TEST_CUSTOMERS: tuple[str, ...] = ("234774784", "318411216", "340397370", "366585630", "397178638")

# The two records of the scoring engine's documentation, values in TRANSACTION_FIELDS order
# (dateTimes as epoch milliseconds, as the documentation gives them).
_SPEC_RECORDS: tuple[tuple[Any, ...], ...] = ((
    '332216783322167555621628', 87988.2441, 0, 675.3423, 902403930, 4812921, 561.96661249, 8,
    0, 748011.19, 43345.569028578, 469330768.19151, 44, 740243532000, 1196266216000,
    609.297663, 21.134264, 502, 0.0, 2, 70.52733936, 9, 876, 310118, 1169339429000, None, 3,
    6.0, 566201073.0, 0.0, 0.0, 0.0, 0.0, 5186960787986540.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 959858.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4539102239610779.0, 0.0, 0.0, 0.0, 524.0,
    0.0, 0.0, 0.0, 5821338.0, 0.0, 946843, 0.0, 5523407, 659722841.0, 103262.90429936,
    54733035.60725, 646, 565972.1236, 2971, 0.0, 332.0, 87569, 1.0, 773556430000,
), (
    '332216783322167555621628', 27665.6889301, 0, 29997265.951905, 114, 36934417, 192538.94,
    535, 0, 1.37, 2602.4, 2765.57, 6, 1401263420000, 1350538588000, 0.0, 117347.063,
    931309756, 2552389.4, 5, 76.160425, 285700400, 1, 22, 554704439000, None, 1, 0.0,
    78272009.0, 0.0, 0.0, 0.0, 0.0, 5468080253826023.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    609866462.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4716295906413.0, 0.0, 0.0, 0.0, 0.0, 29624.78,
    0.0, 0.0, 100927826.0, 349693.8071922, 4092, 18738282.3746, 0, 2205.0, 295.6677,
    9.561730814, 0, 56.03, 0, 7.0, 372849038.239, 546382904, 51.0, 687774305000,
))
#: How many generated records each documented customer has (234774784 has the spec's two).
_GENERATED_COUNTS = {"318411216": 3, "340397370": 2, "366585630": 3, "397178638": 2,
                     INACTIVE_CUSTOMER: 2, NO_TRANSACTIONS_CUSTOMER: 0}

_FIRST_NAMES = ("James", "Mercy", "Brian", "Faith", "Kevin", "Esther", "Dennis", "Joy", "Felix",
                "Ann", "Collins", "Ruth", "Victor", "Lucy", "Martin", "Irene")
_LAST_NAMES = ("Mwangi", "Ochieng", "Kamau", "Wambui", "Mutua", "Atieno", "Kariuki", "Chebet",
               "Njoroge", "Achieng", "Kiprono", "Nyambura", "Omondi", "Wafula", "Korir", "Moraa")
# Fixed reference instants keep generated dates stable (never "now").
_EPOCH_2015 = datetime(2015, 1, 1, tzinfo=EAT)
_TEN_YEARS = 10 * 365 * 86400


def _from_epoch_ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=EAT)


def _spec_record(values: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip((name for name, _, _ in TRANSACTION_FIELDS), values, strict=True))
    for name, xs_type, _ in TRANSACTION_FIELDS:
        if xs_type == "dateTime":
            record[name] = _from_epoch_ms(record[name])
    return record


def _synthetic_number(number: str) -> bool:
    return number.isdigit() and str(int(number)) == number and int(number) in SYNTHETIC_RANGE


def _generated_record(rng: random.Random, number: str, index: int) -> dict[str, Any]:
    # Start from every key, in the WSDL's order, so the dict keeps that order.
    record: dict[str, Any] = dict.fromkeys(name for name, _, _ in TRANSACTION_FIELDS)
    for name, xs_type, _ in TRANSACTION_FIELDS:
        if xs_type == "double":
            # About a third of the amounts are zero, like the documented records.
            record[name] = 0.0 if rng.random() < 0.3 else round(rng.uniform(1, 1_000_000), 2)
        elif xs_type == "int":
            record[name] = rng.randint(0, 5000)
        elif xs_type == "dateTime":
            record[name] = _EPOCH_2015 + timedelta(seconds=rng.randrange(_TEN_YEARS))
    account = f"{int(number):09d}{rng.randrange(10 ** 15):015d}"
    record.update(accountNumber=account, id=int(number) * 10 + index,
                  lastTransactionType=rng.choice(("CREDIT", "DEBIT", None)))
    return record


def _synthetic_kyc(number: str) -> dict[str, Any]:
    rng = random.Random(f"kyc:{number}")
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    created = _EPOCH_2015 + timedelta(seconds=rng.randrange(_TEN_YEARS))
    return {
        "createdAt": created, "createdDate": created, "customerNumber": number,
        "dob": datetime(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28),
                        tzinfo=EAT),
        "email": f"{first}.{last}.{number[-4:]}@example.com".lower(), "firstName": first,
        "gender": rng.choice(GENDERS), "id": int(number),
        "idNumber": f"ID{rng.randrange(10 ** 7):07d}",
        "idType": rng.choice(ID_TYPES), "lastName": last,
        "middleName": f"{rng.choice('ABCDEFGHJKLMNPRSTW')}.", "mobile": f"+2547{number[-8:]}",
        "monthlyIncome": round(rng.uniform(500, 20000), 2), "status": "ACTIVE",
        "updatedAt": created + timedelta(days=rng.randint(0, 365)),
    }


def lookup_customer(number: str) -> dict[str, Any] | None:
    """The KYC record (keys: CUSTOMER_FIELDS names; absent optional fields None), or None."""
    if number in _KYC:
        return dict(_KYC[number])
    if _synthetic_number(number):
        return _synthetic_kyc(number)
    return None


def lookup_transactions(number: str) -> list[dict[str, Any]]:
    """Transaction records (keys: TRANSACTION_FIELDS names, in order); [] for anyone unknown."""
    if number == TEST_CUSTOMERS[0]:
        return [_spec_record(values) for values in _SPEC_RECORDS]
    if number in _GENERATED_COUNTS:
        count = _GENERATED_COUNTS[number]
    elif _synthetic_number(number):
        count = random.Random(f"count:{number}").randint(1, 3)
    else:
        return []
    rng = random.Random(f"tx:{number}")
    return [_generated_record(rng, number, index) for index in range(1, count + 1)]
