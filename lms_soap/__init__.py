"""lms-soap: a SOAP-first Loan Management System for bank micro-loans."""

__version__ = "1.1.0"
