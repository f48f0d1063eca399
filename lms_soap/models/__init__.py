"""Persistence: tables, the imperative ORM mapping, repositories, the unit of work, migrations."""
