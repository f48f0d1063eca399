"""lms-soap: a SOAP-first Loan Management System for bank micro-loans."""

__version__ = "0.1.0"
