"""The SOAP surface (Spyne): types, faults, authentication and one module of operations per area."""
