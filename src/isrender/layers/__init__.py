"""The pure parts of [layer] rendering (spec §6.6): geometry the layer renderer draws with."""
