"""The persistent model (Root, owners, packages) and the transient face resources."""
from .root import Root  # noqa: F401
from .owners import Owner, User, Organization, Group  # noqa: F401
from .packages import Package, Release, Distribution  # noqa: F401
