"""An evolve step that counts its runs in the database and takes a while
(``anarepo.includes = tests.deploy.evolve_probe``), for start-up tests."""
import time


def count_run(root):
    time.sleep(1.0)  # long enough for every starting process to find it pending
    root.probe_runs = getattr(root, "probe_runs", 0) + 1


def includeme(config):
    config.add_evolve_step(count_run, "tests.deploy.evolve_probe.count_run")
