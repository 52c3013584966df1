"""Running anarepo beyond one process: generated configuration (``anarepo gen-config``),
the multi-process server (``anarepo serve``) and nginx's ``X-Accel-Redirect`` for files."""
