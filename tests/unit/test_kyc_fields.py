"""lending.customer.KYC_FIELDS is the one declaration of the KYC snapshot: the domain objects,
the customers table, the SOAP Customer type and the CBS client all follow it."""
from __future__ import annotations

from dataclasses import fields

from sqlalchemy import Numeric, String

from lms_soap.lending.customer import KYC_FIELDS, Customer, KycRecord
from lms_soap.models.tables import customers
from lms_soap.services.types import Customer as SoapCustomer


def test_the_domain_objects_carry_every_kyc_field():
    for cls in (KycRecord, Customer):
        assert [f.name for f in KYC_FIELDS] == [f.name for f in fields(cls)][:len(KYC_FIELDS)], cls


def test_the_customers_table_has_a_column_of_each_width():
    for f in KYC_FIELDS:
        column = customers.c[f.name]
        if f.width is None:
            assert isinstance(column.type, Numeric) and (column.type.precision, column.type.scale) == (18, 2)
        else:
            assert isinstance(column.type, String) and column.type.length == f.width


def test_the_soap_customer_type_names_each_field_as_the_cbs_does():
    names = list(SoapCustomer._type_info)
    assert names[:len(KYC_FIELDS)] == [f.wire for f in KYC_FIELDS]
