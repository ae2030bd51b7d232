"""Benchmark-only settings: the app's settings with the bench URLconf (adds the bare view)."""

from salesbrain.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
