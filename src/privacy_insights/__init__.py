"""Privacy-safe aggregate insights: the Python side of the dbt project.

Modules, one concern each:
- ``targets``      connections to the embedded DuckDB file or the attached PostgreSQL
- ``setup``        offline install of DuckDB's postgres extension, profile bootstrap
- ``synthetic``    deterministic, streaming generator of the raw tables of all contracts
- ``geo``          city definitions and the geohash3 -> city map
- ``cli``          the ``privacy-insights`` command
"""

__version__ = "0.1.0"
