"""The use cases and rules of the LMS, in plain Python.

This package is the ground floor: it defines the ports (lending.ports) that models/ and clients/
implement, and imports neither of them, nor Spyne, nor HTTP libraries.
"""
