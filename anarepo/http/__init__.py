"""HTTP plumbing shared by every face: what a request and a response go through
before and after the views, with no repository decisions in it.

* :mod:`.middleware`: the WSGI layers run once per request (token in the path,
  public URL, log redaction);
* :mod:`.lastresort`: a 500 in the face's format for an exception that escapes Pyramid;
* :mod:`.retry`: how conflicting transactions are retried, and the per-package writer queue;
* :mod:`.bodies`: sending large documents and blobs without copying them;
* :mod:`.multipart`: reading ``multipart/form-data`` bodies part by part;
* :mod:`.bounded`: parsing untrusted JSON and YAML with bounds;
* :mod:`.mediatypes`: the Content-Type of a stored file;
* :mod:`.caching`: the one cache of rendered documents (revision and visibility
  keyed) and the one conditional-response rule;
* :mod:`.replay`: the WSGI front of those documents for anonymous clients;
* :mod:`.blobs`: the one way to send a stored file, with one header policy.
"""
