"""The persistent model: the object tree ZODB stores, and nothing that serves HTTP.

* :mod:`.root`: the Root (owners, site-wide state);
* :mod:`.owners`: Owner, User, Organization, Group, Label;
* :mod:`.packages`: Package, Release, Distribution;
* :mod:`.folder`: the ordered BTree container they all use;
* :mod:`.tokens`, :mod:`.staging`, :mod:`.notices`, :mod:`.notifications`:
  access tokens, staged uploads, channel notices, dashboard notifications;
* :mod:`.targets`: transient resources for upload targets; :mod:`.merge`: merge helpers.

Class paths are schema (pickles name ``module.Class``): a class that moves keeps its
old path in :mod:`.moved`.  The package imports no submodule itself, so a service can
import one model module without loading the rest.
"""
