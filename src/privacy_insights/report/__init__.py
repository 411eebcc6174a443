"""``privacy-insights report``: the reviewer's report of a built warehouse (Markdown + PNG).

It reads only what a buyer or an operator of the release may see, never a true count:

- ``source``   the allowed relations (buyer mart, budget ledger, public city names) and the delivery
               store's audit of buyer requests (read as it stands, no rebuild needed), through a reader
               that records every statement it issues
- ``compute``  pure functions on those frames: budget per rolling window, cells by city, published error
               (and its interval cut at the metric's bounds), exports
- ``words``    plain words for the codes shown: suppression reasons, city names
- ``figures``  PNG figures, drawn with the helpers of ``privacy_insights.utility.plots``
- ``markdown`` the Markdown page
- ``run``      the command: read, compute, draw, write (by default to report/<target>/ beside the DuckDB file)
"""
