"""Operating on a clock: timing policies, the release lock and the scheduled release command.

- ``policy``: the timing policies (``seeds/timing_policies.csv``) and the release clock
  (``as_of`` from the UTC clock, truncated to the hour).
- ``lock``: one release at a time per warehouse on this machine (an ``fcntl`` file lock).
- ``runs``: the run log ``audit.release_runs`` in the target warehouse.
- ``release``: ``privacy-insights release``, what a scheduler runs every hour.
"""
