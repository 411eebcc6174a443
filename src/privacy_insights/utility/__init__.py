"""Utility of the released dataset against the truth it protects (an internal reviewer's tool).

- ``measure``  coverage, suppression by reason, relative error and below-k releases per level
- ``plots``    coverage by level and by city, error vs true size, budget over the window (PNG)
- ``report``   Markdown tables
- ``peer``     PipelineDP on the same staged events, same bounds, epsilon and threshold (optional extra ``peer``)
- ``runner``   ``privacy-insights utility-report``: fresh builds per profile and size, or an existing warehouse
"""
