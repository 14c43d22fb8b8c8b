"""The illustrative demo workspace (``kinhteso demo``), kept apart from the pipeline.

The demo uses the pipeline as any interface does, and renders what it returns:

- :mod:`kinhteso.demo.data`: the generated, deterministic demo dataset (NOT official statistics);
- :mod:`kinhteso.demo.io`: an illustrative 20-industry input-output table built around it;
- :mod:`kinhteso.demo.build`: :func:`~kinhteso.demo.build.run_demo` and
  :data:`~kinhteso.demo.build.CAPABILITIES`, the demo step of each capability;
- :mod:`kinhteso.demo.summaries`: those steps, each printing its capability's summary;
- :mod:`kinhteso.demo.consent`: where the demo may build (it never deletes a user's data
  without ``--force``), and the ``DEMO.toml`` marker of a demo workspace.

``kinhteso demo`` builds in ``./demo-workspace`` by default.
"""
