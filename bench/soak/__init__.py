"""Soak test of the whole LMS (`python -m bench.soak --help`; bench/README.md, "Soak").

__main__.py: options and the run; processes.py: the child processes; database.py: the database
and API clients; client.py: the SOAP/REST calls and their statistics; traffic.py: the mixed
traffic; memory.py: the workers' RSS; checks.py: the end-of-run checks; summary.py: the summary."""
