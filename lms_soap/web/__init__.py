"""The HTTP edge around the SOAP service: the /soap gateway, REST, health, metrics, request ids.

A folder of its own (not in the design card's list) because these are WSGI concerns shared by
every route, and services/ is reserved for the Spyne surface.
"""
