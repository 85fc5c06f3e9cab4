"""``isrender bench``: conversion throughput measured the way users need it.

- ``local``: images/s of isrender on the user's own images and modifier strings, per worker
  count, beside the libvips floor (raw pyvips ``thumbnail``) measured in the same run.
- ``against``: a load test of a running ``isrender serve`` (req/s, latency, statuses).
- ``report`` (table, JSON, CSV) and ``chart`` (matplotlib, the optional ``[bench]`` extra).

Nothing here imports pyvips: the worker processes render through ``isrender.render`` and the
floor is ``isrender.render.vips.renderer.raw_thumbnail``.
"""
