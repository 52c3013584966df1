"""Domain services: each decision of the repository made in one place.

Faces (web, API, conda, PyPI, CLI) translate HTTP or command lines into calls
of these functions and their errors (:mod:`anarepo.errors`) back into answers.
"""
