"""``privacy-insights report``: the reviewer's report of a built warehouse (Markdown + PNG).

It reads only what a buyer or an operator of the release may see, never a true count:

- ``source``   the allowed relations (buyer marts, the budget ledger, the ops request log) and a reader
               that records every SQL statement it issues
- ``compute``  pure functions on those frames: budget per rolling window, cells by city, published error, exports
- ``figures``  PNG figures, drawn with the helpers of ``privacy_insights.utility.plots``
- ``markdown`` the Markdown page
- ``run``      the command: read, compute, draw, write
"""
