"""The ``anarepo upload | download | env create`` client.

It speaks the same ``/api`` flow as anaconda-client (stage → form POST → commit)
and reads the same configuration and token files, so ``anaconda login`` followed
by ``anarepo upload notebook.ipynb`` works; it uploads the types anaconda-client
1.16 refuses (notebooks, environments, projects) and every other one.
"""
